"""Word decoder on scripted holds: accuracy, harm to correct words and to non-words, decode time.

Each word is turned into holds the way the recognizer produces them: per letter a top-3 of
(letter, probability). At letter error rate ``e`` a hold's top letter is a confusion partner of the
true letter (the pairs the static model really confuses: R/U, G/T, D/Z, C/O, M/N/S/T/A/E, K/V,
H/G; a random letter for letters with no partner) and the true letter is second (75%), third
(15%) or missing (10%). Right holds get a top probability of 0.55-0.99 and a partner second.
Segmentation errors: a letter's hold is missed with probability ``--miss`` (the second of a
double letter with ``--double-miss``), and an extra low-confidence hold appears between letters
with probability ``--extra``.

Word sets (seeded): English words drawn uniformly from wordfreq's 20,000 most frequent a-z words
(2-10 letters), and non-words: random letter strings (3-7 letters), letter codes (2-4 letters,
like QXJ) and given names, none of them in the decoder's lexicon.

    .venv/bin/python benchmarks/decoder_sim.py            # full table (docs/words.md)
    .venv/bin/python benchmarks/decoder_sim.py --words 200 --rates 0.1

Metrics: raw = each hold's top letter; decoded = the decoder's word. "turned wrong" = share of
words spelled right (raw) that the decoder changed; "non-words changed" = share of non-words
whose decoded word differs from the spelled string.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # after PYTHONPATH and the installed package

from fingerspell.reading.lexicon import english_frequencies  # noqa: E402
from fingerspell.reading.words import DecoderOptions, WordDecoder  # noqa: E402

CONFUSIONS = [("R", "U"), ("G", "T"), ("D", "Z"), ("C", "O"), ("M", "N", "S", "T", "A", "E"), ("K", "V"),
              ("H", "G")]
# Given names from several languages; the ones in wordfreq's list are dropped at run time.
NAMES = ("KIRA TAVISH ODALYS XIOMARA ZBIGNIEW NGOZI SIOBHAN AOIFE BJORK YUKIKO OKONKWO PRIYANKA DMITRI "
         "LJUBICA TEODORA WOJCIECH XAVIERA ZHIHAO THANDIWE KEOLA MAKANA INGRID SVETLANA GUADALUPE NIAMH "
         "OLUWASEUN CHIAMAKA FRANZISKA JOAQUIN EILIDH RHIANNON TADHG MAEVE SAOIRSE KALANI LEILANI ANAHERA "
         "TAMATI HEMI AROHA RANGI WIREMU NIKAU MATIU").split()
CODES_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"


def partners() -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {c: [] for c in string.ascii_uppercase}
    for group in CONFUSIONS:
        for a in group:
            out[a] += [b for b in group if b != a and b not in out[a]]
    return out


PARTNERS = partners()


def _other(rng: random.Random, avoid: Sequence[str]) -> str:
    while True:
        c = rng.choice(string.ascii_uppercase)
        if c not in avoid:
            return c


def letter_hold(rng: random.Random, truth: str, error: float) -> Tuple[Tuple[str, float], ...]:
    """One hold's top-3 for a signed letter ``truth``."""
    pool = PARTNERS[truth] or [_other(rng, [truth])]
    if rng.random() < error:
        first = rng.choice(pool)
        p1 = rng.uniform(0.4, 0.8)
        r = rng.random()
        second = truth if r < 0.75 else _other(rng, [truth, first])
        third = truth if 0.75 <= r < 0.9 else _other(rng, [truth, first, second])
    else:
        first, p1 = truth, rng.uniform(0.55, 0.99)
        second = rng.choice(pool) if rng.random() < 0.7 else _other(rng, [truth])
        third = _other(rng, [truth, second])
    p2 = (1 - p1) * rng.uniform(0.5, 0.9)
    p3 = (1 - p1 - p2) * rng.uniform(0.3, 0.8)
    return ((first, p1), (second, p2), (third, p3))


def word_holds(rng: random.Random, word: str, error: float, miss: float, double_miss: float,
               extra: float) -> List[Tuple[Tuple[str, float], ...]]:
    holds = []
    for i, c in enumerate(word):
        p_miss = double_miss if i and word[i - 1] == c else miss
        if rng.random() >= p_miss:
            holds.append(letter_hold(rng, c, error))
        if i < len(word) - 1 and rng.random() < extra:
            a = _other(rng, [])
            p1 = rng.uniform(0.3, 0.7)
            holds.append(((a, p1), (_other(rng, [a]), (1 - p1) * 0.6), (_other(rng, [a]), (1 - p1) * 0.3)))
    if not holds:  # a word always leaves at least one hold
        holds.append(letter_hold(rng, word[0], error))
    return holds


def word_sets(seed: int, n_words: int, n_non: int, lexicon) -> Tuple[List[str], List[str]]:
    rng = random.Random(seed)
    common = [w for w, _ in sorted(english_frequencies(1e-7), key=lambda wf: -wf[1]) if 2 <= len(w) <= 10][:20000]
    english = rng.sample(common, n_words)
    non: List[str] = [n for n in NAMES if n not in lexicon]
    while len(non) < n_non:
        if len(non) % 2:
            s = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 7)))
        else:
            s = "".join(rng.choice(CODES_LETTERS) for _ in range(rng.randint(2, 4)))
        if s not in lexicon:
            non.append(s)
    return english, non[:n_non]


def run_set(decoder: WordDecoder, words: List[str], rng: random.Random, args, error: float) -> Dict[str, float]:
    raw_ok = dec_ok = turned = changed = 0
    times, cpu, fixes, fix_p = [], [], [], []
    for word in words:
        holds = word_holds(rng, word, error, args.miss, args.double_miss, args.extra)
        start, start_cpu = time.perf_counter(), time.thread_time()
        d = decoder.decode(holds)
        cpu.append(time.thread_time() - start_cpu)
        times.append(time.perf_counter() - start)
        raw_ok += d.spelled == word
        dec_ok += d.word == word
        turned += d.spelled == word and d.word != word
        changed += d.word != d.spelled
        if d.accepted:
            fixes.append(d.word == word)
            fix_p.append(d.probability)
    times.sort()
    cpu.sort()
    n = len(words)
    p95 = int(0.95 * (n - 1))
    return {"raw_acc": raw_ok / n, "decoded_acc": dec_ok / n, "turned_wrong": turned / max(raw_ok, 1),
            "changed": changed / n, "corrections": len(fixes), "correction_precision": sum(fixes) / max(len(fixes), 1),
            "correction_mean_p": sum(fix_p) / max(len(fix_p), 1),
            "ms_mean": 1000 * sum(times) / n, "ms_p95": 1000 * times[p95], "ms_max": 1000 * times[-1],
            "cpu_ms_mean": 1000 * sum(cpu) / n, "cpu_ms_p95": 1000 * cpu[p95], "cpu_ms_max": 1000 * cpu[-1]}


def evaluate(options: DecoderOptions, args) -> List[Dict[str, float]]:
    decoder = WordDecoder(options=options)
    reference = decoder.lexicon if options == DecoderOptions() else WordDecoder().lexicon  # same words for all options
    english, non = word_sets(args.seed, args.words, args.nonwords, reference)
    rows = []
    for error in args.rates:
        rng = random.Random(args.seed + int(error * 1000))
        e = run_set(decoder, english, rng, args, error)
        n = run_set(decoder, non, rng, args, error)
        rows.append({"error": error, "english": e, "nonwords": n, "load_s": decoder.load_seconds})
    return rows


def table(rows: List[Dict]) -> str:
    out = ["| letter error | raw word acc | decoded word acc | correct turned wrong | non-words changed "
           "| non-words raw / decoded acc | CPU ms/word mean / p95 / max | wall ms/word mean / p95 |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e, n = r["english"], r["nonwords"]
        cpu = [max(e[k], n[k]) for k in ("cpu_ms_mean", "cpu_ms_p95", "cpu_ms_max")]
        wall = [max(e[k], n[k]) for k in ("ms_mean", "ms_p95")]
        out.append(f"| {r['error']:.0%} | {e['raw_acc']:.1%} | {e['decoded_acc']:.1%} | {e['turned_wrong']:.1%} "
                   f"| {n['changed']:.1%} | {n['raw_acc']:.1%} / {n['decoded_acc']:.1%} "
                   f"| {cpu[0]:.2f} / {cpu[1]:.2f} / {cpu[2]:.1f} | {wall[0]:.2f} / {wall[1]:.2f} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=600, help="English words per error rate")
    ap.add_argument("--nonwords", type=int, default=300, help="non-words per error rate")
    ap.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.3])
    ap.add_argument("--miss", type=float, default=0.02, help="chance a letter's hold is missed")
    ap.add_argument("--double-miss", type=float, default=0.3, help="chance the second of a double letter is missed")
    ap.add_argument("--extra", type=float, default=0.02, help="chance of an extra hold after a letter")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="DecoderOptions overrides")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, value = item.split("=", 1)
        kind = type(getattr(DecoderOptions(), name))
        overrides[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    rows = evaluate(DecoderOptions(**overrides), args)
    print(f"lexicon load {rows[0]['load_s']:.2f} s; options {overrides or 'defaults'}; miss {args.miss}, "
          f"double-miss {args.double_miss}, extra {args.extra}; {args.words} words, {args.nonwords} non-words")
    print(table(rows))
    fixes = sum(r["english"]["corrections"] + r["nonwords"]["corrections"] for r in rows)
    right = sum(r["english"]["corrections"] * r["english"]["correction_precision"] for r in rows)
    mean_p = sum(r["english"]["corrections"] * r["english"]["correction_mean_p"]
                 + r["nonwords"]["corrections"] * r["nonwords"]["correction_mean_p"] for r in rows) / max(fixes, 1)
    print(f"auto-corrections: {fixes}, right {right / max(fixes, 1):.1%}, mean stated probability {mean_p:.1%}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

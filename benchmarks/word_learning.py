"""Learning a signer's hand from the words they spell (``--learn``), on people the model never saw.

    OMP_NUM_THREADS=1 python benchmarks/word_learning.py [--datasets mon95 massey] [--paces 1.0 0.5]
        [--train-on signers|all] [--learn-reps 1] [--seed 0] [--out benchmarks/results/word_learning.json]

For each signer of mon95 and massey, the fold model of ``benchmarks/words.py`` (trained without
that signer) reads words spelled by the landmark simulator with the signer's own hand shapes,
through the product's reader, word decoder and :class:`fingerspell.runtime.word_learning.WordLearning`.
The signer's photos are split in two: mon95's two recording sessions, massey's photos of each
letter at random. The person first spells the word list ``--learn-reps`` times with one half while
the reader learns from the words it decodes (no label from the benchmark is used); then the
words (and the non-words) are spelled twice with the other half, learning frozen, and compared
with the same words (same draws) read by the model that learned nothing. Learning in one sitting
and reading another is harder than what a user gets (the same hand, light and camera throughout).

``--picks``: while it learns, the person picks their word from the suggestions (keys 1-3) when a
letter was written wrong and the word is offered, as a user in front of the window would; the
reader learns from those picks too (``--no-learn-picks``: the person picks, the reader does not
learn from it, as before 2026-12-05). The words read afterwards are read without picks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine, write_results  # noqa: E402
from words import NONWORDS, WORDS, FoldReader, nonword_changes, spellable, summarize  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.reading.synth import LetterBank, SynthOptions, synth_word  # noqa: E402
from fingerspell.runtime.word_learning import LearnOptions  # noqa: E402


def learning_half(name: str, letters, group: str, bench_cal, seed: int) -> np.ndarray:
    """True for the signer's photos the reader learns from (mon95: the first photo's session)."""
    mine = letters.groups == group
    sess = bench_cal.sessions_of(name, letters.paths, "session")
    if sess is not None:
        sess = np.asarray(sess)
        return mine & (sess == sess[mine][0])
    half = np.zeros(len(mine), bool)
    rng = np.random.default_rng(seed)
    for c in np.unique(letters.labels[mine]):
        idx = np.flatnonzero(mine & (letters.labels == c))
        rng.shuffle(idx)
        half[idx[: len(idx) // 2]] = True
    return half


def spell(fold: FoldReader, words, bank, pace: float, reps: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [fold.read(synth_word(w, bank, SynthOptions(pace=pace, mirror=bool(r % 2)), rng))
            for r in range(reps) for w in words]


def run_signer(name, letters, group, args, decoder, bench_cal) -> dict:
    ckpt = bench_cal.fold_model(name, letters, group, args.epochs, args.seed,
                                bench_cal.other_sets(name, args.data_dir, args.train_on))
    fold = FoldReader(ckpt, decoder, learn=LearnOptions(background=False, min_probability=args.min_probability,
                                                        blend=args.blend, temperature=args.temperature,
                                                        mix=args.mix, picks=args.learn_picks))
    learn = learning_half(name, letters, group, bench_cal, args.seed + 1)
    mine = letters.groups == group
    bank_learn = LetterBank.from_dataset(letters.subset(learn), groups=[group])
    bank_read = LetterBank.from_dataset(letters.subset(mine & ~learn), groups=[group])
    words = [w for w in spellable(WORDS, bank_learn) if w in spellable(WORDS, bank_read)]
    nonwords = [w for w in spellable(NONWORDS, bank_learn) if w in spellable(NONWORDS, bank_read)]
    out = {}
    for pace in args.paces:
        seed = args.seed + 100 + int(pace * 10)
        fold.learning.reset()
        fold.frozen = True
        none = spell(fold, words, bank_read, pace, 2, seed), spell(fold, nonwords, bank_read, pace, 2, seed + 1)
        fold.frozen, fold.pick = False, args.picks
        phase = spell(fold, words, bank_learn, pace, args.learn_reps, seed + 2)
        fold.frozen, fold.pick = True, False
        got = spell(fold, words, bank_read, pace, 2, seed), spell(fold, nonwords, bank_read, pace, 2, seed + 1)
        out[str(pace)] = {"none": none[0], "learned": got[0], "nonwords_none": none[1], "nonwords_learned": got[1],
                          "learn_phase": phase, "words_learned": fold.learning.words,
                          "letters_learned": len(fold.learning.letters()),
                          "fit_seconds": list(fold.learning.fit_seconds)}
    return out


def pooled(rows_by_signer: dict, pace: str) -> dict:
    get = lambda k: [r for s in rows_by_signer.values() for r in s[pace][k]]  # noqa: E731
    return {"none": summarize(get("none")), "learned": summarize(get("learned")),
            "learn_phase": summarize(get("learn_phase")), "picks": sum(r["picked"] for r in get("learn_phase")),
            "nonwords_none": nonword_changes(get("nonwords_none")),
            "nonwords_learned": nonword_changes(get("nonwords_learned"))}


def table(doc: dict) -> str:
    lines = ["| folds | pace s/letter | signer | words as spelled: none → learned | decoded: none → learned |",
             "|---|---|---|---|---|"]
    for pace, per in doc["per_signer"].items():
        for group, s in per.items():
            lines.append(f"| {doc['settings']['train_on']} | {pace} | {group} | {s['none']:.1%} → {s['learned']:.1%} "
                         f"| {s['none_dec']:.1%} → {s['learned_dec']:.1%} |")
        p = doc["pooled"][pace]
        lines.append(f"| {doc['settings']['train_on']} | {pace} | **all ({p['none']['words']} words)** "
                     f"| **{p['none']['raw_accuracy']:.1%} → {p['learned']['raw_accuracy']:.1%}** "
                     f"| **{p['none']['decoded_accuracy']:.1%} → {p['learned']['decoded_accuracy']:.1%}** |")
    if doc["settings"].get("picks"):
        lines.append("")
        lines.append("Words the person picked from the suggestions while the reader learned: " + "; ".join(
            f"{p['picks']} of {p['learn_phase']['words']} at {pace} s" for pace, p in doc["pooled"].items())
            + (" (learned from)" if doc["settings"].get("learn_picks") else " (not learned from)") + ".")
    nw = [(p["nonwords_none"], p["nonwords_learned"]) for p in doc["pooled"].values()]
    lines.append("")
    lines.append("Non-words spelled right and changed by the decoder: " + "; ".join(
        f"{a['changed']} of {a['spelled_right']} → {b['changed']} of {b['spelled_right']}" for a, b in nw) + ".")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["mon95", "massey"], choices=["mon95", "massey"])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--paces", nargs="+", type=float, default=[1.0, 0.5])
    ap.add_argument("--learn-reps", type=int, default=1, help="times the word list is spelled while learning")
    ap.add_argument("--epochs", type=int, default=40, help="fold model epochs (accuracy.py's recipe)")
    ap.add_argument("--train-on", choices=["signers", "all"], default="signers")
    ap.add_argument("--min-probability", type=float, default=LearnOptions.min_probability,
                    help="posterior a decoded word needs to teach")
    ap.add_argument("--blend", type=float, default=None, help="the base model's share in the fit (default: auto's)")
    ap.add_argument("--temperature", type=float, default=1.0, help="learned probabilities raised to 1/T")
    ap.add_argument("--mix", type=float, default=LearnOptions.mix,
                    help="the base model's share in the probabilities read")
    ap.add_argument("--picks", action="store_true",
                    help="while learning, the person picks their word from the suggestions when it is offered")
    ap.add_argument("--no-learn-picks", dest="learn_picks", action="store_false",
                    help="with --picks: the reader does not learn from the picked words")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "word_learning.json"))
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    import calibration as bench_cal

    from fingerspell.reading.words import WordDecoder

    decoder = WordDecoder()
    t0 = time.time()
    rows = {}
    for name in args.datasets:
        data = load_dataset(Path(args.data_dir) / f"{name}.npz")
        letters = bench_cal.letters_of(name, data)
        for group in sorted(np.unique(data.groups).tolist()):
            rows[group] = run_signer(name, letters, group, args, decoder, bench_cal)
            for pace, r in rows[group].items():
                a, b = summarize(r["none"]), summarize(r["learned"])
                print(f"{group} {pace}: as spelled {a['raw_accuracy']:.1%} -> {b['raw_accuracy']:.1%}, decoded "
                      f"{a['decoded_accuracy']:.1%} -> {b['decoded_accuracy']:.1%} ({r['words_learned']} words, "
                      f"{r['letters_learned']} letters learned; {time.time() - t0:.0f} s)", flush=True)
    paces = [str(p) for p in args.paces]
    per_signer = {p: {g: {"none": summarize(r[p]["none"])["raw_accuracy"],
                          "learned": summarize(r[p]["learned"])["raw_accuracy"],
                          "none_dec": summarize(r[p]["none"])["decoded_accuracy"],
                          "learned_dec": summarize(r[p]["learned"])["decoded_accuracy"]}
                      for g, r in rows.items()} for p in paces}
    fits = [f for r in rows.values() for p in paces for f in r[p]["fit_seconds"]]
    doc = {"pooled": {p: pooled(rows, p) for p in paces}, "per_signer": per_signer, "settings": vars(args),
           "fit_seconds": {"median": float(np.median(fits)) if fits else None,
                           "p90": float(np.percentile(fits, 90)) if fits else None, "fits": len(fits)},
           "seconds": round(time.time() - t0, 1), "machine": machine()}
    md = table(doc)
    if fits:
        md += (f"\nOne fit (every trusted word, up to 15 samples a letter): median {np.median(fits):.2f} s, "
               f"p90 {np.percentile(fits, 90):.2f} s over {len(fits)} fits, one thread.\n")
    write_results(args.out, doc, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

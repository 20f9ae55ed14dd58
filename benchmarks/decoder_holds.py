"""Word decoder options swept on real holds: what the word benchmark's signers really produce.

    OMP_NUM_THREADS=1 python benchmarks/decoder_holds.py record [--seed 7] [--train-on all|signers]
    python benchmarks/decoder_holds.py sweep [--grid "dict(temperature=t) for t in (1, 2)"]

``record`` spells, for every signer of mon95 and massey, the word benchmark's words (2.0, 1.0 and
0.5 s a letter) and non-words, plus given names, letter codes and random letter strings (1.0 and
0.5 s a letter), through the fold models of ``benchmarks/words.py`` (``--train-on``; cached in
``artifacts/calibration/folds``), and keeps each finished word's holds (top letters with their
probabilities) in ``artifacts/decoder_holds/seed<N>-<train-on>.json``. Use a seed other than the word
benchmark's (0), so that options set here are scored there on other draws.

``sweep`` decodes those holds again with each option set of ``--grid`` (a Python expression giving
dicts of :class:`~fingerspell.reading.words.DecoderOptions` fields) and prints word accuracy per
pace, correct words turned wrong, and correctly spelled non-words changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Dict, List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402

from fingerspell.reading.words import DecoderOptions, WordDecoder  # noqa: E402

OUT = REPO / "artifacts" / "decoder_holds"


def _names(lexicon, seed: int) -> List[str]:
    """Given names not in the lexicon, 20 letter codes and 20 random strings (no J, Z or T: mon95)."""
    import decoder_sim

    rng = np.random.default_rng(seed + 100)
    codes = ["".join(rng.choice(list(decoder_sim.CODES_LETTERS), size=int(rng.integers(2, 5)))) for _ in range(20)]
    rand = ["".join(rng.choice(list("ABCDEFGHIKLMNOPQRSUVWXY"), size=int(rng.integers(3, 8)))) for _ in range(20)]
    return [w for w in decoder_sim.NAMES + codes + rand if lexicon.frequency(w) <= 0]


def record(args) -> None:
    import torch

    torch.set_num_threads(1)
    import calibration as bench_cal
    import words as bench_words

    from fingerspell.data.schema import load_dataset
    from fingerspell.reading.sentence import Sentence
    from fingerspell.reading.synth import LetterBank, SynthOptions, synth_word

    kept: List[list] = []
    finish = Sentence.finish_word

    def keeping(self, *a, **k):  # each finished word's holds, as the decoder gets them
        kept.append([[list(x) for x in letter.top] for letter in self._letters])
        return finish(self, *a, **k)

    Sentence.finish_word = keeping
    decoder = WordDecoder()
    names = _names(decoder.lexicon, args.seed)
    rows: List[Dict] = []
    for name in args.datasets:
        data = load_dataset(Path(args.data_dir) / f"{name}.npz")
        letters = bench_cal.letters_of(name, data)
        for group in sorted(np.unique(data.groups).tolist()):
            ckpt = bench_cal.fold_model(name, letters, group, 40, 0,
                                        bench_cal.other_sets(name, args.data_dir, args.train_on))
            fold = bench_words.FoldReader(ckpt, decoder)
            bank = LetterBank.from_dataset(letters, groups=[group])
            words = bench_words.spellable(bench_words.WORDS, bank)
            non = bench_words.spellable(bench_words.NONWORDS, bank) + bench_words.spellable(names, bank)
            rng = np.random.default_rng(args.seed)
            plan = [("word", p, words) for p in (2.0, 1.0, 0.5)] + [("non", p, non) for p in (1.0, 0.5)]
            for kind, pace, todo in plan:
                for r in range(2):
                    for w in todo:
                        kept.clear()
                        got = fold.read(synth_word(w, bank, SynthOptions(pace=pace, mirror=bool(r % 2)), rng))
                        rows.append({"group": group, "kind": kind, "pace": pace, "truth": w, "raw": got["raw"],
                                     "words": list(kept)})
            print(f"{group}: {len(rows)} spelled", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"seed{args.seed}-{args.train_on}.json"
    out.with_suffix(".part").write_text(json.dumps(rows))
    out.with_suffix(".part").replace(out)
    print(f"wrote {out}")


def score(decoder: WordDecoder, rows: List[Dict]) -> Dict[tuple, List[int]]:
    """Per (file, kind, pace): [spelled, decoded right, spelled right, spelled right but changed]."""
    out: Dict[tuple, List[int]] = {}
    for r in rows:
        got = "".join(decoder.decode([[tuple(x) for x in h] for h in w]).word if w else "" for w in r["words"])
        s = out.setdefault((r["file"], r["kind"], r["pace"]), [0, 0, 0, 0])
        s[0] += 1
        s[1] += got == r["truth"]
        s[2] += r["raw"] == r["truth"]
        s[3] += r["raw"] == r["truth"] and got != r["raw"]
    return out


def sweep(args) -> None:
    files = args.holds or sorted(OUT.glob("seed*.json"))
    rows = [dict(r, file=Path(f).stem) for f in files for r in json.loads(Path(f).read_text())]
    if not rows:
        raise SystemExit(f"no recorded holds in {OUT}: run `record` first")
    base = WordDecoder()
    for kw in eval(f"[{args.grid}]"):  # noqa: S307 - a benchmark's own command line
        res = score(_with_options(base, kw), rows)
        for file in sorted({key[0] for key in res}):
            parts = []
            for (f, kind, pace), (n, ok, raw, changed) in sorted(res.items(), key=lambda kv: (kv[0][1], -kv[0][2])):
                if f != file:
                    continue
                if kind == "word":
                    parts.append(f"words {pace}s {ok / n:.1%} (spelled {raw / n:.1%}, turned wrong {changed})")
                else:
                    parts.append(f"non-words {pace}s changed {changed}/{raw} ({changed / max(raw, 1):.1%})")
            print(f"{file} {kw}: " + " | ".join(parts), flush=True)


def _with_options(base: WordDecoder, kw: dict) -> WordDecoder:
    """A decoder with other options that shares ``base``'s lexicon (loading it takes a second)."""
    d = WordDecoder(options=replace(DecoderOptions(), enabled=False, **kw))  # no lexicon loaded
    d.options, d.lexicon = replace(d.options, enabled=True), base.lexicon
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["record", "sweep"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--datasets", nargs="+", default=["mon95", "massey"], choices=["mon95", "massey"])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--train-on", choices=["signers", "all"], default="all",
                    help="the fold models of words.py --train-on (signers: the other signers of the set)")
    ap.add_argument("--holds", nargs="*", help="recorded files (default: every seed in artifacts/decoder_holds)")
    ap.add_argument("--grid", default="{}", help="comma-separated dicts of DecoderOptions fields")
    args = ap.parse_args(argv)
    record(args) if args.mode == "record" else sweep(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

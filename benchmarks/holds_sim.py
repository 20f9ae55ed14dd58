"""Hold reading on the landmark simulator with a real model: letters, J/Z, still D/I, latency.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/holds_sim.py [--paces 1.0 0.5] [--words N]
        [--data artifacts/data/massey.npz artifacts/data/asl_test.npz] [--model PATH] [--groups G ...]
        [--jitter PX] [--dropout P] [--jump P] [--fps F] [--min-confidence P]

Spells words (covering every letter, double letters, J and Z) from the datasets' real landmarks
with :func:`fingerspell.reading.synth.synth_word`, runs the model on every frame and the frames
through :class:`fingerspell.reading.holds.HoldSegmenter`, and reports per pace: word accuracy,
letter error rate (edit distance), J/Z recall, false J/Z over still D and I holds, and the
latency from a hold's start (ground truth) to its letter. With the shipped model the landmarks
come from signers it trained on: an upper bound for the model, a fair test of the hold logic.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "src"))  # after PYTHONPATH and the installed package: a run can pick its fingerspell

from fingerspell.data.schema import DatasetArrays, load_dataset  # noqa: E402
from fingerspell.hands.landmarks import normalize_landmarks  # noqa: E402
from fingerspell.reading.holds import FrameReading, HoldOptions, HoldSegmenter  # noqa: E402
from fingerspell.reading.synth import LetterBank, SynthOptions, synth_word  # noqa: E402

WORDS = ("HELLO", "BOOK", "JAZZ", "QUIZ", "JUMP", "PIZZA", "FIXED", "WAVY", "GLYPH", "KNOCK",
         "TREE", "SKIRT", "VOX", "ZERO", "JOY", "DID", "ID", "ADD", "BUZZ", "JELLY")


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def read_word(clf, word, opts: HoldOptions):
    """(letters written, [(hold, retract)]) for one simulated word."""
    seg = HoldSegmenter(clf.classes, opts)
    rows = [i for i, (_, lm) in enumerate(word.frames) if lm is not None]
    vecs = np.stack([normalize_landmarks(word.frames[i][1], word.image_size, word.handedness) for i in rows])
    probs = dict(zip(rows, clf.predict_proba(vecs))) if rows else {}
    letters: List[str] = []
    holds = []
    for i, (t, lm) in enumerate(word.frames):
        up = seg.update(FrameReading(t, lm, word.image_size, probs.get(i)))
        if up.retract is not None and not np.isnan(up.retract.written_at) and letters:  # not an unread hold
            letters.pop()
        if up.hold is not None:
            letters.append(up.hold.letter)
            holds.append(up.hold)
    return letters, holds


def latencies(truth, holds) -> List[float]:
    """Written-at minus true hold start, for static letters matched in order."""
    out, k = [], 0
    for letter, start, _end in truth:
        for j in range(k, len(holds)):
            if holds[j].letter == letter and holds[j].written_at >= start - 0.05:
                if holds[j].kind == "static":
                    out.append(holds[j].written_at - start)
                k = j + 1
                break
    return out


def run_pace(clf, bank, pace: float, words: Sequence[str], reps: int, opts: HoldOptions, seed: int,
             noise: dict) -> dict:
    rng = np.random.default_rng(seed)
    right = errs = total = 0
    jz_hit = jz_total = 0
    lat: List[float] = []
    wrong = []
    for r in range(reps):
        for w in words:
            sw = synth_word(w, bank, SynthOptions(pace=pace, mirror=bool(r % 2), **noise), rng)
            got, holds = read_word(clf, sw, opts)
            truth = list(sw.word)
            right += got == truth
            errs += edit_distance(got, truth)
            total += len(truth)
            for c in ("J", "Z"):
                jz_total += truth.count(c)
                jz_hit += min(truth.count(c), got.count(c))
            lat += latencies(sw.truth, holds)
            if got != truth:
                wrong.append(f"{w}->{''.join(got)}")
    n = reps * len(words)
    return {"pace": pace, "words": n, "word_acc": right / n, "ler": errs / total,
            "jz_recall": jz_hit / max(jz_total, 1), "lat_median": float(np.median(lat)) if lat else float("nan"),
            "lat_p90": float(np.percentile(lat, 90)) if lat else float("nan"),
            "lat_max": float(np.max(lat)) if lat else float("nan"), "wrong": wrong[:12]}


NO_MOTION_WORDS = ("DIDI", "IDDI", "DII", "IDI", "IDEA", "KID", "DIG", "GIFT", "YIELD", "SIX", "DRY", "ILL")


def still_false_jz(clf, bank, opts: HoldOptions, reps: int, seed: int, noise: dict) -> tuple:
    """Words without J or Z, full of D, I, Y, G, X holds and the moves between them (with slides
    and releases): J or Z written out of them, and the words read wrong."""
    rng = np.random.default_rng(seed)
    false = holds_n = 0
    for r in range(reps):
        for w in NO_MOTION_WORDS:
            sw = synth_word(w, bank, SynthOptions(pace=(1.0, 0.5)[r % 2], mirror=bool(r % 3 == 0), **noise), rng)
            got, _ = read_word(clf, sw, opts)
            false += sum(c in "JZ" for c in got)
            holds_n += len(w)
    return false, holds_n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=[str(ROOT / "artifacts/data/massey.npz"),
                                                  str(ROOT / "artifacts/data/asl_test.npz")])
    ap.add_argument("--groups", nargs="*", default=None, help="signer groups the shapes come from")
    ap.add_argument("--model", default=None)
    ap.add_argument("--paces", nargs="+", type=float, default=[1.0, 0.5])
    ap.add_argument("--reps", type=int, default=3, help="times each word is spelled per pace")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jitter", type=float, default=SynthOptions.jitter_px, help="landmark noise, pixels (std)")
    ap.add_argument("--dropout", type=float, default=SynthOptions.dropout, help="chance a 1-2 frame gap starts")
    ap.add_argument("--jump", type=float, default=SynthOptions.jump, help="chance of a one-frame landmark jump")
    ap.add_argument("--fps", type=float, default=SynthOptions.fps)
    ap.add_argument("--min-confidence", type=float, default=HoldOptions.min_confidence)
    ap.add_argument("--words", nargs="+", default=list(WORDS), help="the words spelled (default: a set with every "
                    "letter, double letters, J and Z)")
    args = ap.parse_args(argv)
    noise = {"jitter_px": args.jitter, "dropout": args.dropout, "jump": args.jump, "fps": args.fps}
    import torch

    torch.set_num_threads(1)
    from fingerspell.runtime.classifier import load_classifier

    clf, _card = load_classifier(args.model)
    data = DatasetArrays.concatenate([load_dataset(p) for p in args.data])
    bank = LetterBank.from_dataset(data, groups=args.groups)
    opts = HoldOptions(min_confidence=args.min_confidence)
    t0 = time.time()
    print(f"shapes: {', '.join(bank.groups)}; noise {noise}")
    print("| pace s/letter | words | word acc | letter err | J/Z recall | latency median / p90 / max ms |")
    print("|---|---|---|---|---|---|")
    for pace in args.paces:
        r = run_pace(clf, bank, pace, [w.upper() for w in args.words], args.reps, opts, args.seed, noise)
        print(f"| {pace:g} | {r['words']} | {r['word_acc']:.1%} | {r['ler']:.1%} | {r['jz_recall']:.1%} | "
              f"{r['lat_median'] * 1000:.0f} / {r['lat_p90'] * 1000:.0f} / {r['lat_max'] * 1000:.0f} |")
        if r["wrong"]:
            print("   wrong:", " ".join(r["wrong"]))
    false, n = still_false_jz(clf, bank, opts, args.reps * 2, args.seed + 1, noise)
    print(f"false J/Z in words without them (D, I, Y, G, X holds and moves, paces 1.0/0.5): {false} in {n} "
          f"letters; {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

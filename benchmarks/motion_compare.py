"""J/Z from movements: the template matcher against a small learned classifier, on the simulator.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/motion_compare.py [--reps 6]

Movements are cut by :class:`fingerspell.reading.holds.HoldSegmenter` from simulated words
(real landmarks, shipped model); each is labelled J, Z or none from the simulator's truth. The
learned model (an sklearn MLP over resampled fingertip paths, shape probabilities, path length
and duration) trains on movements made from massey hand1-hand3 and asl-alphabets shapes and is
tested, like the template matcher, on movements made from massey hand4/hand5 shapes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "src"))  # after PYTHONPATH and the installed package: a run can pick its fingerspell
sys.path.insert(0, str(ROOT / "benchmarks"))

from holds_sim import NO_MOTION_WORDS, WORDS  # noqa: E402

from fingerspell.data.schema import DatasetArrays, load_dataset  # noqa: E402
from fingerspell.hands.landmarks import normalize_landmarks  # noqa: E402
from fingerspell.reading.holds import FrameReading, HoldSegmenter  # noqa: E402
from fingerspell.reading.motion import SHAPE_GATE, normalise, resample  # noqa: E402
from fingerspell.reading.synth import LetterBank, SynthOptions, synth_word  # noqa: E402
from fingerspell.reading.tracking import palm_size_2d  # noqa: E402

LABELS = ("none", "J", "Z")


class _Recorder:
    """Stands in for the segmenter's matcher: keeps each movement, answers as the real one."""

    def __init__(self, matcher) -> None:
        self.matcher, self.calls = matcher, []

    def match(self, points, probs, times=None):
        res = self.matcher.match(points, probs, times)
        self.calls.append((points, probs, np.asarray(times), res))
        return res


def movements(clf, bank, words, reps, seed):
    """(points, probs, times, template result, label) for every movement in the words."""
    rng = np.random.default_rng(seed)
    out = []
    for r in range(reps):
        for w in words:
            sw = synth_word(w, bank, SynthOptions(pace=(1.0, 0.5)[r % 2], mirror=bool(r % 3 == 1)), rng)
            rows = [i for i, (_, lm) in enumerate(sw.frames) if lm is not None]
            vecs = np.stack([normalize_landmarks(sw.frames[i][1], sw.image_size, sw.handedness) for i in rows])
            probs = dict(zip(rows, clf.predict_proba(vecs)))
            seg = HoldSegmenter(clf.classes)
            rec = _Recorder(seg._matcher)
            seg._matcher = rec
            for i, (t, lm) in enumerate(sw.frames):
                seg.update(FrameReading(t, lm, sw.image_size, probs.get(i)))
            for pts, pr, ts, res in rec.calls:
                label = "none"
                for letter, a, b in sw.truth:
                    overlap = min(b, ts[-1]) - max(a, ts[0])
                    if letter in "JZ" and overlap > 0.5 * (b - a):
                        label = letter
                out.append((pts, pr, ts, res, label))
    return out


def features(pts, probs, ts, classes) -> np.ndarray:
    palm = float(np.median([palm_size_2d(p) for p in pts]))
    feats = []
    for tip in (20, 8):
        path = pts[:, tip] / palm
        feats.append(normalise(resample(path, 16)).reshape(-1))
        feats.append([np.linalg.norm(np.diff(path, axis=0), axis=1).sum()])
    for letter in ("J", "Z"):
        idx = [classes.index(c) for c in SHAPE_GATE[letter]]
        gate = probs[:, idx].sum(axis=1)
        feats.append([gate.mean(), gate.max(), gate[: len(gate) // 2].mean(), gate[len(gate) // 2:].mean()])
    feats.append([ts[-1] - ts[0], len(ts) / 30.0])
    return np.concatenate([np.asarray(f, dtype=np.float64).reshape(-1) for f in feats])


def report(name, pred, truth) -> None:
    pred, truth = np.asarray(pred), np.asarray(truth)
    motion = truth != "none"
    recall = (pred[motion] == truth[motion]).mean() if motion.any() else float("nan")
    false = int(((pred != "none") & (pred != truth)).sum())
    print(f"| {name} | {int(motion.sum())} | {recall:.1%} | {false} in {len(truth)} movements |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)
    import torch
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    torch.set_num_threads(1)
    from fingerspell.runtime.classifier import load_classifier

    clf, _ = load_classifier(args.model)
    data = DatasetArrays.concatenate([load_dataset(ROOT / "artifacts/data" / f)
                                      for f in ("massey.npz", "asl_test.npz")])
    train_bank = LetterBank.from_dataset(data, groups=["massey/hand1", "massey/hand2", "massey/hand3",
                                                       "asl-alphabets/test"])
    test_bank = LetterBank.from_dataset(data, groups=["massey/hand4", "massey/hand5"])
    words = WORDS + NO_MOTION_WORDS
    train = movements(clf, train_bank, words, args.reps, 0)
    test = movements(clf, test_bank, words, args.reps, 1)
    x_train = np.stack([features(p, q, t, clf.classes) for p, q, t, _, _ in train])
    x_test = np.stack([features(p, q, t, clf.classes) for p, q, t, _, _ in test])
    scaler = StandardScaler().fit(x_train)
    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=2000, random_state=0)
    mlp.fit(scaler.transform(x_train), [m[4] for m in train])
    truth = [m[4] for m in test]
    print(f"train {len(train)} movements, test {len(test)} (unseen shapes: massey hand4/hand5)")
    print("| method | J/Z movements | J/Z recall | false J/Z |")
    print("|---|---|---|---|")
    report("template matcher", [m[3].letter if m[3] is not None else "none" for m in test], truth)
    report("MLP on paths", list(mlp.predict(scaler.transform(x_test))), truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Hand pixels beside the landmarks: does a small CNN on the photo's hand crop, fused with the
landmark model, read people it never saw better than the landmarks alone?

    OMP_NUM_THREADS=2 python benchmarks/hand_pixels.py [--protocols to-mon95 to-asl] [--size 48]
                                                      [--epochs 15] [--seed 0] [--lm-cache DIR]

The shipped model reads only MediaPipe's 21 landmarks; the hard pairs (C/O, M/N/S/T, where the
thumb sits in a fist) are visible in the pixels, where MediaPipe has to guess hidden joints
(docs/accuracy_features.md, "What is left"). For each protocol of ``accuracy.py`` this trains, per
fold, the landmark model's recipe (as ``accuracy.py``) and a small CNN on grey hand crops (a square
about the landmarks' box, left hands mirrored, each crop standardised: the shipped hand-crop model's
recipe, ``fingerspell.training.hand_crop``), then scores the landmark model alone, the CNN alone, and their fusion
``log p_landmarks + w log p_pixels`` for several ``w`` (argmax over the static letters).

Crops are cached beside the datasets (``artifacts/data/<name>.crops<size>.npz``). Writes
``benchmarks/results/hand_pixels.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy as A  # noqa: E402
from _common import CROSS, REPO, machine  # noqa: E402

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES  # noqa: E402
from fingerspell.data.schema import DatasetArrays  # noqa: E402
from fingerspell.training.hand_crop import STILL_LETTERS, crops_by_path, still_letter_index, train_hand_crop  # noqa: E402

STATIC = list(STILL_LETTERS)  # 24 letters, no J or Z
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def static_index(data: DatasetArrays) -> np.ndarray:
    """Each row's index in STATIC (J as I, Z as D; -1 for signs that are not letters)."""
    return still_letter_index(data.classes, data.labels)


def recall_per_letter(predicted: np.ndarray, truth: np.ndarray) -> dict:
    """{letter: [right, photos]} over the letters ``truth`` holds."""
    return {STATIC[k]: [int(((predicted == k) & (truth == k)).sum()), int((truth == k).sum())]
            for k in range(len(STATIC)) if (truth == k).any()}


def landmark_probs(args, train: DatasetArrays, test: DatasetArrays, work: Path) -> np.ndarray:
    """The landmark recipe's probabilities over STATIC for the test rows (both looks averaged)."""
    from fingerspell.runtime.classifier import load_classifier
    from fingerspell.training.train import train as run_training

    opts = A.train_options("landmark_mlp", args, str(work))
    clf, _ = load_classifier(run_training(opts, train_data=train, log=lambda s: None).best_path)
    classes = list(clf.classes)
    probs = clf.predict_proba(test.vectors)
    if test.has_second.any():
        other = clf.predict_proba(test.second_vectors)
        probs = np.where(test.has_second[:, None], (probs + other) / 2, probs)
    return probs[:, [classes.index(c) for c in STATIC]]


def run_fold(args, train: DatasetArrays, test: DatasetArrays, crops: dict, work: Path) -> dict:
    test = test.subset(~np.isin(test.labels, [A.CLASSES.index(c) for c in MOTION_LETTER_SHAPES]))
    test = test.subset(~test.no_hand)
    y_test = static_index(test)
    t0 = time.perf_counter()
    cache = Path(args.lm_cache) / f"{work.name}_s{args.seed}.npy" if args.lm_cache else None
    if cache is not None and cache.exists():
        p_lm = np.load(cache)
    else:
        p_lm = landmark_probs(args, train, test, work)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, p_lm)
    t_lm = time.perf_counter() - t0
    tr = train.subset((static_index(train) >= 0) & ~train.no_hand)
    x_tr = np.stack([crops[str(p)] for p in tr.paths])
    model = train_hand_crop(x_tr, static_index(tr), args.epochs, args.seed, log=None)
    p_px = model.predict_crops(np.stack([crops[str(p)] for p in test.paths]))
    row = {"n": int(len(y_test)), "landmark_seconds": round(t_lm, 1),
           "pixel_seconds": round(time.perf_counter() - t0 - t_lm, 1),
           "pixels": float((p_px.argmax(1) == y_test).mean())}
    for w in WEIGHTS:
        fused = np.log(p_lm + 1e-9) + w * np.log(p_px + 1e-9)
        row[f"w{w}"] = float((fused.argmax(1) == y_test).mean())
    for w in (0.0, 0.3, 0.5):  # per letter recall for a few weights
        row[f"per_letter_w{w}"] = recall_per_letter((np.log(p_lm + 1e-9) + w * np.log(p_px + 1e-9)).argmax(1), y_test)
    row["per_letter_pixels"] = recall_per_letter(p_px.argmax(1), y_test)
    return row


def folds(protocol: str, ds: dict):
    if "-loso" in protocol:
        name = protocol.split("-")[0]
        data = A.letters(ds[name][0])
        for g in sorted(np.unique(data.groups).tolist()):
            held = data.groups == g
            yield g, data.subset(~held), data.subset(held)
    else:
        train_names, test_name = CROSS[protocol]
        yield test_name, DatasetArrays.concatenate([ds[n][0] for n in train_names]), A.letters(ds[test_name][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", nargs="+", default=["to-mon95", "to-asl"], choices=A.PROTOCOLS[:4])
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lm-cache", default=None, help="folder keeping the landmark model's test probabilities per fold")
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "hand_pixels.json"))
    args = ap.parse_args()
    for name, value in (("input_size", 96), ("mask_epochs", 15), ("vector_epochs", 40), ("device", "cpu"),
                        ("threads", None), ("workers", 0)):
        setattr(args, name, value)  # accuracy.py's defaults for its recipe
    data_dir = Path(args.data_dir)
    ds = A.ensure_datasets(data_dir, args.input_size)
    crops = crops_by_path([data_dir / f"{name}.npz" for name in A.DATASETS], args.size)
    key = f"size{args.size}_e{args.epochs}_s{args.seed}"
    path = Path(args.results)
    out = json.loads(path.read_text()) if path.exists() else {}
    out.setdefault(key, {})["machine"] = machine()
    for protocol in args.protocols:
        rows = {}
        with tempfile.TemporaryDirectory() as tmp:
            for g, train, test in folds(protocol, ds):
                rows[g] = run_fold(args, train, test, crops, Path(tmp) / g.replace("/", "_"))
                r = rows[g]
                print(f"  {protocol} {g}: landmarks {r['w0.0']:.1%}, pixels {r['pixels']:.1%}, fused "
                      + ", ".join(f"w{w} {r[f'w{w}']:.1%}" for w in WEIGHTS[1:]), flush=True)
        summary = {k: float(np.mean([r[k] for r in rows.values()])) for k in ["pixels"] + [f"w{w}" for w in WEIGHTS]}
        out[key][protocol] = {"summary": summary, "folds": rows}
        print(f"{protocol}: " + ", ".join(f"{k} {v:.1%}" for k, v in summary.items()), flush=True)
        part = path.with_suffix(".json.part")
        part.write_text(json.dumps(out, indent=1))
        part.replace(path)


if __name__ == "__main__":
    main()

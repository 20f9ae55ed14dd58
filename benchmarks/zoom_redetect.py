"""Would MediaPipe place a small hand's fingers better on an enlarged crop? (mon95's hands are small)

    OMP_NUM_THREADS=1 python benchmarks/zoom_redetect.py [--frac 0.5] [--scale 2.0] [--size 256]

Every mon95 photo of ``artifacts/data/mon95.npz`` is detected again as ``fingerspell build-dataset``
does; when the hand's landmark box is narrower than ``frac`` of the photo's longer side, a square
crop ``scale`` times the box (black beyond the photo) is enlarged to ``size`` px and detected again,
and those landmarks (mapped back into the photo) replace the stored ones. Then mon95 leave-one-user-out
and asl-alphabets + massey -> mon95 are scored with the fast trainer (base vector, J/Z as I/D,
60 epochs, seeds 0 and 1), stored landmarks against zoomed ones. Result (2026-11-26): 1,108 of
1,150 hands zoomed; mon95-loso 95.7% -> 95.2%, to-mon95 85.3% -> 85.4%: no gain, not shipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402
from _fast_train import VARIANTS, Recipe, train_mlp  # noqa: E402
from feature_variants import Points, folds, load_points, score_fold, training_labels  # noqa: E402

from fingerspell.data.exceptions import drop_exceptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.hands.detector import DetectorOptions, HandDetector  # noqa: E402
from fingerspell.hands.landmarks import normalize_landmarks  # noqa: E402
from fingerspell.labels import CLASSES  # noqa: E402


def zoomed_vectors(data, frac: float, scale: float, size: int) -> tuple:
    det = HandDetector(DetectorOptions(mode="image"))
    out, n = data.vectors.copy(), 0
    for i, path in enumerate(data.paths.tolist()):
        img = cv2.imread(path)
        if img is None or not data.vectors[i].any():
            continue
        h, w = img.shape[:2]
        hands = det.detect(img)
        if not hands:
            continue
        px = hands[0].landmarks[:, :2].astype(np.float64) * [w, h]
        (x0, y0), (x1, y1) = px.min(0), px.max(0)
        side = max(x1 - x0, y1 - y0)
        if side >= frac * max(w, h):
            continue
        half = side * scale / 2
        pad = int(half) + 2
        big = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        a0, b0, s = int(round((x0 + x1) / 2 - half + pad)), int(round((y0 + y1) / 2 - half + pad)), int(round(2 * half))
        found = det.detect(cv2.resize(big[b0:b0 + s, a0:a0 + s], (size, size), interpolation=cv2.INTER_CUBIC))
        if not found:
            continue
        z = found[0].landmarks.astype(np.float64).copy()
        z[:, 0] = (z[:, 0] * s + a0 - pad) / w
        z[:, 1] = (z[:, 1] * s + b0 - pad) / h
        z[:, 2] = z[:, 2] * s / w
        v = normalize_landmarks(z, (w, h), found[0].handedness)
        out[i, :len(v)] = v
        n += 1
    det.close()
    return out, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frac", type=float, default=0.5)
    ap.add_argument("--scale", type=float, default=2.0)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    raw = load_dataset(Path(args.data_dir) / "mon95.npz")
    zoomed, n = zoomed_vectors(raw, args.frac, args.scale, args.size)
    print(f"{n} of {len(raw)} mon95 hands detected again on an enlarged crop", flush=True)
    ds, _ = load_points(Path(args.data_dir), protocols=("mon95-loso", "to-mon95"))
    feats = VARIANTS["base"]
    for tag, vectors in (("stored", raw.vectors), ("zoomed", zoomed)):
        d, _ = drop_exceptions(dataclasses.replace(raw, vectors=vectors))
        pts = d.vectors[:, :63].reshape(-1, 21, 3).astype(np.float64)
        ds["mon95"] = Points(pts, d.labels.astype(np.int64), d.groups)
        row = []
        for proto in ("mon95-loso", "to-mon95"):
            accs = []
            for seed in args.seeds:
                c = t = 0
                for _, train, test in folds(proto, ds):
                    train = training_labels(train, "merge_jz")
                    model = train_mlp(train.points, train.labels, len(CLASSES), feats, Recipe(epochs=60), seed)
                    with torch.no_grad():
                        probs = torch.softmax(model(torch.from_numpy(feats(test.points).astype(np.float32))), 1).numpy()
                    s = score_fold(probs, test.labels)
                    c, t = c + s["static_correct"], t + s["static_n"]
                accs.append(c / t)
            row.append(f"{proto} {np.mean(accs):.2%}")
        print(f"{tag}: " + ", ".join(row), flush=True)


if __name__ == "__main__":
    main()

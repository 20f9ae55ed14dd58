"""Test-time augmentation of the landmarks: does averaging over turned copies of a hand help?

    OMP_NUM_THREADS=1 python benchmarks/tta.py [--seeds 0 1]

For each protocol of ``feature_variants.py`` (base vector, J/Z photos trained as I/D, 60 epochs,
the fast trainer), the test hands are read as they are (``plain``) and as the mean probability of
copies turned about the wrist: yaw x pitch in {-15, 0, 15} deg (``yp15``), yaw {-25, 0, 25} x pitch
{-20, 0, 20} (``yp25``), or in the image plane by {-10, 0, 10} deg (``roll10``). Result (2026-11-26,
2 seeds): no view set beats ``plain`` beyond the seed spread, so the product reads one copy.
Writes ``benchmarks/results/tta.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine  # noqa: E402
from _fast_train import VARIANTS, Recipe, _rotations, train_mlp  # noqa: E402
from feature_variants import PROTOCOLS, folds, load_points, score_fold, training_labels  # noqa: E402

from fingerspell.labels import CLASSES  # noqa: E402

VIEWS = {"plain": [(0, 0, 0)],
         "yp15": [(y, p, 0) for y in (-15, 0, 15) for p in (-15, 0, 15)],
         "yp25": [(y, p, 0) for y in (-25, 0, 25) for p in (-20, 0, 20)],
         "roll10": [(0, 0, r) for r in (-10, 0, 10)]}


def turned(points: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    n = len(points)
    rot = (_rotations("z", np.full(n, np.deg2rad(roll))) @ _rotations("x", np.full(n, np.deg2rad(pitch)))
           @ _rotations("y", np.full(n, np.deg2rad(yaw))))
    out = np.einsum("nij,nkj->nki", rot, points - points[:, :1])
    out[~points.reshape(n, -1).any(1)] = 0.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    feats = VARIANTS["base"]
    ds, _ = load_points(Path(args.data_dir))
    results = {}
    for seed in args.seeds:
        for proto in PROTOCOLS:
            tot = {k: [0, 0] for k in VIEWS}
            for _, train, test in folds(proto, ds):
                train = training_labels(train, "merge_jz")
                model = train_mlp(train.points, train.labels, len(CLASSES), feats, Recipe(epochs=args.epochs), seed)
                for name, views in VIEWS.items():
                    with torch.no_grad():
                        probs = np.mean([torch.softmax(model(torch.from_numpy(
                            feats(turned(test.points, *v)).astype(np.float32))), 1).numpy() for v in views], axis=0)
                    s = score_fold(probs, test.labels)
                    tot[name][0] += s["static_correct"]
                    tot[name][1] += s["static_n"]
            results.setdefault(proto, {})[seed] = {k: a / b for k, (a, b) in tot.items()}
            print(f"seed {seed} {proto}: " + "  ".join(f"{k} {a / b:.2%}" for k, (a, b) in tot.items()), flush=True)
    print("| views | " + " | ".join(PROTOCOLS) + " |\n|---|" + "---|" * len(PROTOCOLS))
    for k in VIEWS:
        print(f"| {k} | " + " | ".join(f"{np.mean([r[k] for r in results[p].values()]):.2%}" for p in PROTOCOLS) + " |")
    out = REPO / "benchmarks" / "results" / "tta.json"
    out.write_text(json.dumps({"results": results, "seeds": args.seeds, "machine": machine()}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Three augmentations aimed at the largest cross-data-set confusions (asl-alphabets' G read as Q,
mon95's O read as C): do they read another data set's people better?

    OMP_NUM_THREADS=1 python benchmarks/augment_variants.py --variant roll|tilt|loose_o [--seed 0]
        [--protocols to-mon95 to-asl] [--out FILE.json]
    python benchmarks/augment_variants.py --neighbours

Variants (the landmark vectors of each training batch, after the recipe's own augmentation):
  roll     half the hands turned about their own axis (wrist to middle knuckle) by U(-90, 90) degrees:
           the same hand seen from above or from the side (asl-alphabets photographs G from above)
  tilt     the recipe's turn in the image plane widened from 15 to 30 degrees (so that how far a
           hand leans in the picture says less about its letter)
  loose_o  half the O photos with the thumb tip moved away from the index tip by U(0, 0.2) palm sizes
           (mon95's O leaves a gap of about 0.3, the other sets' about 0.2)
``--neighbours``: no training; for each mon95 signer's O photos, the letters and sources of their 10
nearest landmark vectors among asl-alphabets train + massey (what the → mon95 models learn from), and
each source's mean direction of the hand and of the index finger in its G and Q photos, and the gap
between thumb tip and index tip in its C and O photos.

Each protocol is trained and scored as ``benchmarks/accuracy.py`` does (its fold recipe, 40 epochs);
compare with ``benchmarks/results/accuracy[_sN].json`` of the same seed. The trainer's batches are
patched here, not changed: measured and not shipped (docs/accuracy_features.md). About 4 minutes
(→ asl-alphabets) and 6 (→ mon95) on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy as acc  # noqa: E402
from _common import REPO, machine  # noqa: E402


def _roll(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from fingerspell.data.augment import _rotate_about, _unit

    p = points - points[0]
    angle = np.array([rng.uniform(-np.pi / 2, np.pi / 2)])
    return _rotate_about(p[None], np.zeros((1, 3)), _unit(p[9])[None], angle)[0]


def _loosen(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = points.copy()
    gap = p[4] - p[8]
    n = np.linalg.norm(gap)
    if n > 1e-6:
        shift = gap / n * rng.uniform(0.0, 0.2)
        p[4] += shift
        p[3] += 0.5 * shift
    return p


def patch_batches(variant: str) -> None:
    """Make the trainer's vector batches carry ``variant`` (half the rows it applies to)."""
    import torch

    import fingerspell.data.augment as aug
    import fingerspell.training.data as tdata
    from fingerspell.hands.landmarks import vector_from_points
    from fingerspell.labels import CLASSES

    if variant == "tilt":
        from dataclasses import replace

        aug.DEFAULT_OPTIONS = replace(aug.DEFAULT_OPTIONS, vector_rotate_deg=30.0)
        return
    change, only = (_roll, None) if variant == "roll" else (_loosen, CLASSES.index("O"))
    call = tdata.BatchCollator.__call__

    def patched(self, batch):
        x, labels = call(self, batch)
        if not self.augment or self.input.kind != "vector":
            return x, labels
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,)).item()))
        rows = x.numpy().copy()
        for i, label in enumerate(labels.tolist()):
            if (only is not None and label != only) or rng.random() >= 0.5 or not rows[i].any():
                continue
            out = vector_from_points(change(aug.points_from_vector(rows[i]), rng))
            if np.all(np.isfinite(out)):
                rows[i] = out
        return torch.from_numpy(rows), labels

    tdata.BatchCollator.__call__ = patched


def neighbours(ds: dict) -> None:
    train = [ds["asl_train"][0], ds["massey"][0]]
    vecs = np.concatenate([d.vectors for d in train])
    labels = np.concatenate([d.labels for d in train])
    source = np.concatenate([[n] * len(d.labels) for n, d in zip(("asl-alphabets", "massey"), train)])
    mon = ds["mon95"][0]
    o = acc.CLASSES.index("O")
    for g in sorted(np.unique(mon.groups).tolist()):
        votes: dict = {}
        for v in mon.vectors[(mon.labels == o) & (mon.groups == g)]:
            for j in np.argsort(np.linalg.norm(vecs - v, axis=1))[:10]:
                key = f"{acc.CLASSES[labels[j]]} ({source[j]})"
                votes[key] = votes.get(key, 0) + 1
        print(f"{g} O: " + ", ".join(f"{k} {n}" for k, n in sorted(votes.items(), key=lambda kv: -kv[1])))
    from fingerspell.data.augment import points_from_vector

    for name in ("asl_test", "asl_train", "massey", "mon95"):
        d = ds[name][0]
        for letter in ("G", "Q"):
            pts = np.stack([points_from_vector(v) for v in d.vectors[d.labels == acc.CLASSES.index(letter)]])
            axis, index = pts[:, 9], pts[:, 8] - pts[:, 5]
            axis, index = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (axis, index))
            print(f"{name} {letter} ({len(pts)}): hand axis (x, y) {axis.mean(0)[:2].round(2)}, "
                  f"index finger {index.mean(0)[:2].round(2)} (image y points down)")
        for letter in ("C", "O"):
            pts = np.stack([points_from_vector(v) for v in d.vectors[d.labels == acc.CLASSES.index(letter)]])
            gap = np.percentile(np.linalg.norm(pts[:, 4] - pts[:, 8], axis=1), [5, 50, 95])
            print(f"{name} {letter} ({len(pts)}): thumb tip to index tip, 5th / 50th / 95th percentile "
                  f"{' / '.join(f'{g:.2f}' for g in gap)} palm sizes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=("roll", "tilt", "loose_o"))
    ap.add_argument("--neighbours", action="store_true", help="only the nearest training vectors of mon95's O")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--protocols", nargs="+", default=["to-mon95", "to-asl"], choices=acc.PROTOCOLS)
    ap.add_argument("--out", default=None, help="JSON (default benchmarks/results/augment_VARIANT_sSEED.json)")
    a = ap.parse_args()
    ds = acc.ensure_datasets(REPO / "artifacts" / "data", 96)
    if a.neighbours:
        return neighbours(ds)
    if not a.variant:
        ap.error("give --variant or --neighbours")
    patch_batches(a.variant)
    args = acc.recipe_args(a.seed, 40, threads=1)
    out = Path(a.out or REPO / "benchmarks" / "results" / f"augment_{a.variant}_s{a.seed}.json")
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for p in a.protocols:
            r = acc.run_protocol("landmark_mlp", p, ds, args, Path(tmp) / p)
            res[p] = {"accuracy": r["accuracy_given_hand"], "top_confusions": r["top_confusions"],
                      "per_letter": r["per_letter"], "seconds": r["seconds"]}
            print(f"{a.variant} seed {a.seed} {p}: {r['accuracy_given_hand']:.2%}", r["top_confusions"][:5], flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"variant": a.variant, "seed": a.seed, "epochs": 40, "machine": machine(),
                                       "results": res}, indent=1))


if __name__ == "__main__":
    main()

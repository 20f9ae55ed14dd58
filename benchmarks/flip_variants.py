"""Does a second, mirrored MediaPipe reading of each photo help the landmark model read unseen people?

    OMP_NUM_THREADS=1 python benchmarks/flip_variants.py [--train plain aug avg] [--seeds 0 1]

The second reading is the one ``build-dataset`` stores (``second_vectors``, ``has_second``:
hands/second_look.py; datasets built before it have none: rebuild them). The protocols, recipe
and scoring of ``feature_variants.py`` (fast trainer, ``base`` vector, J/Z merged into I/D,
mon95's T left out). Modes:
  plain    train and test on the first readings (the control)
  tta      test on the mean probability of the two readings
  aug      train on both readings (each photo twice), test on the first
  aug_tta  both
  avg      train and test on the mean of the two readings' points
A row without a second reading uses its first in every mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CROSS, REPO  # noqa: E402
from _fast_train import VARIANTS, Recipe, predict_proba, train_mlp  # noqa: E402
from feature_variants import NEEDS, PROTOCOLS, Points, score_fold, summarize, training_labels  # noqa: E402

from fingerspell.data.exceptions import drop_exceptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.fileio import atomic_write_json  # noqa: E402
from fingerspell.labels import CLASSES  # noqa: E402

MODES = ("plain", "tta", "aug", "aug_tta", "avg")


def load(data_dir: Path, protocols) -> dict:
    """{name: (Points of the first readings, Points of the second ones)}."""
    out = {}
    for name in sorted({n for p in protocols for n in NEEDS[p]}):
        data, _ = drop_exceptions(load_dataset(data_dir / f"{name}.npz"))
        if not data.has_second.any():
            raise SystemExit(f"{name}.npz has no second readings: rebuild it with 'fingerspell build-dataset'")
        pts = data.vectors[:, :63].reshape(-1, 21, 3).astype(np.float64)
        second = np.where(data.has_second[:, None, None],
                          data.second_vectors[:, :63].reshape(-1, 21, 3).astype(np.float64), pts)
        print(f"{name}: second reading for {int(data.has_second.sum())} of {len(pts)} rows", flush=True)
        labels, groups = data.labels.astype(np.int64), data.groups
        out[name] = (Points(pts, labels, groups), Points(second, labels, groups))
    return out


def folds(protocol: str, ds: dict):
    """(name, train stored, train mirrored, test stored, test mirrored)."""
    def letters(p: Points) -> np.ndarray:
        return np.isin(p.labels, [CLASSES.index(c) for c in CLASSES if len(c) == 1])

    if protocol.endswith("-loso"):
        a, b = ds[protocol.split("-")[0]]
        keep = letters(a)
        a, b = a.take(keep), b.take(keep)
        for g in sorted(np.unique(a.groups).tolist()):
            held = a.groups == g
            yield g, a.take(~held), b.take(~held), a.take(held), b.take(held)
    else:
        train_names, test = CROSS[protocol]
        ta, tb = ds[test]
        keep = letters(ta)
        yield (test, Points.join([ds[n][0] for n in train_names]), Points.join([ds[n][1] for n in train_names]),
               ta.take(keep), tb.take(keep))


TRAINED = {"plain": ("plain", "tta"), "aug": ("aug", "aug_tta"), "avg": ("avg",)}


def run(protocol: str, ds: dict, training: str, recipe: Recipe, seed: int) -> dict:
    """{mode: result} for the modes one training (``TRAINED``) serves."""
    import time

    t0 = time.perf_counter()
    feats = VARIANTS["base"]
    scores: dict = {m: {} for m in TRAINED[training]}
    for name, tr_a, tr_b, te_a, te_b in folds(protocol, ds):
        tr_a, tr_b = training_labels(tr_a, "merge_jz"), training_labels(tr_b, "merge_jz")
        if training == "avg":
            train = Points((tr_a.points + tr_b.points) / 2, tr_a.labels, tr_a.groups)
        elif training == "aug":
            train = Points.join([tr_a, tr_b])
        else:
            train = tr_a
        model = train_mlp(train.points, train.labels, len(CLASSES), feats, recipe, seed)
        if training == "avg":
            scores["avg"][name] = score_fold(predict_proba(model, (te_a.points + te_b.points) / 2, feats), te_a.labels)
            continue
        pa, pb = predict_proba(model, te_a.points, feats), predict_proba(model, te_b.points, feats)
        plain, tta = TRAINED[training]
        scores[plain][name] = score_fold(pa, te_a.labels)
        scores[tta][name] = score_fold((pa + pb) / 2, te_a.labels)
    return {m: summarize(s, t0) for m, s in scores.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", nargs="+", default=list(TRAINED), choices=list(TRAINED),
                    help="plain (scores plain, tta), aug (aug, aug_tta), avg")
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "flip_variants.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = load(Path(args.data_dir), args.protocols)
    recipe = replace(Recipe(), epochs=args.epochs)
    path = Path(args.results)
    for seed in args.seeds:
        for training in args.train:
            for protocol in args.protocols:
                out = run(protocol, ds, training, recipe, seed)
                results = json.loads(path.read_text()) if path.exists() else {}
                for mode, r in out.items():
                    results[f"{mode}/e{args.epochs}/{protocol}/seed{seed}"] = r
                    print(f"{mode:8s} {protocol:12s} seed {seed}: static {r['static']:.1%} ({r['seconds']} s) "
                          f"{r['top_confusions'][:5]}", flush=True)
                atomic_write_json(path, results)
    table(json.loads(path.read_text()), args.epochs)


def table(results: dict, epochs: int) -> None:
    print(f"\n| mode | seeds | {' | '.join(PROTOCOLS)} | mean |\n|" + "---|" * (len(PROTOCOLS) + 3))
    for mode in MODES:
        cells, means, seeds = [], [], 0
        for p in PROTOCOLS:
            accs = [r["static"] for k, r in results.items() if k.startswith(f"{mode}/e{epochs}/{p}/")]
            seeds = max(seeds, len(accs))
            cells.append(f"{np.mean(accs):.1%}" if accs else "")
            if accs:
                means.append(np.mean(accs))
        if seeds:
            mean = f"{np.mean(means):.1%}" if len(means) == len(PROTOCOLS) else ""
            print(f"| {mode} | {seeds} | " + " | ".join(cells) + f" | {mean} |")


if __name__ == "__main__":
    main()

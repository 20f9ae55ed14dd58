"""MediaPipe's lite hand model as extra training rows (measured, not shipped).

    OMP_NUM_THREADS=1 python benchmarks/lite_rows.py [--modes full lite] [--seeds 0 1 2 3]

The second look trains on each photo's two full readings (photo and mirrored photo): real detector
noise, which no augmentation of the points imitates (docs/accuracy_features.md). Would the lite
landmark model's readings of the same photos (``model_complexity=0``, photo and mirror; built once
into ``artifacts/lite`` by ``lite_look.build_lite``, about 6 minutes for the four datasets) add
more of it? Modes:
  full   train on the two full readings of each photo (the shipped recipe's rows)
  lite   the same plus both lite readings, where the lite model found the hand
Both read the test photos as the product does, the two full readings averaged. The protocols,
fast trainer (60 epochs), ``base`` vector, J/Z merged into I/D and mon95's T left out are those of
``feature_variants.py``. Results merge into ``benchmarks/results/lite_rows.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CROSS, REPO, machine  # noqa: E402
from _fast_train import VARIANTS, Recipe, predict_proba, train_mlp  # noqa: E402
from feature_variants import NEEDS, PROTOCOLS, Points, score_fold, summarize, training_labels  # noqa: E402
from lite_look import build_lite  # noqa: E402

from fingerspell.data.exceptions import drop_exceptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.fileio import atomic_write_json  # noqa: E402
from fingerspell.labels import CLASSES  # noqa: E402

LETTERS = [CLASSES.index(c) for c in CLASSES if len(c) == 1]
KEYS = ("full", "mirror", "lite", "lite_mirror", "has_lite", "has_lite_mirror", "labels", "groups")


def _points(vectors: np.ndarray) -> np.ndarray:
    return vectors[:, :63].reshape(-1, 21, 3).astype(np.float64)


def load(data_dir: Path, name: str) -> dict:
    """The letter rows of one dataset: its full readings and, matched by path, its lite ones."""
    data, _ = drop_exceptions(load_dataset(data_dir / f"{name}.npz"))
    lite = load_dataset(build_lite(name))
    where = {p: i for i, p in enumerate(lite.paths.tolist())}
    idx = np.array([where.get(p, -1) for p in data.paths.tolist()])
    j = np.maximum(idx, 0)
    found = (idx >= 0) & ~np.asarray(lite.no_hand, bool)[j] & ~np.asarray(data.no_hand, bool)
    full = _points(data.vectors)
    rows = {"full": full, "mirror": np.where(data.has_second[:, None, None], _points(data.second_vectors), full),
            "lite": _points(lite.vectors[j]), "lite_mirror": _points(lite.second_vectors[j]),
            "has_lite": found, "has_lite_mirror": found & np.asarray(lite.has_second, bool)[j],
            "labels": data.labels.astype(np.int64), "groups": data.groups}
    keep = np.isin(rows["labels"], LETTERS)
    print(f"{name}: lite reading for {int(found[keep].sum())} of {int(keep.sum())} letter photos", flush=True)
    return {k: v[keep] for k, v in rows.items()}


def folds(protocol: str, ds: dict):
    """(fold name, training rows, test rows) of a protocol."""
    if protocol.endswith("-loso"):
        d = ds[protocol.split("-")[0]]
        for g in sorted(np.unique(d["groups"]).tolist()):
            yield g, {k: v[d["groups"] != g] for k, v in d.items()}, {k: v[d["groups"] == g] for k, v in d.items()}
    else:
        train, test = CROSS[protocol]
        yield test, {k: np.concatenate([ds[n][k] for n in train]) for k in KEYS}, ds[test]


def training_rows(d: dict, mode: str) -> Points:
    parts = [(d["full"], d["labels"]), (d["mirror"], d["labels"])]
    if mode == "lite":
        parts += [(d["lite"][d["has_lite"]], d["labels"][d["has_lite"]]),
                  (d["lite_mirror"][d["has_lite_mirror"]], d["labels"][d["has_lite_mirror"]])]
    pts, labels = (np.concatenate(x) for x in zip(*parts))
    return training_labels(Points(pts, labels, np.zeros(len(labels))), "merge_jz")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", nargs="+", default=["full", "lite"], choices=["full", "lite"])
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "lite_rows.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = {n: load(Path(args.data_dir), n) for n in sorted({n for p in args.protocols for n in NEEDS[p]})}
    run(ds, args, {m: m for m in args.modes})


def run(ds: dict, args, rows: dict) -> None:
    """Train and score every seed x row kind x protocol; ``rows`` maps the name a result is stored under
    to the mode of :func:`training_rows` (``full``, or ``lite``: the extra readings added)."""
    feats, recipe = VARIANTS["base"], replace(Recipe(), epochs=60)
    path = Path(args.results)
    for seed in args.seeds:
        for row, mode in rows.items():
            for protocol in args.protocols:
                t0, scores = time.perf_counter(), {}
                for name, train, test in folds(protocol, ds):
                    data = training_rows(train, mode)
                    model = train_mlp(data.points, data.labels, len(CLASSES), feats, recipe, seed)
                    p = (predict_proba(model, test["full"], feats) + predict_proba(model, test["mirror"], feats)) / 2
                    scores[name] = score_fold(p, test["labels"])
                r = summarize(scores, t0)
                results = json.loads(path.read_text()) if path.exists() else {}
                results[f"{row}/{protocol}/seed{seed}"] = r["static"]
                results["machine"] = machine()
                atomic_write_json(path, results)
                print(f"{row:9s} {protocol:12s} seed {seed}: {r['static']:.2%} ({r['seconds']} s)", flush=True)
    table(json.loads(path.read_text()))


def table(results: dict) -> None:
    print(f"\n| training rows | seeds | {' | '.join(PROTOCOLS)} | mean |\n|" + "---|" * (len(PROTOCOLS) + 3))
    for row in sorted({k.split("/")[0] for k in results if "/" in k}):
        accs = [[v for k, v in results.items() if k.startswith(f"{row}/{p}/")] for p in PROTOCOLS]
        if any(accs):
            cells = [f"{np.mean(a):.1%} ± {np.std(a):.1%}" if a else "" for a in accs]
            mean = f"{np.mean([np.mean(a) for a in accs]):.1%}" if all(accs) else ""
            print(f"| {row} | {max(len(a) for a in accs)} | " + " | ".join(cells) + f" | {mean} |")


if __name__ == "__main__":
    main()

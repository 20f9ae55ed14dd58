"""Source-balanced training across data sets: does repeating the smaller training source read a
third data set's people better?

    OMP_NUM_THREADS=1 python benchmarks/source_balance.py --seed 0 [--protocols to-mon95 to-asl]
        [--out benchmarks/results/source_balance_sN.json]

→ mon95 trains on asl-alphabets' 5,708 photos and massey's 1,814; → asl-alphabets on massey and
mon95's 1,100. Here each source's rows are repeated round(largest / its own) times before training
(so every source weighs about the same), then the fold model is trained and scored as
``benchmarks/accuracy.py`` does; compare with ``accuracy.py``'s result for the same seed. About 7
minutes per seed for both protocols on one core. Measured, not shipped (docs/accuracy_features.md,
"Training variants").
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

from fingerspell.data.schema import DatasetArrays  # noqa: E402


def balanced_fit(model, args, train: DatasetArrays, test, missed, work):
    """accuracy.fit_and_score on ``train`` with each source repeated up to the largest one."""
    src = np.asarray(train.sources)
    names, counts = np.unique(src, return_counts=True)
    parts = []
    for name, count in zip(names, counts):
        parts += [train.subset(src == name)] * int(round(counts.max() / count))
    return acc.fit_and_score(model, args, DatasetArrays.concatenate(parts), test, missed, work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--protocols", nargs="+", default=["to-mon95", "to-asl"], choices=["to-mon95", "to-asl"])
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    args = acc.recipe_args(a.seed, threads=1)
    out = Path(a.out or REPO / "benchmarks" / "results" / f"source_balance_s{a.seed}.json")
    ds = acc.ensure_datasets(REPO / "artifacts" / "data", 96)
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for p in a.protocols:
            r = acc.run_protocol("landmark_mlp", p, ds, args, Path(tmp) / p, fit=balanced_fit)
            res[p] = {"accuracy": r["accuracy_given_hand"], "per_letter": r["per_letter"],
                      "top_confusions": r["top_confusions"]}
            print(f"source-balanced, seed {a.seed}, {p}: {r['accuracy_given_hand']:.2%}", flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"seed": a.seed, "epochs": 40, "machine": machine(), "results": res}, indent=1))


if __name__ == "__main__":
    main()

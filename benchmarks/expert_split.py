"""The R/U/V expert measured: the main model's R+U+V probability re-divided as a pair-feature model divides it.

    OMP_NUM_THREADS=1 python benchmarks/feature_variants.py --variants base base_pairs --labels merge_jz \\
        --epochs 60 --seeds 0 1 --save-probs artifacts/probs --results artifacts/probs/fv.json
    python benchmarks/expert_split.py artifacts/probs [--groups RU RUV RUVK RUV+ES]

Reads the test probabilities that ``feature_variants.py --save-probs`` kept for ``base`` (today's
vector) and ``base_pairs`` (the vector plus six palm-frame numbers), per protocol and seed, and
scores: each alone, their mean, and ``base`` with the probability of each letter group re-divided in
the proportions ``base_pairs`` gives (what ``LandmarkMLP(expert_classes=...)`` computes; the shipped
recipe uses R, U, V). 2026-11-26, 2 seeds: base 96.9 / 95.7 / 85.3 / 92.7%, base_pairs 97.5 / 96.9 /
82.8 / 92.3%, R/U/V re-split 97.4 / 97.0 / 86.2 / 92.4% (massey-loso / mon95-loso / to-mon95 / to-asl).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feature_variants import PROTOCOLS, score_fold  # noqa: E402

from fingerspell.labels import CLASSES  # noqa: E402


def resplit(base: np.ndarray, expert: np.ndarray, letters: str) -> np.ndarray:
    """``letters``: one group (RUV), or several disjoint groups joined by '+' (RUV+ES), each re-divided."""
    out = base.copy()
    for group in letters.split("+"):
        idx = [CLASSES.index(c) for c in group]
        share = expert[:, idx] / np.maximum(expert[:, idx].sum(1, keepdims=True), 1e-12)
        out[:, idx] = base[:, idx].sum(1, keepdims=True) * share
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--groups", nargs="+", default=["RU", "RUV", "RUVK"])
    args = ap.parse_args()
    folder = Path(args.folder)
    print("| reading | " + " | ".join(PROTOCOLS) + " |\n|---|" + "---|" * len(PROTOCOLS))
    rows = {}
    for proto in PROTOCOLS:
        for base_file in sorted(folder.glob(f"base__merge_jz__*__{proto}__seed*.npz")):
            pairs_file = folder / base_file.name.replace("base__", "base_pairs__", 1)
            if not pairs_file.exists():
                continue
            b, p = np.load(base_file), np.load(pairs_file)
            for tag in ["base", "base_pairs", "mean"] + [f"re-split {g}" for g in args.groups]:
                correct = total = 0
                for key in b.files:
                    if not key.endswith("|probs"):
                        continue
                    pb, pp, y = b[key], p[key], b[key[:-6] + "|labels"]
                    probs = {"base": pb, "base_pairs": pp, "mean": (pb + pp) / 2}.get(tag)
                    if probs is None:
                        probs = resplit(pb, pp, tag.split()[-1])
                    s = score_fold(probs, y)
                    correct, total = correct + s["static_correct"], total + s["static_n"]
                rows.setdefault(tag, {}).setdefault(proto, []).append(correct / total)
    for tag, per in rows.items():
        print(f"| {tag} | " + " | ".join(f"{np.mean(per[p]):.1%}" if p in per else "–" for p in PROTOCOLS) + " |")


if __name__ == "__main__":
    main()

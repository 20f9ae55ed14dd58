"""What in the landmarks separates the hard letter pairs, and how reliably, per source.

    python benchmarks/hard_pairs.py

For each pair one named quantity (measured in the palm's own frame, hands/shape.py, or in the
camera frame for orientation) and, per source, the AUC of telling the two letters apart by it
alone (0.5 = no information, 1.0 = a clean cut; sign-free: max(auc, 1 - auc)), plus the AUC
when the threshold is learned on the other sources (does the cut transfer). Prints a markdown
table; writes ``benchmarks/results/hard_pairs.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402

from fingerspell.data.exceptions import drop_exceptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.hands.shape import palm_frame  # noqa: E402
from fingerspell.labels import CLASSES  # noqa: E402

SOURCES = ("asl_train", "asl_test", "massey", "mon95")


def _local(p: np.ndarray) -> np.ndarray:
    return np.einsum("nij,nkj->nki", palm_frame(p), p)  # (N, 21, 3): across, pointing, normal


def _cos(p, a, b, c):
    u, v = p[:, a] - p[:, b], p[:, c] - p[:, b]
    return np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1) + 1e-9)


QUANTITIES = {
    # name: (letters, function of (points, local points), what it is)
    "index-middle tip crossing": ("RU", lambda p, q: q[:, 8, 0] - q[:, 12, 0],
                                  "index tip minus middle tip along the palm's across axis (R crosses)"),
    "index-middle tip spread": ("UV", lambda p, q: np.linalg.norm(p[:, 8] - p[:, 12], axis=-1),
                                "distance between the index and middle tips"),
    "thumb tip to middle PIP": ("KV", lambda p, q: np.linalg.norm(p[:, 4] - p[:, 10], axis=-1),
                                "K: the thumb rests on the middle finger between index and middle"),
    "thumb-index tip gap": ("CO", lambda p, q: np.linalg.norm(p[:, 4] - p[:, 8], axis=-1),
                            "O closes the thumb on the fingertips, C leaves a gap"),
    "middle finger straightness": ("GH", lambda p, q: -_cos(p, 9, 10, 12),
                                   "H extends the middle finger beside the index, G curls it"),
    "pointing down (G/Q)": ("GQ", lambda p, q: palm_frame(p)[:, 1, 1], "image-y of the pointing direction"),
    "pointing down (K/P)": ("KP", lambda p, q: palm_frame(p)[:, 1, 1], "image-y of the pointing direction"),
    "pointing sideways (H/U)": ("HU", lambda p, q: np.abs(palm_frame(p)[:, 1, 0]),
                                "|image-x| of the pointing direction"),
    "thumb tip across (S/T)": ("ST", lambda p, q: q[:, 4, 0], "thumb tip along the across axis (T: between "
                               "index and middle; S: over the middle fingers)"),
    "thumb tip across (M/N)": ("MN", lambda p, q: q[:, 4, 0], "M: thumb under three fingers, N: under two"),
    "thumb tip across (A/S)": ("AS", lambda p, q: q[:, 4, 0], "A: thumb beside the index, S: across the front"),
    "thumb tip height (E/S)": ("ES", lambda p, q: q[:, 4, 1], "E: thumb tucked low under the fingertips"),
    "thumb tip height (A/E)": ("AE", lambda p, q: q[:, 4, 1], "A: thumb up beside the fist"),
    "index hook (X/D)": ("XD", lambda p, q: _cos(p, 6, 7, 8), "X bends the index at its last joints"),
}


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(pos > neg), ties half (Mann-Whitney)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    ranks = allv.argsort().argsort().astype(float) + 1
    r = ranks[: len(pos)].sum()
    return float((r - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def transfer_accuracy(train: tuple, test: tuple) -> float:
    """Accuracy on ``test`` of the best single threshold (and sign) found on ``train``."""
    (a_tr, b_tr), (a_te, b_te) = train, test
    best = (0.0, 0.0, 1)
    for t in np.unique(np.concatenate([a_tr, b_tr])):
        for sign in (1, -1):
            acc = (np.mean(sign * a_tr > sign * t) + np.mean(sign * b_tr <= sign * t)) / 2
            best = max(best, (acc, t, sign))
    _, t, sign = best
    return float((np.mean(sign * a_te > sign * t) + np.mean(sign * b_te <= sign * t)) / 2)


def main() -> None:
    data = {}
    for s in SOURCES:
        d, _ = drop_exceptions(load_dataset(REPO / "artifacts" / "data" / f"{s}.npz"))
        p = d.vectors[:, :63].reshape(-1, 21, 3).astype(np.float64)
        data[s] = (p, _local(p), d.labels)
    lines = ["| pair | quantity | " + " | ".join(f"AUC {s}" for s in SOURCES)
             + " | balanced acc. of a cut learned on the other sources (" + ", ".join(SOURCES) + ") |",
             "|---|---|" + "---|" * len(SOURCES) + "---|"]
    for name, (pair, fn, _) in QUANTITIES.items():
        vals = {}
        for s, (p, q, labels) in data.items():
            v = fn(p, q)
            vals[s] = tuple(v[labels == CLASSES.index(c)] for c in pair)
        aucs = []
        for s in SOURCES:
            a = auc(*vals[s])
            aucs.append("-" if np.isnan(a) else f"{max(a, 1 - a):.2f}")
        transfer = []
        for s in SOURCES:
            others = [vals[o] for o in SOURCES if o != s and len(vals[o][0]) and len(vals[o][1])]
            if not (len(vals[s][0]) and len(vals[s][1])) or not others:
                transfer.append("-")
                continue
            tr = tuple(np.concatenate([o[i] for o in others]) for i in (0, 1))
            transfer.append(f"{transfer_accuracy(tr, vals[s]):.0%}")
        lines.append(f"| {pair[0]}/{pair[1]} | {name} | " + " | ".join(aucs) + " | " + ", ".join(transfer) + " |")
    table = "\n".join(lines) + "\n\nQuantities:\n\n" + "\n".join(
        f"- {name}: {desc}" for name, (_, _, desc) in QUANTITIES.items()) + "\n"
    out = REPO / "benchmarks" / "results" / "hard_pairs.md"
    out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()

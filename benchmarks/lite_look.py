"""A third and fourth look: MediaPipe's lite hand model read beside the full one (measured, not shipped).

    python benchmarks/lite_look.py [--seeds 0 1]

The second look (docs/accuracy_features.md) reads each hand again on the mirrored photo and the
model averages both readings. Would another landmark network's guess of the hidden joints help
the same way? ``build-dataset`` runs again on mon95 and massey with the lite landmark model
(``model_complexity=0``, the mirrored photo too; written to ``artifacts/lite``), and the fold
models of ``benchmarks/calibration.py`` (leave one signer out, trained on full readings; cached)
read each held-out signer's still letters (J -> I, Z -> D folded, as the reader folds them) from:
the first reading, both full readings averaged (shipped; also their geometric mean, their maximum
and the surer of the two), the lite reading alone, the lite pair, the full pair and the lite first
(3 readings), and all four. Prints per signer and pooled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calibration as C  # noqa: E402
from _common import REPO, data_root  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402

LITE = REPO / "artifacts" / "lite"




def build_lite(name: str) -> Path:
    sys.path.insert(0, str(REPO / "scripts"))
    from make_weights import SOURCES  # the photo folders of the four datasets

    from fingerspell.data.build import BuildOptions, build_dataset

    out = LITE / f"{name}.npz"
    if not out.is_file():
        LITE.mkdir(parents=True, exist_ok=True)
        build_dataset([data_root() / SOURCES[name]], out, BuildOptions(model_complexity=0, progress=False))
    return out


def signer_reads(name: str, data, lite, group: str, seed: int) -> dict:
    from fingerspell.features.vector import vectors_to_model_array
    from fingerspell.runtime.classifier import load_classifier

    clf, _ = load_classifier(C.fold_model(name, data, group, 40, seed))
    mine = data.subset((data.groups == group) & np.isin(data.labels, C.STATIC))
    where = {p: i for i, p in enumerate(lite.paths)}
    idx = np.array([where.get(p, -1) for p in mine.paths])
    j = np.maximum(idx, 0)
    found = (idx >= 0) & ~np.asarray(lite.no_hand, bool)[j]

    def read(vectors):
        return clf.predict_proba(vectors_to_model_array(vectors))

    p1 = read(mine.vectors)
    p2 = np.where(mine.has_second[:, None], read(mine.second_vectors), p1)
    l1 = np.where(found[:, None], read(lite.vectors[j]), p1)  # no lite reading: the full one stands in
    l2 = np.where((found & lite.has_second[j])[:, None], read(lite.second_vectors[j]), l1)
    surer = np.where(p1.max(1, keepdims=True) >= p2.max(1, keepdims=True), p1, p2)
    rules = {"first": p1, "full pair (shipped)": (p1 + p2) / 2, "full pair, geometric": np.sqrt(p1 * p2),
             "full pair, max": np.maximum(p1, p2), "full pair, surer": surer, "lite": l1,
             "lite pair": (l1 + l2) / 2, "full pair + lite": (p1 + p2 + l1) / 3, "all four": (p1 + p2 + l1 + l2) / 4}
    return {r: int((C.read_as_reader(p) == mine.labels).sum()) for r, p in rules.items()} | {"n": len(mine.labels)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="fold models' seeds")
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    args = ap.parse_args(argv)
    for seed in args.seeds:
        total: dict = {}
        for name in ("mon95", "massey"):
            data = C.letters_of(name, load_dataset(Path(args.data_dir) / f"{name}.npz"))
            lite = load_dataset(build_lite(name))
            for group in sorted(set(data.groups)):
                row = signer_reads(name, data, lite, group, seed)
                n = row.pop("n")
                total["n"] = total.get("n", 0) + n
                for r, k in row.items():
                    total[r] = total.get(r, 0) + k
                print(f"seed {seed} {group:14s} " + "  ".join(f"{r} {100 * k / n:.1f}" for r, k in row.items()),
                      flush=True)
        n = total.pop("n")
        print(f"seed {seed} pooled ({n} photos): " + "  ".join(f"{r} {100 * k / n:.2f}%" for r, k in total.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

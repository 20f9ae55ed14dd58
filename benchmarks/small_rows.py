"""Readings of small hands as extra training rows: does MediaPipe's noise on a small hand carry?

    OMP_NUM_THREADS=1 python benchmarks/small_rows.py [--modes full small] [--seeds 0 1 2 3] [--scale 0.6]

mon95's hands are small in their 320x240 frames; asl-alphabets' and massey's fill theirs. Trained
on asl-alphabets + massey and tested on mon95 (to-mon95), the model reads landmarks MediaPipe placed
on a hand a third of the frame's width (two thirds in training), and to-mon95 is the protocol
furthest from its goal. Each photo of asl-alphabets (train and test) and massey is written again shrunk by
``--scale`` (0.6: a hand box of about 100 pixels, as mon95's) into the middle of a 320x240 frame
(its own edges stretched around it) and read by ``build-dataset`` (both looks; ``artifacts/small``,
about 10 minutes the first time); mon95 is left as it is. Modes:
  full   train on the two full readings of each photo (the shipped recipe's rows)
  small  the same plus both readings of the shrunk copy, where a hand was found in it
Test photos are read as the product reads them, the two full readings averaged. Protocols, fast
trainer (60 epochs), ``base`` vector, J/Z merged into I/D and mon95's T left out as in
``feature_variants.py``; results merge into ``benchmarks/results/small_rows.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_root  # noqa: E402
from feature_variants import NEEDS, PROTOCOLS  # noqa: E402
from lite_rows import LETTERS, _points, run  # noqa: E402

from fingerspell.data.exceptions import drop_exceptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402

SMALL = REPO / "artifacts" / "small"
FRAME = (320, 240)


def shrink(img: np.ndarray, scale: float) -> np.ndarray:
    """``img`` shrunk by ``scale`` in the middle of a 320x240 frame, its edges stretched to fill it."""
    import cv2

    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    top, left = max(0, (FRAME[1] - h) // 2), max(0, (FRAME[0] - w) // 2)
    out = cv2.copyMakeBorder(small, top, max(0, FRAME[1] - h - top), left, max(0, FRAME[0] - w - left),
                             cv2.BORDER_REPLICATE)
    return out[:FRAME[1], :FRAME[0]]


def build_small(name: str, scale: float) -> Path:
    """The dataset of ``name``'s photos shrunk by ``scale`` (written once, then reused)."""
    import cv2

    sys.path.insert(0, str(REPO / "scripts"))
    from make_weights import SOURCES

    from fingerspell.data.build import BuildOptions, build_dataset

    out = SMALL / f"{name}-{scale}.npz"
    if out.is_file():
        return out
    src, photos = data_root() / SOURCES[name], SMALL / f"photos-{scale}" / SOURCES[name]
    for p in sorted(src.rglob("*")):
        q = photos / p.relative_to(src)
        if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg", ".png") and not q.exists():
            img = cv2.imread(str(p))
            if img is not None:
                q.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(q), shrink(img, scale), [cv2.IMWRITE_JPEG_QUALITY, 95])
    print(f"building {out} from {photos}", flush=True)
    build_dataset([photos], out, BuildOptions(progress=False))
    return out


def load(data_dir: Path, name: str, scale: float) -> dict:
    """The letter rows of one dataset: its full readings and (not for mon95) those of its shrunk copies,
    matched by the photo's path under its source folder; stored under lite_rows' keys."""
    sys.path.insert(0, str(REPO / "scripts"))
    from make_weights import SOURCES

    data, _ = drop_exceptions(load_dataset(data_dir / f"{name}.npz"))
    full = _points(data.vectors)
    rows = {"full": full, "mirror": np.where(data.has_second[:, None, None], _points(data.second_vectors), full),
            "labels": data.labels.astype(np.int64), "groups": data.groups}
    found = np.zeros(len(full), bool)
    rows["lite"], rows["lite_mirror"] = full, full
    if name != "mon95":
        small = load_dataset(build_small(name, scale))
        tail = len(Path(SOURCES[name]).parts)

        def rel(p: str) -> str:
            parts = Path(p).parts
            for i in range(len(parts)):
                if parts[i:i + tail] == Path(SOURCES[name]).parts:
                    return "/".join(parts[i + tail:])
            return p

        where = {rel(p): i for i, p in enumerate(small.paths.tolist())}
        idx = np.array([where.get(rel(p), -1) for p in data.paths.tolist()])
        j = np.maximum(idx, 0)
        found = (idx >= 0) & ~np.asarray(small.no_hand, bool)[j] & ~np.asarray(data.no_hand, bool)
        rows["lite"], rows["lite_mirror"] = _points(small.vectors[j]), _points(small.second_vectors[j])
        rows["has_lite_mirror"] = found & np.asarray(small.has_second, bool)[j]
    rows["has_lite"] = found
    rows.setdefault("has_lite_mirror", found)
    keep = np.isin(rows["labels"], LETTERS)
    print(f"{name}: small reading for {int(found[keep].sum())} of {int(keep.sum())} letter photos", flush=True)
    return {k: v[keep] for k, v in rows.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", nargs="+", default=["full", "small"], choices=["full", "small"])
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    ap.add_argument("--scale", type=float, default=0.6)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "small_rows.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = {n: load(Path(args.data_dir), n, args.scale) for n in sorted({n for p in args.protocols for n in NEEDS[p]})}
    # the shrunk copies' readings stand where lite_rows keeps the lite ones; the full rows have no scale
    run(ds, args, {("full" if m == "full" else f"small@{args.scale}"): ("full" if m == "full" else "lite")
                   for m in args.modes})


if __name__ == "__main__":
    main()

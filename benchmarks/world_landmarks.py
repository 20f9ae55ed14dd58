"""MediaPipe world landmarks for the dataset photos (the datasets store image landmarks only).

    OMP_NUM_THREADS=1 python benchmarks/world_landmarks.py [--datasets massey mon95 asl_test asl_train]

Detects each photo of a dataset again with the build's detector settings and keeps the world
landmarks (metres, a metric depth) of the hand whose image landmarks match the stored ones (within
2% of the image). Writes ``artifacts/world/<name>.npz``: ``world`` (N, 21, 3) float32 aligned with
the dataset rows (NaN where no matching hand) and ``paths``. Used by feature_variants.py
(``--world``) to take the shape part from the world landmarks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.hands.detector import HandDetector, load_image  # noqa: E402


def world_for(name: str, data_dir: Path, out_dir: Path) -> None:
    data = load_dataset(data_dir / f"{name}.npz")
    world = np.full((len(data), 21, 3), np.nan, np.float32)
    t0 = time.perf_counter()
    with HandDetector(backend="solutions", mode="image", max_hands=1, min_detection_confidence=0.5,
                      min_tracking_confidence=0.5, model_complexity=1) as det:
        for i, path in enumerate(data.paths.tolist()):
            if data.no_hand[i]:
                continue
            try:
                hands = det.detect(load_image(path))
            except Exception:  # noqa: BLE001 - an unreadable photo keeps NaN
                continue
            for h in hands:
                if h.world_landmarks is not None and np.abs(h.landmarks[:, :2] - data.landmarks[i, :, :2]).max() < 0.02:
                    world[i] = h.world_landmarks
                    break
            if i % 500 == 0:
                print(f"{name}: {i}/{len(data)} ({time.perf_counter() - t0:.0f} s)", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / f"{name}.npz", world=world, paths=data.paths)
    found = np.isfinite(world[:, 0, 0]).mean()
    print(f"{name}: world landmarks for {found:.1%} of {len(data)} rows ({time.perf_counter() - t0:.0f} s)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["massey", "mon95", "asl_test", "asl_train"])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--out-dir", default=str(REPO / "artifacts" / "world"))
    args = ap.parse_args()
    for name in args.datasets:
        world_for(name, Path(args.data_dir), Path(args.out_dir))


if __name__ == "__main__":
    main()

"""A second MediaPipe reading of each dataset photo: the photo mirrored, the landmarks mirrored back.

    OMP_NUM_THREADS=1 python benchmarks/flip_landmarks.py [--datasets massey mon95 asl_test asl_train]

MediaPipe's landmark network is not mirror-symmetric, so the mirrored photo gives a second,
partly independent guess of the same hand (above all of the joints it cannot see, such as a thumb
inside a fist). Each photo of a dataset is detected again mirrored, with the build's detector
settings; the landmarks are mirrored back (x -> 1 - x) and kept when they lie on the stored hand
(mean distance under 5% of the photo). Writes ``artifacts/flip/<name>.npz``: ``vectors`` (N, 100)
float32, the model's landmark vector of that reading with the stored row's handedness (NaN where
no matching hand), and ``paths``. Used by ``benchmarks/flip_variants.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402

from fingerspell.data.build import BuildOptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.hands.detector import HandDetector, load_image  # noqa: E402
from fingerspell.hands.landmarks import FEATURE_DIM, normalize_landmarks  # noqa: E402


def flip_for(name: str, data_dir: Path, out_dir: Path) -> None:
    data = load_dataset(data_dir / f"{name}.npz")
    vectors = np.full((len(data), FEATURE_DIM), np.nan, np.float32)
    t0 = time.perf_counter()
    with HandDetector(BuildOptions().detector_options()) as det:
        for i, path in enumerate(data.paths.tolist()):
            if data.no_hand[i]:
                continue
            try:
                img = load_image(path)
            except Exception:  # noqa: BLE001 - an unreadable photo keeps NaN
                continue
            h, w = img.shape[:2]
            stored = data.landmarks[i]
            best = None
            for hand in det.detect(np.ascontiguousarray(img[:, ::-1])):
                lm = hand.landmarks.astype(np.float64).copy()
                lm[:, 0] = 1.0 - lm[:, 0]
                err = np.linalg.norm(lm[:, :2] - stored[:, :2], axis=1).mean()
                if err < 0.05 and (best is None or err < best[0]):
                    best = (err, lm)
            if best is not None:
                label = "Left" if data.handedness[i] == 0 else "Right"
                vectors[i] = normalize_landmarks(best[1], (w, h), label)
            if i % 500 == 0:
                print(f"{name}: {i}/{len(data)} ({time.perf_counter() - t0:.0f} s)", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"{name}.tmp.npz"
    np.savez_compressed(tmp, vectors=vectors, paths=data.paths)
    tmp.replace(out_dir / f"{name}.npz")
    found = np.isfinite(vectors[:, 0]).mean()
    print(f"{name}: mirrored reading for {found:.1%} of {len(data)} rows ({time.perf_counter() - t0:.0f} s)",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["massey", "mon95", "asl_test", "asl_train"])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--out-dir", default=str(REPO / "artifacts" / "flip"))
    args = ap.parse_args()
    for name in args.datasets:
        flip_for(name, Path(args.data_dir), Path(args.out_dir))


if __name__ == "__main__":
    main()

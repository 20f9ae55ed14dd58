"""Hand detection time per 640x480 frame in video (tracking) mode, for both backends and both
model complexities: median and p90 over a stream of real photos.

    python benchmarks/detection_speed.py [--frames 200] [--json out.json]

The stream: mon95 photos (320x240) of one signer, scaled to 640x480, each letter held for
several frames as a signer would, so tracking has something to track.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine  # noqa: E402


def stream(n: int, hold: int = 5) -> list:
    files = sorted((data_root() / "mon95" / "user_4").glob("*.jpg"))
    frames = []
    for f in files:
        img = cv2.resize(cv2.imread(str(f)), (640, 480), interpolation=cv2.INTER_LINEAR)
        frames.extend([img] * hold)
        if len(frames) >= n:
            break
    return frames[:n]


def time_detector(frames: list, backend: str, complexity: int) -> dict:
    from fingerspell.hands.detector import HandDetector

    times, found = [], 0
    with HandDetector(backend=backend, mode="video", max_hands=1, model_complexity=complexity) as det:
        det.detect(frames[0])  # warm-up: graph start
        for i, frame in enumerate(frames):
            t0 = time.perf_counter()
            hands = det.detect(frame, timestamp_ms=int(1000 * (i + 1) / 30))
            times.append((time.perf_counter() - t0) * 1000)
            found += bool(hands)
    t = np.array(times)
    return {"backend": backend, "complexity": complexity, "median_ms": float(np.median(t)),
            "p90_ms": float(np.percentile(t, 90)), "found": found / len(frames), "frames": len(frames)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    frames = stream(args.frames)
    rows = []
    print(f"{'backend':10s} {'model':5s} {'median ms':>10s} {'p90 ms':>8s} {'found':>6s}")
    for backend in ("solutions", "tasks"):
        for complexity in (1, 0):
            r = time_detector(frames, backend, complexity)
            rows.append(r)
            print(f"{backend:10s} {'full' if complexity else 'lite':5s} {r['median_ms']:10.1f} "
                  f"{r['p90_ms']:8.1f} {r['found']:6.0%}", flush=True)
    print(f"{len(frames)} frames 640x480; machine: {machine()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

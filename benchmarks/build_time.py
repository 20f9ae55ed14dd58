"""Time a dataset build cold (empty cache) and warm (same cache); print the hand-found rates.

    python benchmarks/build_time.py                       # asl-alphabets/train (5,800 photos)
    python benchmarks/build_time.py SRC [SRC ...] --workers 2 --confidence 0.5

The cold run detects every photo; the warm run finds every detection in the cache and only
hashes the files, draws the masks and writes the file. Outputs go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from fingerspell.data.build import DEFAULT_CONFIDENCE, BuildOptions, build_dataset


def _default_source() -> Path:
    root = Path(os.environ.get("FINGERSPELL_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    return root / "asl-alphabets" / "train"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="*", type=Path, help="source folders (default: asl-alphabets/train)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--mask-size", type=int, default=96)
    ap.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE)
    ap.add_argument("--limit-per-class", type=int, default=None)
    args = ap.parse_args()
    sources = args.sources or [_default_source()]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"workers {args.workers or os.cpu_count()}; confidence {args.confidence}; mask {args.mask_size}px")
    with tempfile.TemporaryDirectory(prefix="fingerspell-bench-") as tmp:
        opts = BuildOptions(mask_size=args.mask_size, min_detection_confidence=args.confidence,
                            workers=args.workers, cache_dir=str(Path(tmp) / "cache"),
                            limit_per_class=args.limit_per_class, progress=True)
        times = {}
        for run in ("cold", "warm"):
            t0 = time.perf_counter()
            report = build_dataset(sources, Path(tmp) / f"{run}.npz", opts)
            times[run] = time.perf_counter() - t0
            files = sum(s.files for s in report.sources)
            print(f"{run}: {times[run]:.1f} s for {files} photos ({files / times[run]:.1f} photos/s), "
                  f"cache {report.cache_hits} hits / {report.cache_misses} misses, {report.samples} samples, "
                  f"{(Path(tmp) / f'{run}.npz').stat().st_size / 1e6:.1f} MB")
        found = sum(s.found for s in report.sources)
        readable = sum(s.files - s.unreadable for s in report.sources)
        print(f"hand found in {found}/{readable} photos ({found / readable:.1%})")
        if len(report.sources) > 1:
            for s in report.sources:
                print(f"  {s.source:<28} {s.found}/{s.files - s.unreadable} ({s.found_rate:.1%})")
        print(f"warm / cold: {times['warm'] / times['cold']:.3f}")


if __name__ == "__main__":
    main()

"""Hand-found rate of the detector on the real photos, per source, with and without the bordered retry.

    python benchmarks/hand_found_rate.py [--confidence 0.7] [--limit N] [--json out.json]
    python benchmarks/hand_found_rate.py --dim 0.3 --confidence 0.5   # photos as in a dim room

``--dim F``: each photo darkened to F of its brightness with sensor noise (seeded by its name), and
found with and without the detector's dark-frame lift (hands/exposure.py); ``--lift-blur K`` tries
another blur kernel in the lift.

Sources: massey letters a-z (digits left out), asl-alphabets train and test (all 29 classes,
NOTHING included, so those count as misses where no hand shows), mon95 (all users).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_lift_blur, data_root, machine, use_lift_blur  # noqa: E402

_DET = None
_UNLIT = None
_DIM = 0.0


def _init(confidence: float, dim: float = 0.0, lift_blur: int = 0) -> None:
    global _DET, _UNLIT, _DIM
    from fingerspell.hands.detector import HandDetector

    use_lift_blur(lift_blur)

    # the closer look in squares (hands/tiles.py) off: this measures the bordered retry, as
    # build-dataset reads photos (benchmarks/small_hands.py measures the squares)
    _DET = HandDetector(mode="image", max_hands=1, min_detection_confidence=confidence, tile_look=False)
    if dim:
        _UNLIT = HandDetector(mode="image", max_hands=1, min_detection_confidence=confidence, lift_dark=0,
                              tile_look=False)
    _DIM = dim


def _probe(path: str) -> tuple:
    """(found, found only on the bordered retry, found without the dark-frame lift)."""
    import zlib

    import numpy as np

    from fingerspell.hands.detector import load_image
    from fingerspell.hands.exposure import dimmed

    image = load_image(path)
    if _DIM:
        image = dimmed(image, _DIM, np.random.default_rng(zlib.crc32(Path(path).name.encode())))
    hands = _DET.detect(image)
    unlit = bool(_UNLIT.detect(image)) if _UNLIT is not None else None
    return bool(hands), bool(hands) and _DET.last_used_border, unlit


def sources(root: Path, limit: int) -> dict:
    def take(files):
        files = sorted(files)
        return files if not limit else files[:: max(1, len(files) // limit)][:limit]

    massey = [p for d in sorted((root / "massey").iterdir()) if d.name.isalpha() for p in d.glob("*.jp*g")]
    return {
        "massey (a-z)": take(massey),
        "asl-alphabets train": take((root / "asl-alphabets" / "train").glob("*/*.jpg")),
        "asl-alphabets test": take((root / "asl-alphabets" / "test").glob("*/*.jpg")),
        "mon95": take((root / "mon95").glob("user_*/*.jpg")),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--confidence", type=float, default=0.7)
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos per source (0: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dim", type=float, default=0.0, metavar="F",
                    help="darken each photo to F of its brightness, with sensor noise, and compare the lift")
    add_lift_blur(ap)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = {}
    init = (args.confidence, args.dim, args.lift_blur)
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=init) as pool:
        for name, files in sources(data_root(), args.limit).items():
            t0 = time.perf_counter()
            res = list(pool.map(_probe, [str(f) for f in files], chunksize=16))
            found = sum(r[0] for r in res)
            plain = sum(r[0] and not r[1] for r in res)
            rows[name] = {"images": len(res), "found_plain": plain / len(res), "found_with_retry": found / len(res),
                          "seconds": round(time.perf_counter() - t0, 1)}
            unlit = ""
            if args.dim:
                rows[name]["found_without_lift"] = sum(r[2] for r in res) / len(res)
                unlit = f"  without the lift {rows[name]['found_without_lift']:6.1%}"
            print(f"{name:22s} {len(res):5d} images  plain {plain / len(res):6.1%}  "
                  f"with border retry {found / len(res):6.1%}{unlit}  ({rows[name]['seconds']} s)", flush=True)
    dim = f"; photos at {args.dim} of their brightness" if args.dim else ""
    print(f"machine: {machine()}; detection confidence {args.confidence}{dim}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "confidence": args.confidence, "dim": args.dim,
                                               "lift_blur": args.lift_blur or None, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

"""Detection for dataset builds: the per-photo detection cache and the detector worker pool.

See :mod:`fingerspell.data.build` for how a build uses them.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_write_bytes
from fingerspell.hands.landmarks import NUM_LANDMARKS
from fingerspell.media import decode_photo

# Bump when a change here alters what a cached detection holds (invalidates every cache entry).
BUILD_VERSION = 1
_HANDEDNESS = {"Left": 0, "Right": 1}


# --- the cache -----------------------------------------------------------------------------------

def cache_key(data: bytes, settings: dict, box: Optional[Tuple[int, int, int, int]]) -> str:
    """sha1 of the photo bytes plus everything that changes its detection."""
    h = hashlib.sha1(data)
    h.update(json.dumps({"settings": settings, "box": list(box) if box else None}, sort_keys=True).encode())
    return h.hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _read_cache(cache_dir: Optional[Path], key: str) -> Optional[dict]:
    if cache_dir is None:
        return None
    p = _cache_path(cache_dir, key)
    try:
        rec = json.loads(p.read_text())
        if rec.get("found"):
            lm = np.asarray(rec["landmarks"], dtype=np.float32)
            if lm.shape != (NUM_LANDMARKS, 3):
                return None
        return rec
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged entry: detect again


def _write_cache(cache_dir: Optional[Path], key: str, rec: dict) -> None:
    if cache_dir is None:
        return
    p = _cache_path(cache_dir, key)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(p, json.dumps(rec).encode("utf-8"))
    except OSError:
        pass  # a read-only or full cache only costs speed


# --- detection (runs in workers) --------------------------------------------------------------------

_WORKER: dict = {}


def _worker_init(options, quiet: bool) -> None:
    """Pool initializer: one HandDetector per process; Ctrl-C is the parent's job."""
    if quiet:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # MediaPipe's C++ logging writes straight to fd 2 and would break the progress bar;
        # worker errors still reach the parent as exceptions.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    from fingerspell.hands.detector import HandDetector

    _WORKER["detector"] = HandDetector(options.detector_options())
    _WORKER["options"] = options
    _WORKER["settings"] = options.cache_settings()
    _WORKER["cache_dir"] = Path(options.cache_dir).expanduser() if options.cache_dir else None
    _WORKER["done"] = 0


def _detect_record(img: np.ndarray, box: Optional[tuple]) -> dict:
    """Detect one hand; for a source box, retry on an enlarged crop around it."""
    det = _WORKER["detector"]
    opts = _WORKER["options"]  # the BuildOptions of the build
    h, w = img.shape[:2]
    hands = det.detect(img)
    via = "frame"
    if hands:
        lm, label = hands[0].landmarks, hands[0].handedness
    elif box is not None and opts.box_retry:
        lm, label = _detect_in_box(det, img, box, opts.box_scale)
        via = "box"
    else:
        lm = label = None
    if lm is None:
        return {"found": False, "image_size": [w, h]}
    rec = {"found": True, "via": via, "landmarks": np.asarray(lm, np.float32).tolist(),
           "handedness": label, "image_size": [w, h]}
    if opts.second_look:
        second = _second_reading(det, img, lm, box)
        rec["second_landmarks"] = None if second is None else second.tolist()
    return rec


def _second_reading(det, img: np.ndarray, lm: np.ndarray, box: Optional[tuple]) -> Optional[np.ndarray]:
    """The hand read again on the mirrored photo (hands/second_look.py), or None."""
    from fingerspell.hands.second_look import match_reading, mirror_back, second_readings

    found = second_readings(det, img, [lm])[0]
    if found is None and box is not None:  # found via the source's hand box: look there, mirrored
        w = img.shape[1]
        x0, y0, x1, y1 = box
        crop_lm, _ = _detect_in_box(det, np.ascontiguousarray(img[:, ::-1]), (w - x1, y0, w - x0, y1),
                                    _WORKER["options"].box_scale)
        if crop_lm is not None:
            found = match_reading([mirror_back(crop_lm)], lm)
    return found


def _detect_in_box(det, img: np.ndarray, box: tuple, scale: float):
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half = max(x1 - x0, y1 - y0) * scale / 2.0
    a0, b0 = max(0, int(cx - half)), max(0, int(cy - half))
    a1, b1 = min(w, int(np.ceil(cx + half))), min(h, int(np.ceil(cy + half)))
    if a1 - a0 < 8 or b1 - b0 < 8:
        return None, None
    crop = np.ascontiguousarray(img[b0:b1, a0:a1])
    hands = det.detect(crop)
    if not hands:
        return None, None
    cw, ch = a1 - a0, b1 - b0
    lm = hands[0].landmarks.astype(np.float64).copy()
    lm[:, 0] = (lm[:, 0] * cw + a0) / w
    lm[:, 1] = (lm[:, 1] * ch + b0) / h
    lm[:, 2] = lm[:, 2] * cw / w
    return lm.astype(np.float32), hands[0].handedness


def _process(job: Tuple[int, str, str, Optional[tuple]]) -> Tuple[int, dict]:
    """Worker task: detect one photo (a cache miss), store the result in the cache."""
    import cv2

    idx, path, key, box = job
    opts = _WORKER["options"]  # the BuildOptions of the build
    if opts.test_fail_after is not None and _WORKER["done"] >= opts.test_fail_after:
        raise RuntimeError(f"test hook: simulated crash after {opts.test_fail_after} photos")
    try:
        data = np.fromfile(path, dtype=np.uint8)
        img = decode_photo(data, cv2.IMREAD_COLOR)  # a phone's HEIC or AVIF too
    except OSError as exc:
        return idx, {"error": f"cannot read: {exc}"}
    if img is None:
        return idx, {"error": "not a readable image"}
    rec = _detect_record(img, box)
    _write_cache(_WORKER["cache_dir"], key, rec)
    _WORKER["done"] += 1
    return idx, rec


def _inside(landmarks: list, image_size: list, box: tuple, scale: float = 1.5) -> bool:
    """Does the hand's centre fall inside the source box enlarged by ``scale``?"""
    lm = np.asarray(landmarks, np.float64)
    cx, cy = lm[:, 0].mean() * image_size[0], lm[:, 1].mean() * image_size[1]
    x0, y0, x1, y1 = box
    bx, by = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    hw, hh = (x1 - x0) * scale / 2.0, (y1 - y0) * scale / 2.0
    return bool(abs(cx - bx) <= hw and abs(cy - by) <= hh)


def _process_chunk(jobs: list) -> List[Tuple[int, dict]]:
    return [_process(job) for job in jobs]


def _run_detection(jobs: list, options, total: int, done: int) -> Dict[int, dict]:
    """Detect the cache misses, in a process pool when there are enough of them."""
    from tqdm import tqdm

    results: Dict[int, dict] = {}
    workers = options.workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(jobs) // 4 or 1))
    bar = tqdm(total=total, initial=done, desc="build-dataset", unit="img", disable=not options.progress,
               dynamic_ncols=True, mininterval=0.5)
    try:
        if not jobs:
            return results
        if workers == 1:
            _worker_init(options, quiet=False)
            try:
                for job in jobs:
                    idx, rec = _process(job)
                    results[idx] = rec
                    bar.update(1)
            finally:
                _WORKER.pop("detector").close()
            return results
        # Spawned workers (no fork of a process that may hold threads); an executor, unlike
        # multiprocessing.Pool, raises when a worker dies instead of waiting forever.
        ctx = multiprocessing.get_context("spawn")
        step = 8
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(options, True)) as pool:
            futures = [pool.submit(_process_chunk, jobs[i:i + step]) for i in range(0, len(jobs), step)]
            try:
                for fut in as_completed(futures):
                    for idx, rec in fut.result():
                        results[idx] = rec
                    bar.update(len(fut.result()))
            except BrokenProcessPool:
                raise FingerspellError(
                    "a detector process died before finishing; if you call build_dataset from a script, "
                    "put the call under 'if __name__ == \"__main__\":' (worker processes import the script)"
                ) from None
            except BaseException:
                # Ctrl-C or a crash: drop what has not started; finished photos are in the cache.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return results
    finally:
        bar.close()

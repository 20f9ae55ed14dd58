"""A dark frame lifted before the hand detector reads it.

A camera in a dim room gives a dark, low-contrast picture, and there MediaPipe's palm detector
loses hands it finds in good light: on the word benchmark's real videos darkened to 35% (with
sensor noise, then mp4v), the hands pointing down (P, Q) and a few others were not found at all,
and QUIZ came out UIZ, HAPPY as HAY (docs/runtime.md, "Dim light"). Brightening alone made it
no better (worse on still photos), because it brightens the noise too; a light blur first (5x5 Gaussian) and then a
gain that puts the frame's brightest 1% at ``TARGET`` finds them. Frames whose brightest 1% is
already at ``DARK_BELOW`` or above are left exactly as they are, so a well-lit camera and the
photos of the data sets are read as before.
"""

from __future__ import annotations

import cv2
import numpy as np

DARK_BELOW = 120.0  # grey level (0-255) of the frame's 99th percentile under which it is lifted
TARGET = 220.0  # where the lift puts that percentile
GAIN_MAX = 4.0  # a frame darker still is lifted by this much only (a black frame is not made into noise)
BLUR = 5  # the Gaussian kernel (pixels) that smooths the sensor noise before the gain


def brightest(frame_bgr: np.ndarray) -> float:
    """The 99th percentile of the frame's grey levels (every 4th pixel each way: about 0.3 ms)."""
    grey = cv2.cvtColor(frame_bgr[::4, ::4], cv2.COLOR_BGR2GRAY)
    return float(np.percentile(grey, 99))


def lift_dark(frame_bgr: np.ndarray, dark_below: float = DARK_BELOW) -> np.ndarray:
    """``frame_bgr`` itself when it is not dark, else a blurred, brightened copy (uint8 BGR)."""
    if dark_below <= 0:
        return frame_bgr
    top = brightest(frame_bgr)
    if top >= dark_below:
        return frame_bgr
    gain = min(TARGET / max(top, 1.0), GAIN_MAX)
    smooth = cv2.GaussianBlur(frame_bgr, (BLUR, BLUR), 0)
    return cv2.convertScaleAbs(smooth, alpha=gain)


def dimmed(frame_bgr: np.ndarray, factor: float, rng: np.random.Generator, noise: float = 6.0) -> np.ndarray:
    """``frame_bgr`` as a camera in a dim room gives it: ``factor`` of its brightness plus Gaussian
    sensor noise of ``noise`` grey levels (the benchmarks' and tests' model of dim light)."""
    dark = frame_bgr.astype(np.float32) * factor + rng.normal(0, noise, frame_bgr.shape)
    return np.clip(dark, 0, 255).astype(np.uint8)

"""Box and frame helpers of :mod:`fingerspell.runtime.signing_hand`: where a hand's box sits, how
big it is, whether it moved, and a frame with a box painted over (so a detector looks past it)."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fingerspell.hands.landmarks import box_centre

Box = Tuple[int, int, int, int]


def centre_y(box: Box) -> float:
    return box_centre(box)[1]


def box_side(box: Box) -> float:
    """A box's size: the square root of its area."""
    return float(max(box[2] - box[0], 1) * max(box[3] - box[1], 1)) ** 0.5


def moved(before: Box, now: Box, fraction: float = 0.5) -> bool:
    """The box's centre moved by more than ``fraction`` of its side."""
    side = max(before[2] - before[0], before[3] - before[1], 1)
    (bx, by), (nx, ny) = box_centre(before), box_centre(now)
    return max(abs(bx - nx), abs(by - ny)) > fraction * side


def median_colour(frame: np.ndarray) -> np.ndarray:
    return np.median(frame[::4, ::4].reshape(-1, frame.shape[-1]), axis=0).astype(frame.dtype)


def filled(frame: np.ndarray, box: Box, colour: Optional[np.ndarray] = None) -> np.ndarray:
    """A copy of the frame with ``box`` filled with ``colour`` (default: the frame's median colour)."""
    x0, y0, x1, y1 = box
    out = frame.copy()
    out[y0:y1, x0:x1] = median_colour(frame) if colour is None else colour
    return out


def grown(box: Box, grow: float, size: Tuple[int, int]) -> Box:
    gx, gy = grow * (box[2] - box[0]), grow * (box[3] - box[1])
    return (max(0, int(box[0] - gx)), max(0, int(box[1] - gy)),
            min(size[0], int(box[2] + gx) + 1), min(size[1], int(box[3] + gy) + 1))

"""A closer look for small hands: the frame looked at again in overlapping squares.

MediaPipe's palm detector sees the whole frame shrunk to a small square (192 pixels), so a hand
that is small beside the frame's long side (a person sitting back from an HD webcam, a phone
filming upright) shrinks below what it finds: on real photos of signers placed in 1920x1080 and
1080x1920 frames, with the hand a tenth of the long side, the whole frame found 60% of the hands
and its squares 98-99% (``benchmarks/small_hands.py``). Looked at in squares whose side is the
frame's short side, along the long side (two for 4:3, three for 16:9 or upright), each hand is
shown to the detector up to 1.8 times larger.

:func:`tiles` gives the squares, :func:`detect_in_tiles` runs a detector on them and maps the
hands found back to the whole frame. :class:`TileLook` runs them on an image-mode graph of its own
(a video-mode tracker keeps its state), only on frames where the detector found no hand, and in
video mode, after a look that found none, at most every ``wait_s`` seconds.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import numpy as np

Region = Tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels
#: a frame whose sides differ less than this (1.2: 6:5) is looked at whole only: a square of it would
#: show a hand hardly larger
MIN_ASPECT = 1.2
WAIT_S = 0.25  # after a closer look that found no hand, the next one waits this long (video mode)
#: the palm detector's threshold in the squares: a square shows a face or a fist-like shape larger
#: too, and at the frame's 0.5 more of those pass for hands (benchmarks/small_hands.py)
CONFIDENCE = 0.5


def tiles(width: int, height: int) -> List[Region]:
    """Overlapping squares, side the frame's short side, along the long side: two for frames up
    to 2:1 (three from 16:10), none for a frame nearly square."""
    short, long = min(width, height), max(width, height)
    if long < MIN_ASPECT * short:
        return []
    n = 2 if long <= 1.55 * short else 3
    starts = [round(i * (long - short) / (n - 1)) for i in range(n)]
    if width >= height:
        return [(s, 0, s + short, height) for s in starts]
    return [(0, s, width, s + short) for s in starts]


def detect_in_tiles(run: Callable[[np.ndarray], list], rgb: np.ndarray, order: Optional[List[int]] = None,
                    enough: float = 0.05) -> Tuple[List[tuple], Optional[int]]:
    """(raw hands, the square that gave them): the hands ((landmarks, world, label, score), as
    ``HandDetector._run`` gives them) found in the frame's squares, in the whole frame's normalised
    coordinates, each from the square where it lies furthest from the edges (a hand the edge of a
    square cuts is whole in the next one). The squares are looked at in ``order`` (indices into
    :func:`tiles`) and the look stops at one whose hands all lie ``enough`` (of its side) inside it."""
    h, w = rgb.shape[:2]
    squares = tiles(w, h)
    found: List[Tuple[float, int, tuple]] = []
    for i in (order or range(len(squares))):
        x0, y0, x1, y1 = squares[i]
        side = x1 - x0
        inside = []
        for pts, wpts, label, score in run(np.ascontiguousarray(rgb[y0:y1, x0:x1])):
            margin = float(min(pts[:, 0].min(), pts[:, 1].min(), 1 - pts[:, 0].max(), 1 - pts[:, 1].max()))
            pts = pts.copy()
            pts[:, 0] = (pts[:, 0] * side + x0) / w
            pts[:, 1] = (pts[:, 1] * side + y0) / h
            pts[:, 2] = pts[:, 2] * side / w  # MediaPipe's depth is in units of the image width
            inside.append(margin)
            found.append((margin, i, (pts, wpts, label, score)))
        if inside and min(inside) >= enough:
            break
    kept: List[Tuple[float, int, tuple]] = []
    for margin, i, hand in sorted(found, key=lambda f: -f[0]):
        if all(_apart(hand[0], k[2][0], (w, h)) for k in kept):
            kept.append((margin, i, hand))
    return [k[2] for k in kept], (kept[0][1] if kept else None)


def _apart(a: np.ndarray, b: np.ndarray, size: Tuple[int, int]) -> bool:
    """Two readings are of different hands (their boxes overlap by half or less)."""
    from fingerspell.hands.landmarks import box_overlap, landmark_box

    return box_overlap(landmark_box(a, size), landmark_box(b, size)) <= 0.5


class TileLook:
    """A detector's closer look (see the module docstring), in image and video mode."""

    def __init__(self, detector, wait_s: float = WAIT_S) -> None:
        self._detector = detector  # an image-mode HandDetector (made by HandDetector._closer_look)
        self.wait_s = wait_s
        self._next_ms: Optional[int] = None
        self._last: Optional[int] = None  # the square that found a hand last
        self.looks = 0  # closer looks taken (for benchmarks)

    def look(self, rgb: np.ndarray, timestamp_ms: Optional[int] = None) -> List[tuple]:
        """Hands in the frame's squares, unless a look that found none was taken within ``wait_s``
        (``timestamp_ms`` None: a still image, always looked at)."""
        if self._next_ms is not None and timestamp_ms is not None and timestamp_ms < self._next_ms:
            return []
        h, w = rgb.shape[:2]
        order = list(range(len(tiles(w, h))))
        if not order:
            return []
        self.looks += 1
        if self._last is not None and self._last in order:  # where the hand was found last, first
            order.insert(0, order.pop(order.index(self._last)))
        raw, self._last = detect_in_tiles(self._detector._run, rgb, order)
        self._next_ms = None if raw or timestamp_ms is None else timestamp_ms + int(self.wait_s * 1000)
        return raw

    def close(self) -> None:
        self._detector.close()

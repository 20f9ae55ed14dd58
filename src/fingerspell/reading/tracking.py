"""Hand motion and frame timing for the hold reader (:mod:`fingerspell.reading.holds`).

:class:`MotionTracker` turns successive detections into the hand's motion in palm sizes per
second: the second-largest speed among the wrist and the five fingertips, from positions
median-filtered over the last three detections, over about ``window_s``.

:class:`FrameClock` measures the frame interval, so that what the hold reader counts in frames
(a dropout it survives, the frames a hold needs, a reading change that splits a hold) keeps the
same duration when a camera delivers fewer frames (15 fps in dim light, a browser over Wi-Fi).
Counts are set for 30 fps; at 30 fps and above they are used as given.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, Tuple

import numpy as np

MOTION_POINTS = (0, 4, 8, 12, 16, 20)  # wrist and the five fingertips
_PALM_PAIRS = ((0, 5), (0, 9), (0, 17), (5, 17))
REFERENCE_FPS = 30.0


def pixel_points(landmarks: np.ndarray, image_size: Tuple[int, int]) -> np.ndarray:
    """(21, 2) landmark positions in pixels."""
    w, h = image_size
    return np.asarray(landmarks, dtype=np.float64)[:, :2] * np.array([w, h], dtype=np.float64)


def palm_size_2d(points: np.ndarray) -> float:
    """The palm size of :mod:`fingerspell.hands.landmarks`, in the image plane."""
    return float(np.mean([np.linalg.norm(points[a] - points[b]) for a, b in _PALM_PAIRS]))


def below_reference(interval: float) -> bool:
    """Frames this far apart come under 28.5 fps: counts made for 30 fps no longer fit."""
    return interval * REFERENCE_FPS > 1.0 / 0.95


def frames_at(n: int, interval: float, floor: int = 2) -> int:
    """``n`` frames at 30 fps as a count at ``interval`` seconds a frame (at least ``min(n, floor)``)."""
    if not below_reference(interval):
        return n
    return max(min(n, floor), int(n / (REFERENCE_FPS * interval) + 0.5))


class FrameClock:
    """The median interval between recent frames (every frame counts, with a hand or without)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._last = None
        self._dts: Deque[float] = deque(maxlen=15)
        self.interval = 1.0 / REFERENCE_FPS  # seconds per frame; 1/30 until two frames, never under it

    def tick(self, t: float) -> None:
        if self._last is not None and 0 < t - self._last < 1.0:  # a pause in the stream is not a frame rate
            self._dts.append(t - self._last)
            self.interval = max(float(np.median(self._dts)), 1.0 / REFERENCE_FPS)
        self._last = t

    def frames(self, n: int, floor: int = 2) -> int:
        """``n`` frames at 30 fps as a count at the measured rate (at least ``min(n, floor)``)."""
        return frames_at(n, self.interval, floor)

    def slack(self) -> float:
        """How much longer than a 30 fps frame one frame lasts now (0 at 30 fps and above)."""
        return self.interval - 1.0 / REFERENCE_FPS


def _motion(points: np.ndarray, earlier: np.ndarray, palm: float, dt: float) -> float:
    """The second-largest distance moved among the motion points, in palm sizes per second."""
    return float(np.sort(np.linalg.norm(points - earlier, axis=1))[-2] / palm / dt)


def displacement(points: np.ndarray, other: np.ndarray) -> float:
    """How far apart two detections ((21, 2) pixels) lie: the second-largest distance among the
    motion points, in palm sizes of ``points``."""
    palm = palm_size_2d(points)
    idx = list(MOTION_POINTS)
    return float("inf") if palm < 1e-6 else _motion(points[idx], other[idx], palm, 1.0)


JUMP_PALMS = 0.2  # a hand found this far (palm sizes) from where it stood before a dropout has moved


class MotionTracker:
    """Hand motion in palm sizes per second from successive detections (see the module doc)."""

    def __init__(self, window_s: float = 0.1, still_speed: float = 0.7) -> None:
        self.window_s = window_s
        self.still_speed = still_speed
        self.reset()

    def reset(self) -> None:
        self._raw: Deque[Tuple[float, np.ndarray, float]] = deque(maxlen=3)  # (t, points, palm)
        self._dts: Deque[float] = deque(maxlen=8)
        self._filtered: Deque[Tuple[float, np.ndarray]] = deque(maxlen=8)
        self._since_gap = 3  # detections since the last dropout (3 or more: none in the median)
        self._raw_ok = True  # whether unfiltered detections may say "still" after the last dropout
        self._speed = float("nan")  # the last motion measured
        self.jumped = False  # this detection: the hand, still before a dropout, was found elsewhere after it
        self.unsure = False  # this detection: across a dropout, the unfiltered figure said moving (motion unknown)

    def push(self, t: float, points: np.ndarray) -> float:
        """Add one detection ((21, 2) pixels); the motion now, nan while there is no history."""
        if self._filtered and t <= self._filtered[-1][0]:
            self.reset()
        gap = bool(self._filtered) and len(self._dts) >= 2 and t - self._filtered[-1][0] > 1.5 * np.median(self._dts)
        if self._filtered:
            self._dts.append(t - self._filtered[-1][0])
        now = (t, points[list(MOTION_POINTS)], palm_size_2d(points))
        before = self._raw[-1] if self._raw else None
        self._raw.append(now)
        cur = np.median(np.stack([r[1] for r in self._raw]), axis=0)
        palm = float(np.median([r[2] for r in self._raw]))
        # Right after a dropout the median still holds detections from before it and lags: until
        # it has none, two successive detections, unfiltered, that show the hand as still as that
        # say it is still (at 15 fps a letter's hold may be two or three frames: a hand that moved
        # into a letter during the gap is still sooner). A higher figure may be one misplaced
        # detection, so it is not taken: on the gap frame the motion is then unknown, after it the
        # filtered figure stands; and a hand that was still before the gap and is found elsewhere
        # after it has moved, so the filtered figure (which shows that move) stands there too.
        if gap:
            self._since_gap, self._raw_ok = 0, False
        else:
            self._since_gap += 1
        still = None
        self.jumped = False
        if self._since_gap < self._raw.maxlen and now[2] > 1e-6:  # a gap since the last reset: before exists
            raw = _motion(now[1], before[1], now[2], t - before[0])
            if gap:
                self._raw_ok = raw < self.still_speed or self._speed >= self.still_speed
                # still before the gap, found elsewhere after it (not a settling hand's or jitter's drift)
                self.jumped = not self._raw_ok and raw * (t - before[0]) >= JUMP_PALMS
            if self._raw_ok and raw < self.still_speed:
                still = raw
        self.unsure = gap and still is None and not self.jumped
        if gap:
            self._filtered.append((t, cur))
            return float("nan") if still is None else self._keep(still)
        # the earlier detection closest to window_s ago (after a dropout the span stays about the same);
        # of two as close (at 15 fps, 67 and 133 ms for 100), the newer: the motion then lags less
        ref = min(self._filtered, key=lambda e: (round(abs(t - e[0] - self.window_s), 4), -e[0]), default=None)
        self._filtered.append((t, cur))
        if ref is None or palm < 1e-6:
            return float("nan")
        speed = _motion(cur, ref[1], palm, t - ref[0])
        return self._keep(speed if still is None else min(speed, still))

    def _keep(self, speed: float) -> float:
        self._speed = speed
        return speed

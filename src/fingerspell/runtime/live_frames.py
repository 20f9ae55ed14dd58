"""Frames of a live capture (a webcam, a phone's camera stream), taken by a thread as they come.

A live capture hands out frames at its own pace. A reader that falls behind for a moment (a busy
CPU, a profile fitted in the background, a slow model load) would otherwise find a backlog waiting
(the camera driver's few buffers, a stream's socket) and read it in a burst; timed when read, those
frames' times are squeezed together, a hand's tremor then looks like movement, and a held letter is
split and written twice (the clean-clone CI run read HELLO from a stream as HEELLO). Here a thread
reads every frame as it comes and stamps it with the clock then; :meth:`LiveFrames.next` returns the
newest, and those the reader had no time for are dropped and counted.
"""

from __future__ import annotations

import threading
import time
from typing import Optional, Tuple

import numpy as np

Frame = Tuple[np.ndarray, float]


class LiveFrames:
    """The newest frame of ``cap`` (an opened ``cv2.VideoCapture``) with its arrival time in seconds
    since ``first`` came. The thread owns ``cap`` from here on and releases it when it stops."""

    def __init__(self, cap, first: np.ndarray, name: str = "fingerspell-live") -> None:
        self.dropped = 0
        self._t0 = time.monotonic()
        self._latest: Optional[Frame] = (first, 0.0)
        self._done = self._stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._grab, args=(cap,), name=name, daemon=True)
        self._thread.start()

    def _grab(self, cap) -> None:
        try:
            while not self._stop:
                ok, frame = cap.read()
                with self._cond:
                    if not ok or frame is None:
                        break
                    self.dropped += self._latest is not None
                    self._latest = (frame, time.monotonic() - self._t0)
                    self._cond.notify()
        finally:
            with self._cond:
                self._done = True
                self._cond.notify()
            cap.release()  # here, never while this thread is inside cap.read()

    def next(self) -> Optional[Frame]:
        """The newest frame not yet returned (waiting for one to come), or None once the capture
        stopped giving frames."""
        with self._cond:
            while self._latest is None and not self._done:
                self._cond.wait(0.5)
            item, self._latest = self._latest, None
        return item

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread (a capture stalled in a read stops at its own read timeout)."""
        self._stop = True
        self._thread.join(timeout=timeout_s)

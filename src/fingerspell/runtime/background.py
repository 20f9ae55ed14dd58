"""One job at a time on a worker thread, its result taken on a later frame.

A live reader must not stop for slow side work: :class:`~fingerspell.runtime.signing_hand.SigningHand`'s
looks for other hands run MediaPipe in image mode up to three times (50-230 ms on 2 cores), and
on a camera that stall drops the frames of a fluent signer's 0.2 s letter. With a
:class:`Background`, the look runs beside the reading and its answer is used a few frames later.

Jobs carry a ``tag`` (the caller's state when it asked): a result whose tag no longer matches is
dropped, so an answer about a hand that has since changed is never applied.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Hashable, Optional, Tuple


class Background:
    """A single worker thread: :meth:`submit` a job when none is running, :meth:`take` its result."""

    def __init__(self, name: str = "fingerspell-background") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._job: Optional[Tuple[Hashable, Future]] = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._job is not None

    def submit(self, tag: Hashable, job: Callable[[], Any]) -> bool:
        """Start ``job`` unless one is running or waiting to be taken; True if it started."""
        with self._lock:
            if self._job is not None:
                return False
            self._job = (tag, self._pool.submit(job))
            return True

    def take(self, tag: Hashable) -> Tuple[bool, Any]:
        """``(True, result)`` once the job is done and still for ``tag``; ``(False, None)`` while it
        runs, when there is none, or when it was for another tag (then it is dropped). A job that
        raised re-raises here, on the caller's thread."""
        with self._lock:
            if self._job is None or not self._job[1].done():
                return False, None
            (asked, future), self._job = self._job, None
        if asked != tag:
            return False, None
        return True, future.result()

    def close(self) -> None:
        """Wait for a running job and stop the thread."""
        self._pool.shutdown(wait=True)
        with self._lock:
            self._job = None

"""One recognition session per WebSocket connection, each on its own worker thread.

MediaPipe's video-mode graphs keep state between frames, so every connection gets its own
recognizer (its own detector, tracks, holds and sentence), created, used and closed on the
connection's single worker thread; the event loop only awaits it, so a slow client never
stalls another. The classifier weights are loaded once and shared (inference only reads them).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional

from fingerspell.apps.web.protocol import FrameError, decode_jpeg, reading_message, suggestion_words


@dataclass(frozen=True)
class RecognizerSettings:
    """What ``fingerspell serve`` was told about the model and the reading."""

    model: Optional[str] = None
    backend: str = "torch"
    threads: int = 1
    profile: Optional[str] = None
    threshold: float = 0.7
    window: int = 8
    cooldown: float = 2.0
    complexity: int = 1


class _SharedClassifier:
    """The shared classifier as each recognizer sees it: closing one session keeps it open."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def close(self) -> None:
        pass


class SharedModel:
    """Loads the classifier once (on first use, on a worker thread) and builds recognizers on it."""

    def __init__(self, settings: RecognizerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loaded = None

    def classifier(self):
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self):
        s = self.settings
        if s.profile:
            from fingerspell.reading.calibration import load_profiled_classifier

            return load_profiled_classifier(s.profile, s.model, backend=s.backend, threads=s.threads)
        from fingerspell.runtime.classifier import load_classifier

        return load_classifier(s.model, backend=s.backend, threads=s.threads)

    def make_recognizer(self):
        from fingerspell.hands.detector import HandDetector
        from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions
        from fingerspell.runtime.smoothing import SmoothingOptions

        s = self.settings
        classifier, card = self.classifier()
        smoothing = SmoothingOptions(threshold=s.threshold, window=s.window, cooldown_s=s.cooldown)
        detector = HandDetector(mode="video", max_hands=1, model_complexity=s.complexity)
        return Recognizer(detector, _SharedClassifier(classifier), card, RecognizerOptions(smoothing=smoothing))

    def close(self) -> None:
        with self._lock:
            if self._loaded is not None:
                self._loaded[0].close()
                self._loaded = None


def open_session(make_recognizer: Callable[[], object]):
    """The one place the web app makes a session: the same LiveSession as the Tk window, in push
    mode, without drawing on frames (the page draws its own overlay)."""
    from fingerspell.runtime.session import LiveSession, SessionOptions

    return LiveSession(make_recognizer(), options=SessionOptions(pace=False, annotate=False))


_ids = itertools.count(1)


class Connection:
    """One browser tab: its session, its worker thread and its counters."""

    def __init__(self, make_recognizer: Callable[[], object], max_pixels: int) -> None:
        self.id = next(_ids)
        self.max_pixels = max_pixels
        self.frames = 0
        self.errors = 0
        self.session = None
        self._make = make_recognizer
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"fingerspell-web-{self.id}")
        self._t0 = time.monotonic()
        self._client_t0: Optional[float] = None

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def start(self) -> None:
        self.session = await self._run(open_session, self._make)

    async def read(self, jpeg: bytes, client_t: Optional[float]) -> dict:
        """The reading of one frame (decoded and recognised on the worker thread)."""
        return await self._run(self._read, jpeg, client_t)

    def _frame_time(self, client_t: Optional[float]) -> float:
        if client_t is None:
            return time.monotonic() - self._t0
        if self._client_t0 is None:
            self._client_t0 = client_t
        return client_t - self._client_t0

    def _read(self, jpeg: bytes, client_t: Optional[float]) -> dict:
        t0 = time.perf_counter()
        image = decode_jpeg(jpeg, self.max_pixels)
        result = self.session.process(image, self._frame_time(client_t))
        self.frames += 1
        h, w = image.shape[:2]
        return reading_message(result, (w, h), (time.perf_counter() - t0) * 1000)

    async def command(self, kind: str, index: int) -> dict:
        return await self._run(self._command, kind, index)

    def _command(self, kind: str, index: int) -> dict:
        s = self.session
        ok = True
        if kind == "space":
            s.add_space()
        elif kind == "delete":
            s.delete()
        elif kind == "undo":
            ok = s.undo()
        elif kind == "pick":
            ok = s.pick(index)
        elif kind == "reset":
            s.reset()
        else:  # parse_command lets only the known ones through
            raise FrameError("bad_command", f"unknown command {kind!r}")
        sentence = s.sentence
        return {"type": "sentence", "command": kind, "ok": bool(ok), "sentence": sentence.text,
                "current_word": getattr(sentence, "current", None),
                "suggestions": suggestion_words(getattr(sentence, "suggestions", None))}

    async def close(self) -> None:
        """End the session and the worker thread (the recognizer is closed on its own thread)."""
        try:
            if self.session is not None:
                await self._run(self._close_session)
        finally:
            self._pool.shutdown(wait=True)

    def _close_session(self) -> None:
        session, self.session = self.session, None
        session.close()
        session.recognizer.close()

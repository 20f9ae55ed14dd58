"""One recognition session per WebSocket connection, each on its own worker thread.

MediaPipe's video-mode graphs keep state between frames, so every connection gets its own
recognizer (its own detector, tracks, holds and sentence), created, used and closed on the
connection's single worker thread; the event loop only awaits it, so a slow client never
stalls another. Each recognizer is built by the same code as the Tk window's (the shipped
landmark MLP loads in milliseconds, so the weights are not shared between connections).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional

from fingerspell.apps.web.protocol import FrameError, decode_jpeg, reading_message, suggestion_words


class RecognizerFactory:
    """Builds each connection's recognizer from the ``serve`` options, exactly as the Tk window
    builds its own (:func:`fingerspell.apps.recognizer_from_args`: model, profile, holds, decoder)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def __call__(self):
        from fingerspell.apps import recognizer_from_args

        return recognizer_from_args(self.args)

    def check(self) -> None:
        """Build one recognizer and close it: a bad --model or --profile fails before serving."""
        self().close()


def open_session(make_recognizer: Callable[[], object]):
    """The one place the web app makes a session: the same LiveSession as the Tk window, in push
    mode, without drawing on frames (the page draws its own overlay)."""
    from fingerspell.runtime.session import LiveSession, SessionOptions

    return LiveSession(make_recognizer(), options=SessionOptions(pace=False, annotate=False))


def finished_words(sentence) -> List[str]:
    """The finished words of the sentence as they now read (what the page speaks)."""
    words = getattr(sentence, "words", None)
    if words is not None:
        return [str(getattr(w, "word", w)) for w in words]
    text = sentence.text
    return text.split() if text.endswith(" ") else text.split()[:-1]


_ids = itertools.count(1)


class Connection:
    """One browser tab: its session, its worker thread and its counters."""

    def __init__(self, make_recognizer: Callable[[], object], max_pixels: int) -> None:
        self.id = next(_ids)
        self.max_pixels = max_pixels
        self.frames = 0
        self.errors = 0
        self.session = None
        self.closed = threading.Event()
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
        message = reading_message(result, (w, h), (time.perf_counter() - t0) * 1000)
        message["words"] = finished_words(self.session.sentence)
        return message

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
        elif kind == "reset":  # the page's Clear: a new sentence; what was learned of the signer stays
            s.reset(person=False)
        else:  # parse_command lets only the known ones through
            raise FrameError("bad_command", f"unknown command {kind!r}")
        sentence = s.sentence
        return {"type": "sentence", "command": kind, "ok": bool(ok), "sentence": sentence.text,
                "current_word": getattr(sentence, "current", None), "words": finished_words(sentence),
                "suggestions": suggestion_words(getattr(sentence, "suggestions", None)),
                "adaptation": s.recognizer.adaptation_status() if s.recognizer.adaptation is not None else None}

    async def close(self) -> None:
        """End the session and the worker thread (the recognizer is closed on its own thread). The
        close runs to the end even if this task is cancelled (a client that vanished)."""
        job = asyncio.get_running_loop().run_in_executor(self._pool, self._close_session)
        self._pool.shutdown(wait=False)  # the worker thread ends after the close job
        await asyncio.shield(job)

    def _close_session(self) -> None:
        session, self.session = self.session, None  # the close job runs after a start still under way
        try:
            if session is not None:
                session.close()
                session.recognizer.close()
        finally:
            self.closed.set()

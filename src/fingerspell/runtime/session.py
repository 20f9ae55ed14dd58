"""A live recognition session without a UI: the recognizer, a worker thread, pacing, FPS,
speech and sentence edits. Views (the Tk window, the web app) subscribe to it and draw.

Two ways to feed it:

* **pull**: :meth:`LiveSession.start` opens a frame source (camera, video, folder) and a worker
  thread reads it, recognises each frame and hands ``(frame, result)`` to every subscriber;
  files are paced at their own frame rate, as a camera would deliver them;
* **push**: :meth:`LiveSession.process` reads one frame the caller already has (the web app
  receives frames from a browser), on the caller's thread.

Subscribers are called on the worker thread (pull) or the caller's thread (push): a GUI must
hand the result over to its own thread (the Tk view queues it and polls).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.runtime.recognizer import FrameResult, Recognizer
from fingerspell.runtime.sources import FrameSource

#: A subscriber gets ``(kind, frame, result, message)``: kind "frame" with the annotated BGR frame
#: and its result, or "ended" / "error" with a message (frame and result None).
Listener = Callable[[str, Optional[np.ndarray], Optional[FrameResult], str], None]


@dataclass(frozen=True)
class SessionOptions:
    """``pace``: play files at their own frame rate. ``annotate``: draw boxes and skeletons on the
    frame before handing it to views (a web page draws its own, so it turns this off)."""

    pace: bool = True
    annotate: bool = True


class LiveSession:
    """One person's recognition session. ``source_factory`` opens the source (again after it ended)."""

    def __init__(self, recognizer: Recognizer, source_factory: Optional[Callable[[], FrameSource]] = None,
                 options: Optional[SessionOptions] = None, speaker=None,
                 source: Optional[FrameSource] = None) -> None:
        self.recognizer = recognizer
        self.source_factory = source_factory
        self.options = options or SessionOptions()
        self.speaker = speaker
        self.source = source
        self.fps = 0.0
        self.frames_processed = 0
        self.running = False
        self.last_result: Optional[FrameResult] = None
        self._listeners: List[Listener] = []
        self._stop = threading.Event()
        self._worker: Optional[threading.Thread] = None
        self._lock = threading.RLock()
        self._t_offset = 0.0
        self._last_t = -1.0
        self._last_tick: Optional[float] = None
        if speaker is not None:
            # Each finished word is spoken: signed SPACE, the Space button, a pause, or a picked suggestion.
            recognizer.sentence.on_word(lambda word: speaker.speak(word.word))

    # --- views -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: str, frame=None, result=None, message: str = "") -> None:
        for listener in list(self._listeners):
            listener(kind, frame, result, message)

    # --- push mode ---------------------------------------------------------------------------
    def process(self, frame: np.ndarray, t: Optional[float] = None) -> FrameResult:
        """Recognise one BGR frame taken at ``t`` seconds; draws on it when ``annotate`` is on."""
        with self._lock:
            if self.frames_processed == 0:  # frames pushed as they come (a browser's): looks never stall them
                self.recognizer.signing.look_in_background(True)
            result = self.recognizer.process(frame, None if t is None else t + self._t_offset)
            self._last_t = result.timestamp
            if self.options.annotate:
                self.recognizer.annotate(frame, result, sentence=False)
            self._tick()
            self.last_result = result
        self._emit("frame", frame, result)
        return result

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last_tick is not None and now > self._last_tick:
            inst = 1.0 / (now - self._last_tick)
            self.fps = inst if self.fps == 0 else 0.9 * self.fps + 0.1 * inst
        self._last_tick = now
        self.frames_processed += 1

    # --- pull mode ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the source (if needed) and start reading it on a worker thread."""
        if self.running:
            return
        if self.source is None:
            if self.source_factory is None:
                raise FingerspellError("this session has no frame source: give it a source or push frames")
            self.source = self.source_factory()
            # A reopened source starts its clock at 0 again; keep the recognizer's time increasing.
            self._t_offset = self._last_t + 1.0 if self._last_t >= 0 else 0.0
        self._stop = threading.Event()
        self._last_tick = None
        self._worker = threading.Thread(target=self._work, args=(self._stop, self.source), daemon=True,
                                        name="fingerspell-session")
        self.running = True
        self._worker.start()

    def stop(self) -> None:
        """Pause reading (the source stays open; :meth:`start` goes on where it stopped)."""
        self._stop.set()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=5.0)
        self.running = False

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until the worker ends (the source ran out, an error, or stop); True if it did."""
        if self._worker is not None:
            self._worker.join(timeout)
            return not self._worker.is_alive()
        return True

    def _work(self, stop: threading.Event, source: FrameSource) -> None:
        pace = self.options.pace and not source.is_live
        self.recognizer.signing.look_in_background(source.is_live)  # a file reads the same on every machine
        wall0 = ts0 = None
        try:
            while not stop.is_set():
                try:
                    frame, ts = next(source)
                except StopIteration:
                    self._end("ended", source.message or f"{source.name} ended")
                    return
                if pace:
                    if wall0 is None:
                        wall0, ts0 = time.monotonic(), ts
                    delay = (ts - ts0) - (time.monotonic() - wall0)
                    if delay > 0 and stop.wait(delay):
                        return
                self.process(frame, ts)
        except FingerspellError as exc:
            self._end("error", str(exc))
        except Exception as exc:  # keep the view alive and say what broke
            self._end("error", f"{type(exc).__name__}: {exc}")

    def _end(self, kind: str, message: str) -> None:
        self.running = False
        if self.source is not None:
            self.source.close()
        self.source = None  # start() opens it again
        self._emit(kind, None, None, message)

    # --- sentence edits (any thread) ----------------------------------------------------------
    @property
    def sentence(self):
        return self.recognizer.sentence

    def add_space(self) -> str:
        """The Space button: finish the word being spelled (it is decoded) and add a space."""
        with self._lock:
            self.recognizer.sentence.add_space()
            return self.recognizer.sentence.text

    def delete(self) -> str:
        """Remove the last letter (between words: reopen the last word)."""
        with self._lock:
            self.recognizer.sentence.delete()
            return self.recognizer.sentence.text

    def undo(self) -> bool:
        """Undo the last automatic word correction (the word goes back to how it was spelled)."""
        with self._lock:
            return self.recognizer.sentence.undo_correction()

    def pick(self, number: int) -> bool:
        """Keys 1-3: suggestion ``number`` replaces the word being spelled and finishes it."""
        with self._lock:
            return self.recognizer.sentence.pick_suggestion(number) is not None

    def reset(self, person: bool = True) -> None:
        """Clear the sentence and forget the hands, and with ``person`` what was learned of the
        person signing (a new recording; see :meth:`Recognizer.reset`)."""
        with self._lock:
            self.recognizer.reset(person=person)

    # --- speech ------------------------------------------------------------------------------
    def speak(self) -> None:
        """Say the whole sentence now."""
        if self.speaker is not None:
            self.speaker.speak(self.recognizer.sentence.text)

    def close(self) -> None:
        self.stop()
        if self.source is not None:
            self.source.close()
            self.source = None
        if self.speaker is not None:
            self.speaker.close()


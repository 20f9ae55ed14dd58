"""A small Tk window for recording a calibration profile from a camera (``fingerspell calibrate --window``).

It shows the camera picture, the letter to sign in large type beside a drawing of how it is signed
(the letter chart's mean hand), the countdown or the capture time
left, how many frames of the letter were captured and the overall progress. Buttons (and keys):
Redo last (``r``), Skip (``s``), Stop (``Esc``). A worker thread reads frames, finds the hand and
drives a :class:`~fingerspell.reading.calibration_capture.CalibrationRecorder`; the Tk thread only
draws. The window closes by itself when every letter is recorded.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Optional

import numpy as np

from fingerspell.apps.live_widgets import retire_window
from fingerspell.errors import FingerspellError
from fingerspell.reading import calibration_capture as cap

PREVIEW_WIDTH = 480


class CalibrationWindow:
    """The window; ``run()`` returns the recorded samples (rows, class indices)."""

    def __init__(self, root, source, classifier, recorder: cap.CalibrationRecorder) -> None:
        import tkinter as tk

        self.root, self.source, self.classifier, self.recorder = root, source, classifier, recorder
        self.lock = threading.Lock()
        self.frames: "queue.Queue[tuple]" = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.last_done: Optional[str] = None
        self.error: Optional[BaseException] = None
        root.title("fingerspell: calibration")
        self.canvas = tk.Label(root)
        self.canvas.pack()
        self.letter_var, self.info_var = tk.StringVar(value="…"), tk.StringVar(value="starting the camera")
        sign = tk.Frame(root)
        sign.pack()
        self.picture = tk.Label(sign)  # how the letter is signed: the chart's drawn hand
        self.picture.pack(side="left", padx=8)
        self._picture_of: Optional[str] = None
        tk.Label(sign, textvariable=self.letter_var, font=("Helvetica", 64, "bold")).pack(side="left")
        tk.Label(root, textvariable=self.info_var, font=("Helvetica", 14)).pack()
        bar = tk.Frame(root)
        bar.pack(pady=6)
        for text, cmd in (("Redo last (r)", self.redo_last), ("Skip (s)", self.skip), ("Stop (Esc)", self.close)):
            tk.Button(bar, text=text, command=cmd).pack(side="left", padx=4)
        root.bind("r", lambda e: self.redo_last())
        root.bind("s", lambda e: self.skip())
        root.bind("<Escape>", lambda e: self.close())
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.worker = threading.Thread(target=self._work, name="calibration-capture", daemon=True)

    # --- the worker thread -------------------------------------------------------------------
    def _work(self) -> None:
        from fingerspell.hands.detector import HandDetector

        try:
            pick = cap.SigningHandPick()
            with HandDetector(mode="video", max_hands=cap.CAPTURE_HANDS) as det:
                for frame, t in self.source:
                    if self.stop.is_set():
                        break
                    hands = pick(det.detect(frame, timestamp_ms=int(t * 1000)))
                    row = cap._rows(hands, self.classifier)[0] if hands else None
                    with self.lock:
                        before = self.recorder.current
                        status = self.recorder.update(t, row)
                        if self.recorder.current != before:
                            self.last_done = before
                    self._offer((frame, status))
                    if self.recorder.done:
                        break
        except BaseException as exc:  # shown and re-raised by run()
            self.error = exc
        self._offer((None, None))

    def _offer(self, item: tuple) -> None:
        try:
            self.frames.put_nowait(item)
        except queue.Full:
            try:
                self.frames.get_nowait()
            except queue.Empty:
                pass
            self.frames.put_nowait(item)

    # --- the Tk thread -----------------------------------------------------------------------
    def _poll(self) -> None:
        try:
            frame, status = self.frames.get_nowait()
        except queue.Empty:
            self.root.after(15, self._poll)
            return
        if status is None:
            self.close()
            return
        self._draw(frame, status)
        self.root.after(5, self._poll)

    def _draw(self, frame: np.ndarray, status: cap.RecorderStatus) -> None:
        import cv2
        from PIL import Image, ImageTk

        h, w = frame.shape[:2]
        small = cv2.resize(frame, (PREVIEW_WIDTH, max(1, int(h * PREVIEW_WIDTH / w))))
        self._photo = ImageTk.PhotoImage(Image.fromarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB)))
        self.canvas.configure(image=self._photo)
        self.letter_var.set(status.letter or "done")
        if status.letter and status.letter != self._picture_of:
            from fingerspell.apps.web.chart import letter_picture

            rgb = cv2.cvtColor(letter_picture(status.letter), cv2.COLOR_BGR2RGB)
            self._sign = ImageTk.PhotoImage(Image.fromarray(rgb))
            self.picture.configure(image=self._sign)
            self._picture_of = status.letter
        what = "get ready" if status.phase == "countdown" else f"captured {status.captured}"
        self.info_var.set(f"{what} · {status.seconds_left:.1f} s · {status.progress:.0%} of the letters · "
                          f"{status.message}")

    def redo_last(self) -> None:
        with self.lock:
            if self.last_done:
                self.recorder.redo(self.last_done)

    def skip(self) -> None:
        with self.lock:
            self.recorder.skip()

    def close(self) -> None:
        self.stop.set()
        self.root.quit()

    def run(self):
        self.worker.start()
        self.root.after(15, self._poll)
        self.root.mainloop()
        self.stop.set()
        self.worker.join(timeout=5.0)
        retire_window(self.root, self)  # here, not in a later GC on another thread
        if self.error is not None:
            raise self.error
        return self.recorder.result(self.classifier.classes)


def record_in_window(source, classifier, recorder: cap.CalibrationRecorder):
    """Record ``recorder``'s letters from ``source`` in a Tk window; (rows, class indices)."""
    import tkinter as tk

    try:
        root = tk.Tk()
    except tk.TclError as exc:
        raise FingerspellError(f"cannot open a window on display {os.environ.get('DISPLAY')!r} ({exc}): "
                               "calibrate without --window (terminal prompts) or from photos") from None
    return CalibrationWindow(root, source, classifier, recorder).run()

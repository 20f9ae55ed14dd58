"""The live window (Tkinter): video with hand boxes and letters, the sentence, and its controls.

A worker thread reads frames, runs the recognizer and draws the overlay; the Tk thread only
shows the newest finished frame every few milliseconds (``root.after``), so a slow model lowers
the frame rate but never freezes the window. Buttons and keys:

=========  ===========================  =========================
key        button                       does
=========  ===========================  =========================
s          Start / Stop                 start or pause recognition
space      Space                        add a space
BackSpace  Delete                       delete the last character
r          Reset                        clear the sentence
v          Speak (with ``--speak``)     say the sentence
q, Escape  Exit                         close the window
=========  ===========================  =========================
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.runtime.recognizer import FrameResult, Recognizer
from fingerspell.runtime.sources import FrameSource


@dataclass(frozen=True)
class LiveOptions:
    """How the window behaves. ``pace`` plays files at their own frame rate, as a camera would."""

    autostart: bool = True
    pace: bool = True
    display_size: Tuple[int, int] = (640, 480)
    poll_ms: int = 15
    title: str = "fingerspell: ASL fingerspelling"


def check_display() -> None:
    """A clear error instead of Tk's when there is no screen to open a window on."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise FingerspellError(
            "no display: DISPLAY is not set, so the live window cannot open; run it on a desktop, under a "
            "virtual X server (Xvfb, e.g. xvfb-run fingerspell live ...), or use 'fingerspell run --source X "
            "--out annotated.mp4' to work without a screen")


def _fit(frame_bgr: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """RGB copy of the frame scaled to fit ``size`` (aspect kept, black bars)."""
    import cv2

    w, h = size
    fh, fw = frame_bgr.shape[:2]
    s = min(w / fw, h / fh)
    nw, nh = max(1, int(round(fw * s))), max(1, int(round(fh * s)))
    small = cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.zeros((h, w, 3), dtype=np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y:y + nh, x:x + nw] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    return out


class LiveApp:
    """The window. ``source_factory`` opens the frame source (again after it ended)."""

    def __init__(self, root, recognizer: Recognizer, source_factory: Callable[[], FrameSource],
                 options: Optional[LiveOptions] = None, speaker=None,
                 source: Optional[FrameSource] = None) -> None:
        import tkinter as tk

        self.root = root
        self.recognizer = recognizer
        self.source_factory = source_factory
        self.options = options or LiveOptions()
        self.speaker = speaker
        self.source: Optional[FrameSource] = source
        self.frames_processed = 0
        self.frames_shown = 0
        self.fps = 0.0
        self.running = False
        self.closed = False
        self.last_result: Optional[FrameResult] = None
        self.last_image: Optional[np.ndarray] = None
        self._queue: "queue.Queue[tuple]" = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._worker: Optional[threading.Thread] = None
        self._t_offset = 0.0
        self._last_t = -1.0
        self._spoken_events = 0
        self._photo = None
        self._after_id = None

        root.title(self.options.title)
        root.protocol("WM_DELETE_WINDOW", self.exit)
        w, h = self.options.display_size
        main = tk.Frame(root, padx=8, pady=8)
        main.pack(fill="both", expand=True)
        self.canvas = tk.Canvas(main, width=w, height=h, bg="black", highlightthickness=0)
        self.canvas.grid(row=0, column=0, rowspan=2, sticky="nw")
        self._image_id = self.canvas.create_image(0, 0, anchor="nw")

        side = tk.Frame(main, padx=12)
        side.grid(row=0, column=1, sticky="n")
        self.letter_var = tk.StringVar(value="-")
        self.conf_var = tk.StringVar(value="confidence -")
        self.fps_var = tk.StringVar(value="FPS -")
        self.frames_var = tk.StringVar(value="frames 0")
        self.status_var = tk.StringVar(value="stopped")
        tk.Label(side, text="Letter", font=("Helvetica", 12)).pack(anchor="w")
        self.letter_label = tk.Label(side, textvariable=self.letter_var, font=("Helvetica", 64, "bold"),
                                     fg="#0a7d2c", width=4)
        self.letter_label.pack(anchor="w")
        tk.Label(side, textvariable=self.conf_var, font=("Helvetica", 12)).pack(anchor="w")
        tk.Label(side, textvariable=self.fps_var, font=("Helvetica", 12)).pack(anchor="w", pady=(12, 0))
        tk.Label(side, textvariable=self.frames_var, font=("Helvetica", 12)).pack(anchor="w")
        tk.Label(side, textvariable=self.status_var, font=("Helvetica", 10), fg="#555555", wraplength=220,
                 justify="left").pack(anchor="w", pady=(12, 0))

        controls = tk.Frame(side, pady=12)
        controls.pack(anchor="w")
        self.buttons = {}
        for name, cmd in (("Start", self.start), ("Stop", self.stop), ("Exit", self.exit)):
            self.buttons[name] = tk.Button(controls, text=name, width=7, command=cmd, takefocus=0)
            self.buttons[name].pack(side="left", padx=2)

        bottom = tk.Frame(main, pady=8)
        bottom.grid(row=2, column=0, columnspan=2, sticky="we")
        tk.Label(bottom, text="Sentence", font=("Helvetica", 12)).pack(anchor="w")
        self.sentence_var = tk.StringVar(value="")
        tk.Label(bottom, textvariable=self.sentence_var, font=("Courier", 24, "bold"), anchor="w", bg="white",
                 relief="sunken", width=40, wraplength=w + 200, justify="left").pack(fill="x")
        edit = tk.Frame(bottom, pady=6)
        edit.pack(anchor="w")
        actions = [("Space", self.add_space), ("Delete", self.delete), ("Reset", self.reset)]
        if speaker is not None:
            actions.append(("Speak", self.speak))
        for name, cmd in actions:
            self.buttons[name] = tk.Button(edit, text=name, width=7, command=cmd, takefocus=0)
            self.buttons[name].pack(side="left", padx=2)
        tk.Label(bottom, text="keys: s start/stop, space, BackSpace delete, r reset, q/Esc exit"
                 + (", v speak" if speaker is not None else ""), fg="#555555").pack(anchor="w")

        for seq, fn in (("<KeyPress-s>", self.toggle), ("<KeyPress-space>", self.add_space),
                        ("<KeyPress-BackSpace>", self.delete), ("<KeyPress-r>", self.reset),
                        ("<KeyPress-q>", self.exit), ("<KeyPress-Escape>", self.exit),
                        ("<KeyPress-v>", self.speak)):
            root.bind(seq, lambda _e, fn=fn: (fn(), "break")[1])
        self._update_buttons()
        self._after_id = root.after(self.options.poll_ms, self._poll)
        if self.options.autostart:
            self.start()

    # --- controls -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.running or self.closed:
            return
        if self.source is None:
            try:
                self.source = self.source_factory()
            except FingerspellError as exc:
                self.status_var.set(str(exc))
                return
            self._t_offset = self._last_t + 1.0 if self._last_t >= 0 else 0.0
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._work, args=(self._stop, self.source), daemon=True,
                                        name="fingerspell-live")
        self.running = True
        self.status_var.set(f"running: {self.source.name}")
        self._worker.start()
        self._update_buttons()

    def stop(self) -> None:
        if not self.running:
            return
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=5.0)
        self.running = False
        self.status_var.set("stopped")
        self._update_buttons()

    def toggle(self) -> None:
        self.stop() if self.running else self.start()

    def add_space(self) -> None:
        self.recognizer.sentence.add_space()
        self._show_sentence()

    def delete(self) -> None:
        self.recognizer.sentence.delete()
        self._show_sentence()

    def reset(self) -> None:
        self.recognizer.sentence.reset()
        self._spoken_events = 0
        self._show_sentence()

    def speak(self) -> None:
        if self.speaker is not None:
            self.speaker.speak(self.recognizer.sentence.text)

    def exit(self) -> None:
        if self.closed:
            return
        self.stop()
        self.closed = True
        if self._after_id is not None:
            try:
                self.root.after_cancel(self._after_id)
            except Exception:  # tkinter.TclError once the window is gone
                pass
        if self.source is not None:
            self.source.close()
        if self.speaker is not None:
            self.speaker.close()
        self.root.destroy()

    def _update_buttons(self) -> None:
        self.buttons["Start"].config(state="disabled" if self.running else "normal")
        self.buttons["Stop"].config(state="normal" if self.running else "disabled")

    # --- worker thread: read, recognise, draw ---------------------------------------------------
    def _post(self, item: tuple) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()  # drop the oldest frame: show the newest
                except queue.Empty:
                    pass

    def _work(self, stop: threading.Event, source: FrameSource) -> None:
        pace = self.options.pace and not source.is_live
        wall0 = ts0 = None
        last = None
        try:
            while not stop.is_set():
                try:
                    frame, ts = next(source)
                except StopIteration:
                    self._post(("ended", source.message or f"{source.name} ended"))
                    return
                if pace:
                    if wall0 is None:
                        wall0, ts0 = time.monotonic(), ts
                    delay = (ts - ts0) - (time.monotonic() - wall0)
                    if delay > 0 and stop.wait(delay):
                        return
                t = ts + self._t_offset
                result = self.recognizer.process(frame, t)
                self._last_t = result.timestamp
                self.recognizer.annotate(frame, result, sentence=False)
                now = time.perf_counter()
                if last is not None and now > last:
                    inst = 1.0 / (now - last)
                    self.fps = inst if self.fps == 0 else 0.9 * self.fps + 0.1 * inst
                last = now
                self.frames_processed += 1
                self._post(("frame", _fit(frame, self.options.display_size), result, self.frames_processed))
        except FingerspellError as exc:
            self._post(("error", str(exc)))
        except Exception as exc:  # keep the window alive and say what broke
            self._post(("error", f"{type(exc).__name__}: {exc}"))

    # --- Tk thread: show ---------------------------------------------------------------------
    def _poll(self) -> None:
        if self.closed:
            return
        latest = None
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item[0] == "frame":
                latest = item
            else:
                self._finish(item)
        if latest is not None:
            self._show(latest[1], latest[2], latest[3])
        self._show_sentence()
        self._after_id = self.root.after(self.options.poll_ms, self._poll)

    def _finish(self, item: tuple) -> None:
        kind, message = item
        if self._worker is not None:
            self._worker.join(timeout=5.0)
        self.running = False
        if self.source is not None:
            self.source.close()
        self.source = None  # Start opens it again
        self.status_var.set(("ended: " if kind == "ended" else "error: ") + message)
        self._update_buttons()

    def _show(self, rgb: np.ndarray, result: FrameResult, processed: int) -> None:
        from PIL import Image, ImageTk

        self._photo = ImageTk.PhotoImage(Image.fromarray(rgb))
        self.canvas.itemconfig(self._image_id, image=self._photo)
        self.last_image = rgb
        self.last_result = result
        self.frames_shown += 1
        best = result.best
        if best is None:
            self.letter_var.set("-")
            self.conf_var.set("no hand")
        else:
            text = best.label if best.accepted else f"{best.label}?"
            self.letter_var.set(text)  # SPACE, DEL, NOTHING in a smaller font so they fit
            self.letter_label.config(font=("Helvetica", 64 if len(text) <= 3 else 22, "bold"),
                                     width=4 if len(text) <= 3 else 9)
            stable = f", stable {best.stable}" if best.stable else ""
            self.conf_var.set(f"confidence {best.confidence:.0%}{stable}")
        self.fps_var.set(f"FPS {self.fps:.1f}")
        self.frames_var.set(f"frames {processed}")

    def _show_sentence(self) -> None:
        text = self.recognizer.sentence.text
        self.sentence_var.set(text.replace(" ", "\u2423") if text and not text.strip() else text)
        if self.speaker is not None:
            events = self.recognizer.sentence.events
            for event in events[self._spoken_events:]:
                if event.kind == "space":
                    words = event.text.split()
                    if words:
                        self.speaker.speak(words[-1])
            self._spoken_events = len(events)

    # --- pictures ------------------------------------------------------------------------------
    def screenshot(self, path) -> Path:
        """Save the window as a PNG: a grab of the X screen, else the video canvas alone."""
        from PIL import Image

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.root.update()
        x, y = self.root.winfo_rootx(), self.root.winfo_rooty()
        w, h = self.root.winfo_width(), self.root.winfo_height()
        try:
            from PIL import ImageGrab

            img = ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=os.environ.get("DISPLAY"))
        except Exception:  # no XCB support, or no X server (Windows/macOS grab the screen instead)
            if self.last_image is None:
                raise FingerspellError("nothing to save yet: no frame has been shown") from None
            img = Image.fromarray(self.last_image)
        img.save(out)
        return out


def run_live(recognizer_factory: Callable[[], Recognizer], source_spec: str, fps: float = 10.0,
             speak: bool = False, options: Optional[LiveOptions] = None) -> int:
    """Open the window on ``source_spec`` and run until it is closed."""
    check_display()
    from fingerspell.runtime.sources import open_source

    source = open_source(source_spec, fps=fps)  # a bad source or model fails before a window shows
    try:
        recognizer = recognizer_factory()
    except BaseException:
        source.close()
        raise
    import tkinter as tk

    try:
        root = tk.Tk()
    except tk.TclError as exc:
        source.close()
        recognizer.close()
        raise FingerspellError(
            f"cannot open a window on display {os.environ.get('DISPLAY')!r} ({exc}): check the X server, "
            "or use 'fingerspell run' headless") from None
    speaker = None
    if speak:
        from fingerspell.runtime.speech import find_speaker

        speaker = find_speaker()
    with recognizer:
        app = LiveApp(root, recognizer, lambda: open_source(source_spec, fps=fps), options, speaker=speaker,
                      source=source)
        root.mainloop()
        if not app.closed:
            app.exit()
    return 0

"""The live window (Tkinter + ttk): a view of a :class:`~fingerspell.runtime.session.LiveSession`.

The session's worker thread reads and recognises frames; this view draws each one (mirrored for
a camera, the hand in the colour of its state) at the size of the video area on that thread, and
the Tk thread only shows the newest finished picture every few milliseconds, so a slow model
lowers the frame rate but never freezes the window.

Layout: the video on the left scales with the window; on the right a fixed panel shows the
letter in the colour of its state (green sure, amber not sure yet, grey no hand), its confidence,
how far the hold is toward writing it, and the next guesses; below, the sentence with visible
spaces and a cursor, word suggestions, and the edit buttons. No widget changes size between states.
With no hand seen, or the hand reaching out of the picture, a hint on the video says how to show it.

Keys (and buttons): s Start/Stop, space Space (finish the word), BackSpace Delete, 1-3 take a suggested word,
Ctrl+z Undo a word correction, c Copy the sentence, m Mirror, r Reset (a new sentence), Shift+R new signer
(also forget what was learned of the person signing), v Speak (``--speak``), q or Escape Exit."""

from __future__ import annotations

import os
import queue
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional, Tuple

import numpy as np

from fingerspell.apps import live_widgets as lw
from fingerspell.apps.live_widgets import check_display
from fingerspell.errors import FingerspellError
from fingerspell.runtime.recognizer import FrameResult, Recognizer
from fingerspell.runtime.sources import FrameSource

NO_HAND_FRAMES = 3  # the hint shows after this many frames in a row without a hand
CUT_OFF_FRAMES = 5  # ... or with the writing hand reaching out of the picture


@dataclass(frozen=True)
class LiveOptions:
    """How the window behaves. ``pace`` plays files at their own frame rate, as a camera would;
    ``mirror`` None means on for cameras, off for files."""

    autostart: bool = True
    pace: bool = True
    display_size: Tuple[int, int] = (640, 480)
    poll_ms: int = 15
    mirror: Optional[bool] = None
    title: str = "fingerspell: ASL fingerspelling"
    speak: bool = False  # --speak was asked for (the window says whether speech is available)


class LiveApp:
    """The window. ``source_factory`` opens the frame source (again after it ended)."""

    def __init__(self, root, recognizer: Recognizer, source_factory: Callable[[], FrameSource],
                 options: Optional[LiveOptions] = None, speaker=None,
                 source: Optional[FrameSource] = None) -> None:
        from fingerspell.runtime.session import LiveSession, SessionOptions

        self.root = root
        self.recognizer = recognizer
        self.options = options or LiveOptions()
        self.session = LiveSession(recognizer, source_factory, SessionOptions(pace=self.options.pace, annotate=False),
                                   speaker=speaker, source=source)
        self.speaker = speaker
        self.frames_shown = 0
        self.closed = False
        self.state = "no_hand"
        self.last_result: Optional[FrameResult] = None
        self.last_image: Optional[np.ndarray] = None
        self._queue: "queue.Queue[tuple]" = queue.Queue(maxsize=2)
        self._view_size = tuple(self.options.display_size)
        self._no_hand_run = 0
        self._cut_off_run = 0  # frames in a row with the writing hand reaching beyond the picture
        self._photo = None
        self._after_ids: dict = {}
        live = source.is_live if source is not None else False
        self._mirror = self.options.mirror if self.options.mirror is not None else live
        self._build()
        self.session.subscribe(self._on_session)
        self._schedule("poll", self.options.poll_ms, self._poll)
        self._schedule("blink", 530, self._blink)
        if self.options.autostart:
            self.start()

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        import tkinter as tk
        from tkinter import ttk

        root = self.root
        lw.setup_theme(root)
        root.title(self.options.title)
        root.protocol("WM_DELETE_WINDOW", self.exit)
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        w, h = self.options.display_size
        main = ttk.Frame(root, padding=12)
        main.grid(row=0, column=0, sticky="nsew")
        main.columnconfigure(0, weight=1)
        main.rowconfigure(0, weight=1)
        self.canvas = tk.Canvas(main, width=w, height=h, bg="#111111", highlightthickness=0)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self._image_id = self.canvas.create_image(0, 0, anchor="nw")
        self._hint_band = self.canvas.create_rectangle(0, 0, 0, 0, fill="#000000", stipple="gray50", width=0,
                                                       state="hidden")
        self._hint_id = self.canvas.create_text(0, 0, text=lw.NO_HAND_HINT, fill="#ffffff", font=(lw.FONT, 14, "bold"),
                                                state="hidden")
        self.canvas.bind("<Configure>", self._on_resize)

        side = ttk.Frame(main, padding=(12, 0, 0, 0))
        side.grid(row=0, column=1, sticky="ns")
        self.panel = lw.LetterPanel(side)
        self.panel.frame.grid(row=0, column=0, sticky="new")
        self.letter_var, self.conf_var = self.panel.letter_var, self.panel.conf_var
        self._build_controls(side)
        self._build_sentence(main)
        self.status_var = tk.StringVar(value="stopped")
        self.fps_var = tk.StringVar(value="FPS -")
        self.frames_var = tk.StringVar(value="frames 0")
        bar = ttk.Frame(main)
        bar.grid(row=2, column=0, columnspan=2, sticky="we", pady=(6, 0))
        bar.columnconfigure(0, weight=1)
        ttk.Label(bar, textvariable=self.status_var, style="Status.TLabel", width=60).grid(row=0, column=0, sticky="w")
        ttk.Label(bar, textvariable=self.fps_var, style="Status.TLabel", width=10).grid(row=0, column=1)
        ttk.Label(bar, textvariable=self.frames_var, style="Status.TLabel", width=14).grid(row=0, column=2)
        self._bind_keys()
        self._update_buttons()

    def _build_controls(self, side) -> None:
        import tkinter as tk
        from tkinter import ttk

        card = ttk.Frame(side, style="Card.TFrame", padding=14)
        card.grid(row=1, column=0, sticky="new", pady=(12, 0))
        self.buttons = {}
        for i, (name, cmd) in enumerate((("Start", self.start), ("Stop", self.stop), ("Exit", self.exit))):
            self.buttons[name] = ttk.Button(card, text=name, width=6, command=cmd, takefocus=0,
                                            style="Accent.TButton" if name == "Start" else "TButton")
            self.buttons[name].grid(row=0, column=i, padx=2)
        self.mirror_var = tk.BooleanVar(value=self._mirror)
        ttk.Checkbutton(card, text="Mirror (selfie view)", variable=self.mirror_var, command=self._mirror_changed,
                        takefocus=0).grid(row=1, column=0, columnspan=3, sticky="w", pady=(10, 0))

    def _build_sentence(self, main) -> None:
        from fingerspell.apps.live_sentence import SentenceCard, speech_note

        actions = [("Space", self.add_space), ("Delete", self.delete), ("Undo", self.undo), ("Reset", self.reset),
                   ("Copy", self.copy)] + ([("Speak", self.speak)] if self.speaker is not None else [])
        card = SentenceCard(main, actions, self.pick, speech_note(self.speaker is not None, self.options.speak))
        card.frame.grid(row=1, column=0, columnspan=2, sticky="we", pady=(12, 0))
        self.sentence_view, self.sentence_var, self.suggestion_vars = card.view, card.text_var, card.suggestion_vars
        self.buttons.update(card.buttons)

    def _bind_keys(self) -> None:
        keys = [("<KeyPress-s>", self.toggle), ("<KeyPress-space>", self.add_space),
                ("<KeyPress-BackSpace>", self.delete), ("<KeyPress-r>", self.reset), ("<Control-z>", self.undo),
                ("<KeyPress-R>", lambda: self.reset(person=True)),
                ("<KeyPress-m>", self.toggle_mirror), ("<KeyPress-q>", self.exit), ("<KeyPress-Escape>", self.exit),
                ("<KeyPress-v>", self.speak), ("<KeyPress-c>", self.copy)]
        keys += [(f"<KeyPress-{i + 1}>", lambda i=i: self.pick(i + 1)) for i in range(3)]
        for seq, fn in keys:
            self.root.bind(seq, lambda _e, fn=fn: (fn(), "break")[1])

    # --- controls -------------------------------------------------------------------------------
    running = property(lambda self: self.session.running)
    frames_processed = property(lambda self: self.session.frames_processed)
    fps = property(lambda self: self.session.fps)

    def start(self) -> None:
        if self.running or self.closed:
            return
        try:
            self.session.start()
        except FingerspellError as exc:
            self.status_var.set(str(exc))
            return
        self.status_var.set(f"running: {self.session.source.name}")
        self._update_buttons()

    def stop(self) -> None:
        if not self.running:
            return
        self.session.stop()
        self.status_var.set("stopped")
        self._update_buttons()

    def toggle(self) -> None:
        self.stop() if self.running else self.start()

    def add_space(self) -> None:
        self.session.add_space()
        self._show_sentence()

    def delete(self) -> None:
        self.session.delete()
        self._show_sentence()

    def undo(self) -> None:
        self.session.undo()
        self._show_sentence()

    def pick(self, number: int) -> None:
        """Suggestion ``number`` (1-3, as its key) replaces the word being spelled."""
        self.session.pick(number)
        self._show_sentence()

    def reset(self, person: bool = False) -> None:
        """A new sentence (r, Reset); with ``person`` (Shift+R) also forget what was learned of the signer."""
        self.session.reset(person=person)
        self._show_sentence()

    def speak(self) -> None:
        self.session.speak()

    def copy(self) -> None:
        """c / Copy: the sentence as plain text on the clipboard, to paste where the person wants it."""
        text = self.session.sentence.text.strip()
        if text:
            self.root.clipboard_clear()
            self.root.clipboard_append(text)
        self.status_var.set(f"copied: {text}" if text else "nothing to copy yet: spell a word first")

    def toggle_mirror(self) -> None:
        self.mirror_var.set(not self.mirror_var.get())
        self._mirror_changed()

    def _mirror_changed(self) -> None:
        self._mirror = bool(self.mirror_var.get())

    def exit(self) -> None:
        if self.closed:
            return
        self.closed = True
        for after_id in self._after_ids.values():
            try:
                self.root.after_cancel(after_id)
            except Exception:  # tkinter.TclError once the window is gone
                pass
        self.session.close()
        lw.retire_window(self.root, self, self.panel)  # here, not in a later GC on another thread

    def _update_buttons(self) -> None:
        self.buttons["Start"].config(state="disabled" if self.running else "normal")
        self.buttons["Stop"].config(state="normal" if self.running else "disabled")

    def _schedule(self, name: str, ms: int, fn) -> None:
        if not self.closed:
            self._after_ids[name] = self.root.after(ms, fn)

    # --- session thread: draw -------------------------------------------------------------------
    def _on_session(self, kind: str, frame, result, message: str) -> None:
        if kind == "frame":
            view = lw.fit(lw.draw_view(frame, result, self._mirror), self._view_size)
            item = ("frame", view, result, self.session.frames_processed)
        else:
            item = (kind, message)
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()  # drop the oldest picture: show the newest
                except queue.Empty:
                    pass

    def _on_resize(self, event) -> None:
        self._view_size = (max(1, event.width), max(1, event.height))
        self.canvas.coords(self._hint_band, 0, event.height - 56, event.width, event.height)
        self.canvas.coords(self._hint_id, event.width // 2, event.height - 28)
        self.canvas.itemconfig(self._hint_id, width=max(100, event.width - 24))

    # --- Tk thread: show ------------------------------------------------------------------------
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
            self.show(latest[1], latest[2], latest[3])
        self._show_sentence()
        self._schedule("poll", self.options.poll_ms, self._poll)

    def _blink(self) -> None:
        self.sentence_view.blink()
        self._schedule("blink", 530, self._blink)

    def _finish(self, item: tuple) -> None:
        kind, message = item
        self.session.wait(5.0)
        self.status_var.set(("ended: " if kind == "ended" else "error: ") + message)
        self._update_buttons()

    def show(self, rgb: np.ndarray, result: FrameResult, processed: int) -> None:
        """Put one drawn frame and its result on screen (the Tk thread)."""
        from PIL import Image, ImageTk

        self._photo = ImageTk.PhotoImage(Image.fromarray(rgb))
        self.canvas.itemconfig(self._image_id, image=self._photo)
        self.last_image, self.last_result = rgb, result
        self.frames_shown += 1
        self.state = self.panel.show(result)
        self._no_hand_run = self._no_hand_run + 1 if self.state == "no_hand" else 0
        self._cut_off_run = self._cut_off_run + 1 if result.cut_off else 0
        text = lw.NO_HAND_HINT if self._no_hand_run >= NO_HAND_FRAMES else (
            lw.CUT_OFF_HINT if self._cut_off_run >= CUT_OFF_FRAMES else None)
        hint = "hidden" if text is None else "normal"
        self.canvas.itemconfig(self._hint_id, text=text or "")
        self.canvas.itemconfig(self._hint_band, state=hint)
        self.canvas.itemconfig(self._hint_id, state=hint)
        self.canvas.tag_raise(self._hint_band)
        self.canvas.tag_raise(self._hint_id)
        self.fps_var.set(f"FPS {self.fps:.1f}")
        self.frames_var.set(f"frames {processed}")

    def _show_sentence(self) -> None:
        sentence = self.session.sentence
        self.sentence_var.set(sentence.text)
        self.sentence_view.show(*lw.sentence_parts(sentence))
        words = list(getattr(sentence, "suggestions", None) or [])[:3]
        for i, var in enumerate(self.suggestion_vars):
            word = words[i][0] if i < len(words) and isinstance(words[i], (tuple, list)) else (
                words[i] if i < len(words) else "")
            var.set(f"{i + 1}  {word}" if word else "")
            self.buttons[f"suggest{i + 1}"].config(state="normal" if word else "disabled")

    # --- pictures -------------------------------------------------------------------------------
    def screenshot(self, path) -> Path:
        """Save the window as a PNG: a grab of the X screen, else the video picture alone."""
        return lw.grab_window(self.root, path, self.last_image)


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
        options = replace(options or LiveOptions(), speak=True)
    with recognizer:
        app = LiveApp(root, recognizer, lambda: open_source(source_spec, fps=fps), options, speaker=speaker,
                      source=source)
        root.mainloop()
        if not app.closed:
            app.exit()
    return 0

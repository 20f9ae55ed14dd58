"""Pieces of the live window: the ttk theme, state colours, the letter panel, the sentence line,
and the frame drawing (mirror, overlay in the state colour, scaling to the video area).

The layout rule: every widget is created once with a fixed size (character widths, fixed fonts)
and only its text or colour changes, so nothing moves when the state changes: not for a long
class name (SPACE, DEL, NOTHING are shown as symbols in the same font), not for an empty
suggestion list, not when the hand leaves.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import Optional, Tuple

import numpy as np

# State -> (Tk colour, BGR colour for the video overlay, what the panel says)
STATES = {
    "confident": ("#15803d", (61, 128, 21), "sure"),
    "uncertain": ("#b45309", (9, 83, 180), "not sure yet: hold still"),
    "no_hand": ("#6b7280", (128, 114, 107), "no hand"),
}
SYMBOLS = {"SPACE": "\u2423", "DEL": "\u232b", "NOTHING": "\u2205"}
VISIBLE_SPACE = "\u2423"
CURSOR = "\u258f"
NO_HAND_HINT = "Show your hand to the camera, palm forward, about 50 cm away"
CUT_OFF_HINT = "Your hand reaches out of the picture: move it toward the middle or sit back"
BG = "#f3f4f6"
CARD = "#ffffff"
FONT = "DejaVu Sans"
LETTER_FONT = (FONT, 72, "bold")
SENTENCE_FONT = ("DejaVu Sans Mono", 22, "bold")


def setup_theme(root) -> None:
    """A flat, light ttk theme ("clam" underneath) with large readable fonts."""
    from tkinter import ttk

    style = ttk.Style(root)
    if "clam" in style.theme_names():
        style.theme_use("clam")
    root.configure(background=BG)
    style.configure(".", background=BG, font=(FONT, 11))
    style.configure("Card.TFrame", background=CARD, relief="flat")
    style.configure("Card.TLabel", background=CARD)
    style.configure("Muted.TLabel", background=CARD, foreground="#6b7280", font=(FONT, 10))
    style.configure("Status.TLabel", background=BG, foreground="#4b5563", font=(FONT, 10))
    style.configure("Title.TLabel", background=CARD, foreground="#374151", font=(FONT, 10, "bold"))
    style.configure("TButton", padding=(10, 5), font=(FONT, 11))
    style.configure("Accent.TButton", foreground="#ffffff", background="#2563eb")
    style.map("Accent.TButton", background=[("disabled", "#9ca3af"), ("active", "#1d4ed8")])
    style.configure("TCheckbutton", background=CARD)
    for state, (colour, _, _) in STATES.items():
        style.configure(f"{state}.Horizontal.TProgressbar", background=colour, troughcolor="#e5e7eb",
                        bordercolor="#e5e7eb", lightcolor=colour, darkcolor=colour)


def frame_state(result) -> Tuple[str, Optional[object]]:
    """("confident" | "uncertain" | "no_hand", the writing hand's prediction or None)."""
    best = None if result is None else result.best
    if best is None:
        return "no_hand", None
    return ("confident" if best.accepted else "uncertain"), best


def shown_letter(label: Optional[str]) -> Tuple[str, str]:
    """(the big glyph, its caption): letters as they are, SPACE/DEL/NOTHING as symbols + name."""
    if not label:
        return "\u2013", ""
    return SYMBOLS.get(label, label), (label if label in SYMBOLS else "")


def mirror_hand(hand):
    """The same hand in a left-right flipped frame (landmarks and box)."""
    from fingerspell.hands.landmarks import landmark_box

    pts = np.array(hand.landmarks, dtype=np.float32, copy=True)
    pts[:, 0] = 1.0 - pts[:, 0]
    return replace(hand, landmarks=pts, box=landmark_box(pts, hand.image_size))


def draw_view(frame: np.ndarray, result, mirror: bool) -> np.ndarray:
    """The frame as shown: mirrored if asked, every hand's skeleton and box, the writing hand's
    label in the state colour (others grey). Text is drawn after mirroring, so it reads right."""
    import cv2

    from fingerspell.hands.render import annotate_frame

    view = cv2.flip(frame, 1) if mirror else frame.copy()  # cv2.flip: 10x faster than a numpy copy
    if result is None:
        return view
    state, best = frame_state(result)
    for pred in result.hands:
        hand = mirror_hand(pred.hand) if mirror else pred.hand
        colour = STATES[state][1] if pred is best else STATES["no_hand"][1]
        label = pred.label if pred.accepted else f"{pred.label}?"
        annotate_frame(view, [hand], [label], [pred.confidence], color=colour)
    if getattr(result, "resting", None) is not None:  # a resting hand the signing-hand rules set aside
        from fingerspell.runtime.overlay import draw_resting

        x0, y0, x1, y1 = result.resting
        w = view.shape[1]
        draw_resting(view, (w - 1 - x1, y0, w - 1 - x0, y1) if mirror else (x0, y0, x1, y1))
    return view


def fit(frame_bgr: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """RGB copy of the frame scaled to fit ``size`` (aspect kept, dark bars)."""
    import cv2

    w, h = max(1, int(size[0])), max(1, int(size[1]))
    fh, fw = frame_bgr.shape[:2]
    s = min(w / fw, h / fh)
    nw, nh = max(1, int(round(fw * s))), max(1, int(round(fh * s)))
    small = cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.full((h, w, 3), 17, dtype=np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y:y + nh, x:x + nw] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    return out


def hold_progress(result, best) -> float:
    """0..1: how far the writing hand's hold is toward writing its letter (1 once written)."""
    if best is None:
        return 0.0
    state = getattr(result, "hold_state", None)
    if state is None:  # a recognizer without hold reading: a stable vote means written
        return 1.0 if best.stable and best.stable == best.label else 0.0
    if state == "read":
        return 1.0
    return float(getattr(result, "progress", 0.0) or 0.0) if state == "holding" else 0.0


class LetterPanel:
    """The current letter (big, in the state colour), its caption, state, confidence and top-3."""

    def __init__(self, parent) -> None:
        import tkinter as tk
        from tkinter import ttk

        self.frame = ttk.Frame(parent, style="Card.TFrame", padding=14)
        ttk.Label(self.frame, text="LETTER", style="Title.TLabel").grid(row=0, column=0, columnspan=2, sticky="w")
        self.letter_var = tk.StringVar(value="\u2013")
        self.letter = tk.Label(self.frame, textvariable=self.letter_var, font=LETTER_FONT, width=3, anchor="center",
                               bg=CARD, fg=STATES["no_hand"][0])
        self.letter.grid(row=1, column=0, columnspan=2, pady=(4, 0))
        self.caption_var = tk.StringVar(value="")
        ttk.Label(self.frame, textvariable=self.caption_var, style="Muted.TLabel", width=24,
                  anchor="center").grid(row=2, column=0, columnspan=2)
        self.state_var = tk.StringVar(value=STATES["no_hand"][2])
        self.state = tk.Label(self.frame, textvariable=self.state_var, font=(FONT, 12, "bold"), width=24,
                              anchor="w", bg=CARD, fg=STATES["no_hand"][0])
        self.state.grid(row=3, column=0, columnspan=2, sticky="w", pady=(8, 2))
        self.conf_var = tk.StringVar(value="confidence -")
        ttk.Label(self.frame, textvariable=self.conf_var, style="Card.TLabel", width=24).grid(
            row=4, column=0, columnspan=2, sticky="w")
        self.bar = ttk.Progressbar(self.frame, length=220, maximum=1.0, style="no_hand.Horizontal.TProgressbar")
        self.bar.grid(row=5, column=0, columnspan=2, sticky="w", pady=(2, 8))
        ttk.Label(self.frame, text="hold to write", style="Muted.TLabel").grid(row=6, column=0, columnspan=2,
                                                                              sticky="w")
        self.hold = ttk.Progressbar(self.frame, length=220, maximum=1.0, style="no_hand.Horizontal.TProgressbar")
        self.hold.grid(row=7, column=0, columnspan=2, sticky="w", pady=(2, 8))
        ttk.Label(self.frame, text="also possible", style="Muted.TLabel").grid(row=8, column=0, columnspan=2,
                                                                              sticky="w")
        self.top_vars = [tk.StringVar(value="") for _ in range(2)]
        for i, var in enumerate(self.top_vars):
            ttk.Label(self.frame, textvariable=var, style="Card.TLabel", width=24).grid(
                row=9 + i, column=0, columnspan=2, sticky="w")
        self.adapt_var = tk.StringVar(value="")
        ttk.Label(self.frame, textvariable=self.adapt_var, style="Muted.TLabel", width=24).grid(
            row=11, column=0, columnspan=2, sticky="w", pady=(8, 0))

    def show(self, result) -> str:
        """Show a frame result; returns its state."""
        state, best = frame_state(result)
        colour, _, words = STATES[state]
        glyph, caption = shown_letter(None if best is None else best.label)
        self.letter_var.set(glyph)
        self.caption_var.set(caption)
        self.letter.config(fg=colour)
        self.state_var.set("\u25cf " + words)
        self.state.config(fg=colour)
        style = f"{state}.Horizontal.TProgressbar"
        self.bar.config(style=style, value=0.0 if best is None else float(best.confidence))
        self.hold.config(style=style, value=hold_progress(result, best))
        self.conf_var.set("confidence -" if best is None else f"confidence {best.confidence:.0%}")
        others = [] if best is None else list(best.top[1:3])
        for var, i in zip(self.top_vars, range(2)):
            var.set(f"{others[i][0]}  {others[i][1]:.0%}" if i < len(others) else "")
        self.adapt_var.set(adaptation_note(getattr(result, "adaptation", None)))
        return state


def adaptation_note(status: Optional[dict]) -> str:
    """One line on whether the model follows the person signing (runtime/adaptation.py)."""
    if status and str(status.get("off") or "").startswith("learning stopped"):
        return status["off"]  # it was on and failed: say so (turned off by the options: nothing to say)
    if not status or status.get("off"):
        return ""
    if status.get("kind") == "words":  # runtime/word_learning.py
        if status["active"]:
            return f"learned from your words ({status['words']} words, {status['letters']} letters)"
        return "learning from your words: none yet"
    if status["active"]:
        return f"adapted to you ({status['letters']} letters)"
    return f"adapting to you: {status['letters']}/{status['needed']} letters"


class SentenceView:
    """The sentence in a fixed two-line box: spaces as a visible mark, the word being spelled
    underlined, a blinking cursor at the end; a long sentence shows its tail."""

    def __init__(self, parent, width: int = 40) -> None:
        import tkinter as tk

        self.width = width
        self.text = tk.Text(parent, height=2, width=width, font=SENTENCE_FONT, wrap="char", relief="flat",
                            bg=CARD, fg="#111827", padx=10, pady=8, highlightthickness=1,
                            highlightbackground="#d1d5db", cursor="arrow", takefocus=0)
        self.text.tag_configure("space", foreground="#9ca3af")
        self.text.tag_configure("current", underline=True, foreground="#1d4ed8")
        self.text.tag_configure("cursor", foreground="#2563eb")
        self.text.configure(state="disabled")
        self._shown: Optional[Tuple[str, str]] = None
        self._blink = True

    def show(self, done: str, current: str = "") -> None:
        """``done``: the finished words (with their spaces); ``current``: the word being spelled."""
        if self._shown == (done, current):
            return
        self._shown = (done, current)
        limit = self.width * 2 - 2
        if len(done) + len(current) > limit:
            done = done[-max(0, limit - len(current)):]
        t = self.text
        t.configure(state="normal")
        t.delete("1.0", "end")
        for ch in done:
            t.insert("end", VISIBLE_SPACE if ch == " " else ch, ("space",) if ch == " " else ())
        t.insert("end", current[-limit:], ("current",))
        t.insert("end", CURSOR, ("cursor",))
        t.configure(state="disabled")

    def blink(self) -> None:
        self._blink = not self._blink
        self.text.tag_configure("cursor", foreground="#2563eb" if self._blink else CARD)

    def content(self) -> str:
        return self.text.get("1.0", "end-1c")


def widget_boxes(root) -> dict:
    """Every widget's (x, y, width, height) inside the window, by widget path (for layout tests)."""
    root.update_idletasks()
    out = {}
    stack = [root]
    while stack:
        w = stack.pop()
        out[str(w)] = (w.winfo_rootx() - root.winfo_rootx(), w.winfo_rooty() - root.winfo_rooty(),
                       w.winfo_width(), w.winfo_height())
        stack.extend(w.winfo_children())
    return out


def grab_window(root, path, fallback: Optional[np.ndarray] = None):
    """Save the window as a PNG: a grab of the X screen, else ``fallback`` (the video picture)."""
    import os
    from pathlib import Path

    from PIL import Image

    from fingerspell.errors import FingerspellError

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    root.update()
    x, y = root.winfo_rootx(), root.winfo_rooty()
    w, h = root.winfo_width(), root.winfo_height()
    try:
        from PIL import ImageGrab

        img = ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=os.environ.get("DISPLAY"))
    except Exception:  # no XCB support, or no X server (Windows/macOS grab the screen instead)
        if fallback is None:
            raise FingerspellError("nothing to save yet: no frame has been shown") from None
        img = Image.fromarray(fallback)
    img.save(out)
    return out


def sentence_parts(sentence) -> Tuple[str, str]:
    """(finished words with their spaces, the word being spelled) of a sentence: a word-reading
    Sentence (``words`` and ``current``) or a plain one (only ``text``)."""
    words, current = getattr(sentence, "words", None), getattr(sentence, "current", None)
    if isinstance(current, str) and words is not None:
        done = " ".join(getattr(w, "word", str(w)) for w in words)
        return (done + " " if done else ""), current
    return sentence.text, ""


_RETIRED_INTERPRETERS: list = []  # closed windows' Tcl interpreters, freed when Python exits


def release_variables(*owners) -> int:
    """Unset the Tk variables and delete the Tk images held by ``owners`` (attributes, or lists of
    them) now, on this thread. Returns how many were released.

    A ``tkinter.Variable`` unsets itself in Tcl when Python frees it, an image deletes itself; when
    that happens in a garbage collection run on another thread (a detector's worker, say) Tcl refuses
    ("main thread is not in main loop") and Python prints the error. Call this on the Tk thread when a
    window closes: each one is released here and its later ``__del__`` does nothing."""
    import tkinter as tk

    n = 0
    for owner in owners:
        for value in list(vars(owner).values()):
            for var in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(var, tk.Variable) and getattr(var, "_tk", None) is not None:
                    try:
                        var.__del__()
                    except (RuntimeError, tk.TclError):  # the interpreter is already gone
                        pass
                    var._tk = None
                    n += 1
                elif _release_image(var):
                    n += 1
    return n


def _release_image(image) -> bool:
    import tkinter as tk

    inner = getattr(image, "_PhotoImage__photo", None)  # PIL's ImageTk.PhotoImage wraps a tk one
    if isinstance(inner, tk.Image):
        image = inner
    if not isinstance(image, tk.Image) or not image.name:
        return False
    try:
        image.tk.call("image", "delete", image.name)
    except (RuntimeError, tk.TclError):
        pass
    image.name = None  # its __del__ (and PIL's) now does nothing
    return True


def retire_window(root, *owners) -> int:
    """Close ``root`` for good from the Tk thread: destroy it, release ``owners``' Tk variables and
    images (``release_variables``), and keep its Tcl interpreter until Python exits.

    Widgets keep the interpreter alive and sit in reference cycles, so without the last step the
    interpreter is freed by whichever thread runs the garbage collection that finds them; on any
    thread but the one that made it, Tcl aborts the whole process ("Tcl_AsyncDelete: async handler
    deleted by the wrong thread"). Returns how many variables and images were released."""
    try:
        root.destroy()
    except Exception:  # tkinter.TclError: already destroyed
        pass
    _RETIRED_INTERPRETERS.append(root.tk)
    return release_variables(*owners)


def check_display() -> None:
    """A clear error instead of Tk's when there is no screen to open a window on."""
    from fingerspell.errors import FingerspellError

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise FingerspellError(
            "no display: DISPLAY is not set, so the live window cannot open; run it on a desktop, under a "
            "virtual X server (Xvfb, e.g. xvfb-run fingerspell live ...), or use 'fingerspell run --source X "
            "--out annotated.mp4' to work without a screen")

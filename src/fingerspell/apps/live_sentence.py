"""The live window's sentence card, under the video: the sentence with visible spaces and a
cursor, three word suggestions (keys 1-3), the edit buttons and a line listing the keys."""

from __future__ import annotations

from typing import Callable, Dict, Sequence, Tuple

from fingerspell.apps import live_widgets as lw

KEYS = ("keys: s start/stop \u00b7 space \u00b7 BackSpace delete \u00b7 1-3 words \u00b7 Ctrl+z undo "
        "\u00b7 c copy \u00b7 m mirror \u00b7 r reset \u00b7 R new signer \u00b7 q exit")


def speech_note(speaker_found: bool, asked: bool) -> str:
    """What the keys line says of speech: on, asked for but not found, or off."""
    if speaker_found:
        return " \u00b7 v speak \u00b7 speech on"
    return " \u00b7 speech unavailable: install espeak-ng" if asked else " \u00b7 speech off (--speak)"


class SentenceCard:
    """Builds the card in ``parent``; ``actions`` are the edit buttons (name, command) in order,
    ``pick(i)`` takes suggestion ``i`` (1-based). The window reads :attr:`view`, :attr:`text_var`
    (the sentence as text), :attr:`suggestion_vars` and :attr:`buttons`."""

    def __init__(self, parent, actions: Sequence[Tuple[str, Callable[[], None]]], pick: Callable[[int], None],
                 speech: str) -> None:
        import tkinter as tk
        from tkinter import ttk

        self.frame = card = ttk.Frame(parent, style="Card.TFrame", padding=12)
        card.columnconfigure(0, weight=1)
        ttk.Label(card, text="SENTENCE", style="Title.TLabel").grid(row=0, column=0, sticky="w")
        self.view = lw.SentenceView(card)
        self.view.text.grid(row=1, column=0, columnspan=2, sticky="we", pady=(4, 8))
        self.text_var = tk.StringVar(value="")
        self.buttons: Dict[str, object] = {}
        row = ttk.Frame(card, style="Card.TFrame")
        row.grid(row=2, column=0, sticky="w")
        ttk.Label(row, text="words:", style="Muted.TLabel").grid(row=0, column=0, padx=(0, 6))
        self.suggestion_vars = [tk.StringVar(value="") for _ in range(3)]
        for i, var in enumerate(self.suggestion_vars):
            self.buttons[f"suggest{i + 1}"] = ttk.Button(row, textvariable=var, width=14, takefocus=0,
                                                         command=lambda i=i: pick(i + 1), state="disabled")
            self.buttons[f"suggest{i + 1}"].grid(row=0, column=i + 1, padx=2)
        edit = ttk.Frame(card, style="Card.TFrame")
        edit.grid(row=2, column=1, sticky="e")
        for i, (name, cmd) in enumerate(actions):
            self.buttons[name] = ttk.Button(edit, text=name, width=7, command=cmd, takefocus=0)
            self.buttons[name].grid(row=0, column=i, padx=2)
        ttk.Label(card, text=KEYS + speech, style="Muted.TLabel").grid(row=3, column=0, columnspan=2, sticky="w",
                                                                      pady=(6, 0))

"""The live Tk window under a virtual X server (Xvfb), driven by the real-photo word video."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
from _tiny_model import WORD, tiny_mlp, word_video

from fingerspell.cli import main


def _pump(root, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        root.update()
        time.sleep(0.01)


def test_live_window_runs_on_the_word_video(xvfb, data, monkeypatch, artifacts, to_docs):
    import tkinter as tk

    from fingerspell.apps.live import LiveApp, LiveOptions
    from fingerspell.runtime.recognizer import Recognizer
    from fingerspell.runtime.sources import open_source

    monkeypatch.setenv("DISPLAY", xvfb)
    video = word_video(data)
    recognizer = Recognizer.from_model(str(tiny_mlp(data)))
    root = tk.Tk()
    app = LiveApp(root, recognizer, lambda: open_source(str(video)), LiveOptions(pace=True))
    try:
        assert app.running and str(app.buttons["Start"]["state"]) == "disabled"
        _pump(root, 5, until=lambda: app.frames_shown >= 5)
        first, counter = app.frames_shown, int(app.frames_var.get().split()[1])
        _pump(root, 1.0)
        assert app.frames_shown > first >= 5  # frames flow
        assert int(app.frames_var.get().split()[1]) > counter >= 5
        _pump(root, 40, until=lambda: app.sentence_var.get() == WORD)
        assert app.sentence_var.get() == WORD
        app.stop()  # the K is still held: the picture shows the hand, its letter and the sentence
        _pump(root, 0.3)
        assert not app.running and str(app.buttons["Start"]["state"]) == "normal"
        assert app.letter_var.get() == "K" and app.conf_var.get().startswith("confidence")
        shot = app.screenshot(artifacts / "live.png")
        from PIL import Image

        with Image.open(shot) as im:
            assert im.size[0] >= 640 and im.size[1] >= 480
            assert len(np.unique(np.asarray(im.convert("L").resize((64, 48))))) > 20  # a picture, not blank
        to_docs(shot)

        frozen = app.frames_processed
        _pump(root, 0.5)
        assert app.frames_processed == frozen  # stopped means stopped

        root.focus_force()
        _pump(root, 0.2)
        root.event_generate("<KeyPress-c>")  # the sentence on the clipboard, to paste elsewhere
        _pump(root, 0.1)
        assert root.clipboard_get() == WORD and app.status_var.get() == f"copied: {WORD}"
        root.event_generate("<KeyPress-space>")
        _pump(root, 0.1)
        from fingerspell.apps.live_widgets import CURSOR, VISIBLE_SPACE

        assert app.sentence_view.content() == WORD + VISIBLE_SPACE + CURSOR  # the space shows, then the cursor
        root.event_generate("<KeyPress-BackSpace>")
        app.buttons["Delete"].invoke()
        _pump(root, 0.1)
        shorter = app.sentence_var.get().strip()
        assert WORD.startswith(shorter) and len(shorter) < len(WORD)
        app.buttons["Space"].invoke()
        _pump(root, 0.1)
        assert app.sentence_view.content().endswith(VISIBLE_SPACE + CURSOR)

        root.event_generate("<KeyPress-s>")  # start again: the video goes on to its end
        _pump(root, 0.2)
        assert app.running
        _pump(root, 20, until=lambda: app.status_var.get().startswith("ended"))
        assert app.status_var.get().startswith("ended") and not app.running
        assert app.frames_processed > frozen
        app.buttons["Reset"].invoke()
        assert app.sentence_var.get() == ""
        app.buttons["Copy"].invoke()
        assert app.status_var.get() == "nothing to copy yet: spell a word first"
        # r (and Reset) start a new sentence and keep what was learned of the signer; Shift+R forgets it
        calls, reset = [], app.session.reset
        monkeypatch.setattr(app.session, "reset", lambda person=True: (calls.append(person), reset(person=person)))
        root.focus_force()
        _pump(root, 0.2)
        root.event_generate("<KeyPress-r>")
        root.event_generate("<KeyPress-R>")
        app.buttons["Reset"].invoke()
        _pump(root, 0.1)
        assert calls == [False, True, False]
    finally:
        app.exit()
    assert app.closed


def test_live_without_display_names_xvfb_and_run(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    assert main(["live", "--source", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "DISPLAY" in err and "Xvfb" in err and "fingerspell run" in err


def test_live_command_opens_the_window(xvfb, data):
    """`fingerspell live` as a user starts it: it stays up on the video until it is closed."""
    env = dict(os.environ, DISPLAY=xvfb)
    proc = subprocess.Popen([sys.executable, "-m", "fingerspell", "live", "--source", str(word_video(data)),
                             "--model", str(tiny_mlp(data)), "--speak"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(8)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
    assert err.startswith("fingerspell live: opening ") and "loading the model" in err.splitlines()[0]


def test_speech_uses_espeak_or_says_why_not(tmp_path, monkeypatch, capsys):
    from fingerspell.runtime.speech import CommandSpeaker, find_speaker

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setitem(sys.modules, "pyttsx3", None)  # import fails, as where it is not installed
    assert find_speaker() is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "espeak-ng" in err and "pyttsx3" in err

    said = tmp_path / "said.txt"
    fake = bin_dir / "espeak-ng"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {said}\n")
    fake.chmod(0o755)
    speaker = find_speaker()
    assert isinstance(speaker, CommandSpeaker) and speaker.name.endswith("espeak-ng")
    speaker.speak("BOOK")
    speaker.wait()
    assert said.read_text().strip() == "BOOK"


def test_window_says_whether_speech_is_available(xvfb, data, monkeypatch):
    import tkinter as tk

    from fingerspell.apps.live import LiveApp, LiveOptions
    from fingerspell.runtime.recognizer import Recognizer
    from fingerspell.runtime.sources import open_source

    def texts(widget):
        out = []
        for child in widget.winfo_children():
            try:
                out.append(str(child.cget("text")))
            except tk.TclError:
                pass
            out += texts(child)
        return out

    class Speaker:
        def speak(self, text):
            pass

        def close(self):
            pass

    monkeypatch.setenv("DISPLAY", xvfb)
    shown = {}
    with Recognizer.from_model(str(tiny_mlp(data))) as recognizer:
        for case, speaker, speak in (("on", Speaker(), True), ("missing", None, True), ("off", None, False)):
            root = tk.Tk()
            app = LiveApp(root, recognizer, lambda: open_source(str(word_video(data))),
                          LiveOptions(autostart=False, speak=speak), speaker=speaker)
            root.update()
            shown[case] = texts(root)
            app.exit()
    joined = {case: " ".join(t) for case, t in shown.items()}
    assert "speech on" in joined["on"] and "Speak" in shown["on"]  # the Speak button
    assert "speech unavailable" in joined["missing"] and "espeak-ng" in joined["missing"]
    assert "speech off" in joined["off"] and "Speak" not in shown["off"]

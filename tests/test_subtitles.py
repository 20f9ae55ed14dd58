"""Subtitles of a read video (``run --subtitles``, ``Transcript.subtitles``): each word at the time
it was spelled, on a real video of a signer the model never saw, and the cue rules on their own."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
from _tiny_model import FPS, SIZE, WORD, tiny_mlp, word_frames, write_video

from fingerspell.cli import main
from fingerspell.runtime.subtitles import LINGER_S, cues, subtitles

STAMP = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)")


def _parse(text: str):
    """(start, end, text) of each cue of an .srt or .vtt file."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = STAMP.fullmatch(line.strip())
        if m:
            g = [int(x) for x in m.groups()]
            out.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000,
                        lines[i + 1]))
    return out


def test_run_writes_each_word_as_a_cue_at_the_time_it_was_spelled(data, tmp_path, capsys):
    frames = [f for f, _ in word_frames(data)]
    blank = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    video = write_video(frames + [blank] * int(1.5 * FPS) + frames, tmp_path / "two_words.avi")  # BOOK, away, BOOK
    srt, transcript = tmp_path / "words.srt", tmp_path / "t.json"
    args = ["run", "--source", str(video), "--model", str(tiny_mlp(data)), "--transcript", str(transcript),
            "--subtitles", str(srt), "--no-progress"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"{WORD} {WORD}"
    words = json.loads(transcript.read_text())["words"]
    got = _parse(srt.read_text())
    assert srt.read_text().startswith("1\n") and [c[2] for c in got] == [WORD, WORD]
    for (start, end, _), w in zip(got, words):
        assert start == pytest.approx(w["start"], abs=0.001)
        assert w["end"] < end <= w["end"] + LINGER_S + 0.001
    assert got[0][1] <= got[1][0]  # the first word is gone before the second shows

    transcript.unlink()
    assert main(args) == 2  # never over a user's file without --overwrite
    assert f"{srt} exists" in capsys.readouterr().err
    vtt = subtitles([SimpleNamespace(**w) for w in words], "vtt")  # what --subtitles F.vtt writes
    assert vtt.startswith("WEBVTT\n\n") and _parse(vtt) == got
    assert main(["run", "--source", str(video), "--subtitles", str(tmp_path / "words.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fingerspell run: error: subtitles {tmp_path / 'words.txt'}: name the file .srt (SubRip) "
                   "or .vtt (WebVTT)"]


def test_a_cue_lingers_after_its_word_but_never_over_the_next():
    def w(start, end, word):
        return SimpleNamespace(start=start, end=end, word=word)

    got = cues([w(5.0, 5.2, "B"), w(0.0, 2.0, "HELLO"), w(2.5, 4.0, "TO"), w(9.0, 9.1, "")])
    # HELLO cut at TO's start, TO at B's, B lingers LINGER_S after its end; an empty word has no cue
    assert got == [(0.0, 2.5, "HELLO"), (2.5, 5.0, "TO"), (5.0, pytest.approx(5.2 + LINGER_S), "B")]
    text = subtitles([w(3661.5, 3662.0, "HI")], "srt")
    assert text == "1\n01:01:01,500 --> 01:01:03,500\nHI\n"  # hours, minutes, seconds, milliseconds
    assert subtitles([], "vtt") == "WEBVTT\n\n"

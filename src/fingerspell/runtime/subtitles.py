"""Subtitles of a read video: each finished word as a cue, in SubRip (.srt) or WebVTT (.vtt).

``fingerspell run --subtitles FILE.srt`` writes them beside (or instead of) the annotated video, and
:meth:`fingerspell.api.Transcript.subtitles` gives them in Python: a video player or editor shows
the spelled words under the signer, at the time they were spelled.

A cue shows the word as the sentence shows it (decoded, unless the correction was undone), from
the start of its first letter's hold to :data:`LINGER_S` after its last, so that a viewer has time
to read it, and never into the next word's cue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Tuple, Union

from fingerspell.errors import FingerspellError

FORMATS = {".srt": "srt", ".vtt": "vtt"}
LINGER_S = 1.5  # a word stays on screen this long after its last letter


def subtitle_format(path: Union[str, Path]) -> str:
    """``"srt"`` or ``"vtt"`` from the file name, or a one-line error naming the choices."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise FingerspellError(f"subtitles {path}: name the file .srt (SubRip) or .vtt (WebVTT)")
    return fmt


def cues(words: Iterable) -> List[Tuple[float, float, str]]:
    """(start, end, text) of each finished word (objects with ``start``, ``end`` and ``word``)."""
    spans = sorted((float(w.start), float(w.end), str(w.word)) for w in words if str(w.word))
    out = []
    for i, (start, end, text) in enumerate(spans):
        stop = max(end, start) + LINGER_S
        if i + 1 < len(spans):
            stop = min(stop, spans[i + 1][0])
        out.append((start, max(stop, start + 0.001), text))
    return out


def _stamp(t: float, sep: str) -> str:
    ms = int(round(max(t, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def subtitles(words: Iterable, fmt: str = "srt") -> str:
    """The words as a SubRip (``fmt="srt"``) or WebVTT (``"vtt"``) file's text."""
    if fmt not in FORMATS.values():
        raise FingerspellError(f"subtitle format {fmt!r}: choose 'srt' or 'vtt'")
    sep = "," if fmt == "srt" else "."
    blocks = []
    for i, (start, end, text) in enumerate(cues(words), 1):
        timing = f"{_stamp(start, sep)} --> {_stamp(end, sep)}"
        blocks.append(f"{i}\n{timing}\n{text}\n" if fmt == "srt" else f"{timing}\n{text}\n")
    head = "WEBVTT\n\n" if fmt == "vtt" else ""
    return head + "\n".join(blocks)


__all__ = ["FORMATS", "LINGER_S", "cues", "subtitle_format", "subtitles"]

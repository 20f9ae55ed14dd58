"""Read a whole recorded video sent by the page ("Read a video"): the sentence, each word with its
time, and the words as subtitles.

The page POSTs the file's bytes to ``/api/read?name=FILE``; the server streams them into a private
temporary folder (the reader needs a file: OpenCV, or ffmpeg for AV1), :func:`read_video` reads
every frame with a recognizer built as ``run`` builds one, and the server removes the folder before
it answers, so the video is never kept. The server reads one video at a time (a lock in
``server.py``); errors name the file as the person gave it, not the temporary path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from fingerspell.errors import FingerspellError
from fingerspell.media import VIDEO_SUFFIXES


def video_suffix(name: str) -> str:
    """The suffix of a file the page sends, or a one-line error when it names no video."""
    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise FingerspellError(f"{name} is not a video file: choose one of {', '.join(VIDEO_SUFFIXES)}")
    return suffix


def read_video(make_recognizer: Callable[[], object], path: Path, name: str) -> dict:
    """The reading of the uploaded video at ``path`` (``name``: the file name the person gave)."""
    from fingerspell.apps.headless import nothing_read
    from fingerspell.runtime.sources import open_source
    from fingerspell.runtime.subtitles import subtitles

    if path.stat().st_size == 0:
        raise FingerspellError(f"{name} is empty: choose the video again")
    try:
        with open_source(str(path)) as source, make_recognizer() as recognizer:
            frames = hand_frames = 0
            for frame, t in source:
                hand_frames += bool(recognizer.process(frame, t).hands)
                frames += 1
            recognizer.finish()
            words = recognizer.sentence.words
            text = recognizer.sentence.text
            note = "; ".join(filter(None, (source.message, nothing_read(name, frames, hand_frames, text))))
    except FingerspellError as exc:
        raise FingerspellError(str(exc).replace(str(path), name)) from None
    return {"name": name, "text": text, "frames": frames, "note": note.replace(str(path), name),
            "words": [{"word": w.word, "spelled": w.spelled, "start": round(w.start, 3), "end": round(w.end, 3)}
                      for w in words],
            "srt": subtitles(words, "srt"), "vtt": subtitles(words, "vtt")}

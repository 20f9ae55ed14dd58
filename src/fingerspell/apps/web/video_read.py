"""Read a whole recorded video sent by the page ("Read a video"): the sentence, each word with its
time, and the words as subtitles.

The page POSTs the file's bytes to ``/api/read?name=FILE``; the server writes them to a private
temporary folder (the reader needs a file: OpenCV, or ffmpeg for AV1), reads every frame with a
recognizer built as ``run`` builds one, and removes the folder before it answers, so the video is
never kept. The server reads one video at a time (a lock in ``server.py``); errors name the file
as the person gave it, not the temporary path.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from fingerspell.errors import FingerspellError
from fingerspell.media import VIDEO_SUFFIXES


def read_video(make_recognizer: Callable[[], object], data: bytes, name: str) -> dict:
    """The reading of a video file's bytes (``name``: the file name the person gave)."""
    from fingerspell.runtime.sources import open_source
    from fingerspell.runtime.subtitles import subtitles

    name = Path(name or "video").name
    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise FingerspellError(f"{name} is not a video file: choose one of {', '.join(VIDEO_SUFFIXES)}")
    if not data:
        raise FingerspellError(f"{name} is empty: choose the video again")
    with tempfile.TemporaryDirectory(prefix="fingerspell-read-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            with open_source(str(path)) as source, make_recognizer() as recognizer:
                frames = 0
                for frame, t in source:
                    recognizer.process(frame, t)
                    frames += 1
                recognizer.finish()
                words = recognizer.sentence.words
                text, note = recognizer.sentence.text, source.message
        except FingerspellError as exc:
            raise FingerspellError(str(exc).replace(str(path), name)) from None
    return {"name": name, "text": text, "frames": frames, "note": note.replace(str(path), name),
            "words": [{"word": w.word, "spelled": w.spelled, "start": round(w.start, 3), "end": round(w.end, 3)}
                      for w in words],
            "srt": subtitles(words, "srt"), "vtt": subtitles(words, "vtt")}

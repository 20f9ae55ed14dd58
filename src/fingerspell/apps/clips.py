"""``fingerspell collect --motion``: short clips of a motion letter (J, Z) or any sign, for users who
want to add their own motion data. Each clip is a video ``DIR/<LABEL>/NNNN.mp4`` and its hand track
``NNNN.json`` (time and 21 landmarks per frame, null when no hand was found), published whole.

A clip starts on the first frame that shows a hand and lasts ``seconds``; between clips the
source is read on (``interval_s``) so the person can get ready again. Numbers continue after the
clips already there: nothing is ever overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from fingerspell.errors import FingerspellError
from fingerspell.fileio import PathLike, atomic_write_json
from fingerspell.labels import canonical_class


@dataclass
class ClipReport:
    folder: str
    saved: List[str]
    frames_seen: int
    ended_early: bool = False


def _next_clip(folder: Path) -> int:
    numbers = [int(p.stem) for p in folder.glob("[0-9]*.*") if p.stem.isdigit()]
    return max(numbers, default=-1) + 1


def _record(source, detector, seconds: float) -> Optional[tuple]:
    """(frames, track) of one clip, or None when the source ended before a hand showed."""
    frames, track, t0 = [], [], None
    for frame, t in source:
        hands = detector.detect(frame, timestamp_ms=int(round(t * 1000)))
        if t0 is None:
            if not hands:
                continue
            t0 = t
        frames.append(frame)
        track.append({"t": round(t - t0, 4),
                      "landmarks": hands[0].landmarks.round(5).tolist() if hands else None,
                      "handedness": hands[0].handedness if hands else None})
        if t - t0 >= seconds:
            return frames, track
    return (frames, track) if frames else None


def collect_clips(source, detector, label: str, count: int, out_dir: PathLike, seconds: float = 1.5,
                  interval_s: float = 1.0) -> ClipReport:
    """Record ``count`` clips of ``label`` from ``source``; see the module docstring."""
    from fingerspell.apps.headless import AtomicVideoWriter

    canon = canonical_class(label)
    if canon is None:
        raise FingerspellError(f"unknown label {label!r}: use a letter A-Z, SPACE, DEL or NOTHING")
    if count < 1 or seconds <= 0:
        raise FingerspellError("--count must be at least 1 and --seconds above 0")
    folder = Path(out_dir) / canon  # made with the first clip: a run that records none leaves no folder
    saved: List[str] = []
    seen = 0
    while len(saved) < count:
        clip = _record(source, detector, seconds)
        if clip is None:
            break
        frames, track = clip
        seen += len(frames)
        folder.mkdir(parents=True, exist_ok=True)
        number = _next_clip(folder)
        h, w = frames[0].shape[:2]
        writer = AtomicVideoWriter(folder / f"{number:04d}.mp4", source.fps or 30.0, (w, h))
        for f in frames:
            writer.write(f)
        video = writer.commit()
        atomic_write_json(folder / f"{number:04d}.json", {"label": canon, "fps": source.fps, "frames": track})
        saved.append(str(video))
        _skip(source, interval_s)
    return ClipReport(str(folder), saved, seen, source.ended_early)


def _skip(source, seconds: float) -> None:
    """Read on for ``seconds`` of the source's time (a pause between two clips)."""
    start = None
    for _frame, t in source:
        start = t if start is None else start
        if t - start >= seconds:
            return

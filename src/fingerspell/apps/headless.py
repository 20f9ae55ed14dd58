"""The jobs that need no screen: ``run`` (annotated video + transcript), ``collect`` and ``bench``.

Outputs are written to a temp file beside the target and moved into place at the end, so an
interrupted job never leaves a half-written file under the user's name; existing files are
only replaced with ``overwrite``. A source that fails mid-stream (or Ctrl-C) ends the job
cleanly and what was recognised so far is still written.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_write_bytes, json_bytes, write_failed, write_together
from fingerspell.labels import NOTHING, canonical_class
from fingerspell.runtime.recognizer import STAGES, Recognizer
from fingerspell.runtime.sources import FrameSource

PathLike = Union[str, Path]
VIDEO_FOURCC = "mp4v"


def check_outputs(paths: Sequence[Optional[PathLike]], overwrite: bool = False,
                  inputs: Sequence[Optional[PathLike]] = ()) -> None:
    """Refuse to start a job whose outputs exist (unless ``overwrite``), collide or are its inputs."""
    if any(p is not None and str(p).strip() == "" for p in paths):
        raise FingerspellError("an output name is empty: give a file name, or leave the option out")
    given = [Path(p) for p in paths if p]
    if len({p.resolve() for p in given}) < len(given):
        raise FingerspellError("the output files must differ: give --out, --transcript and --subtitles different names")
    sources = [Path(str(i)) for i in inputs if i is not None and Path(str(i)).exists()]
    for p in given:
        if any(p.resolve() == s.resolve() or (p.exists() and os.path.samefile(p, s)) for s in sources):
            raise FingerspellError(f"{p} is the input: the output would replace it; choose another name")
        if p.exists() and not overwrite:
            raise FingerspellError(f"{p} exists: pass --overwrite to replace it, or choose another name")
        if p.exists() and p.is_dir():
            raise FingerspellError(f"{p} is a folder: give a file name")


class AtomicVideoWriter:
    """A video (H.264, else mp4v: see runtime/video_out.py) written under a temp name, renamed on :meth:`commit`."""

    def __init__(self, path: PathLike, fps: float, size: tuple) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        suffix = self.path.suffix or ".mp4"
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=f".part{suffix}")
        os.close(fd)
        self.tmp = Path(tmp)
        self.size = (int(size[0]), int(size[1]))
        from fingerspell.runtime.video_out import open_video_writer

        self._writer = open_video_writer(self.tmp, fps, self.size)  # H.264 where ffmpeg is bundled, else mp4v
        self.codec = self._writer.codec
        if not self._writer.isOpened():
            self.abort()
            raise FingerspellError(f"cannot write video {self.path}: OpenCV has no {VIDEO_FOURCC} encoder for "
                                   f"'{suffix}'; use an .mp4 or .avi name")
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        import cv2

        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(frame)
        self.frames += 1

    def commit(self, together: Optional[Dict[PathLike, bytes]] = None) -> Path:
        """Close the video, check that every frame reached the file, then rename it into place.

        OpenCV reports no write errors, so a full disk would leave a truncated file with no index
        ("moov atom not found"); the encoder's own failure is checked and the temp file is read
        back; if either falls short, the temp file is removed and nothing is published.
        ``together``: more files (``{path: bytes}``, the transcript) that appear with the video or not at all.
        """
        writer, self._writer = self._writer, None
        writer.release()
        if getattr(writer, "failed", None) or self._readable_frames() < self.frames:
            self.abort()
            raise write_failed(self.path, "video")
        try:
            write_together(dict(together or {}), staged={self.path: self.tmp})
        except BaseException:
            self.abort()
            raise
        return self.path

    def _readable_frames(self) -> int:
        import cv2

        sys.stderr.flush()
        saved = os.dup(2)  # a truncated file is our one line, not FFmpeg's "moov atom not found"
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            cap = cv2.VideoCapture(str(self.tmp))
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
            cap.release()
            return n
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)

    def abort(self) -> None:
        w = getattr(self, "_writer", None)
        if w is not None:
            w.release()
        if self.tmp.exists():
            self.tmp.unlink()


@dataclass
class RunReport:
    """What a headless run did."""

    frames: int
    sentence: str
    ended_early: bool = False
    interrupted: bool = False
    message: str = ""
    outputs: Dict[str, str] = field(default_factory=dict)
    hand_frames: int = 0  # frames in which a hand was found


def nothing_read(source: str, frames: int, hand_frames: int, sentence: str) -> str:
    """Why a reading of ``source`` wrote no letter, in one line (empty when it wrote one)."""
    if sentence or not frames:
        return ""
    if not hand_frames:
        return (f"no letter read: no hand found in any of the {frames} frames of {source} "
                "(is the whole hand in the picture, lit from the front?)")
    return (f"no letter read: a hand was found in {hand_frames} of the {frames} frames of {source}, "
            "but never held still as one letter (hold each letter about half a second)")


def _progress(total: Optional[int], enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="frame", dynamic_ncols=True, leave=False)


def run_headless(
    recognizer: Recognizer,
    source: FrameSource,
    out_video: Optional[PathLike] = None,
    transcript: Optional[PathLike] = None,
    overwrite: bool = False,
    progress: bool = True,
    max_frames: Optional[int] = None,
    meta: Optional[dict] = None,
) -> RunReport:
    """Recognise every frame of ``source``; write the annotated video and the JSON transcript."""
    check_outputs([out_video, transcript], overwrite)
    writer: Optional[AtomicVideoWriter] = None
    frames: List[dict] = []
    interrupted = False
    total = source.frame_count if max_frames is None else min(max_frames, source.frame_count or max_frames)
    bar = _progress(total, progress, "run")
    try:
        for frame, t in source:
            result = recognizer.process(frame, t)
            if out_video:
                if writer is None:
                    writer = AtomicVideoWriter(out_video, source.fps, (frame.shape[1], frame.shape[0]))
                writer.write(recognizer.annotate(frame, result))
            frames.append(result.to_dict())
            bar.update(1)
            if result.event is not None:
                bar.set_postfix_str(repr(result.sentence))
            if max_frames is not None and len(frames) >= max_frames:
                break
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()
    recognizer.finish()  # the input ended: the word being spelled is finished
    report = RunReport(frames=len(frames), sentence=recognizer.sentence.text, ended_early=source.ended_early,
                       interrupted=interrupted, message=source.message,
                       hand_frames=sum(bool(f["hands"]) for f in frames))
    if not frames and (out_video or transcript):  # no empty transcript over a user's file
        bad = list(getattr(source, "skipped", []))
        raise FingerspellError(f"{source.name} gave no frames{': unreadable ' + ', '.join(bad) if bad else ''}: "
                               "nothing was written; give a readable video, image or folder")
    doc = json_bytes(transcript_doc(recognizer, source, report, frames, writer, meta)) if transcript else b""
    if out_video:
        if writer is None:
            raise FingerspellError(f"{source.name} gave no frames: nothing to write to {out_video}")
        report.outputs["video"] = str(writer.commit(together={transcript: doc} if transcript else None))
    elif transcript:
        atomic_write_bytes(transcript, doc)
    if transcript:  # the video and its transcript appear together or not at all
        report.outputs["transcript"] = str(transcript)
    return report


def transcript_doc(recognizer: Recognizer, source: FrameSource, report: RunReport, frames: List[dict],
                   writer: Optional[AtomicVideoWriter], meta: Optional[dict]) -> dict:
    """The JSON transcript of a run: the model, the options, the sentence, its holds and words, and
    every frame's reading."""
    from fingerspell import __version__

    sentence = recognizer.sentence.to_dict()
    return {
        "fingerspell_version": __version__,
        "source": source.describe(),
        "model": {k: recognizer.card.get(k) for k in ("architecture", "input_kind", "input_size", "classes")},
        "backend": getattr(recognizer.classifier, "backend", "?"),
        "video_codec": writer.codec if writer is not None else None,
        "options": asdict(recognizer.options),
        **(meta or {}),
        "sentence": report.sentence,
        "holds": sentence["holds"],
        "words": sentence["words"],
        "events": sentence["events"],
        "frames_processed": report.frames,
        "ended_early": report.ended_early,
        "interrupted": report.interrupted,
        "frames": frames,
    }


# --- collect ----------------------------------------------------------------------------------

@dataclass
class CollectReport:
    folder: str
    saved: List[str]
    frames_seen: int
    ended_early: bool = False


_NUMBERED = re.compile(r"^(\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)


def next_number(folder: Path) -> int:
    """One more than the highest numbered image in ``folder`` (0 for an empty folder)."""
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := _NUMBERED.match(p.name))] if folder.is_dir() else []
    return max(numbers) + 1 if numbers else 0


def collect(
    source: FrameSource,
    detector,
    label: str,
    count: int,
    out_dir: PathLike,
    interval_s: float = 0.0,
    progress: bool = True,
) -> CollectReport:
    """Save up to ``count`` frames that show a hand into ``out_dir/<LABEL>/NNNN.jpg``.

    Numbering continues after the files already there and files are created exclusively, so
    nothing is ever overwritten. NOTHING frames are saved whether or not a hand shows.
    """
    import cv2

    canon = canonical_class(label)
    if canon is None:
        raise FingerspellError(f"unknown label {label!r}: use a letter A-Z, SPACE, DEL or NOTHING")
    if count < 1:
        raise FingerspellError("--count must be at least 1")
    folder = Path(out_dir) / canon
    made = [d for d in (Path(out_dir), folder) if not d.exists()]  # removed if nothing is saved
    folder.mkdir(parents=True, exist_ok=True)
    number = next_number(folder)
    saved: List[str] = []
    seen = 0
    last_t = -np.inf
    bar = _progress(count, progress, f"collect {canon}")
    try:
        for frame, t in source:
            seen += 1
            if t - last_t < interval_s:
                continue
            hands = detector.detect(frame, timestamp_ms=int(round(t * 1000)))
            if not hands and canon != NOTHING:
                continue
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if not ok:
                raise FingerspellError("OpenCV could not encode a frame as JPEG")
            while True:
                target = folder / f"{number:04d}.jpg"
                number += 1
                try:
                    _write_new(target, buf.tobytes())
                    break
                except FileExistsError:
                    continue
            saved.append(str(target))
            last_t = t
            bar.update(1)
            if len(saved) >= count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
        _remove_empty(made if not saved else [])
    return CollectReport(str(folder), saved, seen, source.ended_early)


def _remove_empty(folders: List[Path]) -> None:
    """Remove the folders a job made, innermost first, when it wrote nothing into them."""
    for d in reversed(folders):
        with contextlib.suppress(OSError):
            d.rmdir()


def _write_new(target: Path, data: bytes) -> None:
    """Create ``target`` exclusively (never replaces a file); a failed write leaves no part of it."""
    with open(target, "xb") as fh:
        try:
            fh.write(data)
            fh.flush()
        except BaseException:
            fh.close()
            target.unlink()
            raise


# --- bench ------------------------------------------------------------------------------------

BENCH_STAGES = STAGES + ("drawing",)


def bench(recognizer: Recognizer, source: FrameSource, frames: int = 100, warmup: int = 5,
          progress: bool = True) -> dict:
    """Time each stage per frame over up to ``frames`` frames (after ``warmup`` untimed ones)."""
    if frames < 1:
        raise FingerspellError("--frames must be at least 1")
    rows: List[Dict[str, float]] = []
    hands = []
    bar = _progress(frames, progress, "bench")
    seen = 0
    size = None
    try:
        for frame, t in source:
            size = [int(frame.shape[1]), int(frame.shape[0])]
            result = recognizer.process(frame, t)
            recognizer.annotate(frame, result)
            seen += 1
            if seen <= warmup:
                continue
            rows.append(dict(result.timings))
            hands.append(len(result.hands))
            bar.update(1)
            if len(rows) >= frames:
                break
    finally:
        bar.close()
    if not rows:
        raise FingerspellError(f"{source.name} gave {seen} frames, none left after {warmup} warm-up frames: "
                               "use a longer source or --warmup 0")
    stats: Dict[str, dict] = {}
    table = {s: np.array([r.get(s, 0.0) for r in rows]) for s in BENCH_STAGES}
    table["total"] = np.sum([table[s] for s in BENCH_STAGES], axis=0)
    for s, v in table.items():
        stats[s] = {"median_ms": float(np.median(v)), "p90_ms": float(np.percentile(v, 90)),
                    "mean_ms": float(np.mean(v))}
    with_hand = np.array(hands) > 0
    return {
        "source": source.name,
        "frame_size": size,
        "frames": len(rows),
        "warmup": warmup,
        "hands_per_frame": float(np.mean(hands)),
        "frames_with_hand": int(with_hand.sum()),
        "stages": stats,
        "fps_median": 1000.0 / stats["total"]["median_ms"] if stats["total"]["median_ms"] > 0 else float("inf"),
        "fps_mean": 1000.0 / stats["total"]["mean_ms"] if stats["total"]["mean_ms"] > 0 else float("inf"),
    }


def format_bench_table(report: dict) -> str:
    """A plain-text (Markdown) table of a :func:`bench` report."""
    lines = ["| stage | median ms | p90 ms | mean ms |", "|---|---:|---:|---:|"]
    for stage, s in report["stages"].items():
        lines.append(f"| {stage} | {s['median_ms']:.2f} | {s['p90_ms']:.2f} | {s['mean_ms']:.2f} |")
    lines.append("")
    lines.append(f"{report['frames']} frames ({report['frames_with_hand']} with a hand), "
                 f"FPS {report['fps_median']:.1f} (from the median), {report['fps_mean']:.1f} (from the mean)")
    return "\n".join(lines)

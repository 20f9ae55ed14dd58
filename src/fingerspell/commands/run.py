"""``fingerspell run``: recognise a video, image folder or camera without a screen.

Exit codes: 0 when the job ran (a source that ended early, or unreadable images of a folder that
were skipped, are listed as warnings); 2 for a problem the user can fix, on one line (a source that
gives no frame at all is one); 130 after Ctrl-C, once what was recognised so far is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "run"
HELP = "recognise a video/folder/camera headless: annotated video, JSON transcript, subtitles"
ORDER = 2
INTERRUPTED_EXIT = 130


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps import (
        add_model_arguments,
        add_recognizer_arguments,
        add_source_arguments,
        nonempty,
        positive_int,
    )

    add_source_arguments(p, required=True)
    p.add_argument("--out", default=None, type=nonempty, metavar="VIDEO.mp4", help="annotated video to write (mp4v)")
    p.add_argument("--transcript", default=None, type=nonempty, metavar="FILE.json",
                   help="per-frame predictions, sentence events and the final sentence as JSON")
    p.add_argument("--subtitles", default=None, type=nonempty, metavar="FILE.srt",
                   help="the words as subtitles at the time they were spelled (.srt SubRip or .vtt WebVTT)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files (never the input)")
    p.add_argument("--max-frames", type=positive_int, default=None, help="stop after this many frames (cameras)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_model_arguments(p)
    add_recognizer_arguments(p)


def run(args: argparse.Namespace) -> int:
    from fingerspell.apps import recognizer_from_args
    from fingerspell.apps.headless import check_outputs, nothing_read, run_headless
    from fingerspell.fileio import atomic_write_bytes
    from fingerspell.runtime.sources import no_frames, open_source
    from fingerspell.runtime.subtitles import subtitle_format, subtitles

    # before the slow model and camera start
    fmt = subtitle_format(args.subtitles) if args.subtitles else None
    check_outputs([args.out, args.transcript, args.subtitles], args.overwrite, inputs=[args.source, args.model])
    with open_source(args.source, fps=args.fps) as source:  # a bad source fails before the model loads
        recognizer = recognizer_from_args(args)
        with recognizer:
            report = run_headless(recognizer, source, args.out, args.transcript, overwrite=args.overwrite,
                                  progress=not args.no_progress, max_frames=args.max_frames,
                                  meta={"model_path": str(args.model) if args.model else "(shipped default)"})
            stopped = str((recognizer.adaptation_status() if recognizer.adaptation else {}).get("off") or "")
            if fmt and report.frames:
                atomic_write_bytes(args.subtitles, subtitles(recognizer.sentence.words, fmt).encode("utf-8"))
                report.outputs["subtitles"] = str(args.subtitles)
        skipped, passed_over = list(getattr(source, "skipped", [])), list(getattr(source, "passed_over", []))
    if report.frames == 0 and not report.interrupted:
        raise no_frames(args.source, skipped)
    for path in skipped:
        print(f"fingerspell run: warning: skipped unreadable image {path}", file=sys.stderr)
    if passed_over:
        named = ", ".join(passed_over[:3]) + (", ..." if len(passed_over) > 3 else "")
        print(f"fingerspell run: note: passed over {len(passed_over)} file{'s' if len(passed_over) != 1 else ''} "
              f"in {args.source} that {'are' if len(passed_over) != 1 else 'is'} not of the photo types read "
              f"from a folder ({named})", file=sys.stderr)
    if report.ended_early:
        print(f"fingerspell run: warning: {report.message}", file=sys.stderr)
    if stopped.startswith("learning stopped"):
        print(f"fingerspell run: warning: {stopped}", file=sys.stderr)
    if report.interrupted:
        print("fingerspell run: interrupted (Ctrl-C); wrote what was recognised so far", file=sys.stderr)
    for kind, path in report.outputs.items():
        print(f"{kind}: {path}", file=sys.stderr)
    if not report.sentence and _one_photo(args.source):
        return _read_one_photo(args)
    why = nothing_read(args.source, report.frames, report.hand_frames, report.sentence)
    if why:
        photos = "; for separate photos use 'fingerspell predict DIR'" if Path(args.source).is_dir() else ""
        print(f"fingerspell run: warning: {why}{photos}", file=sys.stderr)
    print(report.sentence)
    return INTERRUPTED_EXIT if report.interrupted else 0


def _one_photo(source: str) -> bool:
    from fingerspell.media import IMAGE_SUFFIXES

    return Path(source).is_file() and Path(source).suffix.lower() in IMAGE_SUFFIXES


def _read_one_photo(args: argparse.Namespace) -> int:
    """One photo holds no hold to read: answer with its letter in still-image mode, as ``predict`` does."""
    import fingerspell

    with fingerspell.load(args.model, profile=getattr(args, "profile", None), backend=args.backend,
                          pixels=getattr(args, "pixels", True)) as reader:
        result = reader.predict(args.source, keep_image=False)
    print("fingerspell run: a single photo is read in still-image mode (as 'fingerspell predict' does)",
          file=sys.stderr)
    print(result.letter if result.letter is not None else "(no hand found)")
    return 0

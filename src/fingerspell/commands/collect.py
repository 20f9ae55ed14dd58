"""``fingerspell collect``: record your own training photos, one class folder at a time."""

from __future__ import annotations

import argparse
import sys

NAME = "collect"
HELP = "save camera/video frames that show a hand into DIR/<LABEL>/NNNN.jpg (for build-dataset)"
ORDER = 40


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps import add_source_arguments

    p.add_argument("--label", required=True, help="the class being signed: A-Z, SPACE, DEL or NOTHING")
    p.add_argument("--count", type=int, default=100, help="frames to save (default 100)")
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder; frames go to DIR/<LABEL>/")
    add_source_arguments(p)
    p.add_argument("--interval", type=float, default=0.1,
                   help="minimum seconds between two saved frames (default 0.1), for variety")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--motion", action="store_true",
                   help="record short clips instead of photos (for the motion letters J and Z): each clip is "
                        "DIR/<LABEL>/NNNN.mp4 with its hand track NNNN.json; --count clips of --seconds each, "
                        "--interval seconds apart")
    p.add_argument("--seconds", type=float, default=1.5, help="length of each --motion clip (default 1.5)")


def run(args: argparse.Namespace) -> int:
    if args.motion:
        return run_motion(args)
    from fingerspell.apps.headless import collect
    from fingerspell.hands.detector import HandDetector
    from fingerspell.labels import NOTHING, canonical_class
    from fingerspell.runtime.sources import open_source

    with open_source(args.source, fps=args.fps) as source, HandDetector(mode="video", max_hands=1) as det:
        report = collect(source, det, args.label, args.count, args.out, interval_s=args.interval,
                         progress=not args.no_progress)
    where = f" to {report.folder}" if report.saved else ""
    print(f"saved {len(report.saved)} frames{where} ({report.frames_seen} frames read)")
    if not report.saved and canonical_class(args.label) != NOTHING:  # NOTHING frames need no hand
        print(f"fingerspell collect: warning: no hand was found in any of the {report.frames_seen} frames read: "
              "show the whole hand to the camera, lit from the front", file=sys.stderr)
    elif len(report.saved) < args.count:
        print(f"fingerspell collect: note: {args.count - len(report.saved)} fewer than asked: the source ended "
              "or showed no hand", file=sys.stderr)
    return 0


def run_motion(args: argparse.Namespace) -> int:
    from fingerspell.apps.clips import collect_clips
    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.sources import open_source

    with open_source(args.source, fps=args.fps) as source, HandDetector(mode="video", max_hands=1) as det:
        report = collect_clips(source, det, args.label, args.count, args.out, seconds=args.seconds,
                               interval_s=args.interval)
    if not report.saved:
        print("saved 0 clips")
        print("fingerspell collect: warning: no clip was recorded: the source ended before a hand showed "
              "(show the whole hand to the camera, lit from the front)", file=sys.stderr)
        return 0
    print(f"saved {len(report.saved)} clips to {report.folder} ({report.frames_seen} frames in them)")
    if len(report.saved) < args.count:
        print(f"fingerspell collect: note: {args.count - len(report.saved)} fewer clips than asked: the source "
              "ended or showed no hand", file=sys.stderr)
    return 0

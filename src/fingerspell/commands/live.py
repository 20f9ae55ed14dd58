"""``fingerspell live``: the camera window that writes what you fingerspell."""

from __future__ import annotations

import argparse
import sys

NAME = "live"
HELP = "open the live window: camera (or video/folder) with letters, sentence and controls"
ORDER = 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps import add_model_arguments, add_recognizer_arguments, add_source_arguments

    add_source_arguments(p)
    add_model_arguments(p)
    p.add_argument("--speak", action="store_true",
                   help="say each finished word and the sentence (needs espeak-ng or pyttsx3)")
    p.add_argument("--no-autostart", action="store_true", help="wait for Start (or the s key)")
    p.add_argument("--mirror", choices=("auto", "on", "off"), default="auto",
                   help="show the picture mirrored like a selfie view (auto: on for cameras, off for files)")
    p.add_argument("--no-pace", action="store_true",
                   help="process a video/folder as fast as possible instead of at its frame rate")
    add_recognizer_arguments(p)


def run(args: argparse.Namespace) -> int:
    from fingerspell.apps import recognizer_from_args
    from fingerspell.apps.live import LiveOptions, check_display, run_live

    check_display()  # before loading anything
    # Opening the source and loading the model take a few seconds before the window shows.
    what = f"camera {args.source}" if str(args.source).isdigit() else str(args.source)
    print(f"fingerspell live: opening {what} and loading the model...", file=sys.stderr, flush=True)
    mirror = {"auto": None, "on": True, "off": False}[args.mirror]
    options = LiveOptions(autostart=not args.no_autostart, pace=not args.no_pace, mirror=mirror)
    return run_live(lambda: recognizer_from_args(args), args.source, fps=args.fps, speak=args.speak,
                    options=options)

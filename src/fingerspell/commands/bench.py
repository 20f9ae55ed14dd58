"""``fingerspell bench``: where the time of one frame goes."""

from __future__ import annotations

import argparse
import json

NAME = "bench"
HELP = "time detection, features, model, smoothing and drawing per frame (median, p90, FPS)"
ORDER = 41


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps import add_model_arguments, add_recognizer_arguments, add_source_arguments

    add_source_arguments(p, required=True)
    p.add_argument("--frames", type=int, default=100, help="frames to time (default 100)")
    p.add_argument("--warmup", type=int, default=5, help="untimed frames first (default 5)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    add_model_arguments(p)
    add_recognizer_arguments(p)


def run(args: argparse.Namespace) -> int:
    from fingerspell.apps import recognizer_from_args
    from fingerspell.apps.headless import bench, format_bench_table
    from fingerspell.models.checkpoint import card_summary
    from fingerspell.runtime.sources import open_source

    with open_source(args.source, fps=args.fps) as source:  # a bad source fails before the model loads
        recognizer = recognizer_from_args(args)
        with recognizer:
            report = bench(recognizer, source, frames=args.frames, warmup=args.warmup, progress=not args.json)
    report["model"] = card_summary(recognizer.card)
    report["backend"] = recognizer.classifier.backend
    report["threads"] = args.threads
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        size = "x".join(map(str, report["frame_size"] or []))
        print(f"{report['source']} ({size}), model {report['model']}, backend {report['backend']}, "
              f"{args.threads} thread(s)")
        print(format_bench_table(report))
    return 0

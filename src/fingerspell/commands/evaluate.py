"""``fingerspell evaluate``: score a checkpoint on dataset files."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "evaluate"
HELP = "evaluate a checkpoint on dataset files: accuracy, macro P/R/F1, per class, per signer"
ORDER = 31
DESCRIPTION = (
    "Run a checkpoint (runs/x/best, or a shipped model name) over dataset files and report accuracy, "
    "macro precision, recall and F1, "
    "a per-class table, a per-group (signer) breakdown and end-to-end accuracy (photos where no hand was "
    "found count as wrong; their number comes from <data>.report.json or --missed). With --out, writes "
    "report.json, report.txt and confusion.png there."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", "--model", dest="checkpoint", required=True, metavar="MODEL",
                   help="checkpoint path (runs/x/best, suffix optional) or shipped model name (landmark_mlp)")
    p.add_argument("--data", action="append", required=True, metavar="FILE", help="dataset .npz (repeatable)")
    p.add_argument("--out", default=None, metavar="DIR", help="write the report and confusion matrix here")
    p.add_argument("--missed", type=int, default=None,
                   help="photos with no hand found, for end-to-end accuracy (default: from the build report)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="cpu")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-plot", action="store_true")


def run(args: argparse.Namespace) -> int:
    from fingerspell.errors import FingerspellError
    from fingerspell.training.evaluate import evaluate_checkpoint

    if args.missed is not None and args.missed < 0:
        raise FingerspellError("--missed must be 0 or more")
    if args.out and (Path(args.out) / "report.json").exists() and not args.overwrite:
        raise FingerspellError(f"{args.out}/report.json already exists: choose another --out or pass --overwrite")
    report = evaluate_checkpoint(args.checkpoint, args.data, n_missed=args.missed,
                                 batch_size=args.batch_size, device=args.device)
    path = report.save(args.out, overwrite=args.overwrite, plot=not args.no_plot) if args.out else None
    print(report.format())
    _threshold_note(report)
    if path:
        print(f"\nreport: {path}")
    return 0


def _threshold_note(report) -> None:
    """Say so when most correct predictions fall under the live threshold (see training/threshold.py)."""
    from fingerspell.training.threshold import ThresholdCheck

    check = report.extra.get("threshold")
    if check:
        check = ThresholdCheck(**{k: v for k, v in check.items() if k != "warn"})
        if check.warn:
            print("\n" + check.message())

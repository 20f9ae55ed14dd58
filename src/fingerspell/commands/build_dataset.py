"""``fingerspell build-dataset``: photo folders -> a versioned dataset .npz (masks, landmarks, labels)."""

from __future__ import annotations

import argparse

from fingerspell.cache import cache_dir

NAME = "build-dataset"
HELP = "detect hands in labelled photo folders and write a dataset .npz (masks, landmarks, labels)"
DESCRIPTION = (
    "Read labelled photos (class folders such as A/ ... Z/, del/, nothing/, space/; the massey set; "
    "mon95 user_N folders), detect the hand in each, and write masks, landmarks and vectors to one "
    ".npz plus a <out>.report.json. Detections are cached per file, so an interrupted build resumes. "
    "With --rerender FILE, re-draw the masks of an existing dataset at --mask-size instead (no detection)."
)
ORDER = 20
# Copies of fingerspell.data.build's defaults, so that 'fingerspell --help' imports no numpy or cv2
# (a test checks they agree).
DEFAULT_MASK_SIZE = 96
DEFAULT_CONFIDENCE = 0.5
DEFAULT_CACHE_DIR = str(cache_dir("build"))  # $XDG_CACHE_HOME/fingerspell/build


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", nargs="*", metavar="SRC", help="photo folders (layout detected per folder)")
    p.add_argument("--out", required=True, help="the dataset file to write (.npz)")
    p.add_argument("--mask-size", type=int, default=DEFAULT_MASK_SIZE, help="mask side in pixels (default %(default)s)")
    p.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE,
                   help="hand detection confidence (default %(default)s: finds more hands than 0.7 in all three "
                        "photo sets, and the extra ones are real hands; see docs/dataset.md)")
    p.add_argument("--complexity", type=int, choices=[0, 1], default=1, help="MediaPipe model: 0 lite, 1 full")
    p.add_argument("--no-second-look", action="store_true",
                   help="detect each photo once (by default it is read again on the mirrored photo, a second "
                        "reading the landmark model trains on: hands/second_look.py; half the detection time)")
    p.add_argument("--no-box-retry", action="store_true",
                   help="do not retry on the source's hand box (mon95) when the frame shows no hand")
    p.add_argument("--classes", default=None, metavar="A,B,...",
                   help="build only these classes (comma-separated, e.g. A,B,del,nothing)")
    p.add_argument("--limit-per-class", type=int, default=None, metavar="N",
                   help="keep the first N files per class per group (sorted by path): quick builds")
    p.add_argument("--workers", type=int, default=None, help="detector processes (default: all cores)")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help="per-file detection cache (default %(default)s)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--rerender", default=None, metavar="DATASET",
                   help="re-draw the masks of this dataset .npz at --mask-size (no SRC, no detection)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no report tables")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fingerspell.data.build import BuildOptions, build_dataset, report_path, rerender_masks
    from fingerspell.data.schema import load_dataset, save_dataset
    from fingerspell.errors import FingerspellError

    if args.rerender:
        if args.sources:
            raise FingerspellError("give either SRC folders or --rerender DATASET, not both")
        out = Path(args.out)
        if out.exists() and not args.overwrite:
            raise FingerspellError(f"{out} already exists: choose another --out or pass --overwrite")
        data = rerender_masks(load_dataset(args.rerender), args.mask_size)
        save_dataset(data, out, overwrite=args.overwrite)
        if not args.quiet:
            print(f"wrote {out}: {len(data)} samples, masks re-drawn at {args.mask_size}px")
        return 0
    if not args.sources:
        raise FingerspellError("no SRC folders given: name the photo folders to build from (or use --rerender)")
    classes = tuple(c for c in args.classes.split(",") if c.strip()) if args.classes else None
    options = BuildOptions(
        mask_size=args.mask_size, min_detection_confidence=args.confidence, model_complexity=args.complexity,
        box_retry=not args.no_box_retry, second_look=not args.no_second_look, classes=classes,
        limit_per_class=args.limit_per_class,
        workers=args.workers, cache_dir=None if args.no_cache else args.cache_dir, overwrite=args.overwrite,
        progress=not args.quiet,
    )
    report = build_dataset(args.sources, args.out, options)
    if not args.quiet:
        print(report.format())
        print(f"\nwrote {args.out} and {report_path(args.out)}")
    return 0

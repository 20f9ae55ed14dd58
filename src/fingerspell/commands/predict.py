"""``fingerspell predict``: the letter in each photo, as a table or JSON lines, with annotated copies."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from fingerspell.errors import FingerspellError
from fingerspell.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from fingerspell.media import passed_over as is_passed_over

NAME = "predict"
HELP = "read the letter in photos (files or folders): a table or JSON lines, annotated copies with --out"
ORDER = 3
DESCRIPTION = (
    "Read the fingerspelled letter in each still image. MediaPipe runs in image mode and retries with a "
    "black border when a hand fills the photo. Prints one row per file (path, letter, confidence, top-3, "
    "hand found) or, with --json, one JSON object per line (letter is null when no hand is found), then a "
    "summary line. --out DIR writes an annotated copy of each photo there (folders keep their layout; "
    "two inputs never share a name; existing files are kept unless --overwrite)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="IMAGE|DIR", help="image files or folders (searched recursively)")
    p.add_argument("--out", default=None, metavar="DIR", help="write annotated copies here")
    p.add_argument("--json", action="store_true", help="one JSON object per file instead of a table")
    p.add_argument("--model", default=None,
                   help="a shipped model name, a checkpoint (suffix optional) or a .onnx file (default: shipped)")
    p.add_argument("--profile", default=None, metavar="FILE",
                   help="a calibration profile (from fingerspell calibrate) to apply")
    p.add_argument("--overwrite", action="store_true", help="replace existing files under --out")
    p.add_argument("--pixels", action=argparse.BooleanOptionalAction, default=True,
                   help="the shipped landmark model: read each hand's pixels too, with the shipped hand-crop "
                        "model (on by default; --no-pixels reads the landmarks alone)")


def find_images(paths: Sequence[str], exclude: Optional[Path] = None,
                passed_over: Optional[Counter] = None) -> List[Tuple[Path, Path]]:
    """(image, name under --out) for every image named or inside a named folder, in order.

    A folder's images keep their path under the folder's own name; names that would collide
    (the same file name from two places, or one file given twice) get ``-2``, ``-3``, ...
    Files in the folders that are not photos are counted by suffix in ``passed_over`` (hidden
    files such as .DS_Store are not).
    """
    found: List[Tuple[Path, Path]] = []
    seen_inputs = set()
    used: Dict[str, int] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = [q for q in p.rglob("*") if q.is_file() and not (exclude and _inside(q, exclude))]
            files = sorted(q for q in inside if q.suffix.lower() in IMAGE_SUFFIXES)
            if passed_over is not None:
                passed_over.update(q.suffix.lower() or "(no suffix)" for q in inside if is_passed_over(q))
            pairs = [(q, Path(p.resolve().name or "root") / q.relative_to(p)) for q in files]
        elif p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
            raise FingerspellError(f"{p} is a video and predict reads still images: read it with "
                                   f"'fingerspell run --source {p}' (or fingerspell.load().read() in Python)")
        elif p.is_file():
            pairs = [(p, Path(p.name))]
        else:
            raise FingerspellError(f"{p} does not exist: give image files or folders of images")
        for src, rel in pairs:
            key = str(src.resolve())
            if key in seen_inputs:
                continue
            seen_inputs.add(key)
            found.append((src, _unique(rel, used)))
    return found


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _unique(rel: Path, used: Dict[str, int]) -> Path:
    name = rel
    k = 1
    while str(name).lower() in used:
        k += 1
        name = rel.with_name(f"{rel.stem}-{k}{rel.suffix}")
    used[str(name).lower()] = 1
    return name


def _targets(images: List[Tuple[Path, Path]], out: Path, overwrite: bool) -> List[Path]:
    """The annotated copy of each image under ``out``; never an input, never an existing file unless asked."""
    inputs = {str(src.resolve()) for src, _ in images}
    targets = []
    for _, rel in images:
        t = out / rel
        if str(t.resolve()) in inputs:
            raise FingerspellError(f"--out {out} would write over the input {t}: choose another folder")
        if t.exists() and not overwrite:
            raise FingerspellError(f"{t} exists: pass --overwrite to replace it, or choose another --out")
        targets.append(t)
    return targets


def _write_image(path: Path, image) -> None:
    import cv2

    from fingerspell.fileio import atomic_write_bytes

    ok, buf = cv2.imencode(path.suffix.lower() if path.suffix.lower() in IMAGE_SUFFIXES else ".png", image)
    if not ok:
        raise FingerspellError(f"cannot encode {path}: use a .jpg or .png name")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.tobytes())


def format_row(row: dict) -> str:
    top = ", ".join(f"{name} {p:.2f}" for name, p in row["top"]) or "-"
    letter = row["letter"] if row["letter"] is not None else "-"
    hand = "error: " + row["error"] if row.get("error") else ("yes" if row["hand"] else "no")
    return f"{row['path']}\t{letter}\t{row['confidence']:.3f}\t{top}\t{hand}"


def summary(rows: List[dict]) -> str:
    n = len(rows)
    hands = [r for r in rows if r["hand"]]
    errors = sum(1 for r in rows if r.get("error"))
    counts = Counter(r["letter"] for r in hands)
    letters = " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))
    mean = sum(r["confidence"] for r in hands) / len(hands) if hands else 0.0
    text = (f"{n} image{'s' if n != 1 else ''}: {len(hands)} with a hand, {n - len(hands) - errors} without"
            + (f", {errors} unreadable" if errors else "") + f"; mean confidence {mean:.2f}")
    return text + (f"; letters {letters}" if letters else "")


def run(args: argparse.Namespace) -> int:
    import fingerspell

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise FingerspellError(f"--out {out} is a file: give a folder")
    passed_over: Counter = Counter()
    images = find_images(args.paths, exclude=out, passed_over=passed_over)
    if not images:
        raise FingerspellError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {' '.join(args.paths)}")
    if passed_over:
        kinds = ", ".join(f"{suffix} {n}" for suffix, n in sorted(passed_over.items()))
        n = sum(passed_over.values())
        print(f"fingerspell predict: note: passed over {n} file{'s' if n != 1 else ''} in the folders that "
              f"{'are' if n != 1 else 'is'} not of the photo types read there ({kinds}); name a file on the "
              "command line to read it anyway", file=sys.stderr)
    targets = _targets(images, out, args.overwrite) if out is not None else [None] * len(images)
    reader = fingerspell.load(args.model, profile=args.profile, verbose=getattr(args, "verbose", False),
                              pixels=args.pixels)
    rows = []
    if not args.json:
        print("path\tletter\tconfidence\ttop-3\thand")
    with reader:
        for (src, _), target in zip(images, targets):
            try:
                pred = reader.predict(src, keep_image=target is not None)
            except FingerspellError as exc:
                row = {"path": str(src), "letter": None, "confidence": 0.0, "top": [], "hand": False,
                       "error": str(exc)}
            else:
                row = pred.to_dict()
                if target is not None:
                    _write_image(target, pred.plot())
            rows.append(row)
            print(json.dumps(row) if args.json else format_row(row), flush=True)
    print(summary(rows), file=sys.stderr if args.json else sys.stdout)
    if out is not None:
        print(f"annotated copies: {out}", file=sys.stderr)
    return 1 if any(r.get("error") for r in rows) else 0

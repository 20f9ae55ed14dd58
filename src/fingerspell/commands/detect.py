"""``fingerspell detect``: find hands in photos and optionally save annotated copies.

A file that cannot be read (corrupt, not an image, no read permission, a folder named like an
image) is reported on stderr and skipped; the others are still processed. The exit code is 0
when every file was read, 1 when some were skipped (they are listed at the end), and 2 when
there was nothing to read at all (no images found, or none readable). Annotated copies never
replace a file: two photos with the same name from different folders get ``x_hands.png`` and
``x_hands_2.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterator, List, Set

from fingerspell.media import IMAGE_SUFFIXES

NAME = "detect"
HELP = "find hands in image files or folders; print landmarks as JSON lines"
ORDER = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    from fingerspell.apps import nonempty

    p.add_argument("paths", nargs="+", help="image files or folders")
    p.add_argument("--backend", choices=["solutions", "tasks"], default="solutions")
    p.add_argument("--task", default=None, help="HandLandmarker .task bundle (tasks backend)")
    p.add_argument("--complexity", type=int, choices=[0, 1], default=1)
    p.add_argument("--max-hands", type=int, default=2)
    p.add_argument("--annotate", default=None, type=nonempty, metavar="DIR", help="write annotated copies here")


def _images(paths) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield p


def collect_images(paths) -> List[Path]:
    """Every image named or found in a folder; an error when there is none at all."""
    from fingerspell.errors import FingerspellError

    for raw in paths:
        if not str(raw).strip():
            raise FingerspellError("an empty path was given: name an image file or a folder")
    images = list(_images(paths))
    if not images:
        raise FingerspellError(f"no images in {', '.join(map(str, paths))} (looked for "
                               f"{', '.join(sorted(IMAGE_SUFFIXES))}): give image files or folders that hold some")
    return images


def free_name(folder: Path, stem: str, taken: Set[Path]) -> Path:
    """``<stem>_hands.png`` in ``folder``, numbered ``_2``, ``_3``... past files there or written this run."""
    target = folder / f"{stem}_hands.png"
    n = 2
    while target in taken or target.exists():
        target = folder / f"{stem}_hands_{n}.png"
        n += 1
    taken.add(target)
    return target


def _record(path: Path, hands) -> str:
    return json.dumps({
        "path": str(path),
        "hands": [{"handedness": h.handedness, "score": round(h.score, 4), "box": list(h.box),
                   "landmarks": h.landmarks.round(5).tolist()} for h in hands],
    })


def _save_annotated(img, hands, target: Path) -> None:
    import cv2

    from fingerspell.errors import FingerspellError
    from fingerspell.fileio import atomic_write_bytes
    from fingerspell.hands.render import annotate_frame

    annotate_frame(img, hands, [h.handedness for h in hands], [h.score for h in hands])
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise FingerspellError(f"OpenCV could not encode {target.name} as PNG")
    atomic_write_bytes(target, buf.tobytes())  # a full disk stops the command: no half-written copies


def run(args: argparse.Namespace) -> int:
    from fingerspell.errors import FingerspellError
    from fingerspell.hands.detector import HandDetector, load_image

    images = collect_images(args.paths)
    out_dir = Path(args.annotate) if args.annotate else None
    if out_dir:
        if out_dir.exists() and not out_dir.is_dir():
            raise FingerspellError(f"--annotate {out_dir} is a file: give a folder")
        out_dir.mkdir(parents=True, exist_ok=True)
    bad: List[str] = []
    taken: Set[Path] = set()
    with HandDetector(backend=args.backend, task_path=args.task, model_complexity=args.complexity,
                      max_hands=args.max_hands) as det:
        for path in images:
            try:
                img = load_image(path)
            except FingerspellError as exc:
                print(f"fingerspell detect: skipped: {exc}", file=sys.stderr)
                bad.append(str(path))
                continue
            hands = det.detect(img)
            print(_record(path, hands), flush=True)
            if out_dir:
                _save_annotated(img, hands, free_name(out_dir, path.stem, taken))
    if bad and len(bad) == len(images):
        raise FingerspellError(f"none of the {len(images)} files could be read: {', '.join(bad)}")
    if bad:
        print(f"fingerspell detect: {len(bad)} of {len(images)} files could not be read: {', '.join(bad)}",
              file=sys.stderr)
        return 1
    return 0

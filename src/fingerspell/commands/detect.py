"""``fingerspell detect``: find hands in photos and optionally save annotated copies."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "detect"
HELP = "find hands in image files or folders; print landmarks as JSON lines"
ORDER = 10
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="image files or folders")
    p.add_argument("--backend", choices=["solutions", "tasks"], default="solutions")
    p.add_argument("--task", default=None, help="HandLandmarker .task bundle (tasks backend)")
    p.add_argument("--complexity", type=int, choices=[0, 1], default=1)
    p.add_argument("--max-hands", type=int, default=2)
    p.add_argument("--annotate", default=None, metavar="DIR", help="write annotated copies here")


def _images(paths):
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield p


def run(args: argparse.Namespace) -> int:
    import cv2

    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.hands.render import annotate_frame

    out_dir = Path(args.annotate) if args.annotate else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    with HandDetector(backend=args.backend, task_path=args.task, model_complexity=args.complexity,
                      max_hands=args.max_hands) as det:
        for path in _images(args.paths):
            img = load_image(path)
            hands = det.detect(img)
            print(json.dumps({
                "path": str(path),
                "hands": [{"handedness": h.handedness, "score": round(h.score, 4), "box": list(h.box),
                           "landmarks": h.landmarks.round(5).tolist()} for h in hands],
            }))
            if out_dir:
                annotate_frame(img, hands, [h.handedness for h in hands], [h.score for h in hands])
                target = out_dir / (path.stem + "_hands.png")
                if target.exists():
                    continue  # never overwrite what is there
                cv2.imwrite(str(target), img)
    return 0

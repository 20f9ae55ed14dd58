"""The letter chart: one drawn hand per class, averaged from real photos.

``python -m fingerspell.apps.web.chart DATA_DIR`` runs MediaPipe on the asl-alphabets training
photos (many signers) and writes ``static/letters.json``: per class the mean of the detected
hands' landmarks, each made wrist-relative, scaled by its palm size and mirrored into right-hand
form, and the number of photos it came from. The page draws these skeletons; NOTHING is drawn as
an empty frame (it means "no letter"), whatever its photos show.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from fingerspell.labels import CLASSES, NOTHING, canonical_class

STATIC = Path(__file__).resolve().parent / "static"
CHART_FILE = STATIC / "letters.json"


def normalised(landmarks: np.ndarray, image_size, left: bool) -> np.ndarray:
    """(21, 2) wrist-relative pixel coordinates divided by the palm size, right-hand form."""
    w, h = image_size
    pts = landmarks[:, :2] * np.array([w, h], dtype=np.float64)
    pts = pts - pts[0]
    palm = float(np.mean([np.linalg.norm(pts[i]) for i in (5, 9, 13, 17)])) or 1.0
    pts = pts / palm
    if left:
        pts[:, 0] = -pts[:, 0]
    return pts


def class_means(root: Path, per_class: int = 40) -> Dict[str, dict]:
    """Mean normalised landmarks per class from ``root/<Class>/*.jpg``."""
    from fingerspell.hands.detector import HandDetector, load_image

    folders = {canonical_class(p.name): p for p in sorted(root.iterdir()) if p.is_dir()}
    out: Dict[str, dict] = {}
    with HandDetector(mode="image", max_hands=1) as det:
        for name in CLASSES:
            folder: Optional[Path] = folders.get(name)
            if name == NOTHING or folder is None:
                out[name] = {"points": None, "photos": 0}
                continue
            shapes: List[np.ndarray] = []
            for f in sorted(folder.glob("*.jpg"))[:per_class]:
                hands = det.detect(load_image(f))
                if hands:
                    shapes.append(normalised(hands[0].landmarks, hands[0].image_size, hands[0].is_left))
            mean = np.mean(shapes, axis=0) if shapes else None
            out[name] = {"points": None if mean is None else np.round(mean, 3).tolist(), "photos": len(shapes)}
    return out


def main(argv: Optional[List[str]] = None) -> int:
    from fingerspell.fileio import atomic_write_bytes

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="the shared data folder (with asl-alphabets/train)")
    p.add_argument("--per-class", type=int, default=40)
    p.add_argument("--out", type=Path, default=CHART_FILE)
    a = p.parse_args(argv)
    chart = {"source": "asl-alphabets/train (mean of MediaPipe landmarks, palm-size units)",
             "classes": class_means(a.data / "asl-alphabets" / "train", a.per_class)}
    atomic_write_bytes(a.out, (json.dumps(chart, separators=(",", ":")) + "\n").encode())
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def letter_picture(letter: str, size: int = 160) -> np.ndarray:
    """A BGR picture of how ``letter`` is signed: its chart skeleton drawn on white (the same mean hand
    the web page's chart shows); a class without a hand (NOTHING) is an empty frame."""
    import cv2

    from fingerspell.hands.landmarks import FINGER_CONNECTIONS, FINGERS, PALM_CONNECTIONS

    img = np.full((size, size, 3), 255, np.uint8)
    entry = json.loads(CHART_FILE.read_text())["classes"].get(canonical_class(letter) or letter, {})
    points = entry.get("points")
    if points is None:
        return img
    pts = np.asarray(points, dtype=np.float64)
    span = float(np.max(pts.max(axis=0) - pts.min(axis=0))) or 1.0
    pts = (pts - (pts.max(axis=0) + pts.min(axis=0)) / 2) * (0.8 * size / span) + size / 2
    px = [tuple(int(round(v)) for v in p) for p in pts]
    colours = [(40, 40, 200), (40, 160, 40), (200, 90, 30), (0, 170, 220), (170, 60, 170)]
    for a, b in PALM_CONNECTIONS:
        cv2.line(img, px[a], px[b], (120, 120, 120), 2, cv2.LINE_AA)
    for a, b in FINGER_CONNECTIONS:
        colour = next(c for f, c in zip(FINGERS, colours) if b in f)
        cv2.line(img, px[a], px[b], colour, 3, cv2.LINE_AA)
    return img

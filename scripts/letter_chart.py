"""Draw docs/letters.png: how each class is signed, from real photos.

For every class of a dataset built by ``fingerspell build-dataset`` (default: the asl-alphabets
train set, which has all 29 classes), the photo whose hand is closest to the class's mean hand
shape (landmarks relative to the wrist, divided by the palm size) is cropped around the hand and
its MediaPipe skeleton is drawn on it. NOTHING shows a photo where no hand was found.

    python scripts/letter_chart.py --data artifacts/data/asl_train.npz --out docs/letters.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

CELL = 150
LABEL_H = 30
COLUMNS = 6
MOTION = {"J": "J (trace a J)", "Z": "Z (trace a Z)"}
NAMES = {"SPACE": "SPACE", "DEL": "DEL", "NOTHING": "NOTHING (no hand)"}


def shape_key(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks relative to the wrist, divided by the palm size (wrist to middle knuckle)."""
    rel = landmarks[:, :2] - landmarks[0, :2]
    scale = np.linalg.norm(rel[9]) or 1.0
    return (rel / scale).reshape(-1)


def medoid(rows: np.ndarray, landmarks: np.ndarray) -> int:
    keys = np.stack([shape_key(landmarks[i]) for i in rows])
    centre = np.median(keys, axis=0)
    return int(rows[int(np.argmin(np.linalg.norm(keys - centre, axis=1)))])


def crop_hand(img: np.ndarray, landmarks: np.ndarray, margin: float = 0.35) -> np.ndarray:
    """A square crop around the hand with the skeleton drawn on it."""
    from fingerspell.hands.landmarks import Hand, landmark_box
    from fingerspell.hands.render import draw_landmarks

    h, w = img.shape[:2]
    hand = Hand(landmarks=landmarks.astype(np.float32), world_landmarks=None, handedness="Right", score=1.0,
                box=landmark_box(landmarks, (w, h)), image_size=(w, h))
    out = img.copy()
    draw_landmarks(out, hand)
    x0, y0, x1, y1 = hand.box
    side = int(max(x1 - x0, y1 - y0) * (1 + 2 * margin))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    pad = side
    big = cv2.copyMakeBorder(out, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    crop = big[cy + pad - side // 2: cy + pad + side // 2, cx + pad - side // 2: cx + pad + side // 2]
    return cv2.resize(crop, (CELL, CELL), interpolation=cv2.INTER_AREA)


def cell(title: str, image: np.ndarray) -> np.ndarray:
    canvas = np.full((CELL + LABEL_H, CELL, 3), 255, np.uint8)
    canvas[LABEL_H:] = image
    scale = 0.7 if len(title) <= 3 else 0.45
    (tw, th), _ = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    cv2.putText(canvas, title, ((CELL - tw) // 2, (LABEL_H + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (40, 40, 40), 2, cv2.LINE_AA)
    return canvas


def chart(data_path: Path) -> np.ndarray:
    from fingerspell.data.schema import load_dataset
    from fingerspell.hands.detector import load_image

    data = load_dataset(data_path)
    cells = []
    for k, name in enumerate(data.classes):
        rows = np.flatnonzero((data.labels == k) & ~data.no_hand)
        if name == "NOTHING" or rows.size == 0:
            empty = np.flatnonzero((data.labels == k) & data.no_hand)
            pick = int(empty[0]) if empty.size else int(np.flatnonzero(data.labels == k)[0])
            img = cv2.resize(load_image(data.paths[pick]), (CELL, CELL), interpolation=cv2.INTER_AREA)
        else:
            pick = medoid(rows, data.landmarks)
            img = crop_hand(load_image(data.paths[pick]), data.landmarks[pick])
        cells.append(cell(MOTION.get(name, NAMES.get(name, name)), img))
    while len(cells) % COLUMNS:
        cells.append(np.full_like(cells[0], 255))
    rows = [np.hstack([np.pad(c, ((4, 4), (4, 4), (0, 0)), constant_values=255) for c in cells[i:i + COLUMNS]])
            for i in range(0, len(cells), COLUMNS)]
    return np.vstack(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("artifacts/data/asl_train.npz"))
    p.add_argument("--out", type=Path, default=Path("docs/letters.png"))
    a = p.parse_args(argv)
    import io

    from PIL import Image

    from fingerspell.fileio import atomic_write_bytes

    rgb = cv2.cvtColor(chart(a.data), cv2.COLOR_BGR2RGB)
    buf = io.BytesIO()  # 256 colours: a third of the size, no visible loss at this scale
    Image.fromarray(rgb).quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(buf, "PNG", optimize=True)
    atomic_write_bytes(a.out, buf.getvalue())
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

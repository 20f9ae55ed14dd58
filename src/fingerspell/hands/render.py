"""Landmark masks (what the CNNs read) and frame annotation.

A mask is the hand skeleton drawn on black: palm edges in grey, finger edges and joints
coloured by finger. Unlike the seed, which drew on the full frame, the drawing is cropped to
the hand's box with a margin and centred in a square, so it does not change with where the
hand stands or how large it is. Coordinates are rounded onto the output pixel grid before
drawing, so the same landmarks always give the same pixels.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from fingerspell.hands.landmarks import FINGERS, HAND_CONNECTIONS, PALM_CONNECTIONS, Hand

DEFAULT_MASK_SIZE = 224
DEFAULT_MARGIN = 0.15
PALM_COLOR = (128, 128, 128)
# BGR colour per finger: thumb, index, middle, ring, pinky.
FINGER_COLORS: Tuple[Tuple[int, int, int], ...] = (
    (0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255), (255, 0, 255),
)
WRIST_COLOR = (255, 255, 255)
_JOINT_COLOR = {0: WRIST_COLOR}
for _color, _finger in zip(FINGER_COLORS, FINGERS):
    for _j in _finger:
        _JOINT_COLOR[_j] = _color
_FINGER_EDGE_COLOR = {}
for _color, _finger in zip(FINGER_COLORS, FINGERS):
    for _a, _b in zip(_finger[:-1], _finger[1:]):
        _FINGER_EDGE_COLOR[(_a, _b)] = _color
_FINGER_EDGE_COLOR[(0, 1)] = FINGER_COLORS[0]


def _square_crop_transform(points: np.ndarray, size: int, margin: float) -> np.ndarray:
    """Map pixel points into a size x size square around their box, with a margin on each side."""
    lo = points.min(axis=0)
    hi = points.max(axis=0)
    centre = (lo + hi) / 2.0
    side = float(max(hi - lo)) * (1.0 + 2.0 * margin)
    if side <= 1e-9:
        side = 1.0
    return (points - centre) / side * size + size / 2.0


def render_mask(
    landmarks: np.ndarray,
    image_size: Tuple[int, int] = (1, 1),
    size: int = DEFAULT_MASK_SIZE,
    margin: float = DEFAULT_MARGIN,
    mirror: bool = False,
) -> np.ndarray:
    """Draw the landmark mask: (size, size, 3) uint8 BGR.

    landmarks: (21, 2+) normalised to image_size (width, height); only x and y are used.
    mirror: also flip left-right (a mirrored right hand is a left hand signing the same letter).
    """
    lm = np.asarray(landmarks, dtype=np.float64)[:, :2]
    w, h = image_size
    pts = lm * np.array([w, h], dtype=np.float64)
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    if not np.all(np.isfinite(pts)) or not np.any(pts):
        return canvas
    # Rounding to 1e-4 first absorbs float noise, so a moved or scaled hand rounds the same way.
    mapped = np.round(_square_crop_transform(pts, size, margin), 4)
    ipts = np.round(mapped).astype(np.int32)
    thickness = max(1, int(round(size / 75)))
    radius = max(1, int(round(size / 56)))
    for a, b in PALM_CONNECTIONS:
        color = _FINGER_EDGE_COLOR.get((a, b), PALM_COLOR)
        if (a, b) != (0, 1):
            color = PALM_COLOR
        cv2.line(canvas, tuple(ipts[a]), tuple(ipts[b]), color, thickness, cv2.LINE_8)
    for (a, b), color in _FINGER_EDGE_COLOR.items():
        cv2.line(canvas, tuple(ipts[a]), tuple(ipts[b]), color, thickness, cv2.LINE_8)
    for j in range(len(ipts)):
        cv2.circle(canvas, tuple(ipts[j]), radius, _JOINT_COLOR[j], -1, cv2.LINE_8)
    if mirror:
        canvas = np.ascontiguousarray(canvas[:, ::-1])
    return canvas


def render_hand_mask(hand: Hand, size: int = DEFAULT_MASK_SIZE, mirror: bool = False) -> np.ndarray:
    """The mask of a detected hand."""
    return render_mask(hand.landmarks, hand.image_size, size=size, mirror=mirror)


def render_full_frame_mask(landmarks: np.ndarray, image_size: Tuple[int, int]) -> np.ndarray:
    """The seed's mask: the skeleton drawn on a black copy of the whole frame (no crop).

    Kept only to re-create the seed pipeline as a speed baseline.
    """
    w, h = image_size
    canvas = np.zeros((h, w, 3), dtype=np.uint8)
    ipts = np.round(np.asarray(landmarks)[:, :2] * np.array([w, h])).astype(np.int32)
    for a, b in HAND_CONNECTIONS:
        color = PALM_COLOR if (a, b) in PALM_CONNECTIONS else _FINGER_EDGE_COLOR[(a, b)]
        cv2.line(canvas, tuple(ipts[a]), tuple(ipts[b]), color, 3)
    for j in range(len(ipts)):
        cv2.circle(canvas, tuple(ipts[j]), 4, _JOINT_COLOR[j], -1)
    return canvas


def draw_landmarks(frame: np.ndarray, hand: Hand) -> None:
    """Overlay the skeleton on a BGR frame, in place."""
    ipts = np.round(hand.pixel_landmarks()).astype(np.int32)
    for a, b in HAND_CONNECTIONS:
        color = PALM_COLOR if (a, b) in PALM_CONNECTIONS else _FINGER_EDGE_COLOR[(a, b)]
        cv2.line(frame, tuple(ipts[a]), tuple(ipts[b]), color, 2, cv2.LINE_AA)
    for j in range(len(ipts)):
        cv2.circle(frame, tuple(ipts[j]), 3, _JOINT_COLOR[j], -1, cv2.LINE_AA)


def annotate_frame(
    frame: np.ndarray,
    hands: Sequence[Hand],
    labels: Optional[Sequence[Optional[str]]] = None,
    confidences: Optional[Sequence[Optional[float]]] = None,
    color: Tuple[int, int, int] = (0, 200, 0),
) -> np.ndarray:
    """Draw each hand's box, its label and confidence in a filled box above it, and the skeleton.

    Draws in place and returns the frame.
    """
    for i, hand in enumerate(hands):
        draw_landmarks(frame, hand)
        x0, y0, x1, y1 = hand.box
        cv2.rectangle(frame, (x0, y0), (x1, y1), color, 2)
        label = labels[i] if labels is not None and i < len(labels) else None
        if label is None:
            continue
        conf = confidences[i] if confidences is not None and i < len(confidences) else None
        text = label if conf is None else f"{label} {conf:.0%}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)
        top = max(0, y0 - th - base - 6)
        cv2.rectangle(frame, (x0, top), (x0 + tw + 8, top + th + base + 6), color, -1)
        cv2.putText(frame, text, (x0 + 4, top + th + 3), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (255, 255, 255), 2, cv2.LINE_AA)
    return frame

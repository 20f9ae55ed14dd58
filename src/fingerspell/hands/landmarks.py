"""The Hand record and the landmark-vector features every vector model reads.

The vector is built once, here, for both training and live use:

* wrist-relative, in pixels (x * width, y * height, z * width) so that the aspect ratio is true;
* divided by the palm size (wrist and knuckle distances), which does not change with the
  finger pose the way a bounding box does;
* left hands mirrored into right-hand form;
* no rotation normalisation: orientation is what tells H from U, K from P and G from Q;
* plus fingertip-to-fingertip distances, thumb-tip-to-joint distances and the cosines of the
  finger joint angles, which make the shapes of unseen hands easier to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

NUM_LANDMARKS = 21
WRIST = 0
THUMB = (1, 2, 3, 4)
INDEX = (5, 6, 7, 8)
MIDDLE = (9, 10, 11, 12)
RING = (13, 14, 15, 16)
PINKY = (17, 18, 19, 20)
FINGERS = (THUMB, INDEX, MIDDLE, RING, PINKY)
TIPS = (4, 8, 12, 16, 20)

# The 21-point hand topology (the same edges as mediapipe.solutions.hands.HAND_CONNECTIONS).
PALM_CONNECTIONS: Tuple[Tuple[int, int], ...] = ((0, 1), (0, 5), (5, 9), (9, 13), (13, 17), (0, 17))
FINGER_CONNECTIONS: Tuple[Tuple[int, int], ...] = tuple(
    (a, b) for finger in FINGERS for a, b in zip(finger[:-1], finger[1:])
)
HAND_CONNECTIONS = PALM_CONNECTIONS + FINGER_CONNECTIONS

_TIP_PAIRS = tuple((a, b) for i, a in enumerate(TIPS) for b in TIPS[i + 1:])
_THUMB_TO_JOINTS = tuple((4, j) for finger in FINGERS[1:] for j in finger[:-1])
_ANGLE_TRIPLES = tuple(
    (chain[k - 1], chain[k], chain[k + 1])
    for chain in ((WRIST,) + finger for finger in FINGERS)
    for k in range(1, 4)
)
FEATURE_DIM = NUM_LANDMARKS * 3 + len(_TIP_PAIRS) + len(_THUMB_TO_JOINTS) + len(_ANGLE_TRIPLES)


@dataclass
class Hand:
    """One detected hand.

    landmarks: (21, 3) float32, x and y normalised to the image width and height, z relative depth
        (MediaPipe's scale, roughly that of x).
    world_landmarks: (21, 3) metres around the hand's centre, where the backend gives them.
    handedness: "Left" or "Right" as seen in a non-mirrored camera image.
    score: handedness / detection confidence.
    box: (x0, y0, x1, y1) pixel bounding box of the landmarks, clipped to the frame.
    image_size: (width, height) of the frame the landmarks refer to.
    second_landmarks: (21, 3) the same hand read on the mirrored frame and mirrored back
        (:mod:`fingerspell.hands.second_look`), where the detector was asked for a second look.
    """

    landmarks: np.ndarray
    handedness: str
    score: float
    box: Tuple[int, int, int, int]
    image_size: Tuple[int, int]
    world_landmarks: Optional[np.ndarray] = None
    second_landmarks: Optional[np.ndarray] = None

    @property
    def is_left(self) -> bool:
        return self.handedness == "Left"

    def pixel_landmarks(self) -> np.ndarray:
        """(21, 2) landmark positions in pixels."""
        w, h = self.image_size
        return self.landmarks[:, :2] * np.array([w, h], dtype=np.float32)


def landmark_box(landmarks: np.ndarray, image_size: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """Pixel bounding box of normalised landmarks, clipped to the image."""
    w, h = image_size
    xs = np.clip(landmarks[:, 0] * w, 0, w - 1)
    ys = np.clip(landmarks[:, 1] * h, 0, h - 1)
    return int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max()))


def cut_off(landmarks: np.ndarray) -> bool:
    """Whether part of the hand is outside the picture: a finger joint or tip (not the wrist or the
    thumb's base, which a hand close to the camera often leaves below the frame) lies beyond an
    edge, where MediaPipe can only guess it."""
    pts = np.asarray(landmarks)[2:, :2]
    return bool(np.any((pts < 0.0) | (pts > 1.0)))


def box_centre(box) -> Tuple[float, float]:
    """(x, y) centre of an (x0, y0, x1, y1) box."""
    x0, y0, x1, y1 = box
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0


def box_overlap(a, b) -> float:
    """Intersection of two (x0, y0, x1, y1) boxes over the smaller one's area (0 to 1)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h) / max(float(small), 1.0)


def one_per_hand(hands, within: float = 0.8, previous=()) -> list:
    """One box per hand: of boxes lying mostly (``within`` of the smaller one's area) one inside the
    other, only one is kept. MediaPipe asked for two hands sometimes keeps a second box on the one
    hand in view, smaller or larger, whose landmarks are a worse guess at the same fingers; the
    tracker would follow one box, then the other, and the reader would see the hand jump. Kept: the
    one nearest a hand of the ``previous`` frame (the same guess as before, so the hand does not
    jump), else the larger."""

    def rank(h) -> tuple:
        near = min((float(np.abs(h.landmarks[:, :2] - p.landmarks[:, :2]).mean()) for p in previous), default=0.0)
        return near, -(h.box[2] - h.box[0]) * (h.box[3] - h.box[1])

    kept: list = []
    for hand in sorted(hands, key=rank):
        if all(box_overlap(hand.box, k.box) < within for k in kept):
            kept.append(hand)
    return [h for h in hands if any(h is k for k in kept)]


def palm_size(points: np.ndarray) -> float:
    """Mean of the wrist-knuckle and knuckle-knuckle distances: steady across finger poses."""
    pairs = ((0, 5), (0, 9), (0, 17), (5, 17))
    return float(np.mean([np.linalg.norm(points[a] - points[b]) for a, b in pairs]))


def normalize_landmarks(
    landmarks: np.ndarray, image_size: Tuple[int, int], handedness: str = "Right"
) -> np.ndarray:
    """The model's landmark vector (FEATURE_DIM float32) from (21, 3) normalised landmarks."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(NUM_LANDMARKS, 3)
    w, h = image_size
    pts = lm * np.array([w, h, w], dtype=np.float64)
    pts = pts - pts[WRIST]
    if handedness == "Left":
        pts[:, 0] = -pts[:, 0]
    scale = palm_size(pts)
    if not np.isfinite(scale) or scale < 1e-6:
        return np.zeros(FEATURE_DIM, dtype=np.float32)
    pts = pts / scale
    return _vector_from_points(pts)


def _vector_from_points(pts: np.ndarray) -> np.ndarray:
    tip = [np.linalg.norm(pts[a] - pts[b]) for a, b in _TIP_PAIRS]
    thumb = [np.linalg.norm(pts[a] - pts[b]) for a, b in _THUMB_TO_JOINTS]
    cosines = []
    for a, b, c in _ANGLE_TRIPLES:
        u, v = pts[a] - pts[b], pts[c] - pts[b]
        denom = np.linalg.norm(u) * np.linalg.norm(v)
        cosines.append(float(np.dot(u, v) / denom) if denom > 1e-9 else 0.0)
    out = np.concatenate([pts.reshape(-1), tip, thumb, cosines]).astype(np.float32)
    return out


def points_from_vector(vector: np.ndarray) -> np.ndarray:
    """The (21, 3) normalised points at the head of a landmark vector (for augmentation)."""
    return np.asarray(vector[: NUM_LANDMARKS * 3], dtype=np.float64).reshape(NUM_LANDMARKS, 3)


def vector_from_points(points: np.ndarray) -> np.ndarray:
    """Rebuild a full vector from (already normalised) points: used after augmenting the points."""
    return _vector_from_points(np.asarray(points, dtype=np.float64))


def hand_vector(hand: Hand) -> np.ndarray:
    """The landmark vector of a detected hand."""
    return normalize_landmarks(hand.landmarks, hand.image_size, hand.handedness)

"""Training-time augmentation of landmark masks and landmark vectors (never applied before a split).

Pure numpy / OpenCV functions that take a ``np.random.Generator`` and a frozen
:class:`AugmentOptions`, so a seeded run is reproducible and nothing hides global state.

Masks: horizontal flip, one affine warp (scale, translation, a rotation of at most ``rotate_deg``;
never 90-degree turns, which would turn one letter into another) and a random crop resized back,
all with nearest-neighbour sampling so every pixel stays a palette colour of
:mod:`fingerspell.hands.render`; all-black (no hand) masks stay black.

Vectors: the 21 normalised points (:func:`points_from_vector`) are rotated in the image plane
around the wrist, scaled per axis, jittered per joint, each bone is lengthened or shortened along
the kinematic chain (its descendants move with it), and rarely mirrored (what a handedness
mistake of the detector does to a real vector); the points are then put back to unit palm size,
as :func:`normalize_landmarks` leaves every real hand, and the full vector is rebuilt with
:func:`vector_from_points`. Zero vectors (no hand) stay zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.hands.landmarks import (
    FEATURE_DIM,
    FINGERS,
    NUM_LANDMARKS,
    WRIST,
    palm_size,
    points_from_vector,
    vector_from_points,
)

# Parent of each landmark along the kinematic chain (the wrist has none).
PARENT: Tuple[int, ...] = tuple(
    [-1] + [WRIST if k == 0 else finger[k - 1] for finger in FINGERS for k in range(len(finger))]
)


@dataclass(frozen=True)
class AugmentOptions:
    """Augmentation strengths. Ranges are symmetric around no change unless given as (lo, hi)."""

    # masks
    flip_p: float = 0.5
    scale: Tuple[float, float] = (0.9, 1.1)
    translate: float = 0.08  # fraction of the mask side
    rotate_deg: float = 15.0
    crop_p: float = 0.5
    crop_min: float = 0.85  # smallest crop side, as a fraction of the mask side
    # vectors
    vector_rotate_deg: float = 15.0
    vector_scale: Tuple[float, float] = (0.9, 1.1)  # per axis; a uniform scale is undone by the palm size
    joint_jitter: float = 0.02  # standard deviation, in palm sizes
    bone_scale: float = 0.10  # each bone's length times U(1 - b, 1 + b)
    mirror_p: float = 0.05
    # A turn of the hand towards or away from the camera (about the vertical and horizontal axes,
    # using MediaPipe's depth): other signers hold the hand at other angles to their camera. Trained
    # on asl-alphabets + massey and tested on mon95 it lifted accuracy from about 74% to 79%.
    view_yaw_deg: float = 30.0
    view_pitch_deg: float = 20.0
    # Each finger joint bent or straightened by U(-f, f) degrees (descendants follow) and each
    # finger spread by U(-f/2, f/2) at its knuckle: how other signers shape the same letter.
    finger_flex_deg: float = 0.0
    renormalize: bool = True

    def __post_init__(self) -> None:
        for name in ("flip_p", "crop_p", "mirror_p"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise FingerspellError(f"AugmentOptions.{name} must be a probability in [0, 1]")
        for name in ("rotate_deg", "vector_rotate_deg", "view_yaw_deg", "view_pitch_deg", "finger_flex_deg"):
            if not 0.0 <= getattr(self, name) <= 45.0:
                raise FingerspellError(f"AugmentOptions.{name} must lie in [0, 45] degrees (15 is the default)")
        for name in ("scale", "vector_scale"):
            lo, hi = getattr(self, name)
            if not 0.0 < lo <= hi:
                raise FingerspellError(f"AugmentOptions.{name} must be (lo, hi) with 0 < lo <= hi")
        if not 0.0 < self.crop_min <= 1.0:
            raise FingerspellError("AugmentOptions.crop_min must lie in (0, 1]")
        if not 0.0 <= self.bone_scale < 1.0 or self.joint_jitter < 0 or not 0 <= self.translate < 0.5:
            raise FingerspellError("AugmentOptions: bone_scale in [0, 1), joint_jitter >= 0, translate in [0, 0.5)")


DEFAULT_OPTIONS = AugmentOptions()


# --- masks --------------------------------------------------------------------------------------

def augment_mask(mask: np.ndarray, rng: np.random.Generator, opts: AugmentOptions = DEFAULT_OPTIONS) -> np.ndarray:
    """One augmented copy of a (S, S, 3) uint8 mask; same shape, dtype and palette."""
    m = np.asarray(mask)
    if m.ndim != 3 or m.shape[0] != m.shape[1] or m.dtype != np.uint8:
        raise FingerspellError(f"augment_mask expects a (S, S, 3) uint8 mask, got {m.shape} {m.dtype}")
    if not m.any():
        return m.copy()
    size = m.shape[0]
    out = m[:, ::-1] if rng.random() < opts.flip_p else m
    angle = rng.uniform(-opts.rotate_deg, opts.rotate_deg)
    scale = rng.uniform(*opts.scale)
    tx, ty = rng.uniform(-opts.translate, opts.translate, size=2) * size
    centre = ((size - 1) / 2.0, (size - 1) / 2.0)
    mat = cv2.getRotationMatrix2D(centre, angle, scale)
    mat[:, 2] += (tx, ty)
    out = cv2.warpAffine(np.ascontiguousarray(out), mat, (size, size), flags=cv2.INTER_NEAREST,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    if rng.random() < opts.crop_p and opts.crop_min < 1.0:
        side = max(1, int(round(size * rng.uniform(opts.crop_min, 1.0))))
        x0, y0 = rng.integers(0, size - side + 1, size=2)
        out = cv2.resize(out[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(out, dtype=np.uint8)


def augment_masks(batch: np.ndarray, rng: np.random.Generator, opts: AugmentOptions = DEFAULT_OPTIONS) -> np.ndarray:
    """Augment each mask of an (N, S, S, 3) uint8 batch independently."""
    b = np.asarray(batch)
    if b.ndim != 4:
        raise FingerspellError(f"augment_masks expects an (N, S, S, 3) batch, got {b.shape}")
    out = np.empty_like(b)
    for i in range(b.shape[0]):
        out[i] = augment_mask(b[i], rng, opts)
    return out


# --- vectors ------------------------------------------------------------------------------------

def scale_bones(points: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Multiply each bone (landmark minus its parent) by ``factors[j]``; descendants follow.

    factors: (21,) with factors[WRIST] ignored. Points are rebuilt outward from the wrist, so
    lengthening a knuckle bone carries the whole finger with it.
    """
    pts = np.asarray(points, np.float64)
    out = pts.copy()
    for j in range(1, NUM_LANDMARKS):  # parents come before children in landmark order
        p = PARENT[j]
        out[j] = out[p] + factors[j] * (pts[j] - pts[p])
    return out


def _rotate_about(points: np.ndarray, centre: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate (N, K, 3) points about per-row axes (N, 3, unit) through ``centre`` (N, 3) (Rodrigues)."""
    v = points - centre[:, None]
    k = axis[:, None]
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    dot = np.sum(v * k, axis=-1, keepdims=True)
    return centre[:, None] + v * c + np.cross(k, v) * s + k * dot * (1 - c)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-9, n, 1.0)


def flex_fingers(points: np.ndarray, flex: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Bend (N, 21, 3) hands: ``flex`` (N, 5, 3) radians at each finger's three joints (about the axis
    across the bone, in the palm's plane), ``spread`` (N, 5) radians at each finger's first joint about
    the palm normal. Points beyond a joint turn with it; bone lengths are kept."""
    p = np.array(points, np.float64)
    normal = _unit(np.cross(p[:, 5] - p[:, WRIST], p[:, 17] - p[:, WRIST]))
    for f, finger in enumerate(FINGERS):
        finger = list(finger)
        p[:, finger[1:]] = _rotate_about(p[:, finger[1:]], p[:, finger[0]], normal, spread[:, f])
        for k in range(3):
            joint, rest = finger[k], finger[k + 1:]
            axis = _unit(np.cross(p[:, rest[0]] - p[:, joint], normal))
            p[:, rest] = _rotate_about(p[:, rest], p[:, joint], axis, flex[:, f, k])
    return p


def random_flex(points: np.ndarray, rng: np.random.Generator, degrees: float) -> np.ndarray:
    """:func:`flex_fingers` with flex U(-degrees, degrees) and spread U(-degrees/2, degrees/2)."""
    n = len(points)
    a = np.deg2rad(degrees)
    return flex_fingers(points, rng.uniform(-a, a, (n, 5, 3)), rng.uniform(-a / 2, a / 2, (n, 5)))


def augment_points(points: np.ndarray, rng: np.random.Generator, opts: AugmentOptions = DEFAULT_OPTIONS) -> np.ndarray:
    """Augment (21, 3) normalised points (wrist at the origin); returns new points."""
    pts = np.asarray(points, np.float64).reshape(NUM_LANDMARKS, 3) - np.asarray(points, np.float64)[WRIST]
    if opts.view_yaw_deg or opts.view_pitch_deg:
        a = np.deg2rad(rng.uniform(-opts.view_yaw_deg, opts.view_yaw_deg))
        b = np.deg2rad(rng.uniform(-opts.view_pitch_deg, opts.view_pitch_deg))
        yaw = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
        pitch = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(b), -np.sin(b)], [0.0, np.sin(b), np.cos(b)]])
        pts = pts @ (pitch @ yaw).T
    if opts.finger_flex_deg > 0:
        pts = random_flex(pts[None], rng, opts.finger_flex_deg)[0]
    if opts.bone_scale > 0:
        pts = scale_bones(pts, rng.uniform(1 - opts.bone_scale, 1 + opts.bone_scale, size=NUM_LANDMARKS))
    theta = np.deg2rad(rng.uniform(-opts.vector_rotate_deg, opts.vector_rotate_deg))
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    pts = pts @ rot.T
    pts = pts * rng.uniform(*opts.vector_scale, size=3)
    if opts.joint_jitter > 0:
        pts = pts + rng.normal(0.0, opts.joint_jitter, size=pts.shape)
    if rng.random() < opts.mirror_p:
        pts[:, 0] = -pts[:, 0]
    pts = pts - pts[WRIST]
    if opts.renormalize:
        size = palm_size(pts)
        if np.isfinite(size) and size > 1e-6:
            pts = pts / size
    return pts


def augment_vector(vector: np.ndarray, rng: np.random.Generator, opts: AugmentOptions = DEFAULT_OPTIONS) -> np.ndarray:
    """One augmented copy of a (FEATURE_DIM,) landmark vector; zero vectors stay zero."""
    v = np.asarray(vector, dtype=np.float32)
    if v.shape != (FEATURE_DIM,):
        raise FingerspellError(f"augment_vector expects a ({FEATURE_DIM},) vector, got {v.shape}")
    if not v.any():
        return v.copy()
    out = vector_from_points(augment_points(points_from_vector(v), rng, opts))
    if not np.all(np.isfinite(out)):
        return v.copy()
    return out.astype(np.float32)


def augment_vectors(batch: np.ndarray, rng: np.random.Generator,
                    opts: AugmentOptions = DEFAULT_OPTIONS) -> np.ndarray:
    """Augment each row of an (N, FEATURE_DIM) batch independently."""
    b = np.asarray(batch, dtype=np.float32)
    if b.ndim != 2:
        raise FingerspellError(f"augment_vectors expects an (N, {FEATURE_DIM}) batch, got {b.shape}")
    out = np.empty_like(b)
    for i in range(b.shape[0]):
        out[i] = augment_vector(b[i], rng, opts)
    return out


__all__ = [
    "AugmentOptions", "DEFAULT_OPTIONS", "PARENT", "augment_mask", "augment_masks", "augment_points",
    "augment_vector", "augment_vectors", "flex_fingers", "random_flex", "scale_bones",
]

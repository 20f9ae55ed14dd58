"""Hand shape apart from hand orientation: features in the palm's own frame plus the palm's pose.

The landmark vector of :mod:`fingerspell.hands.landmarks` keeps the hand as the camera sees it,
so one hand shape turned a little looks like another vector. Here the two are separated:

* **shape** (:func:`shape_features`): every landmark expressed in the palm's own frame, built
  from the wrist, the index knuckle (MCP, 5) and the pinky knuckle (MCP, 17), plus the
  fingertip distances, thumb-to-joint distances and joint-angle cosines (already invariant).
  Turning the hand in 3D does not change any of it.
* **orientation** (:func:`orientation_features`): the palm's normal and the direction it points
  (wrist to middle knuckle, made square to the normal), in the camera frame. They turn with the
  hand; they are what tells H from U, G from Q and K from P, whose shapes are alike.

Input points are those :func:`fingerspell.hands.landmarks.normalize_landmarks` makes (pixel-true
x, y, z, wrist at the origin, left hands mirrored to right-hand form, unit palm size): the first
63 numbers of today's vector, so stored datasets and augmented points feed straight in.

MediaPipe's world landmarks (metres, a metric depth) are used for the shape part where the
backend gives them (:func:`hand_shape_vector` with ``use_world=True``); the datasets do not
store them, so the shipped models read the image landmarks.

Everything is vectorised over a leading batch axis: ``(N, 21, 3) -> (N, D)``.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from fingerspell.hands.landmarks import (  # the same tip pairs, thumb joints and angles as the vector
    _ANGLE_TRIPLES,
    _THUMB_TO_JOINTS,
    _TIP_PAIRS,
    NUM_LANDMARKS,
    WRIST,
    Hand,
    normalize_landmarks,
    points_from_vector,
)

INDEX_MCP, MIDDLE_MCP, PINKY_MCP = 5, 9, 17

LOCAL_DIM = (NUM_LANDMARKS - 1) * 3          # landmarks 1..20 in the palm frame
INVARIANT_DIM = len(_TIP_PAIRS) + len(_THUMB_TO_JOINTS) + len(_ANGLE_TRIPLES)
SHAPE_DIM = LOCAL_DIM + INVARIANT_DIM        # 60 + 37 = 97
ORIENTATION_DIM = 6                          # palm normal (3) + pointing direction (3)
SHAPE_VECTOR_DIM = SHAPE_DIM + ORIENTATION_DIM
_EPS = 1e-9


def _batch(points: np.ndarray) -> Tuple[np.ndarray, bool]:
    p = np.asarray(points, dtype=np.float64)
    single = p.ndim == 2
    p = p.reshape(-1, NUM_LANDMARKS, 3)
    return p - p[:, WRIST:WRIST + 1], single


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > _EPS, v / np.maximum(n, _EPS), 0.0)


def palm_frame(points: np.ndarray) -> np.ndarray:
    """The palm's axes in the camera frame, as rows: (across, pointing, normal); (N, 3, 3) or (3, 3).

    normal = (index MCP - wrist) x (pinky MCP - wrist): out of the palm of a right hand (or of a
    mirrored left one); pointing = wrist -> middle MCP, made square to the normal; across =
    pointing x normal, towards the index side. Right-handed and orthonormal, so for any rotation
    R of the hand the frame becomes ``frame @ R.T``. A degenerate palm gives zero axes.
    """
    p, single = _batch(points)
    normal = _unit(np.cross(p[:, INDEX_MCP], p[:, PINKY_MCP]))
    mid = p[:, MIDDLE_MCP]
    pointing = _unit(mid - np.sum(mid * normal, axis=-1, keepdims=True) * normal)
    across = np.cross(pointing, normal)
    frame = np.stack([across, pointing, normal], axis=1)
    return frame[0] if single else frame


def _invariants(p: np.ndarray) -> np.ndarray:
    """Distances and joint-angle cosines (N, INVARIANT_DIM): unchanged by any rotation."""
    a, b = zip(*_TIP_PAIRS)
    tips = np.linalg.norm(p[:, a] - p[:, b], axis=-1)
    a, b = zip(*_THUMB_TO_JOINTS)
    thumb = np.linalg.norm(p[:, a] - p[:, b], axis=-1)
    a, b, c = (list(x) for x in zip(*_ANGLE_TRIPLES))
    u, v = p[:, a] - p[:, b], p[:, c] - p[:, b]
    den = np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1)
    cos = np.where(den > _EPS, np.sum(u * v, axis=-1) / np.maximum(den, _EPS), 0.0)
    return np.concatenate([tips, thumb, cos], axis=1)


def shape_features(points: np.ndarray) -> np.ndarray:
    """Rotation-invariant finger configuration (N, SHAPE_DIM): palm-frame landmarks + invariants."""
    p, single = _batch(points)
    frame = palm_frame(p)
    local = np.einsum("nij,nkj->nki", frame, p)[:, 1:].reshape(len(p), -1)
    out = np.concatenate([local, _invariants(p)], axis=1).astype(np.float32)
    return out[0] if single else out


def orientation_features(points: np.ndarray) -> np.ndarray:
    """The palm's normal and pointing direction in the camera frame (N, ORIENTATION_DIM)."""
    frame = palm_frame(points)
    f = frame.reshape(-1, 3, 3)
    out = np.concatenate([f[:, 2], f[:, 1]], axis=1).astype(np.float32)
    return out[0] if np.ndim(frame) == 2 else out


def shape_vector_from_points(points: np.ndarray, shape_points: np.ndarray = None) -> np.ndarray:
    """Shape (from ``shape_points``, default ``points``) followed by orientation (from ``points``)."""
    shape = shape_features(points if shape_points is None else shape_points)
    orient = orientation_features(points)
    return np.concatenate([shape, orient], axis=-1).astype(np.float32)


def shape_vector_from_vector(vectors: np.ndarray) -> np.ndarray:
    """The shape vector of stored landmark vectors (their first 63 numbers are the points)."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim == 1:
        return shape_vector_from_points(points_from_vector(v))
    return shape_vector_from_points(v[:, : NUM_LANDMARKS * 3].reshape(-1, NUM_LANDMARKS, 3))


PAIR_DIM = 6


def pair_features(points: np.ndarray) -> np.ndarray:
    """(N, PAIR_DIM) palm-frame quantities aimed at the hard pairs (benchmarks/hard_pairs.py), all
    rotation-invariant: index tip minus middle tip along the across axis (R crosses them, U does not);
    the thumb tip across, along and out of the palm (where the thumb sits: M/N/S/T/A/E); the index and
    middle tips out of the palm (curled or straight: X, G/H). Appended to today's landmark vector they
    gave the best leave-one-signer-out figures (docs/accuracy_features.md, variant ``base_pairs``)."""
    p, single = _batch(points)
    q = np.einsum("nij,nkj->nki", palm_frame(p), p)
    out = np.stack([q[:, 8, 0] - q[:, 12, 0], q[:, 4, 0], q[:, 4, 1], q[:, 4, 2], q[:, 8, 2], q[:, 12, 2]],
                   axis=1).astype(np.float32)
    return out[0] if single else out


def world_points(world_landmarks: np.ndarray, handedness: str = "Right") -> np.ndarray:
    """MediaPipe world landmarks (metres) in the same form as image points: wrist-relative,
    left hands mirrored, unit palm size."""
    from fingerspell.hands.landmarks import palm_size

    pts = np.asarray(world_landmarks, dtype=np.float64).reshape(NUM_LANDMARKS, 3).copy()
    pts -= pts[WRIST]
    if handedness == "Left":
        pts[:, 0] = -pts[:, 0]
    size = palm_size(pts)
    return pts / size if np.isfinite(size) and size > 1e-9 else np.zeros_like(pts)


def hand_shape_vector(hand: Hand, use_world: bool = False) -> np.ndarray:
    """(SHAPE_VECTOR_DIM,) shape + orientation of a detected hand.

    use_world: take the shape part from MediaPipe's world landmarks where the backend gave them.
    The orientation always comes from the image landmarks (the world frame is the model's guess).
    """
    points = points_from_vector(normalize_landmarks(hand.landmarks, hand.image_size, hand.handedness))
    shape_pts = None
    if use_world and hand.world_landmarks is not None:
        shape_pts = world_points(hand.world_landmarks, hand.handedness)
    return shape_vector_from_points(points, shape_pts)


__all__ = [
    "INVARIANT_DIM", "LOCAL_DIM", "ORIENTATION_DIM", "PAIR_DIM", "SHAPE_DIM", "SHAPE_VECTOR_DIM", "hand_shape_vector",
    "pair_features",
    "orientation_features", "palm_frame", "shape_features", "shape_vector_from_points",
    "shape_vector_from_vector", "world_points",
]

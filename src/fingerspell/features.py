"""The one place where a detected hand becomes model input, for training and live use alike.

Datasets store uint8 masks and float32 landmark vectors made by these functions; models read
them through :func:`masks_to_model_array` / :func:`vectors_to_model_array`. Nothing else may
preprocess model input, so a model sees at run time exactly what it saw in training.
"""

from __future__ import annotations

import numpy as np

from fingerspell.hands.landmarks import FEATURE_DIM, Hand, hand_vector, normalize_landmarks
from fingerspell.hands.render import DEFAULT_MASK_SIZE, render_hand_mask, render_mask

INPUT_KINDS = ("mask", "vector")
# Masks are scaled to [0, 1] and kept in BGR channel order, as rendered.
MASK_SCALE = 1.0 / 255.0

__all__ = [
    "DEFAULT_MASK_SIZE", "FEATURE_DIM", "INPUT_KINDS", "hand_mask", "hand_vector",
    "masks_to_model_array", "normalize_landmarks", "render_mask", "vectors_to_model_array",
]


def hand_mask(hand: Hand, size: int = DEFAULT_MASK_SIZE, mirror: bool = False) -> np.ndarray:
    """(size, size, 3) uint8 landmark mask of a detected hand."""
    return render_hand_mask(hand, size=size, mirror=mirror)


def masks_to_model_array(masks: np.ndarray) -> np.ndarray:
    """uint8 masks (N, H, W, 3) or (H, W, 3) -> float32 (N, 3, H, W) in [0, 1]."""
    m = np.asarray(masks)
    if m.ndim == 3:
        m = m[None]
    return np.ascontiguousarray(m.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(MASK_SCALE)


def vectors_to_model_array(vectors: np.ndarray) -> np.ndarray:
    """Landmark vectors (N, FEATURE_DIM) or (FEATURE_DIM,) -> float32 (N, FEATURE_DIM)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None]
    return np.ascontiguousarray(v)

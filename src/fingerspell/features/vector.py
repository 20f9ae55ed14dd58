"""Vector input: the normalised landmark vector of :mod:`fingerspell.hands.landmarks` (FEATURE_DIM
float32), read by the landmark MLP. The vector is already left/right normalised, so no mirror pass."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.features.base import ModelInput, check_parts
from fingerspell.hands.landmarks import FEATURE_DIM, Hand, hand_vector


def vectors_to_model_array(vectors: np.ndarray) -> np.ndarray:
    """Landmark vectors (N, FEATURE_DIM) or (FEATURE_DIM,) -> float32 (N, FEATURE_DIM)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None]
    return np.ascontiguousarray(v)


def _drop_masks(data):
    """Vector models never read masks: replace them by a 1-pixel stub to save memory."""
    out = data.subset(np.arange(len(data)))
    out.masks = np.zeros((len(data), 1, 1, 3), np.uint8)
    return out


class VectorInput(ModelInput):
    """Landmark vectors; the size is always FEATURE_DIM."""

    kind = "vector"
    dataset_field = "vectors"
    default_size = FEATURE_DIM

    def check_size(self, size: Optional[int]) -> Optional[int]:
        if size is not None and int(size) != FEATURE_DIM:
            raise FingerspellError(f"vector models read landmark vectors of length {FEATURE_DIM}, not {size}: "
                                   "drop --input-size")
        return FEATURE_DIM

    @property
    def shape(self) -> Tuple[int, ...]:
        return (FEATURE_DIM,)

    def from_hands(self, hands: Sequence[Hand]) -> np.ndarray:
        return np.stack([hand_vector(h) for h in hands])

    def to_model(self, raw: np.ndarray) -> np.ndarray:
        return vectors_to_model_array(raw)

    def augment(self, raw: np.ndarray, rng: np.random.Generator, options=None) -> np.ndarray:
        from fingerspell.data import augment as aug

        return aug.augment_vectors(raw, rng, options or aug.DEFAULT_OPTIONS)

    def example(self, batch: int = 2, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.standard_normal((batch,) + self.shape).astype(np.float32)

    def prepare(self, parts, names=None):
        check_parts(self, parts, names)
        from fingerspell.data.schema import DatasetArrays

        return DatasetArrays.concatenate([_drop_masks(p) for p in parts])

    def normalization(self) -> dict:
        return {"function": "fingerspell.features.vectors_to_model_array", "feature_dim": FEATURE_DIM,
                "layout": "NF"}

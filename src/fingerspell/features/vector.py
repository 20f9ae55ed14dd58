"""Vector input: the normalised landmark vector of :mod:`fingerspell.hands.landmarks` (FEATURE_DIM
float32), read by the landmark MLP. The vector is already left/right normalised, so no mirror pass;
but a hand the detector read twice (``Hand.second_landmarks``, the mirrored frame: hands/second_look.py)
is read from both readings, and its probabilities are their mean."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.features.base import ModelInput, check_parts
from fingerspell.hands.landmarks import FEATURE_DIM, Hand, hand_vector, normalize_landmarks


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

    def __init__(self, size: Optional[int] = None, second_look: bool = True, **options) -> None:
        super().__init__(size)
        self.second_look = bool(second_look)

    def from_hands(self, hands: Sequence[Hand]) -> np.ndarray:
        return np.stack([hand_vector(h) for h in hands])

    def batch_for_hands(self, hands: Sequence[Hand]) -> np.ndarray:
        """One row per hand; where any hand has a second reading, two per hand (the second reading,
        or the first again)."""
        first = self.from_hands(hands)
        if not (self.second_look and any(h.second_landmarks is not None for h in hands)):
            return self.to_model(first)
        second = [first[i] if h.second_landmarks is None else
                  normalize_landmarks(h.second_landmarks, h.image_size, h.handedness) for i, h in enumerate(hands)]
        return self.to_model(np.stack([first, np.stack(second)], axis=1).reshape(2 * len(hands), -1))

    def pick(self, probs: np.ndarray, n: int) -> List[Tuple[np.ndarray, bool]]:
        if n and len(probs) == 2 * n:  # two readings per hand
            return [(pair.mean(axis=0), False) for pair in probs.reshape(n, 2, -1)]
        return super().pick(probs, n)

    def dataset_probs(self, predict, data) -> np.ndarray:
        probs = predict(self.model_inputs(data))
        if self.second_look and data.has_second.any():
            other = predict(self.to_model(data.second_vectors))
            probs = np.where(data.has_second[:, None], (probs + other) / 2, probs)
        return probs

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

"""Mask input: the hand skeleton drawn on black (see :mod:`fingerspell.hands.render`), read by the CNNs.

Datasets store uint8 BGR masks (N, S, S, 3); the model reads float32 (N, 3, S, S) in [0, 1].
Live, each hand goes through the model twice, as drawn and mirrored (the drawing flipped
left-right), and the more confident reading is kept, so a left hand reads like a right one.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.features.base import ModelInput, check_parts
from fingerspell.hands.landmarks import Hand
from fingerspell.hands.render import DEFAULT_MASK_SIZE, render_hand_mask, render_mask

# Masks are scaled to [0, 1] and kept in BGR channel order, as rendered.
MASK_SCALE = 1.0 / 255.0
MIN_SIZE, MAX_SIZE = 8, 1024


def hand_mask(hand: Hand, size: int = DEFAULT_MASK_SIZE, mirror: bool = False) -> np.ndarray:
    """(size, size, 3) uint8 landmark mask of a detected hand."""
    return render_hand_mask(hand, size=size, mirror=mirror)


def masks_to_model_array(masks: np.ndarray) -> np.ndarray:
    """uint8 masks (N, H, W, 3) or (H, W, 3) -> float32 (N, 3, H, W) in [0, 1]."""
    m = np.asarray(masks)
    if m.ndim == 3:
        m = m[None]
    return np.ascontiguousarray(m.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(MASK_SCALE)


def rerender_masks(data, size: int):
    """The same dataset with masks re-drawn at ``size`` from the stored landmarks (no detection).

    no_hand rows stay black. Seed-style datasets have no landmarks and cannot be re-drawn.
    """
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise FingerspellError(f"mask size {size} is out of range: use {MIN_SIZE}..{MAX_SIZE}")
    has_hand = ~data.no_hand & np.any(data.landmarks != 0, axis=(1, 2))
    if len(data) and not has_hand.any() and not data.no_hand.all():
        raise FingerspellError("this dataset holds no landmarks (seed format?): rebuild it with build-dataset")
    masks = np.zeros((len(data), size, size, 3), np.uint8)
    for i in np.flatnonzero(has_hand):
        masks[i] = render_mask(data.landmarks[i], tuple(data.image_sizes[i]), size=int(size))
    return dataclasses.replace(data, masks=masks)  # the other arrays are shared, not copied


class MaskInput(ModelInput):
    """Landmark masks of side ``size`` (None: not fixed yet, e.g. "the dataset's size")."""

    kind = "mask"
    dataset_field = "masks"
    default_size = None

    def __init__(self, size: Optional[int] = None, mirror: bool = True, **options) -> None:
        super().__init__(size)
        self.mirror = bool(mirror)

    @property
    def shape(self) -> Tuple[int, ...]:
        size = DEFAULT_MASK_SIZE if self.size is None else self.size
        return (3, size, size)

    def dataset_size(self, data) -> Optional[int]:
        return int(data.mask_size) if self.size is None else self.size

    def from_hands(self, hands: Sequence[Hand]) -> np.ndarray:
        size = self.shape[1]
        return np.stack([hand_mask(h, size=size) for h in hands])

    def to_model(self, raw: np.ndarray) -> np.ndarray:
        return masks_to_model_array(raw)

    def augment(self, raw: np.ndarray, rng: np.random.Generator, options=None) -> np.ndarray:
        from fingerspell.data import augment as aug

        return aug.augment_masks(raw, rng, options or aug.DEFAULT_OPTIONS)

    def example(self, batch: int = 2, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.random((batch,) + self.shape, dtype=np.float32)

    def batch_for_hands(self, hands: Sequence[Hand]) -> np.ndarray:
        """Each hand's mask, then (with ``mirror``) the same mask flipped left-right."""
        masks = []
        for mask in self.from_hands(hands):
            masks.append(mask)
            if self.mirror:
                masks.append(mask[:, ::-1])  # what render_mask(mirror=True) draws, without drawing twice
        return self.to_model(np.stack(masks))

    def pick(self, probs: np.ndarray, n: int) -> List[Tuple[np.ndarray, bool]]:
        """Per hand the more confident of its two readings, and whether that was the mirrored one."""
        if not self.mirror:
            return super().pick(probs, n)
        out = []
        for pair in probs.reshape(n, 2, -1):
            k = int(np.argmax(pair.max(axis=1)))
            out.append((pair[k], k == 1))
        return out

    def prepare(self, parts, names=None):
        """Masks at this size (default: the first part's), re-drawn from landmarks where they differ."""
        check_parts(self, parts, names)
        from fingerspell.data.schema import DatasetArrays

        size = int(self.size or parts[0].mask_size)
        return DatasetArrays.concatenate([p if p.mask_size == size else rerender_masks(p, size) for p in parts])

    def normalization(self) -> dict:
        return {"function": "fingerspell.features.masks_to_model_array", "dtype": "uint8",
                "scale": MASK_SCALE, "channel_order": "BGR", "layout": "NCHW"}

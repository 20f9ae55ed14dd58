"""The one place where a detected hand becomes model input, for training and live use alike.

Each input kind is one object (:class:`MaskInput`, :class:`VectorInput`; see
:class:`~fingerspell.features.base.ModelInput` for what every kind provides). Models name their
kind in their spec and card; :func:`input_for` gives the object for a card or a kind name.
Datasets store the raw rows these objects make; nothing else preprocesses model input, so a model
sees at run time exactly what it saw in training.

A new input kind: a ``ModelInput`` subclass in its own module here, added with
:func:`register_input` below; then a model spec naming its ``kind``.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Type, Union

from fingerspell.errors import FingerspellError
from fingerspell.features.base import ModelInput
from fingerspell.features.mask import MASK_SCALE, MaskInput, hand_mask, masks_to_model_array, rerender_masks
from fingerspell.features.vector import VectorInput, vectors_to_model_array
from fingerspell.hands.landmarks import FEATURE_DIM, hand_vector, normalize_landmarks
from fingerspell.hands.render import DEFAULT_MASK_SIZE, render_mask

_KINDS: Dict[str, Type[ModelInput]] = {}


def register_input(cls: Type[ModelInput]) -> Type[ModelInput]:
    """Make an input kind known to :func:`input_for` under ``cls.kind``."""
    _KINDS[cls.kind] = cls
    return cls


register_input(MaskInput)
register_input(VectorInput)


def input_kinds() -> tuple:
    """The known kind names, e.g. ("mask", "vector")."""
    return tuple(_KINDS)


def input_for(card_or_kind: Union[str, Mapping, ModelInput], size: Optional[int] = None,
              **options) -> ModelInput:
    """The input object for a model card (its ``input_kind`` and ``input_size``) or a kind name.

    ``size`` overrides the card's size; ``options`` go to the kind (e.g. ``mirror=False`` for masks).
    """
    if isinstance(card_or_kind, ModelInput):
        return card_or_kind
    if isinstance(card_or_kind, Mapping):
        kind = card_or_kind.get("input_kind")
        size = card_or_kind.get("input_size") if size is None else size
    else:
        kind = card_or_kind
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise FingerspellError(f"model input kind {kind!r} is unknown: use one of {', '.join(_KINDS)}")
    return cls(size, **options)


__all__ = [
    "DEFAULT_MASK_SIZE", "FEATURE_DIM", "MASK_SCALE", "MaskInput", "ModelInput", "VectorInput",
    "hand_mask", "hand_vector", "input_for", "input_kinds", "masks_to_model_array", "normalize_landmarks",
    "register_input", "render_mask", "rerender_masks", "vectors_to_model_array",
]


def input_signature(card: Mapping) -> dict:
    """What a model reads, as a calibration profile records it: ``{"kind", "shape", "normalization"}``."""
    inp = input_for(card)
    return {"kind": inp.kind, "shape": list(inp.shape), "normalization": inp.normalization()}

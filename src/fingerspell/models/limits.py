"""Sane limits for a model card, checked before anything is built or allocated.

A damaged or hostile card (``"hidden": [100000000000]``) would otherwise make PyTorch try to
allocate hundreds of gigabytes. Every number in the card's ``input_size``, ``classes`` and
``build_kwargs`` is checked against the limits below, and the model is then built on PyTorch's
``meta`` device (shapes only, no memory) to count its parameters before the real build.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Union

from fingerspell.errors import FingerspellError

MAX_INPUT_SIZE = 1024          # mask side in pixels, or landmark features
MAX_CLASSES = 1000
MAX_LAYER_SIZE = 1 << 16       # any one width, channel count or unit count
MAX_LIST_LENGTH = 64           # layers in one list
MAX_ABS_FLOAT = 1e6
MAX_PARAMETERS = 200_000_000   # 0.8 GB of float32 weights; the shipped models have < 3 M


def _fail(name: Union[str, Path], what: str) -> FingerspellError:
    return FingerspellError(f"model card {name}: {what}; the card is damaged or not fingerspell's: "
                            "re-save the checkpoint (or copy the pair again)")


def _check_value(name: Union[str, Path], key: str, value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not 0 <= value <= MAX_LAYER_SIZE:
            raise _fail(name, f"build_kwargs {key}={value} is outside the sane range 0..{MAX_LAYER_SIZE}")
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_ABS_FLOAT:
            raise _fail(name, f"build_kwargs {key}={value} is not a sane number")
    elif isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST_LENGTH:
            raise _fail(name, f"build_kwargs {key} lists {len(value)} items, more than {MAX_LIST_LENGTH}")
        for i, v in enumerate(value):
            _check_value(name, f"{key}[{i}]", v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_value(name, f"{key}.{k}", v)
    else:
        raise _fail(name, f"build_kwargs {key} has a {type(value).__name__}")


def check_card_limits(card: dict, name: Union[str, Path] = "card") -> None:
    """Refuse sizes no sane model has, without allocating anything."""
    size = card.get("input_size")
    if isinstance(size, int) and not isinstance(size, bool) and not 1 <= size <= MAX_INPUT_SIZE:
        raise _fail(name, f"input_size {size} is outside the sane range 1..{MAX_INPUT_SIZE}")
    classes = card.get("classes")
    if isinstance(classes, list) and len(classes) > MAX_CLASSES:
        raise _fail(name, f"it lists {len(classes)} classes, more than {MAX_CLASSES}")
    kwargs = card.get("build_kwargs") or {}
    if isinstance(kwargs, dict):
        for key, value in kwargs.items():
            _check_value(name, str(key), value)


def check_parameter_budget(build, name: Union[str, Path] = "card") -> int:
    """Count the parameters of ``build()`` on the meta device; refuse more than :data:`MAX_PARAMETERS`."""
    import torch

    with torch.device("meta"):
        model = build()
    n = sum(p.numel() for p in model.parameters())
    if n > MAX_PARAMETERS:
        raise _fail(name, f"it describes a model of {n:,} parameters, more than the limit {MAX_PARAMETERS:,}")
    return n


CHECKPOINT_SUFFIXES = (".safetensors", ".json", ".onnx")


def foreign_model_file(path: Union[str, Path]) -> Optional[FingerspellError]:
    """What is wrong with a model path that exists but is no checkpoint (a ``.pth``, a folder), or None."""
    p = Path(path)
    if p.is_dir():
        return FingerspellError(f"{p} is a folder, not a checkpoint: give runs/<name>/best (the .safetensors "
                                "+ .json pair written by fingerspell train), a .onnx file or a shipped model name")
    if p.is_file() and p.suffix not in CHECKPOINT_SUFFIXES:
        return FingerspellError(
            f"{p} exists but is a {p.suffix or 'suffix-less'} file, not a fingerspell checkpoint (<name>.safetensors "
            "with its <name>.json card): fingerspell never unpickles models; to start from a PyTorch state dict "
            f"use 'fingerspell train --init-from {p}', then use the checkpoint it writes")
    return None

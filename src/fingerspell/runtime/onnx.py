"""Export a checkpoint to ONNX (dynamic batch axis) for onnxruntime.

The exported graph maps exactly the checkpoint's input (what its
:func:`fingerspell.features.input_for` object's ``to_model`` makes) to logits; the softmax is applied by the
:class:`~fingerspell.runtime.classifier.OnnxClassifier`, as for PyTorch. The model card is copied
beside the ``.onnx`` file as ``<name>.json`` so the file alone is enough to run it.

PyTorch's default exporter (``dynamo=True``) needs onnxscript, which mediapipe's protobuf pin
keeps out; the TorchScript exporter is used (opset 17), which covers every model here.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Optional, Union

import numpy as np

from fingerspell.cache import cache_dir as _cache_dir
from fingerspell.errors import FingerspellError
from fingerspell.features import input_for
from fingerspell.fileio import write_together
from fingerspell.models.checkpoint import checkpoint_paths, resolve_model

PathLike = Union[str, Path]
DEFAULT_OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


def example_input(card: dict, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A random model-input batch of the card's kind and size (float32)."""
    return input_for(card).example(batch, seed)


def default_cache_dir() -> Path:
    return _cache_dir("onnx")


def _onnx_bytes(model, card: dict, opset: int) -> bytes:
    import io

    import torch

    dummy = torch.from_numpy(example_input(card, batch=2))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        torch.onnx.export(
            model, (dummy,), buf, dynamo=False, opset_version=int(opset), input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            do_constant_folding=True,
        )
    data = buf.getvalue()
    import onnx

    try:
        onnx.checker.check_model(onnx.load_from_string(data))
    except Exception as exc:  # onnx.checker.ValidationError and friends
        raise FingerspellError(f"the exported {card.get('architecture')} graph is not valid ONNX: {exc}") from None
    return data


def export_onnx(
    checkpoint: PathLike,
    out: Optional[PathLike] = None,
    opset: int = DEFAULT_OPSET,
    overwrite: bool = False,
) -> Path:
    """Export ``checkpoint`` (path or shipped name) to ``out`` and copy its card beside it.

    ``out`` may be a ``.onnx`` path or a folder (then ``<folder>/<name>.onnx``); by default the
    file goes next to the checkpoint. Refuses to replace existing files unless ``overwrite``.
    """
    if opset < 13:
        raise FingerspellError(f"opset {opset} is too old: use 13 or newer")
    ref = resolve_model(checkpoint)
    if ref.is_onnx:
        raise FingerspellError(f"{ref.path} is already an ONNX file: give the .safetensors checkpoint")
    base = ref.path
    if out is None:
        target = base.with_name(base.name + ".onnx")
    else:
        target = Path(out)
        if target.is_dir() or str(out).endswith(os.sep):
            target = target / (base.name + ".onnx")
        elif target.suffix != ".onnx":
            raise FingerspellError(f"--out {target} must end in .onnx (or be a folder)")
    card_target = target.with_suffix(".json")
    model, card = ref.load()
    card_text = json.dumps(card, indent=2) + "\n"
    if not overwrite:
        if target.exists():
            raise FingerspellError(f"{target} exists: pass --overwrite to replace it, or choose another --out")
        if card_target.exists() and card_target.resolve() != base.with_name(base.name + ".json").resolve():
            try:
                same = json.loads(card_target.read_text(encoding="utf-8")) == card
            except (OSError, ValueError):
                same = False
            if not same:
                raise FingerspellError(f"{card_target} exists with another model's card: pass --overwrite "
                                       "or choose another --out")
    data = _onnx_bytes(model, card, opset)
    outputs = {target: data}  # the .onnx and its card appear together or not at all (full disk, Ctrl-C)
    if not card_target.exists() or card_target.resolve() != base.with_name(base.name + ".json").resolve():
        outputs[card_target] = card_text.encode()
    write_together(outputs)
    return target


def cached_onnx(checkpoint: PathLike, cache_dir: Optional[PathLike] = None, opset: int = DEFAULT_OPSET) -> Path:
    """The ONNX export of a checkpoint in the cache, exported on first use.

    The cache key hashes the weights and the card, so a retrained checkpoint is exported again.
    """
    weights, card_path = checkpoint_paths(checkpoint)
    if not weights.is_file() or not card_path.is_file():
        raise FingerspellError(f"checkpoint {weights} (with {card_path.name}) not found: give a checkpoint "
                               "written by fingerspell train")
    h = hashlib.sha256()
    h.update(weights.read_bytes())
    h.update(card_path.read_bytes())
    h.update(f"opset{opset}".encode())
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    target = root / f"{weights.stem}-{h.hexdigest()[:16]}.onnx"
    if target.is_file() and target.with_suffix(".json").is_file():
        return target
    return export_onnx(weights.with_suffix(""), target, opset=opset, overwrite=True)

"""Weights as tensors: safetensors files, foreign state dicts (torchvision, seed ``.pth``) and
copying matching tensors into a model.

Nothing here unpickles: weights load through safetensors, and ``.pth`` files only through
``torch.load(weights_only=True)``. Model cards and checkpoints live in
:mod:`fingerspell.models.checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import torch
from torch import nn

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside DistributedDataParallel / DataParallel."""
    return getattr(model, "module", model)


def final_linear(model: nn.Module) -> Optional[nn.Linear]:
    """The linear layer whose outputs are the class scores: the model's own ``final_linear()`` where it
    has one (LandmarkMLP with an R/U/V expert, whose layer comes last), else its last ``nn.Linear``."""
    model = unwrap(model)
    if hasattr(model, "final_linear"):
        return model.final_linear()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def load_safetensors(path: Path) -> Dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # SafetensorError, header JSON errors, truncated files
        raise FingerspellError(
            f"{path} is not a readable safetensors file ({type(exc).__name__}: {exc}); it is truncated or "
            "corrupt: copy it again or retrain"
        ) from None


def read_state_dict(path: PathLike) -> Dict[str, torch.Tensor]:
    """Tensors from a safetensors file or a ``torch.save``d state dict (weights_only: no pickles run).

    Wrappers such as ``{"state_dict": ...}`` and DDP's ``module.`` prefix are removed.
    """
    p = Path(path)
    if not p.is_file():
        raise FingerspellError(f"weights file {p} does not exist: give the path of a .safetensors or .pth file")
    if p.suffix == ".safetensors":
        state = load_safetensors(p)
    else:
        try:
            state = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # UnpicklingError for pickled objects, RuntimeError for garbage
            raise FingerspellError(
                f"{p} is not a plain tensor state dict ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                "only weights-only .pth files or .safetensors load: re-save it with "
                "torch.save(model.state_dict(), path)"
            ) from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FingerspellError(f"{p} does not hold a state dict of tensors: re-save it with model.state_dict()")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def load_backbone_state(model: nn.Module, state: Dict[str, torch.Tensor], source: str = "weights") -> int:
    """Copy a torchvision state dict's backbone tensors into the model; the head stays new.

    Every backbone tensor must be present with the right shape, so a file for another architecture
    gives a clear error instead of a half-loaded network. Returns the number of tensors loaded.
    """
    m = unwrap(model)
    prefixes = getattr(m, "backbone_prefixes", ())
    name = m.fingerspell_build["architecture"]
    if not prefixes:
        raise FingerspellError(f"model {name} has no pretrained backbone: drop --pretrained/--pretrained-path")
    own = {k: v for k, v in m.state_dict().items() if k.startswith(tuple(prefixes))}
    missing = [k for k in own if k not in state]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or wrong:
        example = (missing or wrong)[0]
        raise FingerspellError(
            f"{source} does not hold torchvision {name} backbone weights: {len(missing)} tensors missing and "
            f"{len(wrong)} of the wrong shape (e.g. {example}); give the {name} ImageNet file to --pretrained-path"
        )
    with torch.no_grad():
        for k, v in own.items():
            v.copy_(state[k].to(v.dtype))
    return len(own)


def load_matching_weights(model: nn.Module, state: Dict[str, torch.Tensor]) -> Tuple[int, int]:
    """Copy every tensor whose name (after dropping leading name parts) and shape match.

    For ``--init-from`` and seed ``.pth`` files whose wrapper names differ (``mobilenet.features.0...``).
    Returns (loaded, total in model); raises when nothing matches.
    """
    own = unwrap(model).state_dict()
    by_name: Dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        parts = key.split(".")
        for i in range(len(parts)):
            cand = ".".join(parts[i:])
            if cand in own and cand not in by_name and tuple(own[cand].shape) == tuple(tensor.shape):
                by_name[cand] = tensor
                break
    if not by_name:
        raise FingerspellError(
            "no tensor in the given weights matches this model by name and shape: it was saved from "
            "another architecture; pick the matching --model"
        )
    with torch.no_grad():
        for k, v in by_name.items():
            own[k].copy_(v.to(own[k].dtype))
    return len(by_name), len(own)

"""Every model by name: its spec (factory, input kind, usual size, ImageNet weights) and
:func:`build_model`.

A new model: a module in this package with an ``nn.Module`` taking ``(num_classes, input_size=...)``,
and one :class:`ModelSpec` line in :data:`SPECS` naming the input kind it reads. Checkpoints and cards
are in :mod:`fingerspell.models.checkpoint`, foreign weights in :mod:`fingerspell.models.weights`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

import torch
from torch import nn

from fingerspell.errors import FingerspellError
from fingerspell.features import input_for
from fingerspell.hands.landmarks import FEATURE_DIM
from fingerspell.models.cnn import CustomCNN
from fingerspell.models.landmark_mlp import LandmarkMLP
from fingerspell.models.mobilenet import CustomMobileNetV2
from fingerspell.models.resnet import CustomResNet18
from fingerspell.models.weights import load_backbone_state, read_state_dict, unwrap

MODEL_NAMES = ("cnn", "mobilenetv2", "resnet18", "landmark_mlp")
PathLike = Union[str, Path]


def _mobilenet_weights():
    from torchvision.models import MobileNet_V2_Weights

    return MobileNet_V2_Weights.DEFAULT


def _resnet_weights():
    from torchvision.models import ResNet18_Weights

    return ResNet18_Weights.DEFAULT


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one architecture; ``input_kind`` names a :mod:`fingerspell.features` kind."""

    name: str
    factory: Callable[..., nn.Module]
    input_kind: str
    default_input_size: int
    imagenet_weights: Optional[Callable[[], Any]] = None


SPECS: Dict[str, ModelSpec] = {
    "cnn": ModelSpec("cnn", CustomCNN, "mask", 64),  # 4-block attention CNN, from scratch
    "mobilenetv2": ModelSpec("mobilenetv2", CustomMobileNetV2, "mask", 96, _mobilenet_weights),
    "resnet18": ModelSpec("resnet18", CustomResNet18, "mask", 96, _resnet_weights),
    "landmark_mlp": ModelSpec("landmark_mlp", LandmarkMLP, "vector", FEATURE_DIM),
}


def model_spec(name: str) -> ModelSpec:
    """The spec of a model name, or a clear error listing the names."""
    if name not in SPECS:
        raise FingerspellError(f"unknown model {name!r}: use one of {', '.join(MODEL_NAMES)}")
    return SPECS[name]


def input_kind(name: str) -> str:
    """The name of the input kind the model reads ("mask", "vector"); see :func:`fingerspell.features.input_for`."""
    return model_spec(name).input_kind


def default_input_size(name: str) -> int:
    return model_spec(name).default_input_size


def normalization_for(kind: str) -> dict:
    """How raw dataset rows become model input; recorded in every model card."""
    return input_for(kind).normalization()


def jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def build_model(
    name: str,
    num_classes: int,
    input_size: Optional[int] = None,
    *,
    pretrained: bool = False,
    pretrained_path: Optional[PathLike] = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a model by name. ``input_size`` defaults to the model's usual size (masks) or FEATURE_DIM.

    ``pretrained`` loads torchvision's ImageNet weights into the backbone (needs internet or a filled
    torch hub cache); ``pretrained_path`` loads them from a local state-dict file instead.
    The build arguments are kept on the model (``model.fingerspell_build``) for its checkpoint card.
    """
    spec = model_spec(name)
    if num_classes < 2:
        raise FingerspellError(f"a classifier needs at least 2 classes, got {num_classes}")
    size = spec.default_input_size if input_size is None else int(input_size)
    try:
        input_for(spec.input_kind, size)
    except FingerspellError as exc:
        raise FingerspellError(f"model {name}: {exc}") from None
    try:
        model = spec.factory(num_classes, input_size=size, **kwargs)
    except (TypeError, ValueError) as exc:
        raise FingerspellError(f"cannot build model {name} with input size {size} and {kwargs}: {exc}") from None
    model.fingerspell_build = {
        "architecture": name, "num_classes": int(num_classes), "input_size": size,
        "input_kind": spec.input_kind, "kwargs": jsonable(kwargs),
    }
    if pretrained and pretrained_path:
        raise FingerspellError("give either --pretrained or --pretrained-path, not both")
    if pretrained:
        load_imagenet_weights(model)
    elif pretrained_path:
        load_backbone_file(model, pretrained_path)
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in unwrap(model).parameters() if p.requires_grad or not trainable_only)



# --- ImageNet backbones ---------------------------------------------------------------------------

def load_imagenet_weights(model: nn.Module) -> int:
    """Load torchvision's ImageNet weights (``*_Weights.DEFAULT``) into the model's backbone."""
    name = model.fingerspell_build["architecture"]
    spec = model_spec(name)
    if spec.imagenet_weights is None:
        raise FingerspellError(f"model {name} has no ImageNet weights: drop --pretrained (it trains from scratch)")
    weights = spec.imagenet_weights()
    try:
        state = weights.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:  # URLError, hash mismatch, corrupt cache file: all mean "cannot get them"
        hub = Path(torch.hub.get_dir()) / "checkpoints"
        raise FingerspellError(
            f"cannot get ImageNet weights for {name} ({type(exc).__name__}: {exc}); offline, download "
            f"{weights.url} elsewhere and pass it with --pretrained-path FILE (or put it in {hub})"
        ) from None
    return load_backbone_state(model, state, source=weights.url)


def load_backbone_file(model: nn.Module, path: PathLike) -> int:
    """``--pretrained-path``: a torchvision state dict file into the backbone."""
    return load_backbone_state(model, read_state_dict(path), source=str(path))


__all__ = [
    "MODEL_NAMES", "SPECS", "ModelSpec", "build_model", "count_parameters", "default_input_size", "input_kind",
    "jsonable", "load_backbone_file", "load_imagenet_weights", "model_spec", "normalization_for", "read_state_dict",
    "unwrap",
]

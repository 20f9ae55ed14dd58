"""The classifiers: attention CNNs over landmark masks and an MLP over landmark vectors.

Build them by name through :func:`fingerspell.models.registry.build_model`; save, load and name
them with :mod:`fingerspell.models.checkpoint` (safetensors weights + a JSON model card,
:func:`~fingerspell.models.checkpoint.resolve_model`).
"""

from fingerspell.models.attention import ChannelAttention
from fingerspell.models.checkpoint import (
    import_seed_checkpoint,
    load_checkpoint,
    make_card,
    read_card,
    resolve_model,
    save_checkpoint,
)
from fingerspell.models.cnn import CustomCNN
from fingerspell.models.landmark_mlp import LandmarkMLP
from fingerspell.models.mobilenet import CustomMobileNetV2
from fingerspell.models.registry import MODEL_NAMES, build_model, count_parameters, input_kind
from fingerspell.models.resnet import CustomResNet18

__all__ = [
    "MODEL_NAMES", "ChannelAttention", "CustomCNN", "CustomMobileNetV2", "CustomResNet18", "LandmarkMLP",
    "build_model", "count_parameters", "import_seed_checkpoint", "input_kind", "load_checkpoint",
    "make_card", "read_card", "resolve_model", "save_checkpoint",
]

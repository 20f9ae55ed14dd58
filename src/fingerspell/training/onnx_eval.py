"""Evaluate an exported ``.onnx`` model like a checkpoint: onnxruntime behind the ``nn.Module``
call that :func:`fingerspell.training.evaluate.predict` makes (``fingerspell evaluate --checkpoint
m.onnx``). The module returns log-probabilities, whose softmax is onnxruntime's probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Tuple, Union

import numpy as np
import torch
from torch import nn


class OnnxModule(nn.Module):
    """An onnxruntime session that takes and returns torch tensors (CPU, no gradients)."""

    def __init__(self, classifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = self.classifier.predict_proba(x.detach().cpu().numpy())
        return torch.from_numpy(np.log(np.clip(probs, 1e-12, None)).astype(np.float32))


def onnx_module(path: Union[str, Path]) -> Tuple[OnnxModule, dict]:
    """(module, model card) for an exported ``.onnx`` file with its card beside it."""
    from fingerspell.models.checkpoint import read_model_card
    from fingerspell.runtime.classifier import OnnxClassifier

    card = read_model_card(path)
    return OnnxModule(OnnxClassifier(path, card)), card

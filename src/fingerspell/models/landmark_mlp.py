"""LandmarkMLP: a small classifier over normalised landmark vectors."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from fingerspell.hands.landmarks import FEATURE_DIM


class LandmarkMLP(nn.Module):
    """BatchNorm over the input features (they mix coordinates, distances and cosines, whose
    scales differ), then hidden layers of Linear -> BatchNorm -> ReLU -> Dropout, then class scores.

    About 64k parameters at the defaults: cheap enough to run every frame on any CPU.
    """

    input_kind = "vector"

    def __init__(
        self,
        num_classes: int,
        input_size: int = FEATURE_DIM,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.input_size = int(input_size)
        layers: list = [nn.BatchNorm1d(input_size)]
        prev = input_size
        for units in hidden:
            layers += [nn.Linear(prev, units), nn.BatchNorm1d(units), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            prev = units
        layers.append(nn.Linear(prev, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def backbone_stages(self) -> list:
        """No pretrained backbone: nothing to freeze."""
        return []

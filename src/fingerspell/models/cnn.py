"""CustomCNN: a small attention CNN for landmark masks, trained from scratch."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from fingerspell.models.attention import ChannelAttention

MIN_INPUT_SIZE = 16  # four 2x2 max-pools


class CustomCNN(nn.Module):
    """Four conv blocks (3x3 conv, BatchNorm, ReLU, 2x2 max-pool, channel attention, dropout), then
    adaptive average pooling to ``pool_size`` x ``pool_size`` and fully connected layers with dropout.

    The adaptive pool makes the flatten size independent of the input size (the seed's CNN had it
    hard-coded and only ran at 224 pixels), so the same class serves 32-, 64-, 96- or 224-pixel masks.
    """

    input_kind = "mask"

    def __init__(
        self,
        num_classes: int,
        input_size: int = 64,
        channels: Sequence[int] = (32, 64, 128, 256),
        dropout: float = 0.25,
        fc_units: Sequence[int] = (256,),
        fc_dropout: float = 0.5,
        pool_size: int = 2,
        attention_ratio: int = 8,
    ) -> None:
        super().__init__()
        if input_size < MIN_INPUT_SIZE:
            raise ValueError(f"CustomCNN needs input_size >= {MIN_INPUT_SIZE}, got {input_size}")
        if len(channels) != 4:
            raise ValueError(f"CustomCNN has four conv blocks: give four channel counts, not {list(channels)}")
        self.input_size = int(input_size)
        blocks = []
        prev = 3
        for ch in channels:
            blocks.append(nn.Sequential(
                nn.Conv2d(prev, ch, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(ch),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                ChannelAttention(ch, attention_ratio),
                nn.Dropout(dropout),
            ))
            prev = ch
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        head = [nn.Flatten()]
        width = prev * pool_size * pool_size
        for units in fc_units:
            head += [nn.Linear(width, units), nn.ReLU(inplace=True), nn.Dropout(fc_dropout)]
            width = units
        head.append(nn.Linear(width, num_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.blocks(x)))

    def backbone_stages(self) -> list:
        """The conv blocks, bottom to top (what ``--freeze-backbone`` freezes)."""
        return list(self.blocks)

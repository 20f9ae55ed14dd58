"""Channel attention (squeeze-and-excitation style), shared by the CNNs."""

from __future__ import annotations

import torch
from torch import nn


class ChannelAttention(nn.Module):
    """Re-weight feature channels by a gate computed from their global average.

    Adaptive average pool -> 1x1 conv down by ``ratio`` -> ReLU -> 1x1 conv back -> sigmoid, and the
    input is multiplied by the gate. It lets the network stress the channels that carry the
    finger/colour cues of the current sign at the cost of a few thousand parameters.
    """

    def __init__(self, channels: int, ratio: int = 8) -> None:
        super().__init__()
        if channels < 1 or ratio < 1:
            raise ValueError(f"ChannelAttention needs channels >= 1 and ratio >= 1, got {channels}, {ratio}")
        hidden = max(1, channels // ratio)
        self.channels = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, hidden, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(hidden, channels, kernel_size=1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))
        return x * w

    def extra_repr(self) -> str:
        return f"channels={self.channels}"

"""CustomResNet18: torchvision's ResNet18 with channel attention and a new head."""

from __future__ import annotations

import torch
from torch import nn

from fingerspell.models.attention import ChannelAttention


class CustomResNet18(nn.Module):
    """ResNet18 with channel attention after the stem (64 ch) and after layers 2, 3 and 4
    (128, 256, 512 ch); global average pooling; Linear -> ReLU -> Dropout(0.5) -> Linear.

    The backbone modules keep torchvision's names (``conv1``, ``bn1``, ``layer1`` ...) so that
    ImageNet weights load straight into them.
    """

    input_kind = "mask"

    def __init__(
        self,
        num_classes: int,
        input_size: int = 96,
        hidden: int = 512,
        dropout: float = 0.5,
        attention_ratio: int = 8,
    ) -> None:
        super().__init__()
        if input_size < 32:
            raise ValueError(f"CustomResNet18 needs input_size >= 32, got {input_size}")
        self.input_size = int(input_size)
        from torchvision.models import resnet18  # here, not at import: torchvision alone takes 1.8 s

        base = resnet18(weights=None)
        self.conv1, self.bn1, self.relu, self.maxpool = base.conv1, base.bn1, base.relu, base.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = base.layer1, base.layer2, base.layer3, base.layer4
        self.att_stem = ChannelAttention(64, attention_ratio)
        self.att2 = ChannelAttention(128, attention_ratio)
        self.att3 = ChannelAttention(256, attention_ratio)
        self.att4 = ChannelAttention(512, attention_ratio)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(512, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.att_stem(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        x = self.layer1(x)
        x = self.att2(self.layer2(x))
        x = self.att3(self.layer3(x))
        x = self.att4(self.layer4(x))
        return self.classifier(torch.flatten(self.pool(x), 1))

    def backbone_stages(self) -> list:
        """Pretrained stages, bottom to top (attention and head are new and always train)."""
        stem = nn.ModuleList([self.conv1, self.bn1])
        return [stem, self.layer1, self.layer2, self.layer3, self.layer4]

    backbone_prefixes = ("conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "layer4.")

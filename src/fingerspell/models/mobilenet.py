"""CustomMobileNetV2: torchvision's MobileNetV2 features with channel attention and a new head."""

from __future__ import annotations

import torch
from torch import nn

from fingerspell.models.attention import ChannelAttention

# Index into ``mobilenet_v2().features`` -> channels it outputs. Attention follows the last block of
# the 24-, 32-, 96- and 320-channel stages (strides 4, 8, 16 and 32): channel counts MobileNetV2
# really produces. The seed placed attention at 48/128/256/512 channels, which never occur, so
# most of its attention never ran.
ATTENTION_AFTER = {3: 24, 6: 32, 13: 96, 17: 320}
# Backbone stages (bottom to top) as index ranges into ``features``, for freezing and fine-tuning.
STAGES = ((0, 4), (4, 7), (7, 14), (14, 18), (18, 19))
FEATURES = 1280


class CustomMobileNetV2(nn.Module):
    """MobileNetV2 feature extractor + channel attention + global average pooling + classifier.

    Attention modules sit after ``features[3]`` (24 ch), ``features[6]`` (32 ch), ``features[13]``
    (96 ch) and ``features[17]`` (320 ch); they live in ``self.attention`` so that ``features``
    keeps torchvision's parameter names and ImageNet weights load into it unchanged.
    Classifier: Dropout(0.2) -> Linear(1280, 512) -> ReLU -> Dropout(0.5) -> Linear(512, N).
    """

    input_kind = "mask"

    def __init__(
        self,
        num_classes: int,
        input_size: int = 96,
        hidden: int = 512,
        dropout: float = 0.2,
        head_dropout: float = 0.5,
        attention_ratio: int = 8,
    ) -> None:
        super().__init__()
        if input_size < 32:
            raise ValueError(f"CustomMobileNetV2 needs input_size >= 32, got {input_size}")
        self.input_size = int(input_size)
        from torchvision.models import mobilenet_v2  # here, not at import: torchvision alone takes 1.8 s

        self.features = mobilenet_v2(weights=None).features
        self.attention = nn.ModuleDict(
            {str(i): ChannelAttention(c, attention_ratio) for i, c in ATTENTION_AFTER.items()}
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(FEATURES, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(head_dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.features):
            x = layer(x)
            key = str(i)
            if key in self.attention:
                x = self.attention[key](x)
        return self.classifier(torch.flatten(self.pool(x), 1))

    def backbone_stages(self) -> list:
        """Pretrained stages, bottom to top (attention and head are new and always train)."""
        return [nn.ModuleList(self.features[a:b]) for a, b in STAGES]

    backbone_prefixes = ("features.",)

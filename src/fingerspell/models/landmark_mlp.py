"""LandmarkMLP: a small classifier over normalised landmark vectors, with an optional expert for
letters it confuses (R/U/V) that also reads the hand's shape in the palm's own frame."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from fingerspell.errors import FingerspellError
from fingerspell.hands.landmarks import FEATURE_DIM, NUM_LANDMARKS

PAIR_DIM = 6  # hands/shape.py pair_features
_EPS = 1e-9


def _mlp(input_size: int, hidden: Sequence[int], dropout: float, num_classes: int) -> nn.Sequential:
    layers: list = [nn.BatchNorm1d(input_size)]
    prev = input_size
    for units in hidden:
        layers += [nn.Linear(prev, units), nn.BatchNorm1d(units), nn.ReLU(inplace=True), nn.Dropout(dropout)]
        prev = units
    layers.append(nn.Linear(prev, num_classes))
    return nn.Sequential(*layers)


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # written out (not torch.linalg.cross) so that the ONNX export has plain arithmetic
    return torch.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                        a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], dim=1)


def _unit(v: torch.Tensor) -> torch.Tensor:
    n = torch.sqrt((v * v).sum(dim=1, keepdim=True))
    return torch.where(n > _EPS, v / n.clamp_min(_EPS), torch.zeros_like(v))


def pair_features(x: torch.Tensor) -> torch.Tensor:
    """:func:`fingerspell.hands.shape.pair_features` in torch, from landmark vectors (N, >=63).

    The index/middle tip crossing, the thumb tip across/along/out of the palm and the index and
    middle tips out of the palm, all in the palm's own frame (wrist, index and pinky knuckles).
    """
    p = x[:, : NUM_LANDMARKS * 3].reshape(-1, NUM_LANDMARKS, 3)
    p = p - p[:, :1]
    normal = _unit(_cross(p[:, 5], p[:, 17]))
    mid = p[:, 9]
    pointing = _unit(mid - (mid * normal).sum(dim=1, keepdim=True) * normal)
    across = _cross(pointing, normal)
    frame = torch.stack([across, pointing, normal], dim=1)  # rows: the palm's axes
    q = torch.bmm(p, frame.transpose(1, 2))  # (N, 21, 3) in the palm frame
    return torch.stack([q[:, 8, 0] - q[:, 12, 0], q[:, 4, 0], q[:, 4, 1], q[:, 4, 2], q[:, 8, 2], q[:, 12, 2]],
                       dim=1)


class LandmarkMLP(nn.Module):
    """BatchNorm over the input features (they mix coordinates, distances and cosines, whose
    scales differ), then hidden layers of Linear -> BatchNorm -> ReLU -> Dropout, then class scores.

    ``expert_classes`` (class indices, e.g. R, U, V): a second MLP of the same size reads the
    vector plus six palm-frame numbers (:func:`pair_features`: above all whether the index and
    middle fingers cross) and re-divides, among those classes, the probability the main MLP gives
    them as a group. Alone, those numbers make a model read people of another data set worse (a
    sideways G taken for R); confined to splitting R/U/V they help everywhere
    (docs/accuracy_features.md). In training mode ``forward`` returns the main scores and leaves the
    expert's in ``aux_outputs`` (the trainer adds their loss); in eval mode it returns the combined
    log-probabilities.

    About 64k parameters at the defaults (128k with the expert): cheap enough for every frame.
    """

    input_kind = "vector"

    def __init__(
        self,
        num_classes: int,
        input_size: int = FEATURE_DIM,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.3,
        expert_classes: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.input_size = int(input_size)
        self.net = _mlp(input_size, hidden, dropout, num_classes)
        self.expert_classes = tuple(int(c) for c in expert_classes)
        self.aux_outputs: list = []
        if self.expert_classes:
            if len(set(self.expert_classes)) < 2 or not all(0 <= c < num_classes for c in self.expert_classes):
                raise FingerspellError(f"expert_classes {list(self.expert_classes)}: give two or more class "
                                       f"indices below {num_classes}")
            if self.input_size < NUM_LANDMARKS * 3:
                raise FingerspellError("the R/U/V expert needs landmark vectors (63 or more numbers)")
            self.expert = _mlp(input_size + PAIR_DIM, hidden, dropout, num_classes)
            mask = torch.zeros(1, num_classes)
            mask[0, list(self.expert_classes)] = 1.0
            self.register_buffer("_group", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.net(x)
        if not self.expert_classes:
            return main
        expert = self.expert(torch.cat([x, pair_features(x)], dim=1))
        if self.training:
            self.aux_outputs = [expert]
            return main
        return self.combine(main, expert)

    def combine(self, main: torch.Tensor, expert: torch.Tensor) -> torch.Tensor:
        """Log-probabilities: the main model's, with its group mass split as the expert splits it."""
        logp = torch.log_softmax(main, dim=1)
        loge = torch.log_softmax(expert, dim=1)
        outside = (1.0 - self._group) * -1e9
        mass = torch.logsumexp(logp + outside, dim=1, keepdim=True)
        share = loge - torch.logsumexp(loge + outside, dim=1, keepdim=True)
        return torch.where(self._group > 0, mass + share, logp)

    def final_linear(self) -> nn.Linear:
        """The layer whose outputs are the main class scores (calibration, sign offset)."""
        return self.net[-1]

    def backbone_stages(self) -> list:
        """No pretrained backbone: nothing to freeze."""
        return []

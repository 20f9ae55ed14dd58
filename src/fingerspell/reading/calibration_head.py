"""The ``head`` calibration method: fine-tune the model's last linear layer on a person's samples.

Regularised so that unrecorded letters are not forgotten: an L2 pull towards the base weights and a
distillation term that keeps the base model's probabilities of the unrecorded classes on the samples.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def fit_head(z: np.ndarray, y: np.ndarray, logits: np.ndarray, weight: np.ndarray, bias: np.ndarray,
             steps: int = 150, lr: float = 0.01, l2: float = 1.0, distill: float = 0.5,
             **_ignored) -> Tuple[np.ndarray, np.ndarray]:
    """New (weight, bias) of the last layer; ``z`` (N, D) embeddings, ``y`` (N,) classes, ``logits`` base."""
    import torch

    zt = torch.from_numpy(np.asarray(z, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.int64))
    w0 = torch.from_numpy(np.asarray(weight, np.float32))
    b0 = torch.from_numpy(np.asarray(bias, np.float32))
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    teacher = torch.softmax(torch.from_numpy(np.asarray(logits, np.float32)), dim=1)
    unrecorded = torch.ones(w0.shape[0], dtype=torch.bool)
    unrecorded[torch.unique(yt)] = False
    opt = torch.optim.Adam([w, b], lr=lr)
    for _ in range(int(steps)):
        out = zt @ w.T + b
        loss = torch.nn.functional.cross_entropy(out, yt)
        loss = loss + l2 * ((w - w0).pow(2).sum() + (b - b0).pow(2).sum()) / w0.shape[0]
        if distill and bool(unrecorded.any()):
            logp = torch.log_softmax(out, dim=1)[:, unrecorded]
            loss = loss - distill * (teacher[:, unrecorded] * logp).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy().copy(), b.detach().numpy().copy()

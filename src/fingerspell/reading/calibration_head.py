"""The fine-tuning calibration methods: ``head`` (the last linear layer) and ``net`` (every weight).

Regularised so that unrecorded letters are not forgotten: an L2 pull towards the base weights and a
distillation term that keeps the base model's probabilities of the unrecorded classes on the samples.
"""

from __future__ import annotations

import copy
from typing import Dict, List, Tuple

import numpy as np


class Adam:
    """Adam (Kingma & Ba; the update of ``torch.optim.Adam`` with its defaults) in a few tensor ops.

    ``torch.optim``'s first optimizer imports ``torch._dynamo`` (sympy and more): about 3 s of a
    4 s calibration on a 2-core CPU, and a stall in the live window's first learning from a word.
    """

    def __init__(self, params: List, lr: float, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        import torch

        self.params, self.lr, self.betas, self.eps, self.t = list(params), lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        b1, b2 = self.betas
        self.t += 1
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (v / (1 - b2 ** self.t)).sqrt_().add_(self.eps)
                p.addcdiv_(m, denom, value=-self.lr / (1 - b1 ** self.t))


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
    opt = Adam([w, b], lr=lr)
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


def fit_net(module, x: np.ndarray, y: np.ndarray, logits: np.ndarray, steps: int = 100, lr: float = 1e-3,
            l2: float = 1e-2, distill: float = 0.5, **_ignored) -> Dict[str, np.ndarray]:
    """Fine-tune every weight of ``module`` (a copy, BatchNorm statistics frozen) on the samples.

    Pulled towards the base weights (L2 over all parameters) and, for the unrecorded classes,
    towards the base probabilities. Returns the new parameters by name.
    """
    import torch

    net = copy.deepcopy(module).eval()
    start = {n: p.detach().clone() for n, p in net.named_parameters()}
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.int64))
    teacher = torch.softmax(torch.from_numpy(np.asarray(logits, np.float32)), dim=1)
    unrecorded = torch.ones(teacher.shape[1], dtype=torch.bool)
    unrecorded[torch.unique(yt)] = False
    opt = Adam(list(net.parameters()), lr=lr)
    for _ in range(int(steps)):
        out = net(xt)
        loss = torch.nn.functional.cross_entropy(out, yt)
        loss = loss + l2 * sum((p - start[n]).pow(2).sum() for n, p in net.named_parameters())
        if distill and bool(unrecorded.any()):
            loss = loss - distill * (teacher[:, unrecorded] * torch.log_softmax(out, 1)[:, unrecorded]).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {n: p.detach().float().numpy().copy() for n, p in net.named_parameters()}


def adapted_module(module, params: Dict[str, np.ndarray]):
    """A copy of ``module`` (eval mode) with the fine-tuned parameters of :func:`fit_net`."""
    import torch

    net = copy.deepcopy(module).eval()
    state = {n: torch.from_numpy(np.asarray(v)) for n, v in params.items()}
    missing = set(dict(net.named_parameters())) - set(state)
    if missing:
        from fingerspell.errors import FingerspellError

        raise FingerspellError(f"the profile lacks {len(missing)} of the model's weights: calibrate again")
    net.load_state_dict(state, strict=False)
    return net


def adapted_letters(probs: np.ndarray, labels: np.ndarray, gate: float) -> list:
    """Class indices a ``gate``d profile re-divides: the recorded letters with a sample the base
    model (``probs``, N x C) misreads or reads under ``gate``, and the recorded letters those
    samples are read as (or, when read right, their runner-up)."""
    p = np.asarray(probs, np.float64)
    recorded = set(np.unique(labels).tolist())
    out = set()
    for row, label in zip(p, np.asarray(labels).tolist()):
        pred = int(np.argmax(row))
        if pred != label or row[label] < gate:
            out.add(label)
            other = pred if pred != label else int(np.argsort(-row)[1])
            if other in recorded:
                out.add(other)
    return sorted(out)

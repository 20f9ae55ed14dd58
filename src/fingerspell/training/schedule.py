"""The learning-rate schedule and backbone freezing of a run, as small pure functions of the epoch."""

from __future__ import annotations

import math
from typing import List

import torch
from torch import nn

from fingerspell.errors import FingerspellError
from fingerspell.models.weights import unwrap
from fingerspell.training.options import TrainOptions


def phase_of(options: TrainOptions, epoch: int) -> str:
    if not options.hyper.freeze_backbone:
        return "full"
    return "frozen" if epoch < options.hyper.epochs else "finetune"


def apply_phase(model: nn.Module, options: TrainOptions, phase: str) -> List[nn.Module]:
    """Set requires_grad for the phase; returns the stages kept frozen (their BatchNorm stays in eval)."""
    stages = unwrap(model).backbone_stages()
    if phase == "full":
        for p in unwrap(model).parameters():
            p.requires_grad_(True)
        return []
    if not stages:
        raise FingerspellError(f"model {options.model.name} has no backbone to freeze: drop --freeze-backbone")
    open_from = len(stages) if phase == "frozen" else max(0, len(stages) - options.hyper.unfreeze_stages)
    for i, stage in enumerate(stages):
        for p in stage.parameters():
            p.requires_grad_(i >= open_from)
    return stages[:open_from]


def param_groups(model: nn.Module, options: TrainOptions) -> List[dict]:
    """Two groups, always in the same order (so optimizer state resumes): new layers, then backbone."""
    m = unwrap(model)
    backbone_ids = {id(p) for stage in m.backbone_stages() for p in stage.parameters()}
    head = [p for p in m.parameters() if id(p) not in backbone_ids]
    backbone = [p for p in m.parameters() if id(p) in backbone_ids]
    backbone_lr = options.hyper.lr * (options.hyper.finetune_lr_factor if options.hyper.freeze_backbone else 1.0)
    groups = [{"params": head, "lr": options.hyper.lr, "base_lr": options.hyper.lr, "name": "head"}]
    if backbone:
        groups.append({"params": backbone, "lr": backbone_lr, "base_lr": backbone_lr, "name": "backbone"})
    return groups


def lr_factor(schedule: str, epoch: int, total_epochs: int) -> float:
    """The learning-rate multiplier of an epoch: a closed form, so a resumed (or extended) run
    continues the curve of its current ``--epochs`` instead of replaying a stored recursion."""
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / max(1, total_epochs)))
    if schedule == "step":
        return 0.1 ** (epoch // max(1, total_epochs // 3))
    return 1.0


def set_epoch_lr(optimizer: torch.optim.Optimizer, options: TrainOptions, epoch: int) -> float:
    """Put each group's learning rate for ``epoch`` (base rate x schedule factor); returns the head's."""
    factor = lr_factor(options.hyper.lr_schedule, epoch, options.total_epochs)
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * factor
    return optimizer.param_groups[0]["lr"]

"""Where a training process stands: one process, or one of ``torchrun``'s DDP processes.

Under ``torchrun --nproc_per_node=N`` (WORLD_SIZE > 1) each process trains on its shard of every
epoch inside DistributedDataParallel; only rank 0 validates, prints and writes, and it tells the
others when to stop (:func:`broadcast_flag`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import List

import torch
from torch import nn

from fingerspell.errors import FingerspellError


@dataclass
class DistContext:
    """Where this process stands in a (possibly one-process) run."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(requested: str = "auto", local_rank: int = 0) -> torch.device:
    """cuda, then mps, then cpu; an explicit request that cannot be met is an error."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise FingerspellError(f"--device {requested}: no CUDA GPU is visible; use --device cpu or auto")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise FingerspellError("--device mps: Apple's MPS is not available here; use --device cpu or auto")
    if requested == "cuda":
        return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
    return torch.device(requested)


def setup_distributed(requested_device: str = "auto") -> DistContext:
    """Read torchrun's WORLD_SIZE/RANK/LOCAL_RANK; start the process group when there are several."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device, local)
    if world <= 1:
        return DistContext(device=device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    started = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        started = True
    return DistContext(world, rank, local, device, started)


def broadcast_flag(ctx: DistContext, value: bool) -> bool:
    if not ctx.distributed:
        return value
    import torch.distributed as dist

    t = torch.tensor([1 if value else 0], dtype=torch.int64, device=comm_device(ctx))
    dist.broadcast(t, src=0)
    return bool(t.item())


def comm_device(ctx: DistContext) -> torch.device:
    return ctx.device if ctx.device.type == "cuda" else torch.device("cpu")


def all_reduce_sum(ctx: DistContext, values: List[float]) -> List[float]:
    if not ctx.distributed:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=comm_device(ctx))
    dist.all_reduce(t)
    return t.tolist()


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    if not ctx.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DDP(model, device_ids=ids)

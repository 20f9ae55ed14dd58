"""Training: one function, :func:`train`, for a single process or ``torchrun`` with DDP.

Run folder (``options.run.out``):

* ``best.safetensors`` + ``best.json``: the best epoch by validation accuracy (the model card
  records classes, input, data summary and metrics);
* ``last.safetensors`` + ``last.json`` + ``last_state.{safetensors,json}``: the resume point;
* ``history.json`` and ``curves.png``: per-epoch loss and accuracy.

Under ``torchrun --nproc_per_node=N`` (WORLD_SIZE > 1) each process trains on its shard of every
epoch (DistributedSampler) inside DistributedDataParallel; only rank 0 validates, prints and
writes, and it tells the others when to stop. ``--batch-size`` is the global batch. The loop itself
is :class:`~fingerspell.training.trainer.Trainer`.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import torch

from fingerspell.data.schema import DatasetArrays
from fingerspell.training.distributed import DistContext, pick_device, setup_distributed
from fingerspell.training.options import TrainOptions
from fingerspell.training.schedule import lr_factor
from fingerspell.training.trainer import Trainer, TrainResult

__all__ = ["DistContext", "TrainResult", "Trainer", "lr_factor", "pick_device", "train"]


def train(
    options: TrainOptions,
    train_data: Optional[DatasetArrays] = None,
    val_data: Optional[DatasetArrays] = None,
    log: Optional[Callable[[str], None]] = None,
) -> TrainResult:
    """Train ``options.model`` and keep its best checkpoint in ``options.run.out``.

    ``train_data`` / ``val_data`` may be given already loaded (leave-one-group-out, tests); then
    ``options.data.data`` only names them in the model card. Returns a :class:`TrainResult` (on every rank).
    """
    t_start = time.perf_counter()
    threads_before = torch.get_num_threads()
    if options.run.threads:
        torch.set_num_threads(options.run.threads)
    ctx = setup_distributed(options.run.device)
    try:
        return Trainer(options, ctx, log).fit(train_data, val_data, t_start)
    finally:
        torch.set_num_threads(threads_before)
        if ctx.initialized_here:
            import torch.distributed as dist

            dist.destroy_process_group()

"""Training: one function, :func:`train`, for a single process or ``torchrun`` with DDP.

Run folder (``options.out``):

* ``best.safetensors`` + ``best.json``: the best epoch by validation accuracy (the model card
  records classes, input, data summary and metrics);
* ``last.safetensors`` + ``last.json`` + ``last_state.{safetensors,json}``: the resume point;
* ``history.json`` and ``curves.png``: per-epoch loss and accuracy.

Under ``torchrun --nproc_per_node=N`` (WORLD_SIZE > 1) each process trains on its shard of every
epoch (DistributedSampler) inside DistributedDataParallel; only rank 0 validates, prints and
writes, and it tells the others when to stop. ``--batch-size`` is the global batch.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np
import torch
from torch import nn

from fingerspell.data.schema import DatasetArrays
from fingerspell.errors import FingerspellError
from fingerspell.models.registry import (
    build_model,
    checkpoint_paths,
    count_parameters,
    input_kind,
    load_checkpoint,
    load_matching_weights,
    make_card,
    read_state_dict,
    unwrap,
)
from fingerspell.training import data as tdata
from fingerspell.training.callbacks import CheckpointKeeper, EarlyStopping, History
from fingerspell.training.options import TrainOptions


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


@dataclass
class TrainResult:
    """What a run produced."""

    out_dir: Path
    best_path: Path
    best_epoch: int
    best_val_acc: Optional[float]
    epochs_run: int
    last_epoch: int
    stopped_early: bool
    history: List[dict]
    card: dict
    seconds: float


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


def _broadcast_flag(ctx: DistContext, value: bool) -> bool:
    if not ctx.distributed:
        return value
    import torch.distributed as dist

    t = torch.tensor([1 if value else 0], dtype=torch.int64, device=_comm_device(ctx))
    dist.broadcast(t, src=0)
    return bool(t.item())


def _comm_device(ctx: DistContext) -> torch.device:
    return ctx.device if ctx.device.type == "cuda" else torch.device("cpu")


def _all_reduce_sum(ctx: DistContext, values: List[float]) -> List[float]:
    if not ctx.distributed:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=_comm_device(ctx))
    dist.all_reduce(t)
    return t.tolist()


def _check_run_dir(options: TrainOptions, keeper: CheckpointKeeper) -> None:
    out = Path(options.out)
    if out.exists() and not out.is_dir():
        raise FingerspellError(f"--out {out} is a file: give a folder for the run")
    if options.resume:
        if not (out / "last.safetensors").exists():
            raise FingerspellError(f"nothing to resume in {out} (no last.safetensors): drop --resume")
    elif keeper.has_checkpoint() and not options.overwrite:
        raise FingerspellError(
            f"{out} already holds a trained checkpoint: pass --resume to continue it, --overwrite to replace "
            "it, or choose another --out"
        )


def _phase(options: TrainOptions, epoch: int) -> str:
    if not options.freeze_backbone:
        return "full"
    return "frozen" if epoch < options.epochs else "finetune"


def _apply_phase(model: nn.Module, options: TrainOptions, phase: str) -> List[nn.Module]:
    """Set requires_grad for the phase; returns the stages kept frozen (their BatchNorm stays in eval)."""
    stages = unwrap(model).backbone_stages()
    if phase == "full":
        for p in unwrap(model).parameters():
            p.requires_grad_(True)
        return []
    if not stages:
        raise FingerspellError(f"model {options.model} has no backbone to freeze: drop --freeze-backbone")
    open_from = len(stages) if phase == "frozen" else max(0, len(stages) - options.unfreeze_stages)
    for i, stage in enumerate(stages):
        for p in stage.parameters():
            p.requires_grad_(i >= open_from)
    return stages[:open_from]


def _param_groups(model: nn.Module, options: TrainOptions) -> List[dict]:
    """Two groups, always in the same order (so optimizer state resumes): new layers, then backbone."""
    m = unwrap(model)
    backbone_ids = {id(p) for stage in m.backbone_stages() for p in stage.parameters()}
    head = [p for p in m.parameters() if id(p) not in backbone_ids]
    backbone = [p for p in m.parameters() if id(p) in backbone_ids]
    backbone_lr = options.lr * (options.finetune_lr_factor if options.freeze_backbone else 1.0)
    groups = [{"params": head, "lr": options.lr, "base_lr": options.lr, "name": "head"}]
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


def _set_epoch_lr(optimizer: torch.optim.Optimizer, options: TrainOptions, epoch: int) -> float:
    """Put each group's learning rate for ``epoch`` (base rate x schedule factor); returns the head's."""
    factor = lr_factor(options.lr_schedule, epoch, options.total_epochs)
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * factor
    return optimizer.param_groups[0]["lr"]


def _wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    if not ctx.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@torch.no_grad()
def _validate(model: nn.Module, loader, device: torch.device, loss_fn: nn.Module) -> tuple:
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss_sum += float(loss_fn(logits, y).item()) * len(y)
        correct += int((logits.argmax(1) == y).sum().item())
        n += len(y)
    return loss_sum / max(1, n), correct / max(1, n)


def _build(options: TrainOptions, num_classes: int, size: int, quiet: bool) -> nn.Module:
    model = build_model(
        options.model, num_classes, size, pretrained=options.pretrained,
        pretrained_path=options.pretrained_path, **dict(options.model_kwargs),
    )
    if options.init_from:
        p = Path(options.init_from)
        if p.suffix == ".json" or (p.suffix in ("", ".safetensors") and checkpoint_paths(p)[1].exists()):
            state = load_checkpoint(p)[0].state_dict()  # a fingerspell checkpoint (card + weights)
        else:
            state = read_state_dict(p)  # a torchvision / seed state dict, weights only
        loaded, total = load_matching_weights(model, state)
        if not quiet:
            print(f"--init-from {p}: {loaded} of {total} tensors matched by name and shape", file=sys.stderr)
    return model


def train(
    options: TrainOptions,
    train_data: Optional[DatasetArrays] = None,
    val_data: Optional[DatasetArrays] = None,
    log: Optional[Callable[[str], None]] = None,
) -> TrainResult:
    """Train ``options.model`` and keep its best checkpoint in ``options.out``.

    ``train_data`` / ``val_data`` may be given already loaded (leave-one-group-out, tests); then
    ``options.data`` only names them in the model card. Returns a :class:`TrainResult` (on every rank).
    """
    t_start = time.perf_counter()
    threads_before = torch.get_num_threads()
    if options.threads:
        torch.set_num_threads(options.threads)
    ctx = setup_distributed(options.device)
    try:
        return _train(options, ctx, train_data, val_data, log, t_start)
    finally:
        torch.set_num_threads(threads_before)
        if ctx.initialized_here:
            import torch.distributed as dist

            dist.destroy_process_group()


def _train(options, ctx: DistContext, train_data, val_data, log, t_start) -> TrainResult:
    from tqdm import tqdm

    main = ctx.is_main
    say = (log or (lambda s: tqdm.write(s, file=sys.stderr))) if main else (lambda s: None)
    out_dir = Path(options.out)
    keeper = CheckpointKeeper(out_dir, half_best=options.half_weights)
    _check_run_dir(options, keeper)
    kind = input_kind(options.model)

    # --- data ---
    if train_data is None:
        train_data = tdata.load_training_data(options.data, kind, options.input_size)
    else:
        train_data = tdata.prepare_arrays([train_data], kind, options.input_size)
    if val_data is None and options.val_data:
        val_data = tdata.load_training_data(options.val_data, kind, options.input_size or
                                            (train_data.mask_size if kind == "mask" else None))
    elif val_data is not None:
        val_data = tdata.prepare_arrays([val_data], kind, train_data.mask_size if kind == "mask" else None)
    if val_data is not None and tuple(val_data.classes) != tuple(train_data.classes):
        raise FingerspellError("the validation data has another class vocabulary than the training data: rebuild it")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", tdata.RandomSplitWarning)
        train_data, val_data, val_mode = tdata.split_train_val(
            train_data, val_data, options.val_groups, options.val_fraction, options.seed)
    for w in caught:
        say(f"warning: {w.message}")
    if len(train_data) < 2:
        raise FingerspellError(f"only {len(train_data)} training rows: add data")
    classes = tuple(train_data.classes)
    size = train_data.mask_size if kind == "mask" else None

    # --- model ---
    _seed_everything(options.seed)
    model = _build(options, len(classes), size, quiet=not main).to(ctx.device)
    start_epoch = 0
    stopper = EarlyStopping(options.patience)
    history = History()
    resume_state = None
    if options.resume:
        last_model, last_card = load_checkpoint(keeper.last_path)
        if last_card["architecture"] != options.model or list(last_card["classes"]) != list(classes):
            raise FingerspellError(
                f"{keeper.last_path} is a {last_card['architecture']} run over {len(last_card['classes'])} classes; "
                f"this command trains {options.model} over {len(classes)}: use the same --model and --data"
            )
        if last_card["input_size"] != unwrap(model).fingerspell_build["input_size"]:
            raise FingerspellError(f"{out_dir} was trained at input size {last_card['input_size']}: pass the same "
                                   "--input-size to resume")
        model.load_state_dict(last_model.state_dict())
        opt_state, _, resume_state = keeper.load_state()
        start_epoch = int(resume_state["next_epoch"])
        stopper.load_state_dict(resume_state["early_stopping"])
        history.epochs = list(resume_state.get("history", []))
    phase = _phase(options, start_epoch)
    frozen = _apply_phase(model, options, phase)
    optimizer = torch.optim.Adam(_param_groups(model, options), lr=options.lr, weight_decay=options.weight_decay)
    if resume_state is not None:
        try:
            optimizer.load_state_dict(opt_state)
            for group, fresh in zip(optimizer.param_groups, _param_groups(model, options)):
                group["base_lr"] = fresh["base_lr"]  # this command's --lr wins over the stored one
        except (ValueError, KeyError, RuntimeError) as exc:
            raise FingerspellError(f"the optimizer state in {out_dir} does not fit this run ({exc}): use the same "
                                   "options as the first run, or --overwrite") from None
    ddp_model = _wrap(model, ctx)

    weights = tdata.class_weights(train_data.labels, len(classes)).to(ctx.device) if options.class_weighting else None
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    val_loss_fn = nn.CrossEntropyLoss()
    per_rank_batch = max(2, options.batch_size // ctx.world_size)
    val_loader = (tdata.make_loader(val_data, kind, max(per_rank_batch, 256), train=False)
                  if val_data is not None and main else None)

    training_info = {
        "data_files": [str(p) for p in options.data],
        "val_files": [str(p) for p in options.val_data],
        "validation": val_mode,
        "train_summary": tdata.summarize(train_data),
        "val_summary": tdata.summarize(val_data),
        "options": options.to_dict(),
        "world_size": ctx.world_size,
        "device": str(ctx.device),
        "torch": torch.__version__,
    }
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        say(f"training {options.model} ({count_parameters(model):,} parameters) on {len(train_data)} rows, "
            f"validation: {val_mode} ({0 if val_data is None else len(val_data)} rows), device {ctx.device}"
            + (f", {ctx.world_size} processes" if ctx.distributed else ""))

    # --- loop ---
    epoch = start_epoch
    stopped_early = False
    epochs_run = 0
    while epoch < options.total_epochs:
        new_phase = _phase(options, epoch)
        if new_phase != phase:
            phase = new_phase
            frozen = _apply_phase(model, options, phase)
            ddp_model = _wrap(model, ctx)  # DDP must see the new set of trainable parameters
            stopper.reset_patience()
            say(f"fine-tuning: top {options.unfreeze_stages} backbone stages trainable at lr x "
                f"{options.finetune_lr_factor}")
        torch.manual_seed(options.seed * 1_000_003 + epoch * 101 + ctx.rank)
        loader = tdata.make_loader(
            train_data, kind, per_rank_batch, train=True, augment=options.augment,
            balanced=options.balanced_sampling, seed=options.seed, epoch=epoch,
            num_workers=options.num_workers, world_size=ctx.world_size, rank=ctx.rank,
        )
        lr_now = _set_epoch_lr(optimizer, options, epoch)
        ddp_model.train()
        for stage in frozen:
            stage.eval()
        t0 = time.perf_counter()
        loss_sum, correct, n = 0.0, 0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{options.total_epochs}", unit="batch",
                   disable=not (main and options.progress), leave=False, dynamic_ncols=True, file=sys.stderr)
        for x, y in bar:
            x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            logits = ddp_model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            loss_sum += float(loss.item()) * len(y)
            correct += int((logits.argmax(1) == y).sum().item())
            n += len(y)
            bar.set_postfix(loss=f"{loss_sum / n:.4f}", acc=f"{correct / n:.3f}")
        bar.close()
        loss_sum, correct, n = _all_reduce_sum(ctx, [loss_sum, correct, n])
        record = {"epoch": epoch, "phase": phase, "lr": lr_now, "train_loss": loss_sum / max(1, n),
                  "train_acc": correct / max(1, n), "val_loss": None, "val_acc": None,
                  "seconds": round(time.perf_counter() - t0, 3)}
        stop = False
        if main:
            if val_loader is not None:
                record["val_loss"], record["val_acc"] = _validate(model, val_loader, ctx.device, val_loss_fn)
                is_best = stopper.update(epoch, record["val_acc"], record["val_loss"])
            else:
                is_best = stopper.update(epoch, record["train_acc"], record["train_loss"]) or True
                stopper.best_epoch = epoch
                stopper.bad_epochs = 0
            history.append(record)
            metrics = {"epoch": epoch, "train_loss": record["train_loss"], "train_acc": record["train_acc"],
                       "val_loss": record["val_loss"], "val_acc": record["val_acc"]}
            card = make_card(model, classes, training_info, metrics)
            if is_best:
                keeper.save_best(model, card)
            stop = stopper.should_stop and val_loader is not None
            next_epoch = epoch + 1
            if stop and phase == "frozen" and options.finetune_epochs:
                next_epoch, stop = options.epochs, False
            keeper.save_last(model, card, optimizer, None, {
                "next_epoch": next_epoch, "early_stopping": stopper.state_dict(), "history": history.epochs,
            })
            history.save(out_dir, plot=False)
            val_txt = ("" if record["val_acc"] is None
                       else f"  val loss {record['val_loss']:.4f} acc {record['val_acc']:.4f}")
            say(f"epoch {epoch + 1}/{options.total_epochs} [{phase}] train loss {record['train_loss']:.4f} "
                f"acc {record['train_acc']:.4f}{val_txt}  {record['seconds']:.1f}s" + ("  *best*" if is_best else ""))
        else:
            next_epoch = epoch + 1
        stop = _broadcast_flag(ctx, stop)
        jump = _broadcast_flag(ctx, main and next_epoch != epoch + 1)
        epochs_run += 1
        if stop:
            stopped_early = True
            say(f"early stop: no better validation accuracy for {options.patience} epochs")
            epoch += 1
            break
        epoch = options.epochs if jump else epoch + 1

    if main:
        history.save(out_dir, plot=options.plot)  # the PNG once at the end: matplotlib costs ~1 s a figure
    best_card = {}
    best_path = keeper.best_path
    if main and (out_dir / "best.json").exists():
        from fingerspell.models.registry import read_card

        best_card = read_card(best_path)
    seconds = time.perf_counter() - t_start
    if main:
        best_txt = "" if stopper.best_acc < 0 else f", best epoch {stopper.best_epoch + 1}"
        if val_loader is not None and stopper.best_acc >= 0:
            best_txt += f" (val acc {stopper.best_acc:.4f})"
        say(f"done in {seconds:.0f}s{best_txt}: {best_path}.safetensors")
        if val_loader is not None and stopper.best_acc >= 0:
            from fingerspell.training.threshold import say_threshold_note

            say_threshold_note(best_path, val_loader, say)
    return TrainResult(
        out_dir=out_dir, best_path=best_path, best_epoch=stopper.best_epoch,
        best_val_acc=stopper.best_acc if val_loader is not None else None, epochs_run=epochs_run,
        last_epoch=epoch - 1, stopped_early=stopped_early, history=history.epochs, card=best_card,
        seconds=seconds,
    )


def options_for_fold(options: TrainOptions, out: str, **changes) -> TrainOptions:
    """A copy of ``options`` writing to ``out`` (leave-one-group-out folds)."""
    return replace(options, out=out, **changes)

"""The training loop as a :class:`Trainer` whose steps are small methods.

``Trainer(options, ctx).fit()`` runs: check the run folder -> prepare the data -> build the model ->
resume (if asked) -> optimizer -> losses and validation loader -> epochs (each: train, then on rank 0
validate, keep checkpoints, log) -> finish. The callbacks it uses (early stopping, checkpoint
keeping, history) are the named pieces of :mod:`fingerspell.training.callbacks`.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np
import torch
from torch import nn

from fingerspell.data.exceptions import drop_exceptions, fold_motion_letters
from fingerspell.data.schema import DatasetArrays
from fingerspell.errors import FingerspellError
from fingerspell.features import input_for
from fingerspell.models.checkpoint import init_state, load_checkpoint, make_card, read_card
from fingerspell.models.registry import build_model, count_parameters, input_kind
from fingerspell.models.weights import load_matching_weights, unwrap
from fingerspell.training import data as tdata
from fingerspell.training.callbacks import CheckpointKeeper, EarlyStopping, History, check_finite_loss
from fingerspell.training.distributed import DistContext, all_reduce_sum, broadcast_flag, wrap
from fingerspell.training.options import TrainOptions
from fingerspell.training.schedule import apply_phase, param_groups, phase_of, set_epoch_lr
from fingerspell.training.signs import apply_sign_offset


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


def check_run_dir(options: TrainOptions, keeper: CheckpointKeeper) -> None:
    out = Path(options.run.out)
    if out.exists() and not out.is_dir():
        raise FingerspellError(f"--out {out} is a file: give a folder for the run")
    if options.run.resume:
        if not (out / "last.safetensors").exists():
            raise FingerspellError(f"nothing to resume in {out} (no last.safetensors): drop --resume")
    elif keeper.has_checkpoint() and not options.run.overwrite:
        raise FingerspellError(
            f"{out} already holds a trained checkpoint: pass --resume to continue it, --overwrite to replace "
            "it, or choose another --out"
        )


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@torch.no_grad()
def validate(model: nn.Module, loader, device: torch.device, loss_fn: nn.Module) -> tuple:
    """(mean loss, accuracy) of ``model`` over ``loader``."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss_sum += float(loss_fn(logits, y).item()) * len(y)
        correct += int((logits.argmax(1) == y).sum().item())
        n += len(y)
    return loss_sum / max(1, n), correct / max(1, n)


class Trainer:
    """One run of ``options`` in the process ``ctx``; :meth:`fit` does it all."""

    def __init__(self, options: TrainOptions, ctx: DistContext, log: Optional[Callable[[str], None]] = None):
        from tqdm import tqdm

        self.options, self.ctx = options, ctx
        self.main = ctx.is_main
        self.say = (log or (lambda s: tqdm.write(s, file=sys.stderr))) if self.main else (lambda s: None)
        self.out_dir = Path(options.run.out)
        self.keeper = CheckpointKeeper(self.out_dir, half_best=options.run.half_weights)
        self.input = input_for(input_kind(options.model.name), options.data.input_size)
        self.stopper = EarlyStopping(options.hyper.patience)
        self.history = History()
        self.epochs_run, self.stopped_early = 0, False
        self.val_loader = None

    def fit(self, train_data: Optional[DatasetArrays] = None, val_data: Optional[DatasetArrays] = None,
            t_start: Optional[float] = None) -> TrainResult:
        t_start = time.perf_counter() if t_start is None else t_start
        check_run_dir(self.options, self.keeper)
        self.prepare_data(train_data, val_data)
        self.build_model()
        opt_state, resume_state = self.resume() if self.options.run.resume else (None, None)
        self.make_optimizer(opt_state, resume_state)
        self.make_losses()
        self.describe()
        last_epoch = self.loop(int(resume_state["next_epoch"]) if resume_state else 0)
        return self.finish(t_start, last_epoch)

    # --- steps before the loop ---------------------------------------------------------------------
    def prepare_data(self, train_data: Optional[DatasetArrays], val_data: Optional[DatasetArrays]) -> None:
        """Load or join the data for the model's input, choose validation, split."""
        d = self.options.data
        if train_data is None:
            train_data = tdata.load_training_data(d.data, self.input)
        else:
            train_data = tdata.prepare_arrays([train_data], self.input)
        self.input = input_for(self.input.kind, self.input.dataset_size(train_data))
        if val_data is None and d.val_data:
            val_data = tdata.load_training_data(d.val_data, self.input)
        elif val_data is not None:
            val_data = tdata.prepare_arrays([val_data], self.input)
        if val_data is not None and tuple(val_data.classes) != tuple(train_data.classes):
            raise FingerspellError("the validation data has another class vocabulary than the training data: "
                                   "rebuild it")
        train_data, val_data = self.relabel(train_data), val_data if val_data is None else self.relabel(val_data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", tdata.RandomSplitWarning)
            train_data, val_data, self.val_mode = tdata.split_train_val(
                train_data, val_data, d.val_groups, d.val_fraction, self.options.hyper.seed)
        for w in caught:
            self.say(f"warning: {w.message}")
        if d.second_readings and self.input.kind == "vector":
            extra = int(train_data.has_second.sum())
            train_data = tdata.with_second_readings(train_data)
            self.say(f"second readings (the mirrored photo) train too: {extra} rows")
        if len(train_data) < 2:
            raise FingerspellError(f"only {len(train_data)} training rows: add data")
        self.train_data, self.val_data = train_data, val_data
        self.classes = tuple(train_data.classes)

    def relabel(self, data: DatasetArrays) -> DatasetArrays:
        """Leave out label exceptions (mon95's T); with ``static_letters`` train J as I and Z as D."""
        data, dropped = drop_exceptions(data)
        if dropped:
            self.say(f"left out (not the ASL letter in that source): {dropped}")
        if self.options.data.static_letters:
            data, folded = fold_motion_letters(data)
            if folded:
                self.say(f"motion letters trained as their hand shape: {folded}")
        return data

    def build_model(self) -> None:
        """The seeded model, with ImageNet or ``--init-from`` weights where asked."""
        m = self.options.model
        seed_everything(self.options.hyper.seed)
        model = build_model(m.name, len(self.classes), self.input.size, pretrained=m.pretrained,
                            pretrained_path=m.pretrained_path, **dict(m.kwargs))
        if m.init_from:
            loaded, total = load_matching_weights(model, init_state(m.init_from))
            if self.main:
                print(f"--init-from {m.init_from}: {loaded} of {total} tensors matched by name and shape",
                      file=sys.stderr)
        self.model = model.to(self.ctx.device)

    def resume(self) -> tuple:
        """Weights, optimizer state and callbacks from ``last.*``: (optimizer state, resume state)."""
        m = self.options.model
        last_model, last_card = load_checkpoint(self.keeper.last_path)
        if last_card["architecture"] != m.name or list(last_card["classes"]) != list(self.classes):
            raise FingerspellError(
                f"{self.keeper.last_path} is a {last_card['architecture']} run over {len(last_card['classes'])} "
                f"classes; this command trains {m.name} over {len(self.classes)}: use the same --model and --data"
            )
        if last_card["input_size"] != unwrap(self.model).fingerspell_build["input_size"]:
            raise FingerspellError(f"{self.out_dir} was trained at input size {last_card['input_size']}: pass the "
                                   "same --input-size to resume")
        self.model.load_state_dict(last_model.state_dict())
        opt_state, _, resume_state = self.keeper.load_state()
        self.stopper.load_state_dict(resume_state["early_stopping"])
        self.history.epochs = list(resume_state.get("history", []))
        return opt_state, resume_state

    def make_optimizer(self, opt_state: Optional[dict], resume_state: Optional[dict]) -> None:
        """Adam over the phase's trainable groups; a resumed run takes its stored state (and this --lr)."""
        start = int(resume_state["next_epoch"]) if resume_state else 0
        self.phase = phase_of(self.options, start)
        self.frozen = apply_phase(self.model, self.options, self.phase)
        self.optimizer = torch.optim.Adam(param_groups(self.model, self.options), lr=self.options.hyper.lr,
                                          weight_decay=self.options.hyper.weight_decay)
        if opt_state is not None:
            try:
                self.optimizer.load_state_dict(opt_state)
                for group, fresh in zip(self.optimizer.param_groups, param_groups(self.model, self.options)):
                    group["base_lr"] = fresh["base_lr"]  # this command's --lr wins over the stored one
            except (ValueError, KeyError, RuntimeError) as exc:
                raise FingerspellError(f"the optimizer state in {self.out_dir} does not fit this run ({exc}): use "
                                       "the same options as the first run, or --overwrite") from None
        self.ddp_model = wrap(self.model, self.ctx)

    def make_losses(self) -> None:
        """Cross-entropy (class-weighted if asked) and, on rank 0, the validation loader."""
        h, ctx = self.options.hyper, self.ctx
        weights = (tdata.class_weights(self.train_data.labels, len(self.classes)).to(ctx.device)
                   if h.class_weighting else None)
        self.loss_fn = nn.CrossEntropyLoss(weight=weights)
        self.val_loss_fn = nn.CrossEntropyLoss()
        self.per_rank_batch = max(2, h.batch_size // ctx.world_size)
        if self.val_data is not None and self.main:
            self.val_loader = tdata.make_loader(self.val_data, self.input, max(self.per_rank_batch, 256), train=False)

    def describe(self) -> None:
        """The run's description for model cards, and the opening log line."""
        o, ctx = self.options, self.ctx
        self.training_info = {
            "data_files": [str(p) for p in o.data.data], "val_files": [str(p) for p in o.data.val_data],
            "validation": self.val_mode, "train_summary": tdata.summarize(self.train_data),
            "val_summary": tdata.summarize(self.val_data), "options": o.to_dict(),
            "world_size": ctx.world_size, "device": str(ctx.device), "torch": torch.__version__,
        }
        if self.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            n_val = 0 if self.val_data is None else len(self.val_data)
            self.say(f"training {o.model.name} ({count_parameters(self.model):,} parameters) on "
                     f"{len(self.train_data)} rows, validation: {self.val_mode} ({n_val} rows), device {ctx.device}"
                     + (f", {ctx.world_size} processes" if ctx.distributed else ""))

    # --- the epochs ----------------------------------------------------------------------------------
    def loop(self, epoch: int) -> int:
        """Train from ``epoch`` to the end (or an early stop); returns the last epoch run."""
        o = self.options
        while epoch < o.total_epochs:
            self.switch_phase(epoch)
            record = self.train_epoch(epoch)
            stop, next_epoch = self.end_epoch(epoch, record) if self.main else (False, epoch + 1)
            stop = broadcast_flag(self.ctx, stop)
            jump = broadcast_flag(self.ctx, self.main and next_epoch != epoch + 1)
            self.epochs_run += 1
            if stop:
                self.stopped_early = True
                self.say(f"early stop: no better validation accuracy for {o.hyper.patience} epochs")
                return epoch
            epoch = o.hyper.epochs if jump else epoch + 1
        return epoch - 1

    def switch_phase(self, epoch: int) -> None:
        """From frozen backbone to fine-tuning when the epoch comes."""
        new_phase = phase_of(self.options, epoch)
        if new_phase == self.phase:
            return
        self.phase = new_phase
        self.frozen = apply_phase(self.model, self.options, self.phase)
        self.ddp_model = wrap(self.model, self.ctx)  # DDP must see the new set of trainable parameters
        self.stopper.reset_patience()
        h = self.options.hyper
        self.say(f"fine-tuning: top {h.unfreeze_stages} backbone stages trainable at lr x {h.finetune_lr_factor}")

    def train_epoch(self, epoch: int) -> dict:
        """One pass over this rank's shard; returns the epoch's record (validation filled in later)."""
        from tqdm import tqdm

        o, ctx = self.options, self.ctx
        torch.manual_seed(o.hyper.seed * 1_000_003 + epoch * 101 + ctx.rank)
        loader = tdata.make_loader(
            self.train_data, self.input, self.per_rank_batch, train=True, augment=o.data.augment,
            balanced=o.data.balanced_sampling, seed=o.hyper.seed, epoch=epoch,
            num_workers=o.data.num_workers, world_size=ctx.world_size, rank=ctx.rank,
        )
        lr_now = set_epoch_lr(self.optimizer, o, epoch)
        self.ddp_model.train()
        for stage in self.frozen:
            stage.eval()
        t0 = time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{o.total_epochs}", unit="batch",
                   disable=not (self.main and o.run.progress), leave=False, dynamic_ncols=True, file=sys.stderr)
        loss_sum, correct, n = self.train_batches(bar)
        bar.close()
        loss_sum, correct, n = all_reduce_sum(ctx, [loss_sum, correct, n])
        return {"epoch": epoch, "phase": self.phase, "lr": lr_now, "train_loss": loss_sum / max(1, n),
                "train_acc": correct / max(1, n), "val_loss": None, "val_acc": None,
                "seconds": round(time.perf_counter() - t0, 3)}

    def train_batches(self, bar) -> tuple:
        """The optimisation steps of one epoch: (summed loss, correct, rows)."""
        device = self.ctx.device
        loss_sum, correct, n = 0.0, 0, 0
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            self.optimizer.zero_grad(set_to_none=True)
            logits = self.ddp_model(x)
            loss = self.loss_fn(logits, y)
            aux = getattr(unwrap(self.ddp_model), "aux_outputs", None)
            if aux:  # a model's extra heads trained on the same labels (LandmarkMLP's R/U/V expert)
                loss = loss + sum(self.loss_fn(a, y) for a in aux)
                unwrap(self.ddp_model).aux_outputs = []
            value = float(loss.item())
            check_finite_loss(value, n)  # a NaN loss never reaches the weights
            loss.backward()
            self.optimizer.step()
            loss_sum += value * len(y)
            correct += int((logits.argmax(1) == y).sum().item())
            n += len(y)
            bar.set_postfix(loss=f"{loss_sum / n:.4f}", acc=f"{correct / n:.3f}")
        return loss_sum, correct, n

    def end_epoch(self, epoch: int, record: dict) -> tuple:
        """Rank 0: validate, update the callbacks, write best/last, log. Returns (stop?, next epoch)."""
        o, stopper = self.options, self.stopper
        if self.val_loader is not None:
            record["val_loss"], record["val_acc"] = validate(self.model, self.val_loader, self.ctx.device,
                                                             self.val_loss_fn)
            is_best = stopper.update(epoch, record["val_acc"], record["val_loss"])
        else:  # no validation: every epoch is the best so far, the last one is kept
            is_best = stopper.update(epoch, record["train_acc"], record["train_loss"]) or True
            stopper.best_epoch, stopper.bad_epochs = epoch, 0
        self.history.append(record)
        metrics = {k: record[k] for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")}
        card = make_card(self.model, self.classes, self.training_info, metrics)
        if is_best:
            self.keeper.save_best(self.model, card)
        stop = stopper.should_stop and self.val_loader is not None
        next_epoch = epoch + 1
        if stop and self.phase == "frozen" and o.hyper.finetune_epochs:
            next_epoch, stop = o.hyper.epochs, False
        self.keeper.save_last(self.model, card, self.optimizer, None, {
            "next_epoch": next_epoch, "early_stopping": stopper.state_dict(), "history": self.history.epochs,
        })
        self.history.save(self.out_dir, plot=False)
        val_txt = ("" if record["val_acc"] is None
                   else f"  val loss {record['val_loss']:.4f} acc {record['val_acc']:.4f}")
        self.say(f"epoch {epoch + 1}/{o.total_epochs} [{self.phase}] train loss {record['train_loss']:.4f} "
                 f"acc {record['train_acc']:.4f}{val_txt}  {record['seconds']:.1f}s" + ("  *best*" if is_best else ""))
        return stop, next_epoch

    # --- after the loop ------------------------------------------------------------------------------
    def finish(self, t_start: float, last_epoch: int) -> TrainResult:
        """The curves, the best card, the closing log line (and threshold note)."""
        stopper, best_path = self.stopper, self.keeper.best_path
        best_card: dict = {}
        if self.main:
            self.history.save(self.out_dir, plot=self.options.run.plot)  # the PNG once: ~1 s a figure
            if (self.out_dir / "best.json").exists():
                if self.options.hyper.sign_offset:
                    apply_sign_offset(best_path, self.options.hyper.sign_offset, self.keeper.half_best, self.say)
                best_card = read_card(best_path)
        seconds = time.perf_counter() - t_start
        validated = self.val_loader is not None and stopper.best_acc >= 0
        if self.main:
            best_txt = "" if stopper.best_acc < 0 else f", best epoch {stopper.best_epoch + 1}"
            if validated:
                best_txt += f" (val acc {stopper.best_acc:.4f})"
            self.say(f"done in {seconds:.0f}s{best_txt}: {best_path}.safetensors")
            if validated:
                from fingerspell.training.threshold import say_threshold_note

                say_threshold_note(best_path, self.val_loader, self.say)
        return TrainResult(
            out_dir=self.out_dir, best_path=best_path, best_epoch=stopper.best_epoch,
            best_val_acc=stopper.best_acc if self.val_loader is not None else None, epochs_run=self.epochs_run,
            last_epoch=last_epoch, stopped_early=self.stopped_early, history=self.history.epochs,
            card=best_card, seconds=seconds,
        )

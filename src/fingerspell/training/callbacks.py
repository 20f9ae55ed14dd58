"""The named pieces of a training loop: early stopping, checkpoint keeping, history logging.

Each keeps a small JSON-able state so that ``--resume`` restores it exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import torch
from torch import nn

from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_write_bytes
from fingerspell.models.checkpoint import (
    atomic_write_json,
    checkpoint_paths,
    save_checkpoint,
)

PathLike = Union[str, Path]
BEST, LAST, STATE = "best", "last", "last_state"


@dataclass
class EarlyStopping:
    """Stop when validation accuracy has not improved for ``patience`` epochs (None: never).

    Better means higher accuracy, or equal accuracy with lower loss.
    """

    patience: Optional[int] = None
    best_acc: float = -1.0
    best_loss: float = math.inf
    best_epoch: int = -1
    bad_epochs: int = 0

    def update(self, epoch: int, acc: float, loss: float) -> bool:
        """Record one epoch; True when it is the best so far."""
        better = acc > self.best_acc or (acc == self.best_acc and loss < self.best_loss)
        if better:
            self.best_acc, self.best_loss, self.best_epoch, self.bad_epochs = acc, loss, epoch, 0
        else:
            self.bad_epochs += 1
        return better

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_epochs >= self.patience

    def reset_patience(self) -> None:
        """A new training phase (fine-tuning) gets its own patience."""
        self.bad_epochs = 0

    def state_dict(self) -> dict:
        d = asdict(self)
        d["best_loss"] = None if math.isinf(self.best_loss) else self.best_loss
        return d

    def load_state_dict(self, d: dict) -> None:
        self.best_acc = float(d["best_acc"])
        self.best_loss = math.inf if d.get("best_loss") is None else float(d["best_loss"])
        self.best_epoch = int(d["best_epoch"])
        self.bad_epochs = int(d["bad_epochs"])


@dataclass
class History:
    """Per-epoch metrics, saved as ``history.json`` and drawn as ``curves.png``."""

    epochs: List[Dict[str, Any]] = field(default_factory=list)

    def append(self, record: Dict[str, Any]) -> None:
        self.epochs.append(dict(record))

    def save(self, out_dir: PathLike, plot: bool = True) -> None:
        out = Path(out_dir)
        atomic_write_json(out / "history.json", {"epochs": self.epochs})
        if plot and self.epochs:
            plot_history(self.epochs, out / "curves.png")


def plot_history(epochs: List[Dict[str, Any]], path: PathLike) -> Path:
    """Loss and accuracy curves (train and validation) side by side, written atomically."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [e["epoch"] + 1 for e in epochs]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", ax_loss), ("acc", ax_acc)):
        ax.plot(x, [e[f"train_{key}"] for e in epochs], marker="o", label="train")
        vals = [e.get(f"val_{key}") for e in epochs]
        if any(v is not None for v in vals):
            ax.plot(x, [math.nan if v is None else v for v in vals], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if key == "acc" else "cross-entropy loss")
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.set_ylim(0, 1.02)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def check_finite_loss(value: float, rows_done: int) -> None:
    """Stop training on a NaN or infinite loss, before it reaches the weights."""
    if not math.isfinite(value):
        raise FingerspellError(
            f"training stopped: the loss became {value} after {rows_done} rows of this epoch (the model diverged); "
            "nothing from this step was saved and earlier checkpoints are kept: lower --lr, or check the data "
            "for extreme values")


def check_finite_weights(model: nn.Module, what: str) -> None:
    """Refuse to save weights that hold NaN or inf."""
    bad = [k for k, t in model.state_dict().items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise FingerspellError(f"training stopped: refusing to save {what}: {len(bad)} weight tensors hold NaN or "
                               f"inf (e.g. {bad[0]}); the model diverged: lower --lr")


class CheckpointKeeper:
    """Writes ``best`` (when validation improves), ``last`` and the resume state into a run folder."""

    def __init__(self, out_dir: PathLike, half_best: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.half_best = half_best

    @property
    def best_path(self) -> Path:
        return self.out_dir / BEST

    @property
    def last_path(self) -> Path:
        return self.out_dir / LAST

    def has_checkpoint(self) -> bool:
        return any(checkpoint_paths(self.out_dir / n)[0].exists() for n in (BEST, LAST))

    def save_best(self, model: nn.Module, card: dict) -> None:
        check_finite_weights(model, str(self.best_path))
        save_checkpoint(model, card, self.best_path, half=self.half_best)

    def save_last(self, model: nn.Module, card: dict, optimizer: torch.optim.Optimizer,
                  scheduler: Optional[Any], state: dict) -> None:
        """The resume point: fp32 weights + card, and optimizer/scheduler/loop state.

        Optimizer tensors go into ``last_state.safetensors``; everything else into ``last_state.json``.
        """
        from safetensors.torch import save as st_save

        check_finite_weights(model, str(self.last_path))
        tensors, meta = flatten_optimizer_state(optimizer.state_dict())
        blob = st_save(tensors) if tensors else st_save({"_empty": torch.zeros(0)})
        save_checkpoint(model, card, self.last_path, half=False)
        atomic_write_bytes(self.out_dir / f"{STATE}.safetensors", blob)
        atomic_write_json(self.out_dir / f"{STATE}.json", {
            "optimizer": meta,
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            **state,
        })

    def load_state(self) -> tuple:
        """(optimizer state dict, scheduler state or None, loop state) saved by :meth:`save_last`."""
        from safetensors.torch import load_file

        meta_path = self.out_dir / f"{STATE}.json"
        blob_path = self.out_dir / f"{STATE}.safetensors"
        if not meta_path.is_file() or not blob_path.is_file():
            raise FingerspellError(
                f"{self.out_dir} has no resume state ({meta_path.name}, {blob_path.name}): start again with --overwrite"
            )
        try:
            meta = json.loads(meta_path.read_text())
            tensors = load_file(str(blob_path))
        except Exception as exc:
            raise FingerspellError(
                f"resume state in {self.out_dir} is unreadable ({type(exc).__name__}: {exc}): "
                "start again with --overwrite"
            ) from None
        opt_state = unflatten_optimizer_state(tensors, meta["optimizer"])
        return opt_state, meta.get("scheduler"), meta


def flatten_optimizer_state(sd: dict) -> tuple:
    """An optimizer state dict as (flat name -> tensor, JSON-able rest)."""
    tensors: Dict[str, torch.Tensor] = {}
    plain: Dict[str, Dict[str, Any]] = {}
    for pid, slots in sd["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain}


def unflatten_optimizer_state(tensors: Dict[str, torch.Tensor], meta: dict) -> dict:
    state: Dict[int, Dict[str, Any]] = {}
    for key, value in tensors.items():
        if not key.startswith("state."):
            continue
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for pid, slots in meta.get("plain_state", {}).items():
        state.setdefault(int(pid), {}).update(slots)
    return {"state": state, "param_groups": meta["param_groups"]}

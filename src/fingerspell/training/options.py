"""Settings of a training run as four frozen parts, and of a leave-one-group-out run.

* :class:`DataSettings`: which files, where validation comes from, input size, augmentation, sampling;
* :class:`Hyperparameters`: epochs, batch, learning rate and its schedule, early stopping, freezing;
* :class:`ModelSettings`: the architecture and where its first weights come from;
* :class:`RunSettings`: the run folder, device, threads, resume/overwrite, what is written.

:class:`TrainOptions` holds one of each. ``TrainOptions.flat(model=..., epochs=...)`` builds it from
the flat names the command line uses (and ``to_dict`` gives them back, as model cards record them).
The defaults (Adam, lr 0.001, batch 100, 10 epochs, cross-entropy) are a small, safe start for
the landmark models on a CPU; the tuned settings of the shipped models are in
:mod:`fingerspell.training.recipes`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Tuple

from fingerspell.errors import FingerspellError

LR_SCHEDULES = ("none", "cosine", "step")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class DataSettings:
    """data: dataset files joined for training (and for the validation split unless ``val_data``).
    val_data / val_groups / val_fraction: where validation comes from, in that order of preference;
        with none of them, ``val_fraction`` 0.1 (a stratified random split) is used with a warning.
        ``val_fraction=0`` means no validation: the last epoch is "best", no early stopping.
    input_size: mask side the model reads (None: the dataset's); other sizes re-render the masks
        from the stored landmarks (never by resizing pictures).
    static_letters: train J photos as I and Z photos as D (the hand shapes their single frames show;
        data/exceptions.py MOTION_LETTER_SHAPES), so the model never claims a motion letter from one
        frame. Rows whose label is not the ASL letter in their source (mon95's T) are always left out.
    second_readings: vector models also train on each photo's second reading (the hand read again
        on the mirrored photo, hands/second_look.py; rows the dataset has one for), as extra rows.
    """

    data: Tuple[str, ...]
    val_data: Tuple[str, ...] = ()
    val_groups: Tuple[str, ...] = ()
    val_fraction: Optional[float] = None
    input_size: Optional[int] = None
    augment: bool = True
    balanced_sampling: bool = False
    num_workers: int = 0
    static_letters: bool = False
    second_readings: bool = False

    def __post_init__(self) -> None:
        if not self.data:
            raise FingerspellError("no training data: give at least one --data FILE")
        if self.val_fraction is not None and not 0.0 <= self.val_fraction < 1.0:
            raise FingerspellError(f"--val-fraction must lie in [0, 1), got {self.val_fraction}")
        if sum([bool(self.val_data), bool(self.val_groups), self.val_fraction is not None]) > 1:
            raise FingerspellError("give only one of --val-data, --val-groups and --val-fraction")
        if self.num_workers < 0:
            raise FingerspellError("--workers must be 0 or more")


@dataclass(frozen=True)
class Hyperparameters:
    """patience: epochs without a better validation accuracy before stopping (None: never stop early).
    freeze_backbone: train only the new layers (head and attention) for ``epochs``; then
        ``finetune_epochs`` more epochs with the top ``unfreeze_stages`` backbone stages trainable at
        ``lr * finetune_lr_factor``.
    sign_offset: after training, this is subtracted from the final layer's bias of SPACE, DEL and
        NOTHING (a prior: while spelling, letters are far commoner than those three signs, and a false
        DEL removes a letter). 0 = off. Measured in ``benchmarks/sign_offset.py``.
    """

    epochs: int = 10
    batch_size: int = 100
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "none"
    patience: Optional[int] = 5
    seed: int = 0
    class_weighting: bool = False
    freeze_backbone: bool = False
    finetune_epochs: int = 0
    finetune_lr_factor: float = 0.1
    unfreeze_stages: int = 2
    sign_offset: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise FingerspellError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 2:
            raise FingerspellError(f"--batch-size must be at least 2 (BatchNorm), got {self.batch_size}")
        if not self.lr > 0:
            raise FingerspellError(f"--lr must be positive, got {self.lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise FingerspellError(f"--lr-schedule {self.lr_schedule!r}: use one of {', '.join(LR_SCHEDULES)}")
        if self.patience is not None and self.patience < 1:
            raise FingerspellError(f"--patience must be at least 1, got {self.patience}")
        if self.finetune_epochs < 0 or (self.finetune_epochs and not self.freeze_backbone):
            raise FingerspellError("--finetune-epochs follows --freeze-backbone: give both (or neither)")
        if not 0.0 < self.finetune_lr_factor <= 1.0:
            raise FingerspellError("--finetune-lr-factor must lie in (0, 1]")
        if not 0.0 <= self.sign_offset <= 20.0:
            raise FingerspellError(f"--sign-offset must lie in [0, 20], got {self.sign_offset}")

    @property
    def total_epochs(self) -> int:
        return self.epochs + (self.finetune_epochs if self.freeze_backbone else 0)


@dataclass(frozen=True)
class ModelSettings:
    """name: a :data:`~fingerspell.models.registry.MODEL_NAMES` entry; kwargs: extra constructor
    arguments; init_from: a checkpoint, shipped model name or state dict to start from."""

    name: str
    kwargs: Tuple[Tuple[str, object], ...] = ()
    pretrained: bool = False
    pretrained_path: Optional[str] = None
    init_from: Optional[str] = None


@dataclass(frozen=True)
class RunSettings:
    """half_weights: save best.safetensors in fp16 (the shipped weights are fp16).
    threads: CPU threads for torch (None: torch's default). On a busy or small CPU, 1 is often
        several times faster than 2 (measured here: a LandmarkMLP step of 100 rows took 2-8 ms with
        one thread and ~400 ms with two while other jobs shared the 2 cores).
    """

    out: str
    device: str = "auto"
    resume: bool = False
    overwrite: bool = False
    half_weights: bool = False
    threads: Optional[int] = None
    progress: bool = True
    plot: bool = True

    def __post_init__(self) -> None:
        if self.device.split(":")[0] not in DEVICES:
            raise FingerspellError(f"--device {self.device!r}: use auto, cpu, cuda, cuda:N or mps")
        if self.resume and self.overwrite:
            raise FingerspellError("--resume continues a run and --overwrite starts it afresh: pick one")
        if self.threads is not None and self.threads < 1:
            raise FingerspellError("--threads must be at least 1")


# Flat (command-line) name -> (part, field) where they differ from the field name.
_RENAMED = {"model": ("model", "name"), "model_kwargs": ("model", "kwargs")}
_PARTS = {"data": DataSettings, "hyper": Hyperparameters, "model": ModelSettings, "run": RunSettings}


def _flat_names():
    names = {}
    for part, cls in _PARTS.items():
        for f in fields(cls):
            names[f.name] = (part, f.name)
    names.pop("name")
    names.pop("kwargs")
    names.update(_RENAMED)
    return names


_FLAT = _flat_names()


@dataclass(frozen=True)
class TrainOptions:
    """One training run: its data, hyperparameters, model and run settings."""

    data: DataSettings
    hyper: Hyperparameters
    model: ModelSettings
    run: RunSettings

    def __post_init__(self) -> None:
        if self.hyper.class_weighting and self.data.balanced_sampling:
            raise FingerspellError("use --class-weighting or --balanced-sampling, not both (they double-correct)")

    @classmethod
    def flat(cls, **values) -> "TrainOptions":
        """From flat names: ``TrainOptions.flat(data=(...), model="cnn", out="runs/x", epochs=5)``."""
        unknown = sorted(set(values) - set(_FLAT))
        if unknown:
            raise FingerspellError(f"unknown training option(s) {', '.join(unknown)}: see TrainOptions")
        parts = {p: {} for p in _PARTS}
        for key, value in values.items():
            part, name = _FLAT[key]
            parts[part][name] = value
        return cls(**{p: _PARTS[p](**kw) for p, kw in parts.items()})

    def replace(self, **values) -> "TrainOptions":
        """A copy with some flat-named settings changed."""
        current = self.to_dict()
        current["model_kwargs"] = self.model.kwargs
        return TrainOptions.flat(**{**current, **values})

    @property
    def total_epochs(self) -> int:
        return self.hyper.total_epochs

    def to_dict(self) -> dict:
        """Every setting under its flat name (what model cards record)."""
        out = {flat: getattr(getattr(self, part), name) for flat, (part, name) in _FLAT.items()}
        out["model_kwargs"] = dict(self.model.kwargs)
        return out


@dataclass(frozen=True)
class LogoOptions:
    """Leave-one-group-out: one training per held-out group, each evaluated on that group only.

    train: the training settings for every fold (its ``out`` is the root; folds go to
        ``<out>/fold_<group>``). Validation inside a fold, if any, comes from the training groups.
    groups: the groups to hold out (empty: every group in the data).
    """

    train: TrainOptions
    groups: Tuple[str, ...] = ()
    min_group_size: int = 1


__all__ = ["DataSettings", "Hyperparameters", "LogoOptions", "ModelSettings", "RunSettings", "TrainOptions"]

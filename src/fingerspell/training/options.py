"""Settings of a training run, leave-one-group-out run and evaluation, as frozen dataclasses.

Defaults follow the seed (Adam, lr 0.001, batch 100, 10 epochs, cross-entropy); everything the
seed hard-coded is settable here and on the command line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional, Tuple

from fingerspell.errors import FingerspellError

LR_SCHEDULES = ("none", "cosine", "step")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class TrainOptions:
    """One training run.

    data: dataset files joined for training (and for the validation split unless ``val_data``).
    val_data / val_groups / val_fraction: where validation comes from, in that order of preference;
        with none of them, ``val_fraction`` 0.1 (a stratified random split) is used with a warning.
        ``val_fraction=0`` means no validation: the last epoch is "best", no early stopping.
    input_size: mask side the model reads (None: the dataset's); other sizes re-render the masks
        from the stored landmarks (never by resizing pictures).
    patience: epochs without a better validation accuracy before stopping (None: never stop early).
    freeze_backbone: train only the new layers (head and attention) for ``epochs``; then
        ``finetune_epochs`` more epochs with the top ``unfreeze_stages`` backbone stages trainable at
        ``lr * finetune_lr_factor``.
    half_weights: save best.safetensors in fp16 (the shipped weights are fp16).
    threads: CPU threads for torch (None: torch's default). On a busy or small CPU, 1 is often
        several times faster than 2 (measured here: a LandmarkMLP step of 100 rows took 2-8 ms with
        one thread and ~400 ms with two while other jobs shared the 2 cores).
    """

    data: Tuple[str, ...]
    model: str
    out: str
    val_data: Tuple[str, ...] = ()
    val_groups: Tuple[str, ...] = ()
    val_fraction: Optional[float] = None
    epochs: int = 10
    batch_size: int = 100
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "none"
    patience: Optional[int] = 5
    seed: int = 0
    device: str = "auto"
    input_size: Optional[int] = None
    model_kwargs: Tuple[Tuple[str, object], ...] = ()
    augment: bool = True
    class_weighting: bool = False
    balanced_sampling: bool = False
    pretrained: bool = False
    pretrained_path: Optional[str] = None
    init_from: Optional[str] = None
    freeze_backbone: bool = False
    finetune_epochs: int = 0
    finetune_lr_factor: float = 0.1
    unfreeze_stages: int = 2
    resume: bool = False
    overwrite: bool = False
    half_weights: bool = False
    num_workers: int = 0
    threads: Optional[int] = None
    progress: bool = True
    plot: bool = True

    def __post_init__(self) -> None:
        if not self.data:
            raise FingerspellError("no training data: give at least one --data FILE")
        if self.epochs < 1:
            raise FingerspellError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 2:
            raise FingerspellError(f"--batch-size must be at least 2 (BatchNorm), got {self.batch_size}")
        if not self.lr > 0:
            raise FingerspellError(f"--lr must be positive, got {self.lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise FingerspellError(f"--lr-schedule {self.lr_schedule!r}: use one of {', '.join(LR_SCHEDULES)}")
        if self.device.split(":")[0] not in DEVICES:
            raise FingerspellError(f"--device {self.device!r}: use auto, cpu, cuda, cuda:N or mps")
        if self.val_fraction is not None and not 0.0 <= self.val_fraction < 1.0:
            raise FingerspellError(f"--val-fraction must lie in [0, 1), got {self.val_fraction}")
        chosen = sum([bool(self.val_data), bool(self.val_groups), self.val_fraction is not None])
        if chosen > 1:
            raise FingerspellError("give only one of --val-data, --val-groups and --val-fraction")
        if self.patience is not None and self.patience < 1:
            raise FingerspellError(f"--patience must be at least 1, got {self.patience}")
        if self.class_weighting and self.balanced_sampling:
            raise FingerspellError("use --class-weighting or --balanced-sampling, not both (they double-correct)")
        if self.finetune_epochs < 0 or (self.finetune_epochs and not self.freeze_backbone):
            raise FingerspellError("--finetune-epochs follows --freeze-backbone: give both (or neither)")
        if not 0.0 < self.finetune_lr_factor <= 1.0:
            raise FingerspellError("--finetune-lr-factor must lie in (0, 1]")
        if self.resume and self.overwrite:
            raise FingerspellError("--resume continues a run and --overwrite starts it afresh: pick one")
        if self.num_workers < 0:
            raise FingerspellError("--workers must be 0 or more")
        if self.threads is not None and self.threads < 1:
            raise FingerspellError("--threads must be at least 1")

    @property
    def total_epochs(self) -> int:
        return self.epochs + (self.finetune_epochs if self.freeze_backbone else 0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model_kwargs"] = dict(self.model_kwargs)
        return d


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

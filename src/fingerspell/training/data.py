"""Datasets on disk -> torch batches, with augmentation at training time only.

The dataset files hold raw rows of every input kind (uint8 masks, float32 landmark vectors). A
batch is assembled from the raw rows of the model's kind, augmented (training loaders only) and only
then turned into model input, all by the model's input object (:func:`fingerspell.features.input_for`):
the same object the live recognizer and the evaluation use.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from fingerspell.data import splits
from fingerspell.data.schema import DatasetArrays, load_dataset
from fingerspell.errors import FingerspellError
from fingerspell.features import ModelInput, input_for

PathLike = Union[str, Path]
InputLike = Union[str, ModelInput]


class RandomSplitWarning(UserWarning):
    """A random split puts near-identical frames of one signer on both sides."""


def load_training_data(
    paths: Sequence[PathLike], kind: InputLike, input_size: Optional[int] = None
) -> DatasetArrays:
    """Load and join dataset files for a model reading ``kind`` input at ``input_size``.

    ``kind`` is an input object or kind name (:func:`fingerspell.features.input_for`). Mask models:
    masks are re-drawn from the stored landmarks when their size differs from ``input_size`` (or,
    with no size given, from the first file's). All files must share one class vocabulary.
    """
    parts = [load_dataset(p) for p in paths]
    return prepare_arrays(parts, kind, input_size, names=[str(p) for p in paths])


def prepare_arrays(
    parts: Sequence[DatasetArrays], kind: InputLike, input_size: Optional[int] = None,
    names: Optional[Sequence[str]] = None,
) -> DatasetArrays:
    """Join already loaded datasets for ``kind`` input (see :func:`load_training_data`)."""
    return input_for(kind, input_size).prepare(parts, names)


def with_second_readings(data: DatasetArrays) -> DatasetArrays:
    """``data`` plus, for every row with a second reading (hands/second_look.py), a copy of the row
    that reads it (its ``second_vectors`` the first reading: the two swapped)."""
    extra = data.subset(np.flatnonzero(data.has_second))
    extra.vectors, extra.second_vectors = extra.second_vectors, extra.vectors
    return DatasetArrays.concatenate([data, extra])


def model_inputs(data: DatasetArrays, kind: InputLike) -> np.ndarray:
    """The whole dataset as model input (no augmentation): for evaluation and prediction."""
    return input_for(kind).model_inputs(data)


# --- splits (fingerspell.data.splits) ---------------------------------------------------------------

def split_train_val(
    data: DatasetArrays,
    val_data: Optional[DatasetArrays],
    val_groups: Sequence[str],
    val_fraction: Optional[float],
    seed: int,
) -> Tuple[DatasetArrays, Optional[DatasetArrays], str]:
    """(train, val or None, description of how validation was chosen)."""
    if val_data is not None:
        return data, val_data, "separate validation file(s)"
    if val_groups:
        tr, va = splits.group_split(data.groups, val_groups)
        return data.subset(tr), data.subset(va), f"groups {', '.join(val_groups)}"
    if val_fraction == 0:
        return data, None, "none (the last epoch is kept)"
    fraction = 0.1 if val_fraction is None else float(val_fraction)
    warnings.warn(
        f"validating on a random {fraction:.0%} of the training rows: near-identical frames of one signer land "
        "on both sides, so validation accuracy overstates accuracy on new people; prefer --val-groups or "
        "--val-data", RandomSplitWarning, stacklevel=2,
    )
    tr, va = splits.stratified_split(data.labels, fraction, seed=seed)
    if len(va) == 0:
        raise FingerspellError(f"--val-fraction {fraction} leaves no validation rows: raise it or add data")
    return data.subset(tr), data.subset(va), f"random stratified {fraction:.0%}"


def summarize(data: Optional[DatasetArrays]) -> dict:
    """Counts per class name and per group, for model cards and logs."""
    if data is None:
        return {"samples": 0}
    names = data.classes
    per_class = Counter(names[i] for i in data.labels.tolist())
    return {
        "samples": len(data),
        "classes": {c: per_class[c] for c in names if per_class[c]},
        "groups": dict(sorted(Counter(data.groups.tolist()).items())),
        "no_hand": int(data.no_hand.sum()),
    }


# --- torch side ---------------------------------------------------------------------------------

class ArrayDataset(Dataset):
    """Rows of a dataset as (raw input, label): e.g. uint8 masks or float32 vectors, unaugmented."""

    def __init__(self, data: DatasetArrays, kind: InputLike) -> None:
        self.input = input_for(kind)
        self.inputs = self.input.from_dataset(data)
        self.labels = np.asarray(data.labels, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, i: int):
        return self.inputs[i], self.labels[i]


class BatchCollator:
    """Stack raw rows, augment them (if asked), and make the model batch, all through the input object.

    The augmentation generator is seeded per batch from torch's RNG, which the trainer seeds per
    epoch (and DataLoader seeds per worker), so runs are reproducible and workers differ.
    """

    def __init__(self, kind: InputLike, augment: bool = False, augment_options=None) -> None:
        self.input = input_for(kind)
        self.augment = augment
        self.augment_options = augment_options

    def __call__(self, batch):
        raw = np.stack([b[0] for b in batch])
        labels = torch.from_numpy(np.array([b[1] for b in batch], dtype=np.int64))
        if self.augment:
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,)).item()))
            raw = self.input.augment(raw, rng, self.augment_options)
        return torch.from_numpy(self.input.to_model(raw)), labels


def class_weights(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (mean 1 over the classes present; absent classes weigh 1)."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.ones(num_classes)
    w[present] = counts[present].sum() / (present.sum() * counts[present])
    return torch.tensor(w, dtype=torch.float32)


def make_loader(
    data: DatasetArrays,
    kind: str,
    batch_size: int,
    *,
    train: bool,
    augment: bool = False,
    augment_options=None,
    balanced: bool = False,
    seed: int = 0,
    epoch: int = 0,
    num_workers: int = 0,
    world_size: int = 1,
    rank: int = 0,
) -> DataLoader:
    """A DataLoader; training loaders shuffle (seeded by ``seed`` and ``epoch``) and may balance
    classes or shard across DDP ranks with a DistributedSampler."""
    ds = ArrayDataset(data, kind)
    collate = BatchCollator(kind, augment=augment and train, augment_options=augment_options)
    gen = torch.Generator()
    gen.manual_seed(seed * 100_003 + epoch)
    sampler = None
    shuffle = False
    per_rank = len(ds)
    if train and world_size > 1:
        from torch.utils.data.distributed import DistributedSampler

        if balanced:
            raise FingerspellError("--balanced-sampling does not combine with several processes: use --class-weighting")
        sampler = DistributedSampler(ds, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        per_rank = len(sampler)
    elif train and balanced:
        counts = np.bincount(ds.labels)
        weights = 1.0 / counts[ds.labels]
        sampler = torch.utils.data.WeightedRandomSampler(
            torch.as_tensor(weights, dtype=torch.double), num_samples=len(ds), replacement=True, generator=gen
        )
    elif train:
        shuffle = True
    # BatchNorm cannot train on a batch of one: drop a lone last row (it comes back next epoch).
    drop_last = bool(train and per_rank % batch_size == 1 and per_rank > 1)
    return DataLoader(
        ds, batch_size=batch_size, shuffle=shuffle, sampler=sampler, collate_fn=collate,
        num_workers=num_workers, generator=gen if shuffle else None, drop_last=drop_last,
        persistent_workers=False,
    )

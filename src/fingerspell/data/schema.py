"""The dataset file: a versioned ``.npz`` of masks, landmarks, labels and signers.

Schema version 1 (every array has N rows, one per sample):

=================  ===================  ====================================================
key                shape, dtype         meaning
=================  ===================  ====================================================
schema_version     (), int64            1
classes            (C,), str            the vocabulary at build time (labels index it)
masks              (N, S, S, 3), uint8  rendered landmark masks (BGR), S = mask size
landmarks          (N, 21, 3), float32  raw MediaPipe landmarks (x, y normalised; z)
vectors            (N, F), float32      normalised landmark vectors (F = FEATURE_DIM)
handedness         (N,), int8           0 left, 1 right, -1 no hand
image_sizes        (N, 2), int32        width, height of the source image
labels             (N,), int64          class index into ``classes``
groups             (N,), str            signer (massey handN, mon95 user_N) or source folder
sources            (N,), str            the data set / source root name
paths              (N,), str            source image path
no_hand            (N,), bool           True for NOTHING samples where no hand was found
second_vectors     (N, F), float32      optional: the vector of a second reading of the hand, on
                                        the mirrored photo (hands/second_look.py); else = vectors
has_second         (N,), bool           optional: the row has a second reading
=================  ===================  ====================================================

The two optional arrays came after version 1's first files; a file without them loads with
``second_vectors`` = ``vectors`` and ``has_second`` all False.

The seed's format (only ``images`` and ``labels``) loads too: its images become ``masks``
and everything else is filled with neutral values.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional, Union

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_output
from fingerspell.hands.landmarks import FEATURE_DIM, NUM_LANDMARKS
from fingerspell.labels import CLASSES

SCHEMA_VERSION = 1


@dataclass
class DatasetArrays:
    """A loaded dataset; see the module docstring for each field."""

    masks: np.ndarray
    landmarks: np.ndarray
    vectors: np.ndarray
    handedness: np.ndarray
    image_sizes: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    sources: np.ndarray
    paths: np.ndarray
    no_hand: np.ndarray
    classes: tuple = CLASSES
    second_vectors: Optional[np.ndarray] = None
    has_second: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        if self.second_vectors is None:
            self.second_vectors = np.array(self.vectors, dtype=np.float32, copy=True)
        if self.has_second is None:
            self.has_second = np.zeros(len(self.labels), bool)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def mask_size(self) -> int:
        return int(self.masks.shape[1])

    def subset(self, index: np.ndarray) -> "DatasetArrays":
        """The samples at ``index`` (an int array or a boolean mask)."""
        kw = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "classes"}
        return DatasetArrays(classes=self.classes, **kw)

    @staticmethod
    def concatenate(parts: "list[DatasetArrays]") -> "DatasetArrays":
        if not parts:
            raise FingerspellError("no datasets to join")
        sizes = {p.mask_size for p in parts}
        if len(sizes) > 1:
            raise FingerspellError(f"datasets have different mask sizes {sorted(sizes)}: rebuild with one --mask-size")
        kw = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
              for f in fields(DatasetArrays) if f.name != "classes"}
        return DatasetArrays(classes=parts[0].classes, **kw)


_ARRAY_SPECS = {
    # key: (trailing shape (None = any), dtype kind)
    "masks": (None, "u"),
    "landmarks": ((NUM_LANDMARKS, 3), "f"),
    "vectors": ((FEATURE_DIM,), "f"),
    "handedness": ((), "i"),
    "image_sizes": ((2,), "i"),
    "labels": ((), "i"),
    "groups": ((), "U"),
    "sources": ((), "U"),
    "paths": ((), "U"),
    "no_hand": ((), "b"),
}
_OPTIONAL_SPECS = {"second_vectors": ((FEATURE_DIM,), "f"), "has_second": ((), "b")}


def check_finite(arrays: dict, name: Union[str, Path]) -> None:
    """Refuse NaN or infinite values in any float array, naming the field and the count."""
    for key, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype.kind not in "fc":
            continue
        bad = ~np.isfinite(arr)
        if bad.any():
            rows = int(bad.reshape(arr.shape[0], -1).any(1).sum()) if arr.ndim else 1
            raise FingerspellError(
                f"{name}: '{key}' holds {int(bad.sum())} non-finite values (NaN or inf) in {rows} of "
                f"{arr.shape[0] if arr.ndim else 1} rows: rebuild the dataset with 'fingerspell build-dataset'"
            )


def save_dataset(data: DatasetArrays, path: Union[str, Path], overwrite: bool = False) -> Path:
    """Write a dataset atomically (temp file + rename); refuse to replace a file unless told to."""
    out = Path(path)
    if out.exists() and not overwrite:
        raise FingerspellError(f"{out} already exists: choose another --out or pass --overwrite")
    arrays = {f.name: getattr(data, f.name) for f in fields(data) if f.name != "classes"}
    check_finite(arrays, out)
    arrays["classes"] = np.array(data.classes, dtype=str)
    arrays["schema_version"] = np.array(SCHEMA_VERSION, dtype=np.int64)
    buf = io.BytesIO()  # compressed in memory (a fraction of the arrays' size), then written in one go:
    np.savez_compressed(buf, **arrays)  # a zip that fails half-way on a full disk would complain on its own
    with atomic_output(out) as tmp, open(tmp, "wb") as fh:
        fh.write(buf.getbuffer())
    return out


def load_dataset(path: Union[str, Path]) -> DatasetArrays:
    """Load and check a dataset file; a clear error for a wrong, truncated or corrupt file."""
    p = Path(path)
    if not p.is_file():
        raise FingerspellError(f"dataset {p} does not exist: build one with 'fingerspell build-dataset'")
    try:
        with np.load(p, allow_pickle=False) as npz:
            raw = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise FingerspellError(
            f"{p} is not a readable dataset .npz ({type(exc).__name__}: {exc}); it may be truncated or "
            "corrupt: rebuild it with 'fingerspell build-dataset'"
        ) from None
    if "schema_version" not in raw:
        if set(raw) >= {"images", "labels"}:
            return _from_seed(raw, p)
        raise FingerspellError(
            f"{p} is not a fingerspell dataset: it has keys {sorted(raw)}, expected 'schema_version' "
            "(or the seed's 'images' and 'labels'); rebuild it with 'fingerspell build-dataset'"
        )
    version = int(raw["schema_version"])
    if version != SCHEMA_VERSION:
        raise FingerspellError(
            f"{p} has dataset schema version {version}; this fingerspell reads version {SCHEMA_VERSION}: rebuild it"
        )
    missing = [k for k in list(_ARRAY_SPECS) + ["classes"] if k not in raw]
    if missing:
        raise FingerspellError(f"{p} lacks the keys {missing}: rebuild it with 'fingerspell build-dataset'")
    n = raw["labels"].shape[0] if raw["labels"].ndim == 1 else -1
    specs = {**_ARRAY_SPECS, **{k: v for k, v in _OPTIONAL_SPECS.items() if k in raw}}
    for key, (trailing, kind) in specs.items():
        arr = raw[key]
        ok = arr.ndim >= 1 and arr.shape[0] == n and arr.dtype.kind == kind
        if key == "masks":
            ok = ok and arr.ndim == 4 and arr.shape[1] == arr.shape[2] and arr.shape[3] == 3
        elif ok:
            ok = arr.shape[1:] == trailing
        if not ok:
            raise FingerspellError(
                f"{p}: '{key}' has shape {arr.shape} and dtype {arr.dtype}, which does not fit schema "
                f"{SCHEMA_VERSION} with {n} samples: rebuild it"
            )
    check_finite(raw, p)
    classes = tuple(str(c) for c in raw["classes"])
    labels = raw["labels"].astype(np.int64)
    if n and (labels.min() < 0 or labels.max() >= len(classes)):
        raise FingerspellError(f"{p}: labels run outside 0..{len(classes) - 1}: rebuild it")
    return DatasetArrays(
        masks=raw["masks"], landmarks=raw["landmarks"].astype(np.float32),
        vectors=raw["vectors"].astype(np.float32), handedness=raw["handedness"].astype(np.int8),
        image_sizes=raw["image_sizes"].astype(np.int32), labels=labels, groups=raw["groups"],
        sources=raw["sources"], paths=raw["paths"], no_hand=raw["no_hand"], classes=classes,
        second_vectors=raw["second_vectors"].astype(np.float32) if "second_vectors" in raw else None,
        has_second=raw["has_second"].astype(bool) if "has_second" in raw else None,
    )


def _from_seed(raw: dict, p: Path) -> DatasetArrays:
    """The seed's .npz: ``images`` (N, H, W[, 3]) and ``labels`` (N,) only."""
    check_finite({"images": raw["images"], "labels": raw["labels"]}, p)
    images, labels = raw["images"], np.asarray(raw["labels"]).astype(np.int64).reshape(-1)
    if images.ndim == 3:
        images = np.repeat(images[..., None], 3, axis=3)
    if images.ndim != 4 or images.shape[0] != labels.shape[0] or images.shape[3] not in (1, 3):
        raise FingerspellError(f"{p}: seed-style 'images' {images.shape} do not match 'labels' {labels.shape}")
    if images.shape[3] == 1:
        images = np.repeat(images, 3, axis=3)
    if images.dtype != np.uint8:
        scale = 255.0 if images.max() <= 1.0 else 1.0
        images = np.clip(images * scale, 0, 255).astype(np.uint8)
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise FingerspellError(f"{p}: labels run outside 0..{len(CLASSES) - 1}")
    n = labels.shape[0]
    return DatasetArrays(
        masks=images, landmarks=np.zeros((n, NUM_LANDMARKS, 3), np.float32),
        vectors=np.zeros((n, FEATURE_DIM), np.float32), handedness=np.full(n, -1, np.int8),
        image_sizes=np.tile(np.array([images.shape[2], images.shape[1]], np.int32), (n, 1)),
        labels=labels, groups=np.full(n, p.stem), sources=np.full(n, "seed"),
        paths=np.full(n, ""), no_hand=np.zeros(n, bool),
    )

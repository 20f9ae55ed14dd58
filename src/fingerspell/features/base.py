"""What every input kind provides: the one interface between hands, datasets and models.

An input kind (:class:`ModelInput` subclass) knows, for its kind of model input,

* its ``shape`` (one row, without the batch axis) and its raw dataset rows (``from_dataset``);
* how detected hands become raw rows (``from_hands``) and raw rows become the float32 model
  array (``to_model``): the same code for training, evaluation, export and live use;
* its training augmentation (``augment``) and an example model batch (``example``, for export);
* how the live recognizer feeds hands (``batch_for_hands``) and reads the probabilities back
  (``pick``), e.g. a mask and its mirror image per hand, keeping the more confident reading;
* how dataset files are joined for a model at a size (``prepare``) and what the card records
  about it (``normalization``).

A kind that reads a track of hands over time (a ``SequenceInput`` for motion letters) fits the same
interface: its raw row is a window of per-frame hand rows, ``from_hands`` takes the track's hands
in time order, and its ``dataset_field`` names the dataset array that holds the windows.

Models name their kind with a string (``"mask"``, ``"vector"``) in their spec and card;
:func:`fingerspell.features.input_for` turns that string (or a card) into the object. Nothing
outside this package branches on the string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError

if TYPE_CHECKING:  # pragma: no cover
    from fingerspell.data.schema import DatasetArrays
    from fingerspell.hands.landmarks import Hand


class ModelInput:
    """One input kind at one size. Subclasses set ``kind`` and implement the abstract methods."""

    kind: ClassVar[str] = ""
    dataset_field: ClassVar[str] = ""  # the DatasetArrays array holding this kind's raw rows
    default_size: ClassVar[Optional[int]] = None

    def __init__(self, size: Optional[int] = None, **options) -> None:
        """``options`` a kind does not use (e.g. ``mirror`` for vectors) are ignored."""
        self.size = self.check_size(self.default_size if size is None else size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"

    # --- shape and size ---------------------------------------------------------------------------
    def check_size(self, size: Optional[int]) -> Optional[int]:
        """The size to use, or a FingerspellError naming the sizes this kind reads."""
        return None if size is None else int(size)

    @property
    def shape(self) -> Tuple[int, ...]:
        """One model-input row, without the batch axis."""
        raise NotImplementedError

    def dataset_size(self, data: "DatasetArrays") -> Optional[int]:
        """The size a model trained on ``data`` reads (masks: the dataset's mask side)."""
        return self.size

    # --- making input ---------------------------------------------------------------------------
    def from_hands(self, hands: Sequence["Hand"]) -> np.ndarray:
        """Raw rows (as stored in a dataset) for detected hands."""
        raise NotImplementedError

    def from_dataset(self, data: "DatasetArrays") -> np.ndarray:
        """The dataset's raw rows of this kind."""
        return getattr(data, self.dataset_field)

    def check_dataset(self, data: "DatasetArrays", name: str = "the dataset") -> None:
        """Refuse a dataset that lacks this input (a seed-style file has no landmarks).

        A row without its input is all zeros; rows of NOTHING where no hand was found may lack it,
        every other row must have it.
        """
        if len(data) == 0:
            raise FingerspellError(f"{name} has no rows: build it from folders that hold photos")
        rows = self.from_dataset(data)
        empty = ~rows.reshape(len(data), -1).any(1) & ~data.no_hand
        if empty.any():
            raise FingerspellError(
                f"{name} lacks the {self.dataset_field} a {self.kind} model reads: {int(empty.sum())} of "
                f"{len(data)} rows have none (a seed-style file holds only images and labels); rebuild it from "
                "photos with 'fingerspell build-dataset', or train a mask model"
            )

    def to_model(self, raw: np.ndarray) -> np.ndarray:
        """Raw rows (N, ...) or one row -> the float32 model array (N, *shape)."""
        raise NotImplementedError

    def augment(self, raw: np.ndarray, rng: np.random.Generator, options=None) -> np.ndarray:
        """Training augmentation of raw rows (``options``: an AugmentOptions, None = defaults)."""
        raise NotImplementedError

    def example(self, batch: int = 2, seed: int = 0) -> np.ndarray:
        """A random float32 model batch of this kind and size (to trace an ONNX export)."""
        raise NotImplementedError

    def model_inputs(self, data: "DatasetArrays") -> np.ndarray:
        """A whole dataset as model input, unaugmented (evaluation, prediction)."""
        return self.to_model(self.from_dataset(data))

    def dataset_probs(self, predict, data: "DatasetArrays") -> np.ndarray:
        """A whole dataset's probabilities as the recognizer would read its photos, from
        ``predict(model batch) -> (N, C)`` (vectors: both readings of a photo, averaged)."""
        return predict(self.model_inputs(data))

    # --- live use --------------------------------------------------------------------------------
    def batch_for_hands(self, hands: Sequence["Hand"]) -> np.ndarray:
        """The model batch the recognizer runs for these hands (by default one row per hand)."""
        return self.to_model(self.from_hands(hands))

    def pick(self, probs: np.ndarray, n: int) -> List[Tuple[np.ndarray, bool]]:
        """Per hand (probabilities, mirrored?) from the model's output for :meth:`batch_for_hands`."""
        return [(p, False) for p in probs[:n]]

    @staticmethod
    def hand_row(batch: np.ndarray, n: int, i: int) -> np.ndarray:
        """Hand ``i``'s first row in a :meth:`batch_for_hands` batch of ``n`` hands."""
        return batch[i * (len(batch) // max(n, 1))]

    # --- datasets and cards ------------------------------------------------------------------------
    def prepare(self, parts: Sequence["DatasetArrays"], names: Optional[Sequence[str]] = None) -> "DatasetArrays":
        """Join dataset parts (one class vocabulary) for a model reading this input."""
        raise NotImplementedError

    def normalization(self) -> dict:
        """How raw rows become model input; recorded in every model card."""
        raise NotImplementedError

    def check_shape(self, batch: np.ndarray, what: str = "model") -> np.ndarray:
        """``batch`` as contiguous float32 if its rows have :attr:`shape`, else a clear error."""
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if x.ndim != 1 + len(self.shape) or tuple(x.shape[1:]) != self.shape:
            raise FingerspellError(
                f"this {what} reads {self.kind} batches of shape (N, {', '.join(map(str, self.shape))}), got "
                f"{tuple(x.shape)}: build input with fingerspell.features"
            )
        return x


def check_parts(inp: ModelInput, parts: Sequence["DatasetArrays"], names: Optional[Sequence[str]] = None) -> None:
    """Every part holds ``inp``'s input and all share the first one's classes (else a FingerspellError)."""
    if not parts:
        raise FingerspellError("no datasets given: pass at least one --data FILE")
    names = list(names or [f"dataset {i}" for i in range(len(parts))])
    for name, part in zip(names, parts):
        inp.check_dataset(part, name)  # e.g. a landmark model on a seed file's zeros
    for name, part in zip(names[1:], parts[1:]):
        if tuple(part.classes) != tuple(parts[0].classes):
            raise FingerspellError(
                f"{name} has classes {list(part.classes)[:5]}... unlike {names[0]}: rebuild both with this fingerspell"
            )

"""Adapt to the person signing, without labels: the model's BatchNorm statistics follow their hand.

A landmark model normalises its inputs and hidden layers with statistics learned from the training
signers. A new person's hand (its proportions, how far each finger bends) shifts those statistics.
:class:`PersonAdaptation` collects the model input of the frames in the letters this person has
written (holds only: no movement, no empty frames), and once ``min_holds`` letters are in, moves
each BatchNorm layer's running mean and variance (in a copy of the model) ``share`` of the way
from the base model's to those of the person's frames. No label is used, no weight is trained: it
is test-time BatchNorm adaptation (AdaBN), measured in ``benchmarks/adaptation.py`` and ``benchmarks/words.py --adapt``
(docs/adaptation.md).

Off by default (``--adapt``, ``RecognizerOptions(adapt=True)``): it helps models trained on a few
signers and leaves the shipped model, trained on every data set, about where it was.
It needs a PyTorch model with BatchNorm that reads landmark vectors (the shipped landmark model);
for other models and for ONNX it stays off and says why (:attr:`PersonAdaptation.unavailable`).
A calibration profile is a stronger adaptation of its own: with one, this stays off.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass
from typing import Deque, Optional

import numpy as np

from fingerspell.errors import FingerspellError


@dataclass(frozen=True)
class AdaptOptions:
    """share: how far the statistics move towards the person's (0: not at all, 1: all the way);
    min_holds: letters written before the model adapts; max_holds: the most recent letters kept;
    frames_per_hold: frames kept from each letter (spread over the hold)."""

    share: float = 0.25
    min_holds: int = 20
    max_holds: int = 300
    frames_per_hold: int = 3

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise FingerspellError(f"adaptation share {self.share} must lie between 0 and 1")
        if self.min_holds < 2 or self.max_holds < self.min_holds or self.frames_per_hold < 1:
            raise FingerspellError("adaptation needs min_holds >= 2, max_holds >= min_holds and "
                                   "frames_per_hold >= 1")


def _norms(module):
    import torch

    return [(n, m) for n, m in module.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def adaptable(classifier) -> Optional[str]:
    """None if ``classifier`` can adapt to a person, else why not (one line)."""
    if getattr(classifier, "profile", None) is not None:
        return "a calibration profile is in use (it adapts to you already)"
    if getattr(classifier, "backend", "") != "torch" or not hasattr(classifier, "model"):
        return "only the PyTorch backend adapts (not ONNX)"
    if getattr(classifier, "input_kind", "") != "vector":
        return "only landmark models adapt"
    if not _norms(classifier.model):
        return "the model has no BatchNorm layers"
    return None


def person_statistics(module, x: np.ndarray, share: float):
    """A copy of ``module`` (eval mode) whose BatchNorm running statistics lie ``share`` of the way
    from ``module``'s to those of the rows ``x`` (one pass, dropout off)."""
    import torch

    out = copy.deepcopy(module)
    for _, m in _norms(out):
        m.reset_running_stats()
        m.momentum = None  # a plain average over the pass
    out.train()
    for m in out.modules():  # the statistics of eval-time activations: no dropout noise
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    with torch.no_grad():
        out(torch.from_numpy(np.ascontiguousarray(x, np.float32)))
    base = dict(module.named_modules())
    for name, m in _norms(out):
        for buf in ("running_mean", "running_var"):
            mine = getattr(m, buf)
            mine.copy_((1.0 - share) * getattr(base[name], buf) + share * mine)
    return out.eval()


class PersonAdaptation:
    """Follows one person: :meth:`add` the model input of each written letter's frames, read frames
    with :meth:`predict_proba` (the classifier's own until enough letters are in, then an adapted
    copy of its model). The classifier itself is never changed, so other readers sharing it (another
    browser tab, the photo reader of the Python API) are not affected. :meth:`reset`: a new person."""

    def __init__(self, classifier, options: Optional[AdaptOptions] = None) -> None:
        self.classifier = classifier
        self.options = options or AdaptOptions()
        self.unavailable = adaptable(classifier)
        self._holds: Deque[np.ndarray] = deque(maxlen=self.options.max_holds)
        self._adapted = None

    @property
    def holds(self) -> int:
        return len(self._holds)

    @property
    def active(self) -> bool:
        return self._adapted is not None

    @property
    def model(self):
        """The adapted copy of the classifier's model (None until adapted)."""
        return None if self._adapted is None else self._adapted.model

    def add(self, frames: np.ndarray) -> bool:
        """One written letter's frames (model input rows); True if the model was adapted anew."""
        x = np.asarray(frames, np.float32)
        if self.unavailable or x.ndim != 2 or len(x) == 0:
            return False
        k = self.options.frames_per_hold
        pick = np.unique(np.linspace(0, len(x) - 1, min(k, len(x))).round().astype(int))
        self._holds.append(x[pick])
        if len(self._holds) < self.options.min_holds:
            return False
        from fingerspell.runtime.classifier import TorchClassifier

        model = person_statistics(self.classifier.model, np.concatenate(self._holds), self.options.share)
        self._adapted = TorchClassifier(model, self.classifier.card)
        return True

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """The classifier's probabilities, from the adapted model once there is one."""
        return (self._adapted or self.classifier).predict_proba(batch)

    def reset(self) -> None:
        self._holds.clear()
        self._adapted = None

"""Does a model's confidence fit the live threshold? A note when it does not.

The live recognizer only accepts a prediction whose probability reaches the threshold
(:class:`~fingerspell.runtime.smoothing.SmoothingOptions`, 0.7 by default). A model can score
well in ``evaluate`` and still write nothing live, when its right answers are made with low
probabilities (a model trained for a few epochs, heavy label smoothing, many classes). After
``train`` and in ``evaluate`` this module looks at the correct validation predictions: when most
of them fall under the threshold, it says so and names a threshold that would let most through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

#: The suggested threshold lets this share of the correct predictions through.
KEEP_SHARE = 0.9


def live_threshold() -> float:
    """The live app's default confidence threshold."""
    from fingerspell.runtime.smoothing import SmoothingOptions

    return float(SmoothingOptions().threshold)


@dataclass(frozen=True)
class ThresholdCheck:
    """How the correct predictions' confidences sit against the threshold."""

    threshold: float
    n_correct: int
    below_share: float      # share of correct predictions under the threshold
    median_correct: float   # median confidence of the correct predictions
    suggested: float        # a threshold that KEEP_SHARE of the correct predictions reach
    wrong_pass_share: float  # share of wrong predictions that would reach the suggested threshold

    @property
    def warn(self) -> bool:
        """True when most correct predictions would be dropped live."""
        return self.n_correct > 0 and self.below_share > 0.5

    def message(self) -> str:
        return (
            f"note: {self.below_share:.0%} of the correct validation predictions have a confidence under the "
            f"live threshold {self.threshold:.2f} (median {self.median_correct:.2f}), so the live app would "
            f"write few letters with this model. Run it with --threshold {self.suggested:.2f} "
            f"({KEEP_SHARE:.0%} of the correct predictions reach it, and {self.wrong_pass_share:.0%} of the "
            "wrong ones), or train longer."
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "warn": self.warn}


def check_threshold(probs: np.ndarray, labels: np.ndarray, threshold: Optional[float] = None) -> ThresholdCheck:
    """Compare the confidences of correct predictions (argmax of ``probs`` == ``labels``) with ``threshold``."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    t = live_threshold() if threshold is None else float(threshold)
    if p.ndim != 2 or p.shape[0] != y.shape[0] or p.shape[0] == 0:
        return ThresholdCheck(t, 0, 0.0, 0.0, t, 0.0)
    pred = p.argmax(1)
    conf = p.max(1)
    right = pred == y
    good, bad = conf[right], conf[~right]
    if good.size == 0:
        return ThresholdCheck(t, 0, 0.0, 0.0, t, 0.0)
    # Rounded down to 0.05 so the number is one a person would type, and never above the quantile.
    suggested = float(np.floor(np.quantile(good, 1.0 - KEEP_SHARE) * 20.0) / 20.0)
    suggested = max(0.05, min(suggested, t))
    return ThresholdCheck(
        threshold=t, n_correct=int(good.size), below_share=float(np.mean(good < t)),
        median_correct=float(np.median(good)), suggested=suggested,
        wrong_pass_share=float(np.mean(bad >= suggested)) if bad.size else 0.0,
    )


def threshold_note(probs: np.ndarray, labels: np.ndarray, threshold: Optional[float] = None) -> Optional[str]:
    """The note to print, or None when the threshold fits."""
    check = check_threshold(probs, labels, threshold)
    return check.message() if check.warn else None


def check_model_on_loader(model, loader, device="cpu", threshold: Optional[float] = None) -> ThresholdCheck:
    """Run ``model`` over a validation loader of (x, y) batches and check its confidences."""
    import torch

    probs, labels = [], []
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            probs.append(torch.softmax(model(x.to(device)).float(), dim=1).cpu().numpy())
            labels.append(np.asarray(y))
    if not probs:
        return check_threshold(np.zeros((0, 1)), np.zeros(0), threshold)
    return check_threshold(np.concatenate(probs), np.concatenate(labels), threshold)


def say_threshold_note(checkpoint, loader, say) -> ThresholdCheck:
    """After training: check the best checkpoint on the validation loader and ``say`` the note if needed."""
    from fingerspell.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    check = check_model_on_loader(model, loader)
    if check.warn:
        say(check.message())
    return check

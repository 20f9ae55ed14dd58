"""The hold segmenter's working state (:mod:`fingerspell.reading.holds`): a frame as it keeps it and
a hold still open. Internal: what callers exchange with the segmenter is in
:mod:`fingerspell.reading.hold_types`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from fingerspell.reading.hold_types import Hold


@dataclass
class SegmentFrame:
    t: float
    points: np.ndarray  # (21, 2) pixels
    probs: np.ndarray  # raw model probabilities
    folded: np.ndarray  # J -> I, Z -> D


@dataclass
class OpenHold:
    frames: List[SegmentFrame] = field(default_factory=list)
    back: List[SegmentFrame] = field(default_factory=list)  # frames before it, with the hand already in place
    written: Optional[Hold] = None
    absorb: Tuple[str, ...] = ()  # letters this hold must not write (the end pose of J / Z)
    absorbed: bool = False  # read as one of those: counts as read, but nothing was written
    split: bool = False  # began with a reading change while the hand stayed still
    wobble: Optional[str] = None  # the letter held before it, going on after a movement too small to double

"""What the hold segmenter (:mod:`fingerspell.reading.holds`) takes and gives: a frame's reading,
a written letter, what one frame did, and the options (the measurements behind each default are in
docs/holds.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.reading.motion import MotionOptions

#: Letters English does not double: no word read once per million words or more has them twice
#: in a row (wordfreq's 50,000 most frequent English words: QQ and YY only in "qq", "Raqqa", "ayy";
#: tests/test_holds.py checks it against wordfreq), against LL in "all", OO in "good" and even VV,
#: UU, KK in "savvy", "vacuum", "Nikki".
RARE_DOUBLES = frozenset("QY")


@dataclass(frozen=True)
class FrameReading:
    """The writing hand in one frame (``landmarks`` and ``probs`` None when no hand)."""

    t: float
    landmarks: Optional[np.ndarray]
    image_size: Tuple[int, int]
    probs: Optional[np.ndarray]


@dataclass(frozen=True)
class Hold:
    """One written letter (or, in ``HoldUpdate.unread``, a hold too uncertain to write)."""

    letter: str
    confidence: float
    top: Tuple[Tuple[str, float], ...]
    start: float
    end: float
    written_at: float
    kind: str  # "static" or "motion"


@dataclass(frozen=True)
class HoldUpdate:
    """What one frame did. ``retract``: an I or D written earlier that began the J or Z in ``hold``,
    or the unsure hold it began from (``written_at`` nan: it came in ``unread``, which a caller may
    have written; :class:`~fingerspell.reading.reader.Reader` takes it back if it did);
    ``unread``: a hold that ended under ``min_confidence``."""

    state: str
    motion: float
    hold: Optional[Hold]
    progress: float
    retract: Optional[Hold] = None
    unread: Optional[Hold] = None


@dataclass(frozen=True)
class HoldOptions:
    """How holds are found and read; the defaults suit the shipped landmark model. Frame counts are
    for 30 fps: under it the segmenter scales them to the same duration (``reading/tracking.py``).
    The measurements behind each default are in docs/holds.md.

    still_speed / move_speed: motion (palm sizes per second) under which the hand is still, and
        over which it moves (hysteresis).
    motion_window_s: the speed is measured over this span (about three frames at 30 fps).
    min_hold_s / min_frames: the span and the frames a hold needs before it can be read.
    min_confidence: the averaged probability the top letter needs to be written.
    change_frames: consecutive frames with another confident reading that split a still hold (a
        split-off hold never writes a letter already written since the hand last moved).
    dropout_frames: frames without a hand (or with NOTHING) that a hold survives.
    nothing_threshold: a frame whose NOTHING probability reaches this counts as no hand.
    sign_confidence: the averaged probability a SPACE or DEL hold needs (they end or cut a word);
        below it the sign is left out of the hold's reading, which is read for its letters.
    min_gap_s: minimum time between written letters (the CLI's --cooldown); 0 = none.
    settle_distance: the motion says "still" a few frames after the hand stops; the frames just
        before a hold with the hand within this many palm sizes of where it stands count towards a
        hold that ends too short without them (0: they never count).
    double_distance: a double letter's bounce or slide takes the hand at least this many palm sizes
        from where it held the first; a smaller movement read as the held letter throughout is the
        hold wobbling, and the letter is not written again (0: any movement between two holds of
        one letter writes it twice).
    rare_double_distance: the same for the letters English does not double (``RARE_DOUBLES``, Q and
        Y): a still Q pointing down, its fingertips placed a quarter of a palm apart from frame to
        frame, was written two and three times (QQUIZ, QQQUEEN); a name with QQ or YY (Raqqa) needs a
        slide of half a palm, or the hand released between the two.
    motion_letters: recognise J and Z from movements (see :mod:`fingerspell.reading.motion`).
    """

    still_speed: float = 0.7
    move_speed: float = 1.4
    motion_window_s: float = 0.1
    min_hold_s: float = 0.1
    min_frames: int = 3
    min_confidence: float = 0.5
    change_frames: int = 5
    dropout_frames: int = 3
    nothing_threshold: float = 0.5
    sign_confidence: float = 0.9
    min_gap_s: float = 0.0
    settle_distance: float = 0.07
    double_distance: float = 0.2
    rare_double_distance: float = 0.5
    motion_letters: bool = True
    motion: MotionOptions = field(default_factory=MotionOptions)

    def __post_init__(self) -> None:
        checks = (
            ("still_speed", self.still_speed > 0, "a positive speed"),
            ("move_speed", self.move_speed >= self.still_speed, "at least still_speed"),
            ("motion_window_s", 0 < self.motion_window_s <= 1.0, "in (0, 1] seconds"),
            ("min_frames", self.min_frames >= 1, "at least 1"),
            ("min_hold_s", 0 <= self.min_hold_s <= 5, "in [0, 5] seconds"),
            ("min_confidence", 0 <= self.min_confidence < 1, "in [0, 1)"),
            ("change_frames", self.change_frames >= 1, "at least 1"),
            ("dropout_frames", self.dropout_frames >= 0, "0 or more"),
            ("nothing_threshold", 0 < self.nothing_threshold <= 1, "in (0, 1]"),
            ("sign_confidence", 0 <= self.sign_confidence <= 1, "in [0, 1]"),
            ("min_gap_s", self.min_gap_s >= 0, "0 or more seconds"),
            ("settle_distance", self.settle_distance >= 0, "0 or more palm sizes"),
            ("double_distance", self.double_distance >= 0, "0 or more palm sizes"),
            ("rare_double_distance", self.rare_double_distance >= 0, "0 or more palm sizes"),
        )
        for name, ok, want in checks:
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise FingerspellError(f"hold option {name}={value!r} must be {want}")

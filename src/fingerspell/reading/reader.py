"""The fingerspelling reader: one hand's frame readings in, letters and words out.

It joins the :class:`~fingerspell.reading.holds.HoldSegmenter` (holds and motion letters) to the
:class:`~fingerspell.reading.sentence.Sentence` (words, lexicon decoding, suggestions) and decides
when a word is finished by a pause. The live recognizer and the word benchmark's simulator both
read through this one class, so a benchmark figure is a figure of the product.

A word is finished by a signed SPACE, the Space button (:meth:`Sentence.add_space`), or a pause:
the hand out of view (or signing NOTHING) for ``pause_s``; the hand back in view after at least
``away_s`` out of it, or ``left_view_s`` when it went out moving fast across the bottom or a side
edge of the picture (a signer who lowers the hand between two words and raises it at once: measured
with ``benchmarks/hand_entry.py --sentences``; a dropout or a double letter's release, the hand
vanishing where it was, stays inside the word); or no new letter for ``idle_s`` while the
hand stays up. ``idle_s`` must stay above the slowest pace a learner spells at (2 s a letter).

A hold that ends without its averaged reading reaching the writing threshold (an ambiguous hand
shape, R against U, D against O) is still a letter the person signed: when it lasted at least
``uncertain_hold_s`` and its top letter has at least ``uncertain_min``, it is written when the hold
ends, with its top letters, so that the word decoder can weigh its alternatives. Leaving it out
would make the decoder guess a missing letter, which costs far more (measured on
``benchmarks/words.py``; 0.2 s rather than 0.3 s keeps the brief holds of a fluent signer: docs/holds.md).
A J or Z drawn out of such a hold (a new signer's unsure D or I) takes it back, as it does a
confident one. A hold that ends with the hand leaving the view (the last letter of a word) needs
only the segmenter's own minimum: no transition follows it that could be mistaken for a letter,
and at 15 fps and half a second a letter an unsure last letter is often still for under 0.2 s.
The end of the input (a video's last frame) and another hand taking over are the hand leaving
too (:meth:`Reader.release`): the hold still open is read then, not forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.labels import LETTERS
from fingerspell.reading.holds import FrameReading, Hold, HoldOptions, HoldSegmenter, HoldUpdate
from fingerspell.reading.sentence import Sentence
from fingerspell.reading.words import Decoded, WordDecoder

STATIC_LETTERS = frozenset(LETTERS) - {"J", "Z"}  # J and Z are written only from their motion
EDGE = 0.15  # a landmark this near the picture's edge (a fraction of its side) is at the edge
LEAVING_SPEED = 1.0  # picture sides per second: a hand at the edge moving out this fast is leaving the view


@dataclass(frozen=True)
class ReaderOptions:
    """``holds``: how holds are found; ``pause_s``: hand gone this long finishes the word;
    ``away_s``: hand gone at least this long and back in view finishes it (when pause_s is on);
    ``left_view_s``: the same for a hand that was moving out through the picture's bottom or side edge;
    ``idle_s``: no new letter this long (hand still up) finishes it. 0 turns any of them off."""

    holds: HoldOptions = field(default_factory=HoldOptions)
    pause_s: float = 1.0
    away_s: float = 0.5
    left_view_s: float = 0.2
    idle_s: float = 4.0
    uncertain_min: float = 0.3
    uncertain_hold_s: float = 0.2

    def __post_init__(self) -> None:
        if min(self.pause_s, self.idle_s, self.away_s, self.left_view_s) < 0:
            raise FingerspellError("pause and idle times must not be negative (0 turns them off)")
        if not 0.0 <= self.uncertain_min <= 1.0 or self.uncertain_hold_s < 0:
            raise FingerspellError("uncertain_min must lie in [0, 1] and uncertain_hold_s must not be negative")


@dataclass(frozen=True)
class ReaderUpdate:
    """What one frame did: the hold state, the letter written (``hold``), a letter taken back
    (``retract``: an I or D that was the start of J or Z), a hold too uncertain to write
    (``unread``) and the word finished on this frame (``word``)."""

    state: str
    motion: float
    progress: float
    hold: Optional[Hold] = None
    retract: Optional[Hold] = None
    unread: Optional[Hold] = None
    word: Optional[Decoded] = None


class Reader:
    """Reads one writing hand. ``decoder=None`` keeps every word exactly as spelled."""

    def __init__(self, classes: Sequence[str], options: Optional[ReaderOptions] = None,
                 decoder: Optional[WordDecoder] = None) -> None:
        self.options = options or ReaderOptions()
        self.segmenter = HoldSegmenter(classes, self.options.holds)
        self.sentence = Sentence(decoder)
        self._absent_since: Optional[float] = None
        self._leaving = False  # the hand's last frame: at the bottom or a side edge, moving out fast
        self._prev = None  # (time, middle of the hand) of the last frame, if it had a hand
        self._last_letter_t = -math.inf
        self._unsure: Optional[Hold] = None  # the last letter written, when it was an unsure hold
        self._last_t = -math.inf  # the last frame's time

    def update(self, reading: FrameReading) -> ReaderUpdate:
        """Feed the writing hand's reading for one frame (landmarks None when no hand is seen)."""
        self._last_t = reading.t
        out = self._apply(self.segmenter.update(reading), reading.t, reading.landmarks is None)
        self._leaving = self._going_out(reading)
        return out

    def _going_out(self, reading: FrameReading) -> bool:
        """Is the hand moving out of the picture (its lowest point at the bottom edge and its middle
        going down at least ``LEAVING_SPEED``, or the same towards a side)?"""
        if reading.landmarks is None:
            return self._leaving
        xy = np.asarray(reading.landmarks, np.float64)[:, :2]
        prev, self._prev = self._prev, (reading.t, xy.mean(axis=0))
        if prev is None or not 0 < reading.t - prev[0] <= 0.2:
            # back after being away: how the hand left stands until the word is settled (the first
            # frame back, half in view at the edge, often reads NOTHING and is not counted as back)
            return self._leaving and self._absent_since is not None
        vx, vy = (self._prev[1] - prev[1]) / (reading.t - prev[0])  # frame sides per second
        return bool((xy[:, 1].max() > 1 - EDGE and vy > LEAVING_SPEED)
                    or (xy[:, 0].min() < EDGE and vx < -LEAVING_SPEED)
                    or (xy[:, 0].max() > 1 - EDGE and vx > LEAVING_SPEED))

    def release(self, t: Optional[float] = None) -> ReaderUpdate:
        """The writing hand is gone for good (the input ended, another hand takes over): its open
        hold is read now, as when a hand leaves the view, instead of being forgotten."""
        t = self._last_t if t is None else t
        return self._apply(self.segmenter.release(t), t, True, finish=False)

    def _apply(self, u: HoldUpdate, t: float, absent: bool, finish: bool = True) -> ReaderUpdate:
        # an unsure hold (never written by the segmenter) is taken back only if this reader wrote it
        ours = u.retract is not None and (not math.isnan(u.retract.written_at) or u.retract is self._unsure)
        if ours and self.sentence.current.endswith(u.retract.letter):
            self.sentence.delete(t)
        written = u.hold or self._uncertain(u.unread, left=u.state == "no_hand")
        if written is not None:
            self.sentence.add_hold(written)
            self._last_letter_t = t
            self._unsure = written if written is u.unread else None
        word = self._maybe_finish(t, absent or u.state == "no_hand") if finish else None
        return ReaderUpdate(u.state, u.motion, u.progress, written, u.retract if ours else None, u.unread, word)

    def _uncertain(self, hold: Optional[Hold], left: bool = False) -> Optional[Hold]:
        """An unsure hold to write, or None. ``left``: the hold ended with the hand leaving the view
        (the end of a word), not with a movement to another shape: the segmenter's own minimum
        (``HoldOptions.min_hold_s``) is enough, since no transition follows it."""
        o = self.options
        # Only letters: an unsure SPACE or DEL would end or cut a word the person did not mean to.
        if hold is None or hold.letter not in STATIC_LETTERS or not o.uncertain_min:
            return None
        # 7 frames at 30 fps span 0.2 s; without the tolerance, 4 in 10 of them read 0.19999...
        short = not left and hold.end - hold.start < o.uncertain_hold_s - 1e-6
        if hold.confidence < o.uncertain_min or short:
            return None
        return hold

    def _maybe_finish(self, t: float, absent: bool) -> Optional[Decoded]:
        o = self.options
        # (1e-6: 15 frames at 30 fps span 0.5 s, which floats make 0.49999...)
        gone = t - self._absent_since + 1e-6 if not absent and self._absent_since is not None else 0.0
        back = o.pause_s > 0 and any(0 < s <= gone for s in (o.away_s, o.left_view_s if self._leaving else 0))
        if absent:
            if self._absent_since is None:
                self._absent_since = t
        else:
            self._absent_since = None
        if not self.sentence.current:
            return None
        if back:  # the hand was lowered out of view between two words, and raised again
            return self.sentence.finish_word(t, reason="pause")
        if o.pause_s and self._absent_since is not None and t - self._absent_since >= o.pause_s:
            return self.sentence.finish_word(t, reason="pause")
        if o.idle_s and t - self._last_letter_t >= o.idle_s:
            return self.sentence.finish_word(t, reason="idle")
        return None

    def finish(self, t: Optional[float] = None) -> Optional[Decoded]:
        """End of input: the hold still open is read (:meth:`release`), the word being spelled finished."""
        self.release(t)
        return self.sentence.finish_word(t, reason="end")

    def reset(self) -> None:
        """Forget the holds and clear the sentence (word callbacks stay)."""
        self.segmenter.reset()
        self.sentence.reset()
        self._absent_since = None
        self._leaving, self._prev = False, None
        self._last_letter_t = -math.inf
        self._unsure = None
        self._last_t = -math.inf

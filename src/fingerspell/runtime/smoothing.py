"""From noisy per-frame predictions to each hand's shown letter: vote windows and hand tracks.

Everything here is plain logic on labels, boxes and timestamps (no MediaPipe, no model), so it
is tested on scripted sequences and behaves the same on a webcam and on a video file: time is
always passed in (frame timestamps), never read from a clock.

* :class:`VoteWindow`: the last N predictions of one hand; a letter is *stable* once the window
  is full and the letter holds a strict majority of it. Low-confidence frames enter the window
  as ``None`` so that they dilute the vote instead of being skipped.
* :class:`TrackSet`: follows each hand from frame to frame (by handedness and box position),
  so two hands never share a window.

What gets *written* is decided elsewhere, from holds of the writing hand
(:mod:`fingerspell.reading.holds`); the vote here only steadies the letter shown over each hand.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Sequence, Tuple

from fingerspell.errors import FingerspellError
from fingerspell.hands.landmarks import box_centre


@dataclass(frozen=True)
class SmoothingOptions:
    """How each hand's shown letter is steadied. ``threshold``: a frame's reading counts as sure
    from this probability (0.5: what the hold reader needs too); ``window``/``majority``: the vote
    over the last frames; ``max_missing``: frames a hand may vanish and keep its track."""

    threshold: float = 0.5
    window: int = 8
    majority: float = 0.5
    max_missing: int = 2
    match_distance: float = 0.5
    handedness_penalty: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise FingerspellError(f"confidence threshold {self.threshold} must be between 0 and 1")
        if self.window < 1:
            raise FingerspellError(f"window {self.window} must be at least 1 frame")
        if not 0.0 <= self.majority < 1.0:
            raise FingerspellError(f"majority {self.majority} must be in [0, 1): the share a letter must exceed")
        if self.max_missing < 0:
            raise FingerspellError("max_missing must not be negative")


def accept(label: Optional[str], confidence: float, threshold: float) -> Optional[str]:
    """The label if its probability reaches the threshold, else None (uncertain)."""
    if label is None or not confidence >= threshold:
        return None
    return label


class VoteWindow:
    """The last ``size`` predictions of one hand and their majority vote."""

    def __init__(self, size: int = 8, majority: float = 0.5) -> None:
        self.size = int(size)
        self.majority = float(majority)
        self._items: Deque[Optional[str]] = deque(maxlen=self.size)

    def push(self, label: Optional[str]) -> Optional[str]:
        """Add one prediction (None for uncertain) and return the stable letter, if any."""
        self._items.append(label)
        return self.stable

    @property
    def full(self) -> bool:
        return len(self._items) == self.size

    @property
    def stable(self) -> Optional[str]:
        """The letter holding more than ``majority`` of a full window, else None."""
        if not self.full:
            return None
        counts = Counter(x for x in self._items if x is not None)
        if not counts:
            return None
        label, n = counts.most_common(1)[0]
        return label if n > self.majority * self.size else None

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> List[Optional[str]]:
        return list(self._items)


@dataclass
class Observation:
    """One hand in one frame, as the tracker sees it."""

    handedness: str
    box: Tuple[float, float, float, float]
    image_size: Tuple[int, int]
    label: Optional[str] = None
    confidence: float = 0.0


@dataclass
class Track:
    """One hand followed over frames, with its own vote window."""

    id: int
    handedness: str
    box: Tuple[float, float, float, float]
    window: VoteWindow
    missing: int = 0
    label: Optional[str] = None
    confidence: float = 0.0
    accepted: Optional[str] = None
    frames: int = 0

    @property
    def stable(self) -> Optional[str]:
        return self.window.stable


class TrackSet:
    """Match the hands of each frame to the hands of the previous frames.

    The cost of pairing a track with a hand is the distance between their box centres, as a
    fraction of the image diagonal, plus a penalty when the handedness differs (MediaPipe
    sometimes flips it for one frame, so a flip alone does not start a new track). Pairs are
    taken cheapest first; a hand left over starts a new track; a track unseen for more than
    ``max_missing`` frames is dropped with its window.
    """

    def __init__(self, options: Optional[SmoothingOptions] = None) -> None:
        self.options = options or SmoothingOptions()
        self._tracks: Dict[int, Track] = {}
        self._next_id = 1

    @property
    def tracks(self) -> List[Track]:
        return [self._tracks[k] for k in sorted(self._tracks)]

    def get(self, track_id: Optional[int]) -> Optional[Track]:
        return None if track_id is None else self._tracks.get(track_id)

    def _cost(self, track: Track, obs: Observation) -> float:
        w, h = obs.image_size
        diag = math.hypot(w, h) or 1.0
        (ax, ay), (bx, by) = box_centre(track.box), box_centre(obs.box)
        cost = math.hypot(ax - bx, ay - by) / diag
        if track.handedness != obs.handedness:
            cost += self.options.handedness_penalty
        return cost

    def update(self, observations: Sequence[Observation]) -> List[Track]:
        """Assign each observation to a track (in order), push its prediction, age the rest."""
        o = self.options
        pairs = sorted(
            (self._cost(t, ob), tid, i)
            for tid, t in self._tracks.items()
            for i, ob in enumerate(observations)
        )
        assigned: Dict[int, int] = {}
        used_tracks: set = set()
        for cost, tid, i in pairs:
            if cost >= o.match_distance or tid in used_tracks or i in assigned:
                continue
            assigned[i] = tid
            used_tracks.add(tid)
        result: List[Track] = []
        for i, ob in enumerate(observations):
            tid = assigned.get(i)
            if tid is None:
                tid = self._next_id
                self._next_id += 1
                self._tracks[tid] = Track(tid, ob.handedness, tuple(ob.box), VoteWindow(o.window, o.majority))
            track = self._tracks[tid]
            track.handedness = ob.handedness
            track.box = tuple(ob.box)
            track.missing = 0
            track.frames += 1
            track.label, track.confidence = ob.label, float(ob.confidence)
            track.accepted = accept(ob.label, ob.confidence, o.threshold)
            track.window.push(track.accepted)
            result.append(track)
        seen = {t.id for t in result}
        for tid in list(self._tracks):
            if tid not in seen:
                track = self._tracks[tid]
                track.missing += 1
                if track.missing > o.max_missing:
                    del self._tracks[tid]
        return result

    def clear(self) -> None:
        self._tracks.clear()

"""From noisy per-frame predictions to a sentence: vote windows, hand tracks, the sentence builder.

Everything here is plain logic on labels, boxes and timestamps (no MediaPipe, no model), so it
is tested on scripted sequences and behaves the same on a webcam and on a video file: time is
always passed in (frame timestamps), never read from a clock.

* :class:`VoteWindow`: the last N predictions of one hand; a letter is *stable* once the window
  is full and the letter holds a strict majority of it. Low-confidence frames enter the window
  as ``None`` so that they dilute the vote instead of being skipped.
* :class:`TrackSet`: follows each hand from frame to frame (by handedness and box position),
  so two hands never share a window.
* :class:`SentenceBuilder`: turns the stable letter of the writing hand into text, with a
  cooldown between appends and the double-letter rule: the same letter is written twice only
  after the hand was released (gone for a few frames, NOTHING, or another stable letter) and
  the letter is held again; holding one letter longer never repeats it.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Deque, Dict, List, Optional, Sequence, Tuple

from fingerspell.errors import FingerspellError
from fingerspell.labels import DEL, NOTHING, SPACE


@dataclass(frozen=True)
class SmoothingOptions:
    """How predictions become letters. Defaults follow the seed (0.7, 6-10 frames, 2 s)."""

    threshold: float = 0.7
    window: int = 8
    majority: float = 0.5
    cooldown_s: float = 2.0
    release_frames: int = 2
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
        if self.cooldown_s < 0:
            raise FingerspellError(f"cooldown {self.cooldown_s} s must not be negative")
        if self.release_frames < 1:
            raise FingerspellError("release_frames must be at least 1")
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


def _centre(box: Sequence[float]) -> Tuple[float, float]:
    x0, y0, x1, y1 = box
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0


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
        (ax, ay), (bx, by) = _centre(track.box), _centre(obs.box)
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


@dataclass(frozen=True)
class SentenceEvent:
    """What one update did to the sentence."""

    kind: str  # "letter", "space", "delete"
    label: str
    time: float
    text: str


@dataclass
class _BuilderState:
    text: str = ""
    last_label: Optional[str] = None
    last_time: float = -math.inf
    released: bool = True
    absent: int = 0
    history: List[SentenceEvent] = field(default_factory=list)


class SentenceBuilder:
    """Writes stable letters into a sentence, with a cooldown and the double-letter rule.

    Call :meth:`update` once per frame with the frame time, the stable letter of the writing
    hand (None if there is none) and whether that hand is in the frame. Thread-safe: the live
    GUI calls :meth:`add_space`, :meth:`delete` and :meth:`reset` from its own thread.
    """

    def __init__(self, options: Optional[SmoothingOptions] = None) -> None:
        self.options = options or SmoothingOptions()
        self._lock = threading.RLock()
        self._s = _BuilderState()

    @property
    def text(self) -> str:
        with self._lock:
            return self._s.text

    @property
    def events(self) -> List[SentenceEvent]:
        with self._lock:
            return list(self._s.history)

    @property
    def released(self) -> bool:
        """True once the hand let go of the last written letter (it may be written again)."""
        with self._lock:
            return self._s.released

    def update(self, t: float, stable: Optional[str], hand_present: bool = True) -> Optional[SentenceEvent]:
        """Feed one frame; returns the event if the sentence changed."""
        with self._lock:
            s = self._s
            if not hand_present:
                s.absent += 1
                if s.absent >= self.options.release_frames:
                    s.released = True
                return None
            s.absent = 0
            if stable is None:
                return None
            if stable == NOTHING:
                s.released = True
                return None
            if stable != s.last_label:
                s.released = True  # another letter came in between: the last one was let go
            elif not s.released:
                return None  # the same letter still held: never repeat it
            if t - s.last_time < self.options.cooldown_s:
                return None
            event = self._apply(stable, t)
            s.last_label, s.last_time, s.released = stable, t, False
            return event

    def _apply(self, label: str, t: float) -> SentenceEvent:
        s = self._s
        if label == DEL:
            s.text = s.text[:-1]
            kind = "delete"
        elif label == SPACE:
            s.text += " "
            kind = "space"
        else:
            s.text += label
            kind = "letter"
        event = SentenceEvent(kind, label, float(t), s.text)
        s.history.append(event)
        return event

    # --- what the user does from the UI -----------------------------------------------
    def add_space(self) -> str:
        with self._lock:
            self._s.text += " "
            return self._s.text

    def delete(self) -> str:
        with self._lock:
            self._s.text = self._s.text[:-1]
            return self._s.text

    def reset(self) -> str:
        """Clear the text. A letter still held is not written again until the hand lets go."""
        with self._lock:
            self._s.text = ""
            self._s.history.clear()
            return self._s.text

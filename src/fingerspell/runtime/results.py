"""What the recognizer gives for each frame: every hand's reading (:class:`HandPrediction`) and the
frame's result (:class:`FrameResult`), with their JSON forms (``run --json``, the transcript)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from fingerspell.hands.landmarks import Hand, cut_off
from fingerspell.reading.holds import Hold
from fingerspell.reading.reader import ReaderUpdate


@dataclass
class HandPrediction:
    """One hand in one frame: what the model read and what the vote window says."""

    track_id: int
    hand: Hand
    label: str
    confidence: float
    accepted: Optional[str]
    stable: Optional[str]
    mirrored: bool = False
    top: List[Tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "track": self.track_id, "handedness": self.hand.handedness, "box": [int(v) for v in self.hand.box],
            "label": self.label, "confidence": round(float(self.confidence), 4), "accepted": self.accepted,
            "stable": self.stable, "mirrored": self.mirrored,
            "top": [[name, round(float(p), 4)] for name, p in self.top],
        }


def hold_dict(hold: Optional[Hold]) -> Optional[dict]:
    if hold is None:
        return None
    return {"letter": hold.letter, "confidence": round(float(hold.confidence), 4), "kind": hold.kind,
            "start": round(float(hold.start), 4), "end": round(float(hold.end), 4),
            "written_at": round(float(hold.written_at), 4),
            "top": [[a, round(float(p), 4)] for a, p in hold.top]}


@dataclass
class FrameResult:
    """Everything one frame produced; ``timings`` are milliseconds per stage.

    ``reading`` is the writing hand's hold state: ``hold_state`` (no_hand, moving, holding, read),
    ``motion`` (palm sizes per second), ``progress`` of the hold toward being read, and ``hold``,
    the letter written on this frame. ``sentence`` is the text; ``current_word`` the word being
    spelled and ``suggestions`` its top words. ``adaptation``: with ``--adapt``, whether the model
    follows the person yet (:meth:`Recognizer.adaptation_status`); None without. ``resting``: the
    region (x0, y0, x1, y1 pixels) of a resting hand hidden from the tracker (``signing_hand``), or None.
    """

    index: int
    timestamp: float
    hands: List[HandPrediction]
    writer: Optional[int]
    stable: Optional[str]
    reading: ReaderUpdate
    sentence: str
    timings: Dict[str, float]
    current_word: str = ""
    suggestions: List[Tuple[str, float]] = field(default_factory=list)
    display: str = ""
    adaptation: Optional[dict] = None
    resting: Optional[Tuple[int, int, int, int]] = None

    @property
    def best(self) -> Optional[HandPrediction]:
        """The writing hand's prediction, else the most confident one."""
        for h in self.hands:
            if h.track_id == self.writer:
                return h
        return max(self.hands, key=lambda h: h.confidence) if self.hands else None

    @property
    def cut_off(self) -> bool:
        """The writing hand reaches beyond the picture's edge (see :func:`~fingerspell.hands.landmarks.cut_off`)."""
        return any(h.track_id == self.writer and cut_off(h.hand.landmarks) for h in self.hands)

    @property
    def hold_state(self) -> str:
        return self.reading.state

    @property
    def motion(self) -> float:
        return self.reading.motion

    @property
    def progress(self) -> float:
        return self.reading.progress

    @property
    def hold(self) -> Optional[Hold]:
        """The letter written on this frame, if any."""
        return self.reading.hold

    @property
    def event(self) -> object:
        """Something was written on this frame (a letter or a finished word)."""
        return self.reading.hold or self.reading.word

    def to_dict(self) -> dict:
        r = self.reading
        word = None if r.word is None else {"spelled": r.word.spelled, "word": r.word.word,
                                            "probability": round(float(r.word.probability), 4),
                                            "accepted": r.word.accepted}
        return {
            "index": self.index, "time": round(float(self.timestamp), 4),
            "hands": [h.to_dict() for h in self.hands], "writer": self.writer, "stable": self.stable,
            "hold_state": r.state, "motion": None if r.motion != r.motion else round(float(r.motion), 3),
            "progress": round(float(r.progress), 3), "hold": hold_dict(r.hold), "retract": hold_dict(r.retract),
            "word": word, "sentence": self.sentence, "current_word": self.current_word,
            "suggestions": [[w, round(float(p), 4)] for w, p in self.suggestions],
            "timings_ms": {k: round(v, 3) for k, v in self.timings.items()},
            **({"adaptation": self.adaptation} if self.adaptation is not None else {}),
            **({"resting": [int(v) for v in self.resting]} if self.resting is not None else {}),
            **({"cut_off": True} if self.cut_off else {}),
        }

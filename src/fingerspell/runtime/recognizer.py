"""The real-time recognizer: frame -> hands -> model -> smoothed letters -> sentence.

One :meth:`Recognizer.process` call per frame:

1. MediaPipe finds the hands (a :class:`HandDetector` in video mode for streams);
2. each hand becomes model input through :mod:`fingerspell.features` only; for a mask model the
   mask and its mirror image both go through the model (one batch for all hands) and the more
   confident reading is kept, so a left hand reads like a right one;
3. softmax probabilities, a confidence threshold, and a vote window per tracked hand
   (:mod:`fingerspell.runtime.smoothing`) give each hand's stable letter;
4. the stable letter of the writing hand feeds the :class:`SentenceBuilder`.

The writing hand is the hand that is writing now: it stays the writer while it is in the frame
and has a stable letter; when it has none, the oldest other hand with a stable letter takes over.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.features import input_for
from fingerspell.hands.landmarks import Hand
from fingerspell.runtime.classifier import Classifier
from fingerspell.runtime.smoothing import (
    Observation,
    SentenceBuilder,
    SentenceEvent,
    SmoothingOptions,
    TrackSet,
)

STAGES = ("detection", "features", "model", "smoothing")


@dataclass(frozen=True)
class RecognizerOptions:
    """How frames are read. ``smoothing`` holds the threshold, window and cooldown."""

    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)
    mirror_masks: bool = True
    top_k: int = 3


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


@dataclass
class FrameResult:
    """Everything one frame produced; ``timings`` are milliseconds per stage."""

    index: int
    timestamp: float
    hands: List[HandPrediction]
    writer: Optional[int]
    stable: Optional[str]
    event: Optional[SentenceEvent]
    sentence: str
    timings: Dict[str, float]

    @property
    def best(self) -> Optional[HandPrediction]:
        """The writing hand's prediction, else the most confident one."""
        for h in self.hands:
            if h.track_id == self.writer:
                return h
        return max(self.hands, key=lambda h: h.confidence) if self.hands else None

    def to_dict(self) -> dict:
        return {
            "index": self.index, "time": round(float(self.timestamp), 4),
            "hands": [h.to_dict() for h in self.hands], "writer": self.writer, "stable": self.stable,
            "event": None if self.event is None else asdict(self.event), "sentence": self.sentence,
            "timings_ms": {k: round(v, 3) for k, v in self.timings.items()},
        }


class Recognizer:
    """Reads fingerspelled letters from a stream of frames.

    ``detector`` is a :class:`~fingerspell.hands.detector.HandDetector` (video mode for streams),
    ``classifier`` a :class:`~fingerspell.runtime.classifier.Classifier` and ``card`` its model card.
    """

    def __init__(self, detector, classifier: Classifier, card: Optional[dict] = None,
                 options: Optional[RecognizerOptions] = None) -> None:
        self.detector = detector
        self.classifier = classifier
        self.card = dict(card if card is not None else classifier.card)
        self.options = options or RecognizerOptions()
        self.classes: Tuple[str, ...] = tuple(self.card["classes"])
        # What the model reads (mask, vector...): it makes the batch and reads the output back.
        self.input = input_for(self.card, mirror=self.options.mirror_masks)
        self.input_kind = self.input.kind
        self.input_size = int(self.card["input_size"])
        self.tracks = TrackSet(self.options.smoothing)
        self.sentence = SentenceBuilder(self.options.smoothing)
        self._writer: Optional[int] = None
        self._index = 0
        self._t0 = time.monotonic()
        self._last_t: Optional[float] = None

    # --- construction helpers ----------------------------------------------------------------
    @classmethod
    def from_model(cls, model: Optional[str] = None, backend: Optional[str] = None,
                   options: Optional[RecognizerOptions] = None, max_hands: int = 1,
                   detector_backend: str = "solutions", model_complexity: int = 1,
                   mode: str = "video", threads: Optional[int] = None) -> "Recognizer":
        """A recognizer with a fresh video-mode detector and the model at ``model`` (default: shipped)."""
        from fingerspell.hands.detector import HandDetector
        from fingerspell.runtime.classifier import load_classifier

        # The model first: with DISPLAY set, a MediaPipe graph loads Mesa's libLLVM, and importing
        # torchvision/triton (another LLVM) after that crashes the process.
        classifier, card = load_classifier(model, backend=backend, threads=threads)
        detector = HandDetector(backend=detector_backend, mode=mode, max_hands=max_hands,
                                model_complexity=model_complexity)
        return cls(detector, classifier, card, options)

    def close(self) -> None:
        self.detector.close()
        self.classifier.close()

    def __enter__(self) -> "Recognizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- per frame ----------------------------------------------------------------------------
    def model_input(self, hands: Sequence[Hand]) -> np.ndarray:
        """The model batch for these hands (mask models: each hand's mask, then its mirror)."""
        return self.input.batch_for_hands(hands)

    def classify(self, hands: Sequence[Hand]) -> List[Tuple[np.ndarray, bool]]:
        """Per hand: (probabilities, mirrored?) from one model call for all hands."""
        batch = self.model_input(hands)
        probs = self.classifier.predict_proba(batch)
        return self._pick(probs, len(hands))

    def _pick(self, probs: np.ndarray, n: int) -> List[Tuple[np.ndarray, bool]]:
        return self.input.pick(probs, n)

    def process(self, frame: np.ndarray, timestamp: Optional[float] = None) -> FrameResult:
        """Read one BGR frame taken at ``timestamp`` seconds (default: time since start)."""
        t = (time.monotonic() - self._t0) if timestamp is None else float(timestamp)
        if self._last_t is not None and t <= self._last_t:
            t = self._last_t + 1e-3  # keep video-mode time strictly increasing
        self._last_t = t
        timings: Dict[str, float] = {}

        t0 = time.perf_counter()
        hands = self.detector.detect(frame, timestamp_ms=int(round(t * 1000)))
        t1 = time.perf_counter()
        timings["detection"] = (t1 - t0) * 1000
        readings: List[Tuple[np.ndarray, bool]] = []
        if hands:
            batch = self.model_input(hands)
            t2 = time.perf_counter()
            timings["features"] = (t2 - t1) * 1000
            probs = self.classifier.predict_proba(batch)
            readings = self._pick(probs, len(hands))
            t3 = time.perf_counter()
            timings["model"] = (t3 - t2) * 1000
        else:
            t3 = time.perf_counter()
            timings["features"] = (t3 - t1) * 1000
            timings["model"] = 0.0

        observations = []
        for hand, (p, _) in zip(hands, readings):
            k = int(np.argmax(p))
            observations.append(Observation(hand.handedness, hand.box, hand.image_size, self.classes[k], float(p[k])))
        tracks = self.tracks.update(observations)
        predictions = []
        for hand, (p, mirrored), track in zip(hands, readings, tracks):
            order = np.argsort(-p)[: self.options.top_k]
            predictions.append(HandPrediction(
                track_id=track.id, hand=hand, label=track.label or "", confidence=track.confidence,
                accepted=track.accepted, stable=track.stable, mirrored=mirrored,
                top=[(self.classes[int(i)], float(p[int(i)])) for i in order],
            ))
        stable, event = self._write(t, tracks)
        timings["smoothing"] = (time.perf_counter() - t3) * 1000
        result = FrameResult(self._index, t, predictions, self._writer, stable, event, self.sentence.text, timings)
        self._index += 1
        return result

    def _write(self, t: float, present) -> Tuple[Optional[str], Optional[SentenceEvent]]:
        by_id = {tr.id: tr for tr in present}
        writer = by_id.get(self._writer) if self._writer is not None else None
        if writer is None or writer.stable is None:
            candidates = [tr for tr in present if tr.stable is not None]
            if candidates:
                writer = min(candidates, key=lambda tr: tr.id)
        if writer is not None:
            self._writer = writer.id
            return writer.stable, self.sentence.update(t, writer.stable, hand_present=True)
        # No stable letter anywhere: the writing hand is "present" only if it is in this frame.
        present_flag = (self._writer in by_id) if self._writer is not None else bool(present)
        if self._writer is not None and self.tracks.get(self._writer) is None:
            self._writer = None
        return None, self.sentence.update(t, None, hand_present=present_flag)

    def reset(self) -> None:
        """Forget the tracks and the sentence (a new recording)."""
        self.tracks.clear()
        self.sentence = SentenceBuilder(self.options.smoothing)
        self._writer = None

    # --- drawing -----------------------------------------------------------------------------
    def annotate(self, frame: np.ndarray, result: FrameResult, sentence: bool = True) -> np.ndarray:
        """Draw boxes, skeletons, labels (and the sentence) onto ``frame`` in place; times it."""
        from fingerspell.hands.render import annotate_frame

        t0 = time.perf_counter()
        labels = [h.label if h.accepted else f"{h.label}?" for h in result.hands]
        annotate_frame(frame, [h.hand for h in result.hands], labels, [h.confidence for h in result.hands])
        if sentence:
            draw_sentence(frame, result.sentence)
        result.timings["drawing"] = (time.perf_counter() - t0) * 1000
        return frame


def draw_sentence(frame: np.ndarray, text: str) -> None:
    """The sentence in white on a dark band at the bottom of the frame (keeps the tail if long)."""
    import cv2

    h, w = frame.shape[:2]
    band = max(28, h // 12)
    roi = frame[h - band:h]
    roi[:] = (roi.astype(np.uint16) * 2 // 5).astype(np.uint8)
    shown = text.replace(" ", "_") if text.strip() == "" else text
    scale = band / 40.0
    while shown and cv2.getTextSize(shown, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)[0][0] > w - 20:
        shown = shown[1:]
    cv2.putText(frame, shown, (10, h - band // 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2,
                cv2.LINE_AA)

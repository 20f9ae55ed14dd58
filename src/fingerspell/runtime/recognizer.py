"""The real-time recognizer: frame -> hands -> model -> holds -> letters -> words.

One :meth:`Recognizer.process` call per frame:

1. MediaPipe finds the hands (a :class:`HandDetector` in video mode for streams);
2. each hand becomes model input through its input kind (:func:`fingerspell.features.input_for`);
   for a mask model the mask and its mirror image both go through the model (one batch for all
   hands) and the more confident reading is kept, so a left hand reads like a right one;
3. each hand is followed from frame to frame (:class:`~fingerspell.runtime.smoothing.TrackSet`);
   its per-frame reading and a short vote give the letter shown over the hand;
4. the writing hand's landmarks and probabilities go to the :class:`~fingerspell.reading.reader.Reader`:
   holds (the hand stops, the reading settles) write letters, J and Z come from the hand's path,
   and finished words are decoded with a lexicon.

The writing hand stays the writer while it is in the frame; when it leaves, the hand held highest
takes over, and a still writer is passed over for a hand held clearly higher, also one the
single-hand tracker had not seen (:mod:`fingerspell.runtime.signing_hand`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.features import input_for
from fingerspell.hands.landmarks import Hand
from fingerspell.reading.holds import FrameReading
from fingerspell.reading.reader import Reader, ReaderOptions, ReaderUpdate
from fingerspell.runtime.adaptation import AdaptOptions, PersonAdaptation
from fingerspell.runtime.classifier import Classifier
from fingerspell.runtime.results import FrameResult, HandPrediction
from fingerspell.runtime.signing_hand import SigningHand, SigningHandOptions
from fingerspell.runtime.smoothing import Observation, SmoothingOptions, TrackSet
from fingerspell.runtime.word_learning import LearnOptions, WordLearning

STAGES = ("detection", "features", "model", "smoothing")
_ROWS_KEPT = 90  # the writer's model input over the last 3 s at 30 fps (a hold is written ~0.2 s in)


@dataclass(frozen=True)
class RecognizerOptions:
    """How frames are read: ``smoothing`` (per-frame threshold, vote window, hand tracking) for the
    letter shown over each hand; ``reader`` (holds, motion letters, word pauses) for what is written."""

    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)
    reader: ReaderOptions = field(default_factory=ReaderOptions)
    mirror_masks: bool = True
    top_k: int = 3
    adapt: bool = False  # docs/adaptation.md: helps models trained on few signers, not the shipped one
    adaptation: AdaptOptions = field(default_factory=AdaptOptions)
    learn: bool = False  # learn the person from their words (runtime/word_learning.py); the commands turn it on
    learning: LearnOptions = field(default_factory=LearnOptions)
    # landmark models: each hand is read a second time on the mirrored frame and the model's
    # probabilities of the two readings are averaged (hands/second_look.py; sets the detector's option)
    second_look: bool = True
    # a resting hand in view never hides the spelling hand (runtime/signing_hand.py)
    signing_hand: SigningHandOptions = field(default_factory=SigningHandOptions)


class Recognizer:
    """Reads fingerspelling from a stream of frames.

    ``detector`` is a :class:`~fingerspell.hands.detector.HandDetector` (video mode for streams),
    ``classifier`` a :class:`~fingerspell.runtime.classifier.Classifier` and ``card`` its model card;
    ``decoder`` a :class:`~fingerspell.reading.words.WordDecoder` (None: words stay as spelled);
    ``crop_model`` a :class:`~fingerspell.models.hand_crop.HandCropModel` whose reading of each
    hand's pixels is fused with the model's (None: the model alone).
    """

    def __init__(self, detector, classifier: Classifier, card: Optional[dict] = None,
                 options: Optional[RecognizerOptions] = None, decoder=None, crop_model=None) -> None:
        self.detector = detector
        self.classifier = classifier
        self.crop_model = crop_model
        self.card = dict(card if card is not None else classifier.card)
        self.options = options or RecognizerOptions()
        self.classes: Tuple[str, ...] = tuple(self.card["classes"])
        # What the model reads (mask, vector...): it makes the batch and reads the output back.
        self.input = input_for(self.card, mirror=self.options.mirror_masks, second_look=self.options.second_look)
        self.input_kind = self.input.kind
        self._second_look(detector)
        self.input_size = int(self.card["input_size"])
        self.tracks = TrackSet(self.options.smoothing)
        self.reader = Reader(self.classes, self.options.reader, decoder)
        self.signing = SigningHand(self.options.signing_hand,
                                   max_hands=getattr(getattr(detector, "options", None), "max_hands", 1))
        self._index = 0
        self._t0 = time.monotonic()
        self._last_t: Optional[float] = None
        self._size: Tuple[int, int] = (0, 0)
        # The writer's model input over the last seconds, for adapting to the person signing.
        self.adaptation = self._adaptation(decoder)
        self._rows: Deque[Tuple[float, np.ndarray]] = deque(maxlen=_ROWS_KEPT)

    def _second_look(self, detector) -> None:
        """A landmark model reads each hand twice (the mirrored frame too): ask the detector for it."""
        opts = getattr(detector, "options", None)
        if self.options.second_look and self.input_kind == "vector" and hasattr(opts, "second_look"):
            if not opts.second_look:
                from dataclasses import replace

                detector.options = replace(opts, second_look=True)

    def _adaptation(self, decoder):
        o = self.options
        if o.adapt and o.learn:
            raise FingerspellError("--adapt and --learn both follow the person signing: use one (--learn reads "
                                   "better, docs/adaptation.md)")
        if o.learn:
            learning = WordLearning(self.classifier, decoder, o.learning)
            self.sentence.on_word(lambda word: learning.on_word(word, self.sentence.words))
            return learning
        return PersonAdaptation(self.classifier, o.adaptation) if o.adapt else None

    @property
    def sentence(self):
        """The :class:`~fingerspell.reading.sentence.Sentence` being written."""
        return self.reader.sentence

    # --- construction helpers ----------------------------------------------------------------
    @classmethod
    def from_model(cls, model: Optional[str] = None, backend: Optional[str] = None,
                   options: Optional[RecognizerOptions] = None, max_hands: int = 1,
                   detector_backend: str = "solutions", model_complexity: int = 1,
                   mode: str = "video", threads: Optional[int] = None, decoder=None,
                   profile: Optional[str] = None, pixels: bool = True) -> "Recognizer":
        """A recognizer with a fresh video-mode detector and the model at ``model`` (default: shipped),
        adapted to one person by ``profile`` (a calibration profile's path or stored name); with
        ``pixels`` a shipped landmark model reads beside the shipped hand-crop model."""
        from fingerspell.hands.detector import HandDetector
        from fingerspell.models.hand_crop import crop_model_for
        from fingerspell.runtime.classifier import load_classifier

        # The model first: with DISPLAY set, a MediaPipe graph loads Mesa's libLLVM, and importing
        # torchvision/triton (another LLVM) after that crashes the process.
        if profile:
            from fingerspell.reading.calibration import load_profiled_classifier

            classifier, card = load_profiled_classifier(profile, model, backend=backend or "torch", threads=threads)
        else:
            classifier, card = load_classifier(model, backend=backend, threads=threads)
        crop_model = crop_model_for(model, card, pixels)
        detector = HandDetector(backend=detector_backend, mode=mode, max_hands=max_hands,
                                model_complexity=model_complexity)
        return cls(detector, classifier, card, options, decoder=decoder, crop_model=crop_model)

    def close(self) -> None:
        self.end_side_work()
        self.detector.close()
        self.classifier.close()

    def end_side_work(self) -> None:
        """Let a fit learning the last word end and stop the looks for other hands (their graph and
        thread); the detector and classifier, which a caller may share, stay open."""
        wait = getattr(self.adaptation, "wait", None)  # a fit learning the last word: let it end first
        if wait is not None:  # (torch left running on a daemon thread aborts the process at exit)
            wait(10.0)
        self.signing.close()

    def __enter__(self) -> "Recognizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- per frame ----------------------------------------------------------------------------
    def model_input(self, hands: Sequence[Hand]) -> np.ndarray:
        """The model batch for these hands (mask models: each hand's mask, then its mirror)."""
        return self.input.batch_for_hands(hands)

    def classify(self, hands: Sequence[Hand], frame: Optional[np.ndarray] = None) -> List[Tuple[np.ndarray, bool]]:
        """Per hand: (probabilities, mirrored?) from one model call for all hands (and, given the
        ``frame`` they were found in, the hand-crop model's reading of their pixels)."""
        batch = self.model_input(hands)
        return self._with_pixels(frame, hands, self._pick(self._predict(batch), len(hands)))

    def _with_pixels(self, frame: Optional[np.ndarray], hands: Sequence[Hand], readings):
        if self.crop_model is None or frame is None or not hands:
            return readings
        return self.crop_model.fuse_readings(frame, hands, readings, self.classes)

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        return (self.adaptation or self.classifier).predict_proba(batch)

    def _pick(self, probs: np.ndarray, n: int) -> List[Tuple[np.ndarray, bool]]:
        return self.input.pick(probs, n)

    def _time(self, timestamp: Optional[float]) -> float:
        t = (time.monotonic() - self._t0) if timestamp is None else float(timestamp)
        if self._last_t is not None and t <= self._last_t:
            t = self._last_t + 1e-3  # keep video-mode time strictly increasing
        self._last_t = t
        return t

    def process(self, frame: np.ndarray, timestamp: Optional[float] = None) -> FrameResult:
        """Read one BGR frame taken at ``timestamp`` seconds (default: time since start)."""
        t = self._time(timestamp)
        self._size = (int(frame.shape[1]), int(frame.shape[0]))
        timings: Dict[str, float] = {}
        t0 = time.perf_counter()
        seen = self.signing.frame_for_detection(frame)  # a resting hand's region hidden
        hands = self.detector.detect(seen, timestamp_ms=int(round(t * 1000))) or self.signing.stand_in(seen, t)
        t1 = time.perf_counter()
        timings["detection"] = (t1 - t0) * 1000
        readings: List[Tuple[np.ndarray, bool]] = []
        if hands:
            batch = self.model_input(hands)
            t2 = time.perf_counter()
            timings["features"] = (t2 - t1) * 1000
            readings = self._with_pixels(seen, hands, self._pick(self._predict(batch), len(hands)))
            t3 = time.perf_counter()
            timings["model"] = (t3 - t2) * 1000
        else:
            t3 = time.perf_counter()
            timings["features"] = (t3 - t1) * 1000
            timings["model"] = 0.0
        predictions = self._track(hands, readings)
        writer, changed = self.signing.pick(predictions, lambda i: self.tracks.get(i) is not None)
        if changed:  # the old writer is gone: its open hold is read, as when a hand leaves the view
            self.reader.release(t)
            self.reader.segmenter.reset()  # another hand: its motion is not the old hand's
        update = self._read(t, writer, hands, readings, predictions)
        if self.signing.observe(t, frame, predictions, writer, update):
            self._pass_over(t)
        if self.adaptation is not None and writer is not None and self.input_kind == "vector":
            self._adapt(t, self.input.hand_row(batch, len(hands), predictions.index(writer)), update)
        timings["smoothing"] = (time.perf_counter() - t3) * 1000
        return self._result(t, predictions, self.signing.writer, writer, update, timings)

    def _result(self, t: float, predictions, writer_id, writer, update: ReaderUpdate, timings) -> FrameResult:
        s = self.sentence
        result = FrameResult(self._index, t, predictions, writer_id,
                             writer.stable if writer is not None else None, update, s.text, timings,
                             current_word=s.current, suggestions=s.suggestions, display=s.display_text(),
                             adaptation=None if self.adaptation is None else self.adaptation_status(),
                             resting=self.signing.hidden)
        self._index += 1
        return result

    def finish(self, timestamp: Optional[float] = None) -> FrameResult:
        """End of input: the word being spelled is finished (as a pause would) and decoded. The
        result has no hand and no frame of its own; ``reading.word`` is the word finished, if any."""
        t = self._time(timestamp)
        released = self.reader.release(t)  # the hold still open: its letter is this result's ``hold``
        word = self.reader.finish(t)
        update = ReaderUpdate("no_hand", float("nan"), 0.0, hold=released.hold, word=word)
        return self._result(t, [], None, None, update, {})

    def _track(self, hands: Sequence[Hand], readings) -> List[HandPrediction]:
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
        return predictions

    def _pass_over(self, t: float) -> None:
        """The writer was still while another hand was held higher: start the holds again and take
        back what the still hand wrote into the word being spelled."""
        self.reader.segmenter.reset()
        for _ in range(min(self.signing.letters_to_take_back(), len(self.sentence.current))):
            self.sentence.delete(t)

    def _read(self, t: float, writer: Optional[HandPrediction], hands, readings, predictions) -> ReaderUpdate:
        if writer is None:
            return self.reader.update(FrameReading(t, None, self._size, None))
        i = predictions.index(writer)
        return self.reader.update(FrameReading(t, hands[i].landmarks, hands[i].image_size, readings[i][0]))

    def _adapt(self, t: float, row: np.ndarray, update: ReaderUpdate) -> None:
        """Keep the writer's input; a written still letter's frames go to the person adaptation."""
        if isinstance(self.adaptation, WordLearning):
            self.adaptation.add_frame(t, row)
            return
        self._rows.append((t, row))
        hold = update.hold
        if hold is None or hold.kind != "static" or len(hold.letter) != 1:
            return
        frames = [r for ts, r in self._rows if hold.start <= ts <= hold.end]
        if frames:
            self.adaptation.add(np.stack(frames))

    def adaptation_status(self) -> dict:
        """Whether the model follows the person signing: ``active``, ``letters`` it has from them,
        ``needed`` before it adapts, and ``off`` (why not, or None)."""
        ad = self.adaptation
        if isinstance(ad, WordLearning):
            return ad.status()
        if ad is None:
            return {"active": False, "letters": 0, "needed": 0, "off": "not asked for (--adapt)"}
        return {"active": ad.active, "letters": ad.holds, "needed": ad.options.min_holds, "off": ad.unavailable}

    def reset(self, person: bool = True) -> None:
        """Forget the tracks and the sentence, and with ``person`` what was learned of the person
        signing (a new recording); ``person=False`` keeps it (the web page's Clear: a new sentence)."""
        self.tracks.clear()
        self.reader.reset()
        self.signing.reset()
        self._rows.clear()
        if self.adaptation is not None and person:
            self.adaptation.reset()

    # --- drawing -----------------------------------------------------------------------------
    def annotate(self, frame: np.ndarray, result: FrameResult, sentence: bool = True) -> np.ndarray:
        """Draw boxes, skeletons, labels, the hold state (and the sentence) onto ``frame``; times it."""
        from fingerspell.runtime.overlay import draw_frame

        t0 = time.perf_counter()
        draw_frame(frame, result, sentence=sentence)
        result.timings["drawing"] = (time.perf_counter() - t0) * 1000
        return frame

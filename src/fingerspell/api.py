"""The Python API: read a letter from a photo, or letters and a sentence from a video or camera.

```python
import fingerspell
reader = fingerspell.load()                      # the shipped default model
print(reader.predict("photo.jpg").letter)        # "A", or None when no hand is found
```

* :func:`load` takes a model the way every command does: a shipped name (``"landmark_mlp"``),
  a checkpoint with or without its ``.safetensors`` / ``.json`` suffix, or an ``.onnx`` file
  (run with onnxruntime); ``profile`` applies a personal calibration profile.
* :meth:`Reader.predict` reads one still image (a path or a BGR array) with MediaPipe in image
  mode, retried with a black border when the hand fills the frame, so a single photo always gets
  an answer: a :class:`Prediction` with ``letter`` (None without a hand), ``confidence``, ``top``
  (three ``(letter, probability)`` pairs), ``hand`` and :meth:`Prediction.plot`.
* :meth:`Reader.stream` reads a video file, image folder, camera index or stream address frame by frame and yields
  the recognizer's :class:`~fingerspell.runtime.recognizer.FrameResult` (smoothed letters, the
  sentence), exactly what ``fingerspell run`` writes into its transcript: words decoded with the
  lexicon, the model learning the person from their words; after the last frame, one result with
  the last word finished. :meth:`Reader.read` reads a whole video: a :class:`Transcript`.

``fingerspell predict`` is this API on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]
ImageLike = Union[PathLike, np.ndarray]


@dataclass
class Prediction:
    """What one still image shows. ``letter`` is None when no hand was found."""

    letter: Optional[str]
    confidence: float
    top: List[Tuple[str, float]]
    hand: bool
    path: Optional[str] = None
    handedness: Optional[str] = None
    box: Optional[Tuple[int, int, int, int]] = None
    image: Optional[np.ndarray] = field(default=None, repr=False)
    detected: object = field(default=None, repr=False)  # the Hand record, for plot()

    def to_dict(self) -> dict:
        """The JSON form ``fingerspell predict --json`` prints (path, letter, confidence, top, hand)."""
        return {
            "path": self.path, "letter": self.letter, "confidence": round(float(self.confidence), 4),
            "top": [[name, round(float(p), 4)] for name, p in self.top], "hand": self.hand,
        }

    def plot(self) -> np.ndarray:
        """An annotated BGR copy of the image: skeleton, box, letter and confidence (or "no hand")."""
        import cv2

        from fingerspell.hands.render import annotate_frame

        if self.image is None:
            raise FingerspellError("this prediction keeps no image to draw on: predict() it again")
        out = self.image.copy()
        if self.detected is not None:
            annotate_frame(out, [self.detected], [self.letter], [self.confidence])
        else:
            h, w = out.shape[:2]
            scale = max(0.5, w / 640)
            cv2.putText(out, "no hand found", (10, int(30 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale,
                        (0, 0, 255), max(1, int(2 * scale)), cv2.LINE_AA)
        return out


def _load_classifier(model: Optional[PathLike], backend: Optional[str], threads: Optional[int]):
    """(classifier, card) from any way of naming a model; an ``.onnx`` file picks onnxruntime."""
    from fingerspell.runtime.classifier import load_classifier

    spec = None if model is None else str(model)
    try:
        from fingerspell.models.checkpoint import resolve_model
    except ImportError:  # before the models/checkpoint split
        resolve_model = None
    if resolve_model is not None:
        ref = resolve_model(spec)
        spec, backend = str(ref.path), backend or ref.backend
    elif backend is None:
        backend = "onnx" if spec is not None and spec.lower().endswith(".onnx") else "torch"
    return load_classifier(spec, backend=backend, threads=threads)


def _load_profiled(profile: PathLike, model: Optional[PathLike], backend: Optional[str], threads: Optional[int]):
    """(classifier with a calibration profile applied, card); ``fingerspell calibrate`` writes profiles."""
    try:
        from fingerspell.reading import calibration
    except ImportError:
        calibration = None
    if calibration is None or not hasattr(calibration, "load_profiled_classifier"):
        raise FingerspellError(f"cannot apply profile {profile}: this fingerspell has no calibration support "
                               "(fingerspell.reading.calibration); leave out --profile")
    if backend is None:
        backend = "onnx" if model is not None and str(model).lower().endswith(".onnx") else "torch"
    return calibration.load_profiled_classifier(profile, None if model is None else str(model), backend=backend,
                                                threads=threads)


def _read_image(image: ImageLike) -> Tuple[np.ndarray, Optional[str]]:
    from fingerspell.hands.detector import load_image, to_bgr_uint8

    if isinstance(image, np.ndarray):
        return to_bgr_uint8(image, name="image"), None
    if isinstance(image, (str, Path)):
        return load_image(image), str(image)
    raise FingerspellError(f"predict() takes an image path or a BGR array, not a {type(image).__name__}")


class Reader:
    """A loaded model plus MediaPipe: :meth:`predict` for photos, :meth:`stream` for videos."""

    def __init__(self, classifier, card: dict, min_detection_confidence: float = 0.5,
                 detector_backend: str = "solutions", crop_model=None) -> None:
        self.classifier = classifier
        self.crop_model = crop_model  # the hand-crop model read beside a shipped landmark model
        self.card = dict(card)
        self.classes: Tuple[str, ...] = tuple(self.card["classes"])
        self.min_detection_confidence = float(min_detection_confidence)
        self.detector_backend = detector_backend
        self._still = None  # the image-mode recognizer, made on first predict()

    def _still_recognizer(self):
        if self._still is None:
            from fingerspell.hands.detector import HandDetector
            from fingerspell.runtime.recognizer import Recognizer

            det = HandDetector(backend=self.detector_backend, mode="image", max_hands=1,
                               min_detection_confidence=self.min_detection_confidence,
                               min_tracking_confidence=self.min_detection_confidence)
            self._still = Recognizer(det, self.classifier, self.card, crop_model=self.crop_model)
        return self._still

    def predict(self, image: ImageLike, keep_image: bool = True) -> Prediction:
        """Read the letter in one still image (a file path or a BGR uint8 array)."""
        img, path = _read_image(image)
        rec = self._still_recognizer()
        hands = rec.detector.detect(img)
        kept = img if keep_image else None
        if not hands:
            return Prediction(None, 0.0, [], False, path=path, image=kept)
        hand = hands[0]
        probs, _ = rec.classify([hand], img)[0]
        order = np.argsort(-probs)[:3]
        top = [(self.classes[int(i)], float(probs[int(i)])) for i in order]
        return Prediction(top[0][0], top[0][1], top, True, path=path, handedness=hand.handedness,
                          box=tuple(int(v) for v in hand.box), image=kept, detected=hand)

    def stream(self, source: Union[str, int, PathLike] = 0, fps: float = 10.0, options=None,
               max_hands: int = 1, decode: bool = True, lexicon: Optional[PathLike] = None,
               learn: bool = True) -> Iterator:
        """Yield a :class:`~fingerspell.runtime.recognizer.FrameResult` per frame of ``source``
        (a video file, an image folder, a camera index or a stream address such as
        ``http://PHONE:8080/video``); ``.sentence`` is the text so far.

        Read as ``fingerspell run`` reads: words decoded with the English lexicon (plus the words
        of ``lexicon``, a text file; ``decode=False`` keeps them as spelled) and the model learning
        the person from the words it is sure of (``learn``, docs/adaptation.md). ``options``: a
        :class:`~fingerspell.runtime.recognizer.RecognizerOptions` (its ``learn`` is replaced by
        ``learn``). When the source ends, one more result follows the last frame: the word being
        spelled is finished (``.reading.word``) and ``.sentence`` is the whole text.
        """
        for result, _, _ in self._read_frames(source, fps, options, max_hands, decode, lexicon, learn):
            yield result

    def read(self, source: Union[str, int, PathLike], fps: float = 10.0, options=None, max_hands: int = 1,
             decode: bool = True, lexicon: Optional[PathLike] = None, learn: bool = True) -> "Transcript":
        """Read a whole video file or image folder as :meth:`stream` does: the text and its words."""
        count, last = 0, None
        for item in self._read_frames(source, fps, options, max_hands, decode, lexicon, learn):
            count, last = count + 1, item
        end, rec, src = last  # the end of input, not a frame
        return Transcript(end.sentence, list(rec.sentence.words), count - 1, skipped=list(getattr(src, "skipped", [])),
                          passed_over=list(getattr(src, "passed_over", [])),
                          ended_early=src.message if src.ended_early else "")

    def _read_frames(self, source, fps, options, max_hands, decode, lexicon, learn):
        from fingerspell.hands.detector import HandDetector
        from fingerspell.runtime.recognizer import Recognizer
        from fingerspell.runtime.sources import no_frames, open_source

        with open_source(source, fps=fps) as frames, HandDetector(
                backend=self.detector_backend, mode="video", max_hands=max_hands) as det:
            decoder, opts = _reading_parts(options, decode, lexicon, learn, live=frames.is_live)
            rec = Recognizer(det, self.classifier, self.card, opts, decoder=decoder, crop_model=self.crop_model)
            rec.signing.look_in_background(frames.is_live)  # a camera's reading never waits for a look
            count = 0
            try:
                for frame, t in frames:
                    count += 1
                    yield rec.process(frame, t), rec, frames
                if not count:  # as fingerspell run: no empty answer for a file that gave nothing
                    raise no_frames(source, list(getattr(frames, "skipped", [])))
                yield rec.finish(), rec, frames
            finally:
                rec.end_side_work()  # the Reader's classifier stays open for its next read

    def close(self) -> None:
        if self._still is not None:
            self._still.detector.close()
            self._still = None
        self.classifier.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Transcript:
    """What :meth:`Reader.read` read: ``text`` (the sentence), ``words`` (each finished word as a
    :class:`~fingerspell.reading.sentence.Word`: ``spelled``, ``word`` shown, ``probability``,
    ``accepted`` when the decoder corrected it), the number of ``frames`` read, the image files of a
    folder that could not be read (``skipped``) and its files of other types (``passed_over``) and,
    when a video or stream stopped before its end, why (``ended_early``). A source that gives no
    frame at all raises :class:`FingerspellError`."""

    text: str
    words: list
    frames: int
    skipped: List[str] = field(default_factory=list)
    passed_over: List[str] = field(default_factory=list)
    ended_early: str = ""

    def subtitles(self, fmt: str = "srt") -> str:
        """The words as subtitles at the time they were spelled: a SubRip (``"srt"``) or WebVTT
        (``"vtt"``) file's text (:mod:`fingerspell.runtime.subtitles`)."""
        from fingerspell.runtime.subtitles import subtitles

        return subtitles(self.words, fmt)


def _reading_parts(options, decode: bool, lexicon: Optional[PathLike], learn: bool, live: bool = False):
    """(word decoder, recognizer options) for :meth:`Reader.stream`, as ``fingerspell run`` makes them
    (and, for a camera (``live``), ``fingerspell live``: learning fits in the background)."""
    from dataclasses import replace

    from fingerspell.reading.words import make_decoder
    from fingerspell.runtime.recognizer import RecognizerOptions
    from fingerspell.runtime.word_learning import LearnOptions

    decoder = make_decoder(decode, lexicon, names=("a lexicon", "decode=False"))
    # a file is read as fast as it decodes: each fit happens before the next frame, so a read repeats;
    # a camera does not wait: its fits run beside the reading
    opts = options or RecognizerOptions(learning=LearnOptions(background=bool(live)))
    return decoder, replace(opts, learn=bool(learn and decode and not opts.adapt))


def load(model: Optional[PathLike] = None, profile: Optional[PathLike] = None, backend: Optional[str] = None,
         threads: Optional[int] = 1, verbose: bool = False, pixels: bool = True) -> Reader:
    """A :class:`Reader` for ``model`` (default: the shipped default model).

    ``model``: a shipped name, a checkpoint path (suffix optional) or an ``.onnx`` file.
    ``profile``: a calibration profile to apply. ``backend``: "torch" or "onnx" (default: from the
    suffix). ``verbose``: keep MediaPipe's native log lines on stderr (hidden by default).
    ``pixels``: a shipped landmark model also reads each hand's pixels with the shipped hand-crop
    model (:mod:`fingerspell.models.hand_crop`); False reads the landmarks alone.
    """
    if not verbose:
        from fingerspell.quietlog import install

        install()
    if profile is not None:
        classifier, card = _load_profiled(profile, model, backend, threads)
    else:
        classifier, card = _load_classifier(model, backend, threads)
    from fingerspell.models.hand_crop import crop_model_for

    return Reader(classifier, card, crop_model=crop_model_for(model, card, pixels))

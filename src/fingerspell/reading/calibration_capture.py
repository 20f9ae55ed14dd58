"""Collecting a person's calibration samples: from a photo folder, a labelled video, or live frames.

* :func:`samples_from_folder`: a class-folder tree (``DIR/A/*.jpg``; the massey and mon95 layouts
  work too), detected exactly as datasets are built.
* :func:`samples_from_video`: a video plus a label file, a CSV of ``start_s,end_s,letter`` rows
  (a header line is allowed, ``#`` starts a comment); frames inside an interval are that letter.
* :class:`CalibrationRecorder`: the letter queue a live view drives frame by frame (countdown,
  about 1.5 s of capture per letter, progress, redo); :func:`record` drives it from any frame
  source without a window.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES
from fingerspell.errors import FingerspellError
from fingerspell.labels import LETTERS, canonical_class

PathLike = Union[str, Path]
Samples = Tuple[np.ndarray, np.ndarray]  # (model input rows, class indices into the model's classes)


def static_letters_model(card: Optional[dict]) -> bool:
    """Was the model trained with J and Z photos as I and D (the shipped recipe, ``static_letters``)?"""
    return bool((((card or {}).get("training") or {}).get("options") or {}).get("static_letters"))


def parse_letters(spec: Optional[str], classes: Sequence[str], card: Optional[dict] = None) -> Tuple[str, ...]:
    """``"A,B,r"`` -> ``("A", "B", "R")`` checked against the model; None -> the model's letters A-Z.

    For a model trained with ``static_letters`` (``card``), J and Z are not calibrated: the reader
    takes them from the hand's path and reads their still hand shapes as I and D, so samples of
    them would only teach the model a distinction from one frame that it must not make.
    """
    motion = set(MOTION_LETTER_SHAPES) if static_letters_model(card) else set()
    if not spec:
        return tuple(c for c in classes if c in LETTERS and c not in motion)
    out = []
    for name in spec.split(","):
        c = canonical_class(name.strip())
        if c is None or c not in classes:
            raise FingerspellError(f"--letters: {name.strip()!r} is not a class of this model "
                                   f"({', '.join(classes)}): give letters such as A,B,R")
        if c in motion:
            raise FingerspellError(f"--letters: {c} is read from the hand's motion, not calibrated; its still "
                                   f"hand shape is {MOTION_LETTER_SHAPES[c]}: calibrate "
                                   f"{MOTION_LETTER_SHAPES[c]} instead")
        out.append(c)
    return tuple(dict.fromkeys(out))


#: calibration tracks two hands and records the one held higher: the other may rest in view (on the
#: desk), and a single tracked hand would be the first one found (runtime/signing_hand.py)
CAPTURE_HANDS = 2


class SigningHandPick:
    """Which detected hand a calibration sample comes from: the one held highest, alone (or none).

    Where two hands were seen, the lower one's box is remembered as a resting place: a lone hand
    found there is the resting hand (MediaPipe lost the spelling one, between letters or on a shape
    it finds hard), and the frame gives no sample rather than the resting hand's shape under the
    letter being recorded. Live, places are learned as frames come (:meth:`__call__`); from a video
    file, :meth:`learn` sees every frame first, so frames before the two hands are seen together
    are judged too."""

    def __init__(self, overlap: float = 0.5) -> None:
        self.overlap = overlap
        self.places: List[tuple] = []

    def learn(self, hands: list) -> list:
        """Remember the lower hand's place when two or more hands are found; the hands, highest first."""
        from fingerspell.hands.landmarks import box_centre, box_overlap

        ranked = sorted(hands, key=lambda h: box_centre(h.box)[1])
        if len(ranked) >= 2 and box_overlap(tuple(ranked[0].box), tuple(ranked[-1].box)) < 0.3:
            box = tuple(ranked[-1].box)  # (two boxes on one hand are no resting hand)
            self.places = [p for p in self.places if box_overlap(p, box) <= self.overlap][-7:] + [box]
        return ranked

    def __call__(self, hands: list) -> list:
        from fingerspell.hands.landmarks import box_overlap

        ranked = self.learn(hands)
        if len(ranked) == 1 and any(box_overlap(tuple(ranked[0].box), p) > self.overlap for p in self.places):
            return []
        return ranked[:1]


def _rows(hands: list, classifier) -> np.ndarray:
    """Model input rows for detected hands, made by the model's input kind (fingerspell.features)."""
    from fingerspell.features import input_for

    inp = input_for(classifier.card)
    return inp.to_model(inp.from_hands(hands))


def _cap(x: np.ndarray, y: np.ndarray, per_letter: Optional[int]) -> Samples:
    """At most ``per_letter`` samples of each class, spread evenly over its samples."""
    if not per_letter:
        return x, y
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        keep += idx[np.linspace(0, len(idx) - 1, num=min(per_letter, len(idx))).round().astype(int)].tolist()
    keep = np.array(sorted(set(keep)))
    return x[keep], y[keep]


def samples_from_folder(folder: PathLike, classifier, letters: Sequence[str], per_letter: Optional[int] = None,
                        workers: Optional[int] = 1, warn: Optional[Callable[[str], None]] = None) -> Samples:
    """Detect the photos of ``letters`` under ``folder`` and make them model input; ``warn`` gets one
    line for photos left out (unreadable, or no hand found in them)."""
    from fingerspell.data.build import BuildOptions, build_arrays
    from fingerspell.features import input_for

    inp = input_for(classifier.card)
    size = min(max(int(classifier.input_size), 8), 1024)  # the mask side for a mask model
    opts = BuildOptions(mask_size=size, classes=tuple(letters), workers=workers, progress=False)
    arrays, report = build_arrays([Path(folder).expanduser()], opts)
    for what, paths in (("unreadable (corrupt or not an image)", [u["path"] for u in report.unreadable_files]),
                        ("with no hand found", report.no_hand_files)):
        if paths and warn is not None:
            more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
            warn(f"left out {len(paths)} photo(s) {what}: {', '.join(map(str, paths[:3]))}{more}")
    names = [arrays.classes[i] for i in arrays.labels]
    y = np.array([classifier.classes.index(n) for n in names], np.int64)
    return _cap(inp.model_inputs(arrays), y, per_letter)


# --- a video with a label file ---------------------------------------------------------------------

def read_label_file(path: PathLike) -> List[Tuple[float, float, str]]:
    """(start_s, end_s, letter) rows of a label CSV; errors name the line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise FingerspellError(f"label file {p} does not exist: write a CSV of start_s,end_s,letter rows")
    rows = []
    with open(p, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
                continue
            try:
                start, end, letter = float(row[0]), float(row[1]), row[2].strip()
            except (ValueError, IndexError):
                if n == 1:
                    continue  # a header
                raise FingerspellError(f"{p} line {n}: expected start_s,end_s,letter (e.g. 1.5,3.0,A), "
                                       f"got {','.join(row)!r}") from None
            if canonical_class(letter) is None or not end > start >= 0:
                raise FingerspellError(f"{p} line {n}: {letter!r} from {start} s to {end} s is not a class "
                                       "over a time span: fix the row")
            rows.append((start, end, canonical_class(letter)))
    if not rows:
        raise FingerspellError(f"{p} holds no start_s,end_s,letter rows")
    return rows


def default_label_file(video: PathLike) -> Path:
    """``talk.mp4`` -> ``talk.csv`` (the label file looked for when none is given)."""
    return Path(video).expanduser().with_suffix(".csv")


def samples_from_video(video: PathLike, labels: PathLike, classifier, letters: Sequence[str],
                       per_letter: Optional[int] = 30) -> Samples:
    """Detect the hand in the labelled frames of a video (timestamps from the file, not a clock)."""
    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.sources import open_source

    spans = [s for s in read_label_file(labels) if s[2] in letters]
    if not spans:
        raise FingerspellError(f"{labels} labels none of the letters {', '.join(letters)}")
    found, pick = [], SigningHandPick()
    with open_source(str(video)) as src, HandDetector(mode="video", max_hands=CAPTURE_HANDS) as det:
        for frame, t in src:
            letter = next((s[2] for s in spans if s[0] <= t <= s[1]), None)
            hands = det.detect(frame, timestamp_ms=int(t * 1000))
            pick.learn(hands)
            if letter is not None and hands:
                found.append((letter, hands))
    rows, ys = [], []
    for letter, hands in found:  # every resting place of the video known
        hands = pick(hands)
        if hands:
            rows.append(_rows(hands, classifier)[0])
            ys.append(classifier.classes.index(letter))
    if not rows:
        raise FingerspellError(f"no hand was found in the labelled frames of {video}: check the label times")
    return _cap(np.stack(rows), np.array(ys, np.int64), per_letter)


# --- live capture ------------------------------------------------------------------------------

@dataclass
class RecorderStatus:
    """What a view shows: the letter to sign, the phase, and how far along things are."""

    letter: Optional[str]
    phase: str            # "countdown", "capture" or "done"
    seconds_left: float   # of the countdown or the capture
    captured: int         # samples of this letter so far
    progress: float       # 0..1 over all letters
    message: str = ""


@dataclass
class CalibrationRecorder:
    """Queue of letters to record from live frames; call :meth:`update` once per frame.

    Each letter: ``countdown_s`` to get ready, then ``capture_s`` of frames with a hand (frames
    without one do not count; after ``capture_s`` with fewer than ``min_samples`` it keeps going).
    :meth:`redo` queues a letter again (its old samples are dropped), :meth:`skip` moves on.
    """

    letters: Sequence[str]
    countdown_s: float = 3.0
    capture_s: float = 1.5
    min_samples: int = 5
    samples: Dict[str, List[np.ndarray]] = field(default_factory=dict)
    _queue: List[str] = field(default_factory=list, init=False)
    _start: Optional[float] = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.letters:
            raise FingerspellError("nothing to record: give at least one letter")
        self._queue = list(self.letters)

    @property
    def current(self) -> Optional[str]:
        return self._queue[0] if self._queue else None

    @property
    def done(self) -> bool:
        return not self._queue

    def _progress(self) -> float:
        return sum(1 for c in self.letters if c in self.samples and c not in self._queue) / len(self.letters)

    def update(self, t: float, row: Optional[np.ndarray]) -> RecorderStatus:
        """Feed one frame's model input row (None: no hand) at frame time ``t`` seconds."""
        letter = self.current
        if letter is None:
            return RecorderStatus(None, "done", 0.0, 0, 1.0, "all letters recorded")
        if self._start is None:
            self._start, self.samples[letter] = t, []
        elapsed = t - self._start
        if elapsed < self.countdown_s:
            return RecorderStatus(letter, "countdown", self.countdown_s - elapsed, 0, self._progress(),
                                  f"get ready to sign {letter}")
        got = self.samples[letter]
        if row is not None:
            got.append(np.asarray(row, np.float32))
        left = self.countdown_s + self.capture_s - elapsed
        if left <= 0 and len(got) >= self.min_samples:
            self._queue.pop(0)
            self._start = None
            return RecorderStatus(letter, "capture", 0.0, len(got), self._progress(), f"{letter} recorded")
        msg = "hold the sign" if row is not None else "no hand seen: show your hand"
        return RecorderStatus(letter, "capture", max(left, 0.0), len(got), self._progress(), msg)

    def redo(self, letter: str) -> None:
        """Record ``letter`` again next (dropping what was captured for it)."""
        if letter not in self.letters:
            raise FingerspellError(f"{letter} is not among the letters being recorded")
        self.samples.pop(letter, None)
        self._queue = [letter] + [c for c in self._queue if c != letter]
        self._start = None

    def skip(self) -> None:
        """Move past the current letter without recording it."""
        if self._queue:
            self.samples.pop(self._queue.pop(0), None)
            self._start = None

    def result(self, classes: Sequence[str]) -> Samples:
        """(rows, class indices) of every recorded letter."""
        got = [(c, r) for c, rows in self.samples.items() if c not in self._queue for r in rows]
        if not got:
            raise FingerspellError("no letter was recorded: show your hand to the camera while recording")
        return np.stack([r for _, r in got]), np.array([list(classes).index(c) for c, _ in got], np.int64)


def record(source, classifier, recorder: CalibrationRecorder,
           on_status: Optional[Callable[[RecorderStatus], None]] = None) -> Samples:
    """Drive ``recorder`` from a frame source (camera or video) until every letter is recorded."""
    from fingerspell.hands.detector import HandDetector

    pick = SigningHandPick()
    with HandDetector(mode="video", max_hands=CAPTURE_HANDS) as det:
        for frame, t in source:
            hands = pick(det.detect(frame, timestamp_ms=int(t * 1000)))
            status = recorder.update(t, _rows(hands, classifier)[0] if hands else None)
            if on_status:
                on_status(status)
            if recorder.done:
                break
    return recorder.result(classifier.classes)

"""Learn the person signing from the words they spell: each word the lexicon vouches for labels its letters.

A person who spells GREAT and sees it written (read as TREAT, decoded as GREAT with a high
posterior) has just shown the reader what their G looks like. :class:`WordLearning` keeps the
model input of the writer's recent frames; when a word is finished and trusted, it takes a few
frames from each letter's hold, labels them with the word's letters and fits a calibration
profile (:func:`fingerspell.reading.calibration.fit_profile`, the ``auto`` method of
``fingerspell calibrate``) on the most recent samples of each letter, in a background thread.
Frames are then read through that profile, averaged half and half with the base model (``mix``):
the profile alone is surer of its readings, right or wrong, and a sure wrong letter is one the word
decoder may not change. Only the probability the base model gives to the learned letters is
re-divided among them, so letters the person has not spelled yet keep the base reading.

A word is trusted when the sentence finished it from the holds, its posterior is at least
``min_probability``, it is a word of the decoder's lexicon (the user's own ``--lexicon`` words
included), and it has one hold per letter. Names and codes are never learned from. A suggestion the
person picked (keys 1-3) is their own word: its letters label the holds they line up with
(:func:`picked_letters`), which teaches exactly what the decoder could not fix: a letter the model
reads surely wrong for this person (C read as O at 0.99 in COFFEE). J and Z holds are skipped
(their frames are a movement). A correction the user undoes is forgotten when the next word is
finished.

On by default in the commands (``--no-learn``), asked for in the library with
``RecognizerOptions(learn=True)``; measured in ``benchmarks/word_learning.py`` (docs/adaptation.md).
It needs a PyTorch landmark model; with a calibration profile, the profile's samples are fitted
together with the learned ones.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError


@dataclass(frozen=True)
class LearnOptions:
    """min_probability: the decoded word's posterior needed to learn from it; frames_per_hold: frames
    taken from each letter's hold; per_letter: the most recent samples kept per letter;
    keep_s: seconds of the writer's frames kept (the longest word that can be learned from);
    method / blend: the calibration method fitted and the base model's share inside it;
    mix: the base model's share in what is read, an arithmetic mean with the learned probabilities
    (the learned copy alone is surer of its readings, right or wrong, which leaves the word decoder
    fewer unsure holds to correct: docs/adaptation.md); temperature: learned probabilities raised
    to 1/T (measured, not used: it opened names to correction);
    background: fit in a thread (live) rather than before the call returns (files, tests);
    picks: learn from the suggestions the person picks (keys 1-3)."""

    min_probability: float = 0.9
    frames_per_hold: int = 3
    per_letter: int = 15
    keep_s: float = 30.0
    method: str = "auto"
    blend: Optional[float] = None  # the base model's share in the fit (None: the method's own)
    temperature: float = 1.0  # the learned probabilities raised to 1/T (a surer model leaves the decoder less)
    mix: float = 0.5  # the base model's share in the probabilities read (arithmetic mean with the learned)
    background: bool = True
    picks: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.min_probability <= 1.0:
            raise FingerspellError(f"learning min_probability {self.min_probability} must lie in (0, 1]")
        if self.frames_per_hold < 1 or self.per_letter < 1 or not self.keep_s > 0:
            raise FingerspellError("learning needs frames_per_hold >= 1, per_letter >= 1 and keep_s > 0")
        if not 0.0 <= self.mix <= 1.0 or not self.temperature > 0:
            raise FingerspellError(f"learning mix {self.mix} must lie in [0, 1] and temperature "
                                   f"{self.temperature} above 0")


def learnable(classifier) -> Optional[str]:
    """None if the reader can learn from words with ``classifier``, else why not (one line)."""
    profiled = getattr(classifier, "profile", None) is not None  # a profile brings its own torch copy
    base = classifier.base if profiled else classifier
    if not profiled and (getattr(base, "backend", "") != "torch" or not hasattr(base, "model")):
        return "only the PyTorch backend learns from words (not ONNX)"
    if getattr(base, "input_kind", "") != "vector":
        return "only landmark models learn from words"
    return None


def trusted_letters(word, lexicon, min_probability: float, picks: bool = True) -> List[Tuple[str, float, float]]:
    """(letter, start, end) per hold of a finished word the reader may learn from; [] when not trusted."""
    spans = tuple(getattr(word, "spans", ()) or ())
    text = str(word.word)
    if any(b[0] < a[1] or b[1] <= b[0] for a, b in zip(spans, spans[1:])):
        return []  # a word reopened after DEL: its letters carry the word's span, not their own
    if word.source == "suggestion":
        return picked_letters(str(word.spelled), text, spans) if picks else []
    if (word.source != "decoded" or float(word.probability) < min_probability or lexicon is None
            or text not in lexicon or len(spans) != len(text) or len(word.spelled) != len(text)):
        return []
    return [(c, float(s), float(e)) for c, sp, (s, e) in zip(text, word.spelled, spans)
            if c not in "JZ" and sp not in "JZ"]


def picked_letters(spelled: str, choice: str, spans: Sequence[Tuple[float, float]],
                   max_edits: int = 1) -> List[Tuple[str, float, float]]:
    """(letter, start, end) for the holds of ``spelled`` that a picked word ``choice`` lines up with.

    The pick may complete the word (COFF -> COFFEE), so the holds are aligned with the prefix of
    ``choice`` they are closest to (edit distance); a hold aligned with a letter (the same or
    another) is labelled with it, one read where no letter was signed (an extra hold) is not. When
    the holds are more than ``max_edits`` edits from every prefix, which hold stands for which
    letter is a guess, and nothing is learned.
    """
    n, m = len(spelled), len(choice)
    if not n or len(spans) != n:
        return []
    # d[i][j]: edits between the first i holds and the first j letters of the choice
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 or j == 0:
                d[i][j] = i + j
            else:
                d[i][j] = min(d[i - 1][j - 1] + (spelled[i - 1] != choice[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    j = min(range(m + 1), key=lambda k: (d[n][k], -k))
    if d[n][j] > max_edits:
        return []
    out, i = [], n
    while i > 0 and j > 0:
        if d[i][j] == d[i - 1][j - 1] + (spelled[i - 1] != choice[j - 1]):
            i, j = i - 1, j - 1
            if choice[j] not in "JZ" and spelled[i] not in "JZ":
                out.append((choice[j], float(spans[i][0]), float(spans[i][1])))
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1  # an extra hold: no letter of the word
        else:
            j -= 1  # a letter signed without a hold of its own
    return out[::-1]


class WordLearning:
    """The reader's classifier, fitted to the person from the words they spell (module doc)."""

    def __init__(self, classifier, decoder=None, options: Optional[LearnOptions] = None) -> None:
        self.options = options or LearnOptions()
        self.classifier = classifier
        self.decoder = decoder
        self._cannot = learnable(classifier) or (
            None if self.lexicon is not None else "it learns from decoded words: not without the word decoder")
        self.unavailable = self._cannot
        self.classes = tuple(classifier.classes)
        self._profile = getattr(classifier, "profile", None)
        self._base = classifier.base if self._profile is not None else classifier
        self._lock = threading.RLock()
        self._frames: Deque[Tuple[float, np.ndarray]] = deque()
        self._thread: Optional[threading.Thread] = None
        self._pending = False
        self.fit_seconds: Deque[float] = deque(maxlen=1000)  # how long each fit took
        self.reset()

    @property
    def lexicon(self):
        """The decoder's lexicon now (undoing a correction adds the word to a new one)."""
        return getattr(self.decoder, "lexicon", None)

    # --- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the person: the base (or profiled) classifier reads again, and a learning stopped by
        a failed fit starts again for the next person."""
        with self._lock:
            self.unavailable = self._cannot
            self._frames.clear()
            self._samples: Dict[Tuple[float, float], Tuple[str, np.ndarray, np.ndarray]] = {}
            self._learned = None
            self._generation = getattr(self, "_generation", 0) + 1

    @property
    def active(self) -> bool:
        return self._learned is not None

    @property
    def words(self) -> int:
        with self._lock:
            return len(self._samples)

    def letters(self) -> Tuple[str, ...]:
        with self._lock:
            ys = [y for _, _, y in self._samples.values()]
        return tuple(sorted({self.classes[i] for y in ys for i in np.unique(y)}))

    def status(self) -> dict:
        return {"kind": "words", "active": self.active, "words": self.words, "letters": len(self.letters()),
                "off": self.unavailable}

    # --- input ---------------------------------------------------------------------------------
    def add_frame(self, t: float, row: np.ndarray) -> None:
        """The writer's model input at time ``t`` (every frame with a hand)."""
        if self.unavailable:
            return
        with self._lock:
            if self._frames and t < self._frames[-1][0]:
                self._frames.clear()  # a new clock (another recording): old times would overlap
            self._frames.append((float(t), np.asarray(row, np.float32)))
            while self._frames and self._frames[0][0] < t - self.options.keep_s:
                self._frames.popleft()

    def on_word(self, word, words: Sequence = ()) -> int:
        """A finished word (with the sentence's words, to forget undone ones): samples added."""
        if self.unavailable:
            return 0
        undone = {(w.start, w.end) for w in words if w.source == "undone"}
        letters = trusted_letters(word, self.lexicon, self.options.min_probability, self.options.picks)
        with self._lock:
            dropped = [k for k in self._samples if k in undone]
            for k in dropped:
                del self._samples[k]
            frames = list(self._frames)  # indexed below: a deque's middle is slow to reach
            times = np.array([t for t, _ in frames])
            xs, ys = [], []
            for letter, start, end in letters:
                idx = np.flatnonzero((times >= start) & (times <= end)) if len(times) else np.array([], int)
                if letter not in self.classes or not len(idx):
                    continue
                n = min(self.options.frames_per_hold, len(idx))
                pick = idx[np.linspace(0, len(idx) - 1, n).round().astype(int)]
                xs.extend(frames[i][1] for i in pick)
                ys.extend([self.classes.index(letter)] * n)
            if xs:
                self._samples[(word.start, word.end)] = (word.word, np.stack(xs), np.asarray(ys, np.int64))
            changed = bool(xs or dropped)
        if changed:
            self._refit()
        return len(xs)

    # --- fitting -------------------------------------------------------------------------------
    def _training_set(self) -> Tuple[np.ndarray, np.ndarray]:
        with self._lock:
            parts = list(self._samples.values())
        x = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, 1), np.float32)
        y = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
        keep = np.zeros(len(y), bool)  # the most recent samples of each letter
        for c in np.unique(y):
            keep[np.flatnonzero(y == c)[-self.options.per_letter:]] = True
        x, y = x[keep], y[keep]
        if self._profile is not None:  # the recorded samples stand; learned ones add letters and frames
            x = np.concatenate([self._profile.inputs, x]) if len(x) else self._profile.inputs
            y = np.concatenate([self._profile.labels, y]) if len(y) else self._profile.labels
        return x, y

    def _refit(self) -> None:
        if not self.options.background:
            self._fit_safely()
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._pending = True  # one more fit when this one ends, with every word so far
                return
            self._thread = threading.Thread(target=self._fit_loop, name="word-learning", daemon=True)
            self._thread.start()

    def _fit_loop(self) -> None:
        while True:
            self._fit_safely()
            with self._lock:
                if not self._pending:
                    return
                self._pending = False

    def _fit_safely(self) -> None:
        """Fit; a fit that fails stops the learning, with why in :meth:`status` ("off"), and the
        reading goes on with the base (or profiled) model: never a dead thread or a lost frame."""
        try:
            self._fit_now()
        except Exception as exc:  # noqa: BLE001 - whatever torch raises, reading must go on
            with self._lock:
                self._learned = None
                self.unavailable = f"learning stopped: the fit failed ({type(exc).__name__}: {exc})"

    def _fit_now(self) -> None:
        from fingerspell.reading import calibration as cal

        generation = self._generation
        t0 = time.perf_counter()
        x, y = self._training_set()
        learned = None
        if len(np.unique(y)) >= 2:
            base = {"name": "learned from words", "sha256": "", "path": ""}
            embedder = getattr(self.classifier, "embedder", None)
            extra = {} if self.options.blend is None else {"blend": float(self.options.blend)}
            profile = cal.fit_profile(self._base, x, y, base, method=self.options.method, source="words",
                                      embedder=embedder, **extra)
            learned = cal.ProfiledClassifier(self._base, profile, embedder)
        with self._lock:
            if generation == self._generation:  # not reset meanwhile
                self._learned = learned
            self.fit_seconds.append(time.perf_counter() - t0)

    def wait(self, timeout: Optional[float] = None) -> None:
        """Until a background fit has finished (tests, files)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # --- reading -------------------------------------------------------------------------------
    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        learned = self._learned
        if learned is None:
            return self.classifier.predict_proba(batch)
        if self.options.mix > 0:
            if self._profile is None:  # the base model runs once for both
                p, base = learned.predict_with_base(batch)
            else:  # the user's profile is what the learned letters are mixed with
                p, base = learned.predict_proba(batch), self.classifier.predict_proba(batch)
            p = ((1.0 - self.options.mix) * p + self.options.mix * base).astype(np.float32)
        else:
            p = learned.predict_proba(batch)
        if self.options.temperature != 1.0:
            p = np.power(np.maximum(p, 1e-12), 1.0 / self.options.temperature)
            p = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
        return p

"""The sentence being written: holds in, words out, with suggestions, undo and a transcript.

A :class:`Sentence` takes the holds the segmenter reads (``add_hold``). Letters A-Z build the word
being spelled; a SPACE hold, the Space button (``add_space``) or a pause (``maybe_finish``)
finishes it, and the word decoder turns it into a word; DEL removes the last letter. Keys 1-3
pick one of the suggestions (``pick_suggestion``), one key restores the spelled form of the last
auto-corrected word (``undo_correction``). Every method takes the lock, so a camera thread and a
UI thread can share one sentence; ``on_word`` callbacks (speech) run after the lock is released.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple

from fingerspell.reading.words import LETTERS, Decoded, WordDecoder

log = logging.getLogger(__name__)
VISIBLE_SPACE = "\u00b7"  # middle dot
CURSOR = "|"


class HoldLike(Protocol):
    """What a sentence needs of a hold (fingerspell.reading.holds.Hold has it)."""

    letter: str
    confidence: float
    top: Tuple[Tuple[str, float], ...]
    start: float
    end: float


@dataclass(frozen=True)
class Letter:
    """One letter of the word being spelled."""

    letter: str
    top: Tuple[Tuple[str, float], ...]
    start: float
    end: float


@dataclass(frozen=True)
class Word:
    """One finished word of the transcript."""

    spelled: str  # the letters as read (each hold's top letter)
    word: str  # what the sentence shows
    decoded: str  # the decoder's best word, shown or not
    probability: float  # the decoder's posterior of ``word``
    accepted: bool  # True while an auto-correction is applied
    source: str  # "decoded", "suggestion" (picked with keys 1-3) or "undone" (correction undone)
    start: float
    end: float
    alternatives: Tuple[Tuple[str, float], ...] = ()
    spans: Tuple[Tuple[float, float], ...] = ()  # (start, end) of each letter's hold


@dataclass(frozen=True)
class SentenceChange:
    """What one call did: ``kind`` is "letter", "word", "delete" or "ignored"."""

    kind: str
    letter: Optional[str]
    word: Optional[Word]
    text: str


class Sentence:
    """Thread-safe transcript of holds and words; ``decoder=None`` keeps every word as spelled."""

    def __init__(self, decoder: Optional[WordDecoder] = None, n_suggestions: int = 3) -> None:
        self.decoder = decoder
        self.n_suggestions = n_suggestions
        self._lock = threading.RLock()
        self._callbacks: List[Callable[[Word], None]] = []
        self.reset()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._letters: List[Letter] = []
            self._words: List[Word] = []
            self._holds: List[Dict[str, Any]] = []
            self._events: List[Dict[str, Any]] = []
            self._suggestions: List[Tuple[str, float]] = []
            self._last_t: Optional[float] = None

    def on_word(self, callback: Callable[[Word], None]) -> None:
        """Call ``callback(word)`` for every finished word (speech), outside the lock."""
        with self._lock:
            self._callbacks.append(callback)

    @property
    def current(self) -> str:
        with self._lock:
            return "".join(x.letter for x in self._letters)

    @property
    def words(self) -> List[Word]:
        with self._lock:
            return list(self._words)

    @property
    def holds(self) -> List[Dict[str, Any]]:
        """Every hold read so far (letter, confidence, top, start, end), SPACE and DEL included."""
        with self._lock:
            return [dict(h) for h in self._holds]

    @property
    def events(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._events]

    @property
    def suggestions(self) -> List[Tuple[str, float]]:
        with self._lock:
            return list(self._suggestions)

    @property
    def text(self) -> str:
        """The finished words and the word being spelled, separated by spaces."""
        with self._lock:
            return " ".join([w.word for w in self._words] + ([self.current] if self._letters else []))

    def display_text(self, space: str = VISIBLE_SPACE, cursor: str = CURSOR) -> str:
        """The sentence with visible spaces and a cursor: ``HELLO·WOR|``, or ``HELLO·|`` between words."""
        with self._lock:
            done = space.join(w.word for w in self._words)
            return (done + space if done else "") + self.current + cursor

    # -- input ------------------------------------------------------------------------------
    def add_hold(self, hold: HoldLike) -> SentenceChange:
        """One read hold: a letter joins the word, SPACE finishes it, DEL removes the last letter."""
        label = str(hold.letter).upper()
        top = tuple((str(a), float(p)) for a, p in hold.top)
        with self._lock:
            self._holds.append({"letter": label, "confidence": float(hold.confidence), "top": [list(x) for x in top],
                                "start": float(hold.start), "end": float(hold.end)})
            self._last_t = float(hold.end)
        if label == "SPACE":
            word = self._finish(float(hold.end), "space")
            return SentenceChange("word" if word else "ignored", label, word, self.text)
        if label == "DEL":
            return self.delete(float(hold.end))
        if label not in LETTERS:
            return SentenceChange("ignored", label, None, self.text)
        with self._lock:
            self._letters.append(Letter(label, top, float(hold.start), float(hold.end)))
            self._event("letter", float(hold.end), letter=label)
            self._update_suggestions()
            return SentenceChange("letter", label, None, self.text)

    def add_space(self, t: Optional[float] = None) -> Optional[Decoded]:
        """The Space button: finish the word being spelled (nothing happens between words)."""
        return self.finish_word(t, reason="button")

    def finish_word(self, t: Optional[float] = None, reason: str = "finish") -> Optional[Decoded]:
        """Decode and commit the word being spelled; None when no letter is pending."""
        word = self._finish(t, reason)
        if word is None:
            return None
        return Decoded(word.spelled, word.word, word.probability, word.accepted, word.alternatives)

    def maybe_finish(self, t: float, pause_s: float) -> Optional[Decoded]:
        """Finish the word when ``pause_s`` seconds passed since its last letter's hold ended."""
        with self._lock:
            if not self._letters or t - self._letters[-1].end < pause_s:
                return None
        return self.finish_word(t, reason="pause")

    def delete(self, t: Optional[float] = None) -> SentenceChange:
        """Remove the last letter; between words, reopen the last word without its last letter."""
        with self._lock:
            t = self._time(t)
            if self._letters:
                gone = self._letters.pop().letter
            elif self._words:
                last = self._words.pop()
                gone = last.word[-1]
                self._letters = [Letter(c, ((c, 1.0),), last.start, last.end) for c in last.word[:-1]]
            else:
                return SentenceChange("ignored", "DEL", None, self.text)
            self._event("delete", t, letter=gone)
            self._update_suggestions()
            return SentenceChange("delete", gone, None, self.text)

    def pick_suggestion(self, i: int, t: Optional[float] = None) -> Optional[Word]:
        """Keys 1-3: the ``i``-th suggestion (1-based) replaces the word being spelled and finishes it."""
        with self._lock:
            if not self._letters or not 1 <= i <= len(self._suggestions):
                return None
            choice, p = self._suggestions[i - 1]
            spelled = self.current
            word = Word(spelled, choice, choice, p, False, "suggestion", self._letters[0].start,
                        self._letters[-1].end, tuple(self._suggestions),
                        tuple((x.start, x.end) for x in self._letters))
            self._commit(word, self._time(t), "pick")
        self._announce(word)
        return word

    def undo_correction(self, t: Optional[float] = None) -> bool:
        """Restore the spelled form of the last auto-corrected word; False when there is none.

        The restored word is learned for the rest of the session, so it is not corrected again.
        """
        with self._lock:
            for i in range(len(self._words) - 1, -1, -1):
                w = self._words[i]
                if w.accepted:
                    self._words[i] = replace(w, word=w.spelled, accepted=False, source="undone")
                    event = self._event("undo", self._time(t), word=w.word, restored=w.spelled, learned=False)
                    break
            else:
                return False
        if self.decoder is not None:  # ~0.1 s: outside the lock, so the camera thread is not held up
            learned = self.decoder.learn(w.spelled)
            with self._lock:
                event["learned"] = learned
        return True

    # -- transcript -------------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        """JSON-able transcript: text, the word being spelled, words, every hold and every event."""
        with self._lock:
            return {"text": self.text, "current": self.current,
                    "current_letters": [asdict(x) for x in self._letters],
                    "suggestions": [list(s) for s in self._suggestions],
                    "words": [asdict(w) for w in self._words],
                    "holds": [dict(h) for h in self._holds], "events": [dict(e) for e in self._events]}

    # -- internals --------------------------------------------------------------------------
    def _time(self, t: Optional[float]) -> float:
        if t is not None:
            self._last_t = float(t)
        return self._last_t if self._last_t is not None else 0.0

    def _event(self, kind: str, t: float, **fields: Any) -> Dict[str, Any]:
        event = {"t": t, "event": kind, **fields}
        self._events.append(event)
        return event

    def _update_suggestions(self) -> None:
        if self.decoder is None or not self._letters:
            self._suggestions = []
            return
        self._suggestions = self.decoder.suggest([x.top for x in self._letters], k=self.n_suggestions)

    def _decode(self, letters: Sequence[Letter]) -> Decoded:
        if self.decoder is None:
            spelled = "".join(x.letter for x in letters)
            return Decoded(spelled, spelled, 1.0, False, ((spelled, 1.0),))
        return self.decoder.decode([x.top for x in letters])

    def _finish(self, t: Optional[float], reason: str) -> Optional[Word]:
        with self._lock:
            t = self._time(t)
            if not self._letters:
                return None
            d = self._decode(self._letters)
            spelled = self.current  # the letters as they stand (a reopened word keeps its edits)
            word = Word(spelled, d.word if d.accepted else spelled, d.alternatives[0][0], d.probability,
                        d.accepted, "decoded", self._letters[0].start, self._letters[-1].end, d.alternatives,
                        tuple((x.start, x.end) for x in self._letters))
            self._commit(word, t, reason)
        self._announce(word)
        return word

    def _commit(self, word: Word, t: float, reason: str) -> None:
        self._words.append(word)
        self._letters = []
        self._suggestions = []
        self._event("word", t, reason=reason, spelled=word.spelled, word=word.word, accepted=word.accepted)

    def _announce(self, word: Word) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(word)
            except Exception:  # a broken speaker must not stop the reading
                log.warning("word callback %r failed for %r", callback, word.word, exc_info=True)

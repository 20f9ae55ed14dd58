"""The word list the decoder searches: English word frequencies from ``wordfreq`` plus a user's words.

Words are kept upper-case, letters A-Z only, sorted. The prefix trie over them is built lazily:
a node is a range ``[lo, hi)`` of the sorted list whose words share a prefix, its children are
found with one bisect each the first time the node is expanded, and the best word frequency in a
node's range (the look-ahead the beam ranks by) comes from a sparse max table in O(1). Nothing
is built for nodes the decoder never visits, so start-up is the time to read the list (~0.5 s).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]
WORD_RE = re.compile(r"^[a-z]+$")
ONE_LETTER_WORDS = ("a", "i")  # wordfreq counts initials as words; only these are words when spelled


@functools.lru_cache(maxsize=4)
def english_frequencies(min_frequency: float) -> Tuple[Tuple[str, float], ...]:
    """(WORD, frequency) for every a-z English word in wordfreq's large list at or above ``min_frequency``."""
    try:
        import wordfreq
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise FingerspellError("wordfreq is not installed: run `pip install -e .` (it is a dependency of "
                               "fingerspell), or turn word decoding off") from exc
    freqs = wordfreq.get_frequency_dict("en", wordlist="large")
    out = []
    for word, f in freqs.items():
        if f < min_frequency or not WORD_RE.match(word):
            continue
        if len(word) == 1 and word not in ONE_LETTER_WORDS:
            continue
        out.append((word.upper(), f))
    return tuple(out)


def read_user_lexicon(path: PathLike) -> List[Tuple[str, Optional[float]]]:
    """A user's word file: one word a line, optionally followed by a count; ``#`` starts a comment."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FingerspellError(f"lexicon file {p} does not exist: give a text file with one word a line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FingerspellError(f"cannot read lexicon file {p} ({exc}): give a UTF-8 text file, "
                               "one word a line") from None
    out: List[Tuple[str, Optional[float]]] = []
    for number, line in enumerate(lines, 1):
        parts = line.split("#", 1)[0].replace(",", " ").split()
        if not parts:
            continue
        word, count = parts[0], None
        if len(parts) > 2 or not WORD_RE.match(word.lower()):
            raise FingerspellError(f"{p}:{number}: {line.strip()!r} is not a word of letters A-Z with an optional "
                                   "count: write one word a line, e.g. 'KIRA' or 'KIRA 12'")
        if len(parts) == 2:
            try:
                count = float(parts[1])
            except ValueError:
                count = -1.0
            if not (count > 0 and math.isfinite(count)):
                raise FingerspellError(f"{p}:{number}: the count {parts[1]!r} is not a positive number: "
                                       "write 'WORD' or 'WORD COUNT'")
        out.append((word.upper(), count))
    return out


class Node:
    """One trie node: the words in ``[lo, hi)`` of the sorted list share the first ``depth`` letters."""

    __slots__ = ("lo", "hi", "depth", "word_logf", "max_logf", "_children")

    def __init__(self, lo: int, hi: int, depth: int, word_logf: Optional[float], max_logf: float) -> None:
        self.lo, self.hi, self.depth = lo, hi, depth
        self.word_logf = word_logf  # log frequency of the prefix itself, None when it is no word
        self.max_logf = max_logf  # best log frequency of any word below
        self._children: Optional[Dict[str, Node]] = None


class Lexicon:
    """Sorted words with log frequencies and a lazily built prefix trie over them."""

    def __init__(self, entries: Dict[str, float]) -> None:
        self.words: List[str] = sorted(entries)
        self.logf = np.array([math.log(entries[w]) for w in self.words], dtype=np.float64)
        self._table = self._sparse_max(self.logf)
        self.root = self._make(0, len(self.words), 0)

    @classmethod
    def english(cls, min_frequency: float = 1e-7, user_file: Optional[PathLike] = None,
                user_prior: float = 1e-4) -> Lexicon:
        """wordfreq's English words at or above ``min_frequency``, plus a user's words at ``user_prior``."""
        entries = dict(english_frequencies(min_frequency))
        if user_file is not None:
            user = read_user_lexicon(user_file)
            top = max((c for _, c in user if c is not None), default=1.0)
            for word, count in user:
                f = user_prior if count is None else user_prior * max(count / top, 0.01)
                entries[word] = max(entries.get(word, 0.0), f)
        if not entries:
            raise FingerspellError(f"the word list is empty at min_frequency={min_frequency}: lower it (1e-7 keeps "
                                   "about 90,000 English words)")
        return cls(entries)

    def with_words(self, extra: Dict[str, float]) -> Lexicon:
        """A new lexicon with ``extra`` words added (a word already there keeps the larger frequency)."""
        entries = dict(zip(self.words, np.exp(self.logf).tolist()))
        for word, f in extra.items():
            entries[word] = max(entries.get(word, 0.0), f)
        return Lexicon(entries)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        i = bisect.bisect_left(self.words, word)
        return i < len(self.words) and self.words[i] == word

    def frequency(self, word: str) -> float:
        i = bisect.bisect_left(self.words, word)
        return math.exp(self.logf[i]) if i < len(self.words) and self.words[i] == word else 0.0

    @staticmethod
    def _sparse_max(values: np.ndarray) -> List[np.ndarray]:
        table = [values]
        span = 1
        while 2 * span <= len(values):
            prev = table[-1]
            table.append(np.maximum(prev[:-span], prev[span:]))
            span *= 2
        return table

    def _range_max(self, lo: int, hi: int) -> float:
        k = (hi - lo).bit_length() - 1
        row = self._table[k]
        return float(max(row[lo], row[hi - (1 << k)]))

    def _make(self, lo: int, hi: int, depth: int) -> Node:
        word_logf = float(self.logf[lo]) if len(self.words[lo]) == depth else None
        return Node(lo, hi, depth, word_logf, self._range_max(lo, hi))

    def children(self, node: Node) -> Dict[str, Node]:
        """The node's children by next letter (computed once, then kept)."""
        if node._children is None:
            kids: Dict[str, Node] = {}
            words, depth, i, hi = self.words, node.depth, node.lo, node.hi
            if node.word_logf is not None:
                i += 1
            while i < hi:
                letter = words[i][depth]
                j = bisect.bisect_left(words, words[i][:depth] + chr(ord(letter) + 1), i, hi)
                kids[letter] = self._make(i, j, depth + 1)
                i = j
            node._children = kids
        return node._children

    def find(self, prefix: str) -> Optional[Node]:
        node: Optional[Node] = self.root
        for letter in prefix:
            node = self.children(node).get(letter) if node is not None else None
        return node

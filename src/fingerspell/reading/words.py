"""Words from holds: a lexicon-aware decoder over each hold's top letters.

A finished word arrives as one list of (letter, probability) per hold. Two kinds of hypothesis
compete for it:

* a lexicon word ``w``: prior ``(1 - free_prior) * frequency(w) ** prior_weight`` (wordfreq's
  English list plus the user's words) times the holds' probabilities of its letters, found by a
  beam search over a prefix trie that lets a hold be missed (a letter with no hold; the second of
  a double letter is missed most often) or be extra (a transition read as a letter), and lets a
  letter outside a hold's top list stand in at ``floor_prob``; each of these costs one edit;
* the string as spelled (each hold's top letter): prior ``free_prior * (1/26) ** n``, the chance
  that the person spelled a name, a code or any word not in the list.

The scores are normalised into posteriors. The decoded word replaces the spelled one only when
it is ``accept_ratio`` times likelier than the spelled string, its posterior reaches
``accept_probability``, and not every hold was ``confident``; and a correction never changes or
drops a hold the model read at ``fixed`` or more: a confidently spelled letter string is never
forced into a dictionary word.

``decode`` and ``suggest`` may run in several threads: the trie's lazily built nodes are the only
shared state, and building one twice gives the same node.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES
from fingerspell.errors import FingerspellError
from fingerspell.reading.lexicon import Lexicon, Node

PathLike = Union[str, Path]
LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
TopLetters = Sequence[Tuple[str, float]]


@dataclass(frozen=True)
class DecoderOptions:
    """How words are decoded; the defaults were set with benchmarks/decoder_sim.py and
    benchmarks/decoder_holds.py (docs/words.md)."""

    enabled: bool = True  # False: every word stays as spelled, no suggestions
    min_frequency: float = 1e-7  # wordfreq words rarer than this are left out (~90k words remain)
    user_prior: float = 1e-4  # frequency a --lexicon word gets (that of "truth"); counts scale it down
    free_prior: float = 0.6  # prior that a spelled word is not in the lexicon (names, codes); docs/words.md
    prior_weight: float = 0.8  # exponent on word frequencies (below 1 flattens the prior)
    floor_prob: float = 1e-4  # least probability of a letter outside a hold's top list (one edit)
    miss_prob: float = 0.02  # a letter was signed but no hold was read (one edit)
    double_miss_prob: float = 0.2  # the second of a double letter was not read (see free_doubles)
    extra_prob: float = 0.02  # a hold was read that is no letter of the word (one edit)
    max_edits: int = 1  # edits allowed per word
    free_doubles: bool = True  # a double letter read as one hold costs double_miss_prob but no edit
    beam_width: int = 24  # hypotheses kept per hold
    # keep beam_width hypotheses that took no edit apart from those that did: without it, a prefix
    # plus a missed letter (TO, SO, NO for a first hold O) pushes out a hold's runner-up letter
    # (C for a new signer's C read as O), and OOFFE never reaches COFFEE
    edit_beam: bool = True
    edit_width: int = 8  # the best this many may also take a missed hold or an out-of-list letter
    accept_ratio: float = 10.0  # a correction must be this many times likelier than the spelled string
    accept_probability: float = 0.5  # and have at least this posterior
    confident: float = 0.99  # when every hold's top letter is at least this sure, the spelling stands
    fixed: float = 0.99  # a correction never changes or drops a hold read at least this sure (above 1: off)
    # J and Z are read from the hand's path; when the path is missed, their still shapes are read
    # as I and D. A hold with no J (Z) of its own offers J (Z) at its I (D) probability times this
    # (the share of motion letters whose path is missed, set high: docs/words.md).
    motion_miss: float = 0.1
    # Hold probabilities are raised to 1/temperature (and renormalised) first: a model is surer of
    # itself than it should be on a hand it never saw (docs/words.md).
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise FingerspellError(f"decoder temperature must be above 0, got {self.temperature}")


@dataclass(frozen=True)
class Decoded:
    spelled: str  # each hold's top letter
    word: str  # what the sentence shows: the correction when accepted, else the spelled string
    probability: float  # posterior of ``word``
    accepted: bool  # True when a correction was applied (word != spelled)
    alternatives: Tuple[Tuple[str, float], ...]  # best strings with posteriors, best first
    seconds: float = 0.0  # time the decode took


# A hypothesis: (log probability of the holds so far under this prefix, no prior; edits; node; prefix)
Hyp = Tuple[float, int, Node, str]


def _tempered(top: TopLetters, temperature: float) -> List[Tuple[str, float]]:
    """A hold's top list with every probability (and what the list leaves over) raised to 1/T."""
    pairs = [(str(letter), min(max(float(p), 0.0), 1.0)) for letter, p in top]
    if temperature == 1.0:
        return pairs
    rest = max(1e-6, 1.0 - sum(p for _, p in pairs))
    powered = [(letter, p ** (1.0 / temperature)) for letter, p in pairs]
    total = sum(p for _, p in powered) + rest ** (1.0 / temperature)
    return [(letter, p / total) for letter, p in powered]


def _sure(top: TopLetters) -> float:
    """The probability the model gave a hold's top letter (SPACE, DEL and the like not counted)."""
    return max((float(p) for letter, p in top if str(letter).upper() in LETTERS), default=0.0)


def _hold_logs(holds: Sequence[TopLetters], floor: float, temperature: float = 1.0,
               keep: Optional[float] = None, motion_miss: float = 0.0) -> List[Tuple[Dict[str, float], float]]:
    """Per hold, log probability by letter (A-Z only) and the log probability of any other letter.

    Another letter gets the probability the top list leaves over, spread evenly, but at least
    ``floor``. Holds with no letter (only SPACE, DEL or "nothing") are dropped. A hold whose top
    letter the model gave at least ``keep`` (before tempering) is fixed: only that letter, and
    ``-inf`` for any other (the search neither changes nor drops it).
    """
    out = []
    for top in holds:
        logs: Dict[str, float] = {}
        for letter, p in _tempered(top, temperature):
            key = letter.upper()
            if key in LETTERS and p > 0 and key not in logs:
                logs[key] = math.log(p)
        if not logs:
            continue
        if keep is not None and _sure(top) >= keep:
            best = max(logs, key=logs.__getitem__)
            out.append(({best: logs[best]}, -math.inf))
            continue
        left = max(0.0, 1.0 - sum(math.exp(v) for v in logs.values())) / max(1, 26 - len(logs))
        if motion_miss > 0:
            for motion, still in MOTION_LETTER_SHAPES.items():
                if motion not in logs and still in logs:
                    logs[motion] = logs[still] + math.log(motion_miss)
        out.append((logs, math.log(max(left, floor))))
    return out


def _spelled(logs: List[Tuple[Dict[str, float], float]]) -> Tuple[str, float]:
    letters, score = [], 0.0
    for hold, _ in logs:
        letter = max(hold, key=hold.__getitem__)
        letters.append(letter)
        score += hold[letter]
    return "".join(letters), score


class WordDecoder:
    """Decodes finished words and suggests completions of the word being spelled."""

    def __init__(self, lexicon: Optional[PathLike] = None, options: Optional[DecoderOptions] = None) -> None:
        self.options = options or DecoderOptions()
        o = self.options
        start = time.perf_counter()
        self.lexicon: Optional[Lexicon] = None
        if o.enabled:
            self.lexicon = Lexicon.english(o.min_frequency, lexicon, o.user_prior)
        self.load_seconds = time.perf_counter() - start
        self._log_miss = math.log(o.miss_prob)
        self._log_double = math.log(o.double_miss_prob)
        self._log_extra = math.log(o.extra_prob)
        self._log_word = math.log(1.0 - o.free_prior)
        self._log_free = math.log(o.free_prior) - math.log(26.0)

    # -- search ------------------------------------------------------------------------------
    def _rank(self, beam: Dict[int, Hyp]) -> List[Hyp]:
        """The ``beam_width`` best hypotheses by score plus the best prior below their node (with
        ``edit_beam``, as many with no edit and as many with edits, ranked together)."""
        w, n = self.options.prior_weight, self.options.beam_width

        def key(h: Hyp) -> float:
            return h[0] + w * h[2].max_logf

        if not self.options.edit_beam:
            return heapq.nlargest(n, beam.values(), key=key)
        kept = heapq.nlargest(n, (h for h in beam.values() if h[1] == 0), key=key)
        kept += heapq.nlargest(n, (h for h in beam.values() if h[1] > 0), key=key)
        return sorted(kept, key=key, reverse=True)

    def _missed(self, lex: Lexicon, hyps: List[Hyp]) -> Dict[int, Hyp]:
        """Letters signed without a hold: the best hypotheses may add one letter without using a hold.

        With ``free_doubles`` every hypothesis may repeat its last letter (a double letter read as
        one hold) without spending an edit.
        """
        beam = {id(h[2]): h for h in hyps}
        children, max_edits, w = lex.children, self.options.max_edits, self.options.prior_weight
        free_doubles = self.options.free_doubles
        full = len(hyps) >= self.options.beam_width  # hyps come ranked: a new one must beat the last
        bar = hyps[-1][0] + w * hyps[-1][2].max_logf if full else -math.inf

        def add(child: Node, prefix: str, s: float, edits: int) -> None:
            if s + w * child.max_logf >= bar:
                old = beam.get(id(child))
                if old is None or s > old[0]:
                    beam[id(child)] = (s, edits, child, prefix)

        for rank, (score, edits, node, prefix) in enumerate(hyps):
            last = prefix[-1:]
            if free_doubles and last:
                child = children(node).get(last)
                if child is not None:
                    add(child, prefix + last, score + self._log_double, edits)
            if rank >= self.options.edit_width or edits >= max_edits:
                continue
            for letter, child in children(node).items():
                if letter == last and free_doubles:
                    continue
                add(child, prefix + letter, score + (self._log_double if letter == last else self._log_miss), edits + 1)
        return beam

    def _step(self, lex: Lexicon, hyps: List[Hyp], hold: Dict[str, float], log_other: float) -> Dict[int, Hyp]:
        """Use one hold: its top letters, any letter at ``log_other`` (best hypotheses only), or skip it."""
        nxt: Dict[int, Hyp] = {}
        children, max_edits, edit_width = lex.children, self.options.max_edits, self.options.edit_width

        def push(node: Node, prefix: str, s: float, edits: int) -> None:
            old = nxt.get(id(node))
            if old is None or s > old[0]:
                nxt[id(node)] = (s, edits, node, prefix)

        for score, edits, node, prefix in hyps:
            kids = children(node)
            for letter, lp in hold.items():
                child = kids.get(letter)
                if child is not None:
                    push(child, prefix + letter, score + lp, edits)
            if edits < max_edits and log_other > -math.inf:  # an extra hold (never a fixed one)
                push(node, prefix, score + self._log_extra, edits + 1)
        # Out-of-list letters, for the best hypotheses, only where they can still make the beam.
        w = self.options.prior_weight
        ranks = sorted((h[0] + w * h[2].max_logf for h in nxt.values()), reverse=True)
        bar = ranks[self.options.beam_width - 1] if len(ranks) >= self.options.beam_width else -math.inf
        for score, edits, node, prefix in hyps[:edit_width]:
            if edits >= max_edits or score + log_other + w * node.max_logf < bar:
                continue
            for letter, child in children(node).items():
                s = score + log_other
                if letter not in hold and s + w * child.max_logf >= bar:
                    push(child, prefix + letter, s, edits + 1)
        return nxt

    def _search(self, lex: Lexicon, logs: List[Tuple[Dict[str, float], float]], missed_at_end: bool) -> List[Hyp]:
        hyps: List[Hyp] = [(0.0, 0, lex.root, "")]
        for hold, log_other in logs:
            hyps = self._rank(self._missed(lex, hyps))
            hyps = self._rank(self._step(lex, hyps, hold, log_other))
        if missed_at_end:
            hyps = self._rank(self._missed(lex, hyps))
        return hyps

    # -- public ------------------------------------------------------------------------------
    def decode(self, holds: Sequence[TopLetters]) -> Decoded:
        """The word for one finished word's holds (each: its top letters with probabilities)."""
        start = time.perf_counter()
        o = self.options
        logs = _hold_logs(holds, o.floor_prob, o.temperature, o.fixed, o.motion_miss)
        spelled, spelled_score = _spelled(logs)
        lex = self.lexicon  # one lexicon for the whole search, even if learn() swaps it meanwhile
        if not logs or lex is None:
            return Decoded(spelled, spelled, 1.0, False, ((spelled, 1.0),), time.perf_counter() - start)
        w = self.options.prior_weight
        scores: Dict[str, float] = {spelled: self._log_free * len(logs) + spelled_score}
        for score, _, node, prefix in self._search(lex, logs, missed_at_end=True):
            if node.word_logf is not None:
                s = score + w * node.word_logf + self._log_word
                old = scores.get(prefix)
                scores[prefix] = s if old is None else float(math.log(math.exp(old) + math.exp(s)))
        top = max(scores.values())
        total = sum(math.exp(s - top) for s in scores.values())
        ranked = sorted(((word, math.exp(s - top) / total) for word, s in scores.items()),
                        key=lambda item: -item[1])
        best, p_best = ranked[0]
        confident = all(p >= o.confident for p in map(_sure, holds) if p > 0)
        p_spelled = dict(ranked)[spelled]
        accepted = (best != spelled and not confident and p_best >= self.options.accept_probability
                    and p_best >= self.options.accept_ratio * p_spelled)
        word = best if accepted else spelled
        probability = p_best if accepted else p_spelled
        return Decoded(spelled, word, probability, accepted, tuple(ranked[:5]), time.perf_counter() - start)

    def suggest(self, holds: Sequence[TopLetters], k: int = 3) -> List[Tuple[str, float]]:
        """The ``k`` likeliest words that start with what has been spelled so far, best first.

        Probabilities are normalised over the ``k`` words returned.
        """
        logs = _hold_logs(holds, self.options.floor_prob, self.options.temperature,
                          motion_miss=self.options.motion_miss)
        lex = self.lexicon
        if not logs or lex is None or k <= 0:
            return []
        w = self.options.prior_weight
        heap: List[Tuple[float, int, bool, Node, str, float]] = []
        count = 0
        hyps = self._search(lex, logs, missed_at_end=False)
        exact = [h for h in hyps if h[1] == 0]  # prefixes that use every hold's top list as it is
        for score, _, node, prefix in exact or hyps:
            heap.append((-(score + w * node.max_logf), count, False, node, prefix, score))
            count += 1
        heapq.heapify(heap)
        found: Dict[str, float] = {}
        while heap and len(found) < k:
            key, _, is_word, node, prefix, score = heapq.heappop(heap)
            if is_word:
                found.setdefault(prefix, -key)
                continue
            if node.word_logf is not None:
                heapq.heappush(heap, (-(score + w * node.word_logf), count, True, node, prefix, score))
                count += 1
            for letter, child in lex.children(node).items():
                heapq.heappush(heap, (-(score + w * child.max_logf), count, False, child, prefix + letter, score))
                count += 1
        if not found:
            return []
        top = max(found.values())
        total = sum(math.exp(s - top) for s in found.values())
        return [(word, math.exp(s - top) / total) for word, s in found.items()]

    def learn(self, word: str) -> bool:
        """Add ``word`` (letters A-Z) at the user prior for the rest of the session, e.g. after an undo.

        The lexicon is rebuilt (~0.1 s) and swapped in whole; a decode running meanwhile finishes on
        the old one. False when decoding is off or the word is already that likely.
        """
        word = word.upper()
        lex = self.lexicon
        if lex is None or not word or not set(word) <= LETTERS or lex.frequency(word) >= self.options.user_prior:
            return False
        self.lexicon = lex.with_words({word: self.options.user_prior})
        return True


def add_decoder_arguments(parser) -> None:
    """``--lexicon FILE`` and ``--no-decode`` for the commands that read words (live, run, serve)."""
    parser.add_argument("--lexicon", metavar="FILE", default=None,
                        help="your own words, one a line with an optional count (names, places, jargon); "
                             "they are preferred when a spelled word is uncertain")
    parser.add_argument("--no-decode", dest="decode", action="store_false",
                        help="keep every word exactly as spelled (no word corrections, no suggestions)")


def make_decoder(decode: bool = True, lexicon: Optional[PathLike] = None,
                 names: Tuple[str, str] = ("--lexicon", "--no-decode")) -> WordDecoder:
    """The word decoder with the user's ``lexicon`` (decoding off still keeps the words as spelled);
    ``names`` are how the caller spells the two options, for the error when both are given."""
    if lexicon and not decode:
        raise FingerspellError(f"{names[0]} has no effect with {names[1]}: drop one of them")
    return WordDecoder(lexicon=lexicon or None, options=DecoderOptions(enabled=bool(decode)))


def decoder_from_args(args) -> WordDecoder:
    """The decoder ``add_decoder_arguments`` asked for."""
    return make_decoder(getattr(args, "decode", True), getattr(args, "lexicon", None))

"""Real hand shapes and the real shipped model for the reading tests (holds, motion, simulator).

MediaPipe runs once per test session on a few massey photos per letter (two signers); the
landmarks become a :class:`LetterBank`. Probabilities come from the shipped landmark model.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.hands.landmarks import normalize_landmarks
from fingerspell.reading.holds import FrameReading, HoldOptions, HoldSegmenter, HoldUpdate
from fingerspell.reading.synth import LetterBank

LETTERS = ("a", "b", "d", "e", "h", "i", "j", "k", "l", "o", "q", "s", "y", "z")
SIGNERS = ("hand1", "hand2")
PER_SIGNER = 2


@functools.lru_cache(maxsize=2)
def detections(root: str) -> Tuple[tuple, ...]:
    """(letter, signer, path, Hand) for the chosen photos that MediaPipe finds a hand in."""
    from fingerspell.hands.detector import HandDetector, load_image

    out = []
    with HandDetector(max_hands=1) as det:
        for letter in LETTERS:
            files = sorted((Path(root) / "massey" / letter).glob("*.jpeg"))
            for signer in SIGNERS:
                mine = [f for f in files if f.name.startswith(signer + "_")][:PER_SIGNER]
                for f in mine:
                    hands = det.detect(load_image(f))
                    if hands:
                        out.append((letter.upper(), signer, f, hands[0]))
    return tuple(out)


@functools.lru_cache(maxsize=2)
def real_bank(root: str) -> LetterBank:
    rows = detections(root)
    return LetterBank(
        np.stack([h.landmarks for *_, h in rows]), np.array([h.image_size for *_, h in rows]),
        np.array([0 if h.is_left else 1 for *_, h in rows]), [r[0] for r in rows], [r[1] for r in rows])


@functools.lru_cache(maxsize=1)
def model():
    import torch

    from fingerspell.runtime.classifier import load_classifier

    torch.set_num_threads(1)
    return load_classifier()[0]


def model_probs(frames: Sequence[Tuple[float, Optional[np.ndarray]]], image_size, handedness: str = "Right"
                ) -> List[Optional[np.ndarray]]:
    """The shipped model's probabilities for each frame (None where there is no hand)."""
    clf = model()
    rows = [i for i, (_, lm) in enumerate(frames) if lm is not None]
    out: List[Optional[np.ndarray]] = [None] * len(frames)
    if rows:
        vecs = np.stack([normalize_landmarks(frames[i][1], image_size, handedness) for i in rows])
        for i, p in zip(rows, clf.predict_proba(vecs)):
            out[i] = p
    return out


def segment(frames, probs, image_size, classes, options: Optional[HoldOptions] = None) -> List[HoldUpdate]:
    seg = HoldSegmenter(classes, options)
    return [seg.update(FrameReading(t, lm, image_size, p)) for (t, lm), p in zip(frames, probs)]


def written(updates: Sequence[HoldUpdate]) -> List[str]:
    """The letters as a sentence would hold them (a retract of a written letter takes it back)."""
    out: List[str] = []
    for u in updates:
        if u.retract is not None and not np.isnan(u.retract.written_at) and out:  # not an unread hold
            out.pop()
        if u.hold is not None:
            out.append(u.hold.letter)
    return out


def shapes_by_letter(root: str) -> Dict[str, np.ndarray]:
    """One real (21, 3) landmark set per letter (normalised image coords) and its image size."""
    out: Dict[str, np.ndarray] = {}
    for letter, _signer, _path, hand in detections(root):
        out.setdefault(letter, hand)
    return out

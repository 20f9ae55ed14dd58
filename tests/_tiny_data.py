"""A tiny real dataset for the model tests: MediaPipe on a few massey photos, built in memory.

Five letters; signers hand1-hand3 for training and hand4/hand5 (unseen people) for testing.
Built once per test session into a temporary folder; nothing is cached in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np

from fingerspell import features
from fingerspell.data.schema import DatasetArrays
from fingerspell.hands.detector import HandDetector, load_image
from fingerspell.hands.landmarks import FEATURE_DIM, NUM_LANDMARKS
from fingerspell.labels import CLASSES, index_of

LETTERS = ("a", "b", "c", "l", "y")
TRAIN_SIGNERS = {"hand1": 15, "hand2": 15, "hand3": 5}
TEST_SIGNERS = {"hand4": 5, "hand5": 10}
MASK_SIZE = 32
_SIGNER = re.compile(r"^(hand\d+)_")


def pick_photos(root: Path, letters: Sequence[str], per_signer: Dict[str, int]) -> list:
    """(path, letter, signer) for up to ``per_signer[signer]`` photos per letter, spread over the poses."""
    out = []
    for letter in letters:
        files = sorted((root / "massey" / letter).glob("*.jpeg"))
        for signer, k in per_signer.items():
            mine = [f for f in files if _SIGNER.match(f.name) and _SIGNER.match(f.name).group(1) == signer]
            if not mine:
                continue
            idx = np.linspace(0, len(mine) - 1, num=min(k, len(mine))).round().astype(int)
            out += [(mine[i], letter, signer) for i in sorted(set(idx.tolist()))]
    return out


def build_arrays(photos: list, detector: HandDetector, mask_size: int = MASK_SIZE) -> Tuple[DatasetArrays, int]:
    """DatasetArrays of the photos with a hand found, and the number without one."""
    rows = []
    missed = 0
    for path, letter, signer in photos:
        img = load_image(path)
        hands = detector.detect(img)
        if not hands:
            missed += 1
            continue
        h = hands[0]
        rows.append((h, letter, signer, str(path)))
    n = len(rows)
    data = DatasetArrays(
        masks=np.stack([features.hand_mask(h, size=mask_size) for h, *_ in rows]).astype(np.uint8),
        landmarks=np.stack([h.landmarks for h, *_ in rows]).astype(np.float32),
        vectors=np.stack([features.hand_vector(h) for h, *_ in rows]).astype(np.float32),
        handedness=np.array([0 if h.is_left else 1 for h, *_ in rows], np.int8),
        image_sizes=np.array([h.image_size for h, *_ in rows], np.int32),
        labels=np.array([index_of(letter) for _, letter, _, _ in rows], np.int64),
        groups=np.array([f"massey/{s}" for _, _, s, _ in rows]),
        sources=np.full(n, "massey"),
        paths=np.array([p for *_, p in rows]),
        no_hand=np.zeros(n, bool),
        classes=CLASSES,
    )
    assert data.landmarks.shape[1:] == (NUM_LANDMARKS, 3) and data.vectors.shape[1] == FEATURE_DIM
    return data, missed


def build_tiny(root: Path, mask_size: int = MASK_SIZE) -> Tuple[DatasetArrays, DatasetArrays, int]:
    """(train, test, photos with no hand) over :data:`LETTERS`."""
    with HandDetector(max_hands=1, min_detection_confidence=0.5) as det:
        train, m1 = build_arrays(pick_photos(root, LETTERS, TRAIN_SIGNERS), det, mask_size)
        test, m2 = build_arrays(pick_photos(root, LETTERS, TEST_SIGNERS), det, mask_size)
    return train, test, m1 + m2


_CACHE: Dict[str, tuple] = {}


def tiny_files(root: Path, folder: Path) -> Tuple[Path, Path, int]:
    """Build the tiny train/test files once per session (cached by folder name) and return their paths."""
    from fingerspell.data.schema import save_dataset

    key = str(root)
    if key not in _CACHE:
        folder.mkdir(parents=True, exist_ok=True)
        train, test, missed = build_tiny(root)
        _CACHE[key] = (save_dataset(train, folder / "tiny_train.npz"), save_dataset(test, folder / "tiny_test.npz"),
                       missed)
    return _CACHE[key]

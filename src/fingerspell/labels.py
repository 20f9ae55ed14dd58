"""The vocabulary: A-Z, SPACE, DEL and NOTHING, and mapping folder names onto it."""

from __future__ import annotations

import string
from typing import Optional

LETTERS: tuple[str, ...] = tuple(string.ascii_uppercase)
SPACE, DEL, NOTHING = "SPACE", "DEL", "NOTHING"
CLASSES: tuple[str, ...] = LETTERS + (SPACE, DEL, NOTHING)
NUM_CLASSES = len(CLASSES)
_INDEX = {name: i for i, name in enumerate(CLASSES)}

# Folder names seen in the wild (Kaggle's ASL Alphabet, asl-alphabets, massey) -> our names.
_ALIASES = {
    "space": SPACE, "spc": SPACE, "blank": SPACE,
    "del": DEL, "delete": DEL, "backspace": DEL,
    "nothing": NOTHING, "none": NOTHING, "no_hand": NOTHING, "nohand": NOTHING,
}


def index_of(name: str) -> int:
    """Index of a class name (case-insensitive; aliases such as 'del' accepted)."""
    canon = canonical_class(name)
    if canon is None:
        raise KeyError(f"unknown class {name!r}; known: {', '.join(CLASSES)}")
    return _INDEX[canon]


def name_of(index: int) -> str:
    return CLASSES[int(index)]


def canonical_class(name: str) -> Optional[str]:
    """Map a folder or file-name class onto the vocabulary, or None (digits, unknown names)."""
    key = name.strip().lower()
    if len(key) == 1 and key.isalpha() and key.isascii():
        return key.upper()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.upper() in _INDEX:
        return key.upper()
    return None

"""Labels that break the ASL convention in one source: flagged, left out of training and scoring.

A source can name a hand shape with a letter that is not the ASL letter (mon95's T). Such photos
would teach a model the wrong shape and mark a right answer wrong, so ``build-dataset`` leaves
them out (and counts them in its report), training drops any that an older dataset file still
holds, and the benchmarks never score them. ``docs/labels.md`` records how each was found.

A source is matched by the name the scanner gives it (:class:`fingerspell.data.sources.ImageItem`
``source``, the dataset's ``sources`` field): ``mon95`` for the mon95 folder or one of its
``user_N`` folders. An exception can also cover only some photos of a label (one signer's session
that shows another hand shape): ``photos`` names them by folder and file stem (``user_5/Y0``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class LabelException:
    """One (source, label) whose photos do not show the ASL letter."""

    source: str
    label: str
    reason: str
    layout: Optional[str] = None  # also match any source of this layout (a renamed mon95 folder)
    photos: Tuple[str, ...] = ()  # only these photos ("folder/stem"); empty: every photo of the label
    where: str = ""  # the photos in words, for reports

    @property
    def key(self) -> str:
        """How reports count it: ``mon95/T``, or ``mon95/Y user_5 Y0-Y4`` for some photos."""
        return f"{self.source}/{self.label}" + (f" {self.where}" if self.where else "")

    def covers(self, path: Optional[str]) -> bool:
        """Whether a photo at ``path`` is one this exception names (any, without ``photos``)."""
        return not self.photos or (path is not None and _photo_id(path) in {p.lower() for p in self.photos})


LABEL_EXCEPTIONS: Tuple[LabelException, ...] = (
    LabelException(
        "mon95", "T",
        "shows the index finger pointing sideways with the thumb up, not the ASL T (a fist with the thumb "
        "between the index and middle fingers); its mean skeleton sits closest to the other sources' G "
        "(docs/labels.md)",
        layout="mon95",
    ),
    LabelException(
        "mon95", "Y",
        "user_5's first session (Y0-Y4) shows the index and little fingers up with the thumb folded over "
        "the others (the 'horns'), not the ASL Y (thumb and little finger out); the second session is a Y "
        "(docs/labels.md)",
        layout="mon95", photos=tuple(f"user_5/Y{i}" for i in range(5)), where="user_5 Y0-Y4",
    ),
)


def _photo_id(path: str) -> str:
    """``folder/stem`` of a photo path, lower case (``user_5/y0`` for ``.../mon95/user_5/Y0.jpg``)."""
    parts = [p for p in str(path).replace("\\", "/").split("/") if p]
    stem = parts[-1].rsplit(".", 1)[0] if parts else ""
    return "/".join(parts[-2:-1] + [stem]).lower()


def _source_name(source: str) -> str:
    """The source's own name: ``mon95`` for ``mon95``, ``/data/mon95`` or ``mon95/user_3``."""
    parts = [p for p in str(source).replace("\\", "/").split("/") if p]
    if parts and parts[-1].lower().startswith("user_") and len(parts) > 1:
        parts = parts[:-1]
    return parts[-1].lower() if parts else ""


def exception_for(source: str, label: str, exceptions: Sequence[LabelException] = LABEL_EXCEPTIONS,
                  layout: Optional[str] = None, path: Optional[str] = None) -> Optional[LabelException]:
    """The exception that covers this source's label (or this layout's), or None; one that names some
    photos covers only those (``path``: the photo's; without it, none of them)."""
    name = _source_name(source)
    for ex in exceptions:
        if ex.label == label and (_source_name(ex.source) == name or (layout and ex.layout == layout)) \
                and ex.covers(path):
            return ex
    return None


def split_items(items: Iterable, exceptions: Sequence[LabelException] = LABEL_EXCEPTIONS,
                layout: Optional[str] = None) -> Tuple[List, Dict[str, int]]:
    """(items kept, {"source/label": photos left out}) for scanned items with ``source`` and ``label``."""
    kept, dropped = [], Counter()
    for it in items:
        ex = exception_for(it.source, it.label, exceptions, layout, getattr(it, "path", None))
        if ex is None:
            kept.append(it)
        else:
            dropped[ex.key] += 1
    return kept, dict(sorted(dropped.items()))


def exception_mask(sources: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                   exceptions: Sequence[LabelException] = LABEL_EXCEPTIONS,
                   paths: Optional[np.ndarray] = None) -> np.ndarray:
    """Boolean (N,): True for the rows of a dataset whose label is an exception in their source
    (an exception naming some photos flags only those: it needs the rows' ``paths``)."""
    sources = np.asarray(sources)
    labels = np.asarray(labels)
    flagged = np.zeros(labels.shape[0], dtype=bool)
    for ex in exceptions:
        if ex.label not in classes:
            continue
        idx = list(classes).index(ex.label)
        names = np.array([_source_name(s) for s in sources.tolist()], dtype=object) if len(sources) else sources
        hit = (labels == idx) & (names == _source_name(ex.source))
        if ex.photos:
            for i in np.flatnonzero(hit):
                hit[i] = paths is not None and ex.covers(paths[i])
        flagged |= hit
    return flagged


def drop_exceptions(data, exceptions: Sequence[LabelException] = LABEL_EXCEPTIONS):
    """(dataset without the exception rows, {"source/label": rows dropped}) for a DatasetArrays."""
    flagged = exception_mask(data.sources, data.labels, data.classes, exceptions, data.paths)
    if not flagged.any():
        return data, {}
    counts = Counter()
    for s, lab, path in zip(data.sources[flagged].tolist(), data.labels[flagged].tolist(),
                            data.paths[flagged].tolist()):
        counts[exception_for(s, data.classes[lab], exceptions, path=path).key] += 1
    return data.subset(~flagged), dict(sorted(counts.items()))


# The motion letters and the hand shape their single frames show (J ends as a turned I, Z as a D-like
# pointing index). A static model trained with ``static_letters`` learns these photos as that shape
# and never outputs J or Z: the motion reader (reading/motion.py) writes those from the movement.
MOTION_LETTER_SHAPES: Dict[str, str] = {"J": "I", "Z": "D"}


def fold_motion_letters(data, shapes: Dict[str, str] = MOTION_LETTER_SHAPES):
    """(dataset with J relabelled I and Z relabelled D, {"J->I": rows, ...}) for a DatasetArrays."""
    labels = np.asarray(data.labels).copy()
    counts = {}
    for motion, static in shapes.items():
        if motion in data.classes and static in data.classes:
            hit = labels == list(data.classes).index(motion)
            if hit.any():
                labels[hit] = list(data.classes).index(static)
                counts[f"{motion}->{static}"] = int(hit.sum())
    if not counts:
        return data, counts
    out = data.subset(np.arange(len(data)))
    out.labels = labels
    return out, counts


__all__ = ["LABEL_EXCEPTIONS", "LabelException", "MOTION_LETTER_SHAPES", "drop_exceptions", "exception_for",
           "exception_mask", "fold_motion_letters", "split_items"]

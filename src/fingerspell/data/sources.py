"""Find the labelled photos under a source folder, whatever its layout.

Layouts recognised (see ``/work/shared/data/README.md``):

* ``class-folders``: ``<root>/<Class>/*.jpg`` (asl-alphabets ``train``/``test``, Kaggle's ASL
  Alphabet ``A/`` … ``Z/``, ``del/``, ``nothing/``, ``space/``). The group is
  ``<parent>/<root>`` (``asl-alphabets/train``).
* ``massey``: class folders whose files are named ``handN_<class>_...``; the group is the signer,
  ``<root>/handN`` (``massey/hand1``).
* ``mon95``: ``<root>/user_N/<Letter><k>.jpg`` with a hand-box CSV ``user_N/user_N_loc.csv``
  (backslash paths); the group is ``<root>/user_N``. A single ``user_N`` folder works too.

Class names map case-insensitively onto the vocabulary with :func:`labels.canonical_class`;
digits and unknown names are skipped and counted, never guessed. Labels that break the ASL
convention in one source (:mod:`fingerspell.data.exceptions`, e.g. mon95's T) are left out and
counted in ``SourceScan.label_exceptions``.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from fingerspell.data.exceptions import split_items
from fingerspell.errors import FingerspellError
from fingerspell.labels import canonical_class
from fingerspell.media import IMAGE_SUFFIXES

_USER_DIR = re.compile(r"^user_\d+$", re.IGNORECASE)
_SIGNER_FILE = re.compile(r"^(hand\d+)_", re.IGNORECASE)
_LETTER_FILE = re.compile(r"^([A-Za-z]+?)(\d+)$")

Box = Tuple[int, int, int, int]


@dataclass(frozen=True)
class ImageItem:
    """One labelled photo to process.

    label: canonical class name; group: signer or source folder; source: data set name;
    box: the hand box (x0, y0, x1, y1) in pixels where the source gives one (mon95).
    """

    path: str
    label: str
    group: str
    source: str
    box: Optional[Box] = None


@dataclass
class Skipped:
    """A folder (or file name class) that does not map onto the vocabulary."""

    path: str
    files: int
    reason: str  # "digit" or "unknown class"


@dataclass
class SourceScan:
    """What one SRC holds: its layout, its name, the items and what was skipped.

    label_exceptions: {"source/label": photos left out} for labels that break the ASL convention.
    """

    root: str
    layout: str
    source: str
    items: List[ImageItem] = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)
    label_exceptions: Dict[str, int] = field(default_factory=dict)

    @property
    def skipped_files(self) -> int:
        return sum(s.files for s in self.skipped)


def _images(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _subdirs(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _skip_reason(name: str) -> str:
    return "digit" if name.strip().isdigit() else "unknown class"


def _display_name(root: Path) -> str:
    """``<parent>/<folder>`` of a root, the name a class-folder source gets."""
    return f"{root.parent.name}/{root.name}" if root.parent.name else root.name


def detect_layout(root: Union[str, Path]) -> Tuple[str, Path]:
    """The layout of a source folder, and the folder to read (a lone wrapper folder is entered).

    Raises FingerspellError naming the folder when nothing fits.
    """
    p = Path(root).expanduser()
    if not p.is_dir():
        raise FingerspellError(f"source {p} is not a folder: give a folder of photos (class folders, massey, mon95)")
    for _ in range(3):  # Kaggle zips nest the class folders one or two levels down
        if _USER_DIR.match(p.name) and _images(p):
            return "mon95", p
        subs = _subdirs(p)
        if any(_USER_DIR.match(s.name) for s in subs):
            return "mon95", p
        class_dirs = [s for s in subs if canonical_class(s.name) is not None]
        if class_dirs:
            signer_named = all(
                _SIGNER_FILE.match(f.name) for s in class_dirs for f in _images(s)[:3]
            ) and any(_images(s) for s in class_dirs)
            return ("massey" if signer_named else "class-folders"), p
        if len(subs) == 1 and not _images(p):
            p = subs[0]
            continue
        break
    names = ", ".join(s.name for s in _subdirs(p)[:8]) or "none"
    raise FingerspellError(
        f"no class folders found in {Path(root)} (its subfolders: {names}): give a folder holding A/, B/, ... "
        "class folders, a massey folder or a mon95 folder (or one of its user_N folders)"
    )


def _scan_class_folders(root: Path, layout: str) -> SourceScan:
    source = root.name if layout == "massey" else _display_name(root)
    scan = SourceScan(root=str(root), layout=layout, source=source)
    for sub in _subdirs(root):
        files = _images(sub)
        label = canonical_class(sub.name)
        if label is None:
            if files:
                scan.skipped.append(Skipped(str(sub), len(files), _skip_reason(sub.name)))
            continue
        for f in files:
            m = _SIGNER_FILE.match(f.name)
            group = f"{root.name}/{m.group(1).lower()}" if m else source
            scan.items.append(ImageItem(path=str(f), label=label, group=group, source=source))
    return scan


def read_mon95_boxes(csv_path: Path) -> Dict[str, Box]:
    """file name -> (x0, y0, x1, y1) from a mon95 ``user_N_loc.csv`` (paths use backslashes)."""
    boxes: Dict[str, Box] = {}
    try:
        with open(csv_path, newline="") as fh:
            for row in csv.DictReader(fh):
                name = row["image"].replace("\\", "/").rsplit("/", 1)[-1]
                boxes[name] = (int(row["top_left_x"]), int(row["top_left_y"]),
                               int(row["bottom_right_x"]), int(row["bottom_right_y"]))
    except (KeyError, ValueError, TypeError, csv.Error) as exc:
        raise FingerspellError(
            f"{csv_path} is not a mon95 hand-box CSV ({type(exc).__name__}: {exc}): expected columns "
            "image,top_left_x,top_left_y,bottom_right_x,bottom_right_y; fix or remove it"
        ) from None
    return boxes


def _scan_mon95(root: Path) -> SourceScan:
    if _USER_DIR.match(root.name):
        users, name = [root], root.parent.name or "mon95"
    else:
        users, name = [s for s in _subdirs(root) if _USER_DIR.match(s.name)], root.name
    scan = SourceScan(root=str(root), layout="mon95", source=name)
    for user in users:
        csv_path = user / f"{user.name}_loc.csv"
        boxes = read_mon95_boxes(csv_path) if csv_path.is_file() else {}
        group = f"{name}/{user.name}"
        unknown: Dict[str, int] = defaultdict(int)
        for f in _images(user):
            m = _LETTER_FILE.match(f.stem)
            label = canonical_class(m.group(1)) if m else None
            if label is None:
                unknown[m.group(1) if m else f.stem] += 1
                continue
            scan.items.append(ImageItem(path=str(f), label=label, group=group, source=name,
                                        box=boxes.get(f.name)))
        for key, n in sorted(unknown.items()):
            scan.skipped.append(Skipped(f"{user}/{key}*", n, _skip_reason(key)))
    return scan


def canonical_classes(names: Optional[Sequence[str]]) -> Optional[Tuple[str, ...]]:
    """Check and canonicalise a class filter (``--classes A,b,del``); None keeps every class."""
    if names is None:
        return None
    out = []
    for n in names:
        c = canonical_class(n)
        if c is None:
            raise FingerspellError(f"unknown class {n!r} in --classes: use letters A-Z, space, del or nothing")
        out.append(c)
    return tuple(dict.fromkeys(out))


def scan_source(root: Union[str, Path], limit_per_class: Optional[int] = None,
                classes: Optional[Sequence[str]] = None) -> SourceScan:
    """Auto-detect the layout of ``root`` and list its labelled photos in sorted order.

    limit_per_class: keep the first N files (sorted by path) per class per group.
    classes: keep only these classes (names as :func:`canonical_class` reads them).
    """
    layout, folder = detect_layout(root)
    scan = _scan_mon95(folder) if layout == "mon95" else _scan_class_folders(folder, layout)
    scan.items.sort(key=lambda it: it.path)
    wanted = canonical_classes(classes)
    if wanted is not None:
        scan.items = [it for it in scan.items if it.label in wanted]
    scan.items, scan.label_exceptions = split_items(scan.items, layout=scan.layout)
    if limit_per_class is not None:
        if limit_per_class < 1:
            raise FingerspellError("--limit-per-class must be at least 1")
        kept: Dict[Tuple[str, str], int] = defaultdict(int)
        items = []
        for it in scan.items:
            if kept[(it.group, it.label)] < limit_per_class:
                kept[(it.group, it.label)] += 1
                items.append(it)
        scan.items = items
    if not scan.items:
        raise FingerspellError(
            f"source {root} ({layout} layout) holds no labelled photos"
            + (f" of the classes {', '.join(wanted)}" if wanted else "")
            + f": check the folder names and image types ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return scan


def scan_sources(roots: Sequence[Union[str, Path]], limit_per_class: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None) -> List[SourceScan]:
    """Scan several sources; the same photo given twice is an error, not a silent duplicate."""
    if not roots:
        raise FingerspellError("no source folders given: name at least one SRC folder of photos")
    scans = [scan_source(r, limit_per_class, classes) for r in roots]
    seen: Dict[str, str] = {}
    for s in scans:
        for it in s.items:
            real = str(Path(it.path).resolve())
            if real in seen:
                raise FingerspellError(
                    f"{it.path} is reached from both {seen[real]} and {s.root}: give each source folder once"
                )
            seen[real] = s.root
    return scans

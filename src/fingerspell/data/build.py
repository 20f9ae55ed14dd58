"""Photo folders -> a dataset file: detect the hand in each photo, store its landmarks and mask.

How a build behaves, and why:

* Every photo is read, hashed (sha1 of its bytes) and looked up in a per-file cache before any
  detection runs; only misses go to the detector. The cache holds the *detection* (landmarks,
  handedness, image size) as a small JSON file, keyed by the file hash, the detector settings,
  the source's hand box and :data:`BUILD_VERSION`. Masks and vectors are then drawn from the
  landmarks with :mod:`fingerspell.features`, the one preprocessing path, which takes well under
  a millisecond, so the mask size is left out of the key on purpose: a rebuild at another
  ``--mask-size`` reuses every detection. An interrupted build therefore resumes where it
  stopped, and a rerun of a finished one takes seconds.
* Misses are detected in a process pool (spawned; each worker makes one HandDetector in its
  initializer and ignores Ctrl-C, which the parent handles); a handful of misses, or
  ``workers=1``, run in this process instead.
* The output is written only at the end, atomically (:func:`schema.save_dataset`), so Ctrl-C or a
  crash never leaves a half-written file; an existing output is refused unless ``overwrite``.
* Photos with no hand are left out and listed in the report, except NOTHING photos, which are
  kept either way (no hand found -> all-black mask, zero landmarks and vector, handedness -1,
  ``no_hand=True``).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from fingerspell.cache import cache_dir
from fingerspell.data.detection import _HANDEDNESS, BUILD_VERSION, _inside, _read_cache, _run_detection, cache_key
from fingerspell.data.schema import DatasetArrays, save_dataset
from fingerspell.data.sources import ImageItem, SourceScan, canonical_classes, scan_sources
from fingerspell.errors import FingerspellError
from fingerspell.features import normalize_landmarks, render_mask, rerender_masks
from fingerspell.fileio import json_bytes, publish_together
from fingerspell.hands.landmarks import FEATURE_DIM, NUM_LANDMARKS
from fingerspell.labels import CLASSES, NOTHING, index_of

DEFAULT_CACHE_DIR = cache_dir("build")  # $XDG_CACHE_HOME/fingerspell/build
DEFAULT_MASK_SIZE = 96  # we train on CPU
# Measured on asl-alphabets, massey and mon95 slices (docs/dataset.md): 0.5 finds more hands than
# the seed's 0.7 and the extra hands sit inside mon95's hand boxes as often as the others do.
DEFAULT_CONFIDENCE = 0.5


@dataclass(frozen=True)
class BuildOptions:
    """Settings of a build. Those in :meth:`cache_settings` change the detection and key the cache.

    box_retry: for sources with a hand box (mon95), when nothing is found in the whole frame, try
        again on a crop ``box_scale`` times the box's side around it and map the landmarks back.
    limit_per_class: keep only the first N files per class per group (quick builds, tests).
    classes: build only these classes (None: all).
    workers: detector processes (None: all CPU cores).
    cache_dir: None turns the cache off.
    test_fail_after: test hook: a worker raises after detecting this many photos (simulates a crash).
    """

    mask_size: int = DEFAULT_MASK_SIZE
    min_detection_confidence: float = DEFAULT_CONFIDENCE
    model_complexity: int = 1
    backend: str = "solutions"
    border_retry: bool = True
    box_retry: bool = True
    box_scale: float = 2.0
    second_look: bool = True
    limit_per_class: Optional[int] = None
    classes: Optional[Tuple[str, ...]] = None
    workers: Optional[int] = None
    cache_dir: Optional[str] = str(DEFAULT_CACHE_DIR)
    overwrite: bool = False
    progress: bool = True
    test_fail_after: Optional[int] = None

    def __post_init__(self) -> None:
        if not 8 <= self.mask_size <= 1024:
            raise FingerspellError(f"--mask-size {self.mask_size} is out of range: use 8..1024 (96 is the default)")
        if not 0.0 < self.min_detection_confidence < 1.0:
            raise FingerspellError("--confidence must lie between 0 and 1 (0.5 is the default)")
        if self.workers is not None and self.workers < 1:
            raise FingerspellError("--workers must be at least 1")
        if self.box_scale < 1.0:
            raise FingerspellError("box_scale must be at least 1 (the crop holds the whole box)")
        if self.classes is not None:
            object.__setattr__(self, "classes", canonical_classes(self.classes))

    def detector_options(self):
        from fingerspell.hands.detector import DetectorOptions

        return DetectorOptions(
            backend=self.backend, mode="image", max_hands=1,
            min_detection_confidence=self.min_detection_confidence,
            min_tracking_confidence=self.min_detection_confidence,
            model_complexity=self.model_complexity, border_retry=self.border_retry,
            tile_look=False,  # the datasets' photos are read as before the closer look (hands/tiles.py)
        )

    def cache_settings(self) -> dict:
        """Everything that changes a photo's detection; part of every cache key."""
        d = asdict(self.detector_options())
        d.pop("task_path", None)
        d.pop("tile_look", None)  # always off here: builds keep their cache keys
        out = {"build_version": BUILD_VERSION, "detector": d, "box_retry": self.box_retry,
               "box_scale": self.box_scale}
        if self.second_look:  # builds without it keep their cache keys
            out["second_look"] = True
        return out


@dataclass
class SourceStats:
    """Per-source counts for the report."""

    root: str
    layout: str
    source: str
    files: int = 0
    found: int = 0
    found_via_box: int = 0
    nothing_without_hand: int = 0
    left_out: int = 0
    unreadable: int = 0
    inside_box: int = 0
    with_box: int = 0
    skipped_files: int = 0

    @property
    def found_rate(self) -> float:
        readable = self.files - self.unreadable
        return self.found / readable if readable else 0.0


@dataclass
class BuildReport:
    """What a build did; printed as tables and saved as ``<out>.report.json``."""

    out: str
    samples: int
    mask_size: int
    options: dict
    sources: List[SourceStats]
    classes: Dict[str, int]
    groups: Dict[str, int]
    skipped: List[dict]
    no_hand_files: List[str]
    nothing_without_hand_files: List[str]
    unreadable_files: List[dict]
    cache_hits: int = 0
    cache_misses: int = 0
    seconds: float = 0.0
    # {"source/label": photos left out}: labels that break the ASL convention (data/exceptions.py)
    label_exceptions: Dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def skipped_files(self) -> int:
        return sum(s["files"] for s in self.skipped)

    def to_dict(self) -> dict:
        d = asdict(self)
        for s, stats in zip(d["sources"], self.sources):
            s["found_rate"] = round(stats.found_rate, 4)
            s["inside_box_rate"] = round(stats.inside_box / stats.with_box, 4) if stats.with_box else None
        d["skipped_files"] = self.skipped_files
        return d

    def format(self, max_list: int = 10) -> str:
        """Human-readable tables ("in box": found hands inside the source's hand box, mon95)."""
        def in_box(s: SourceStats) -> str:
            return f"{s.inside_box / s.with_box:.1%}" if s.with_box else "-"

        lines = [f"dataset {self.out}: {self.samples} samples, masks {self.mask_size}px, "
                 f"{self.seconds:.1f} s, cache {self.cache_hits} hits / {self.cache_misses} misses", ""]
        hdr = f"{'source':<28} {'layout':<13} {'files':>6} {'found':>6} {'rate':>7} {'via box':>7} " \
              f"{'in box':>7} {'no-hand NOTHING':>15} {'left out':>8} {'unreadable':>10} {'skipped':>7}"
        lines += [hdr, "-" * len(hdr)]
        for s in self.sources:
            lines.append(f"{s.source:<28} {s.layout:<13} {s.files:>6} {s.found:>6} {s.found_rate:>7.1%} "
                         f"{s.found_via_box:>7} {in_box(s):>7} {s.nothing_without_hand:>15} {s.left_out:>8} "
                         f"{s.unreadable:>10} {s.skipped_files:>7}")
        lines += ["", "samples per class:"]
        cells = [f"{k:>8} {v:>5}" for k, v in self.classes.items()]
        lines += ["  ".join(cells[i:i + 6]) for i in range(0, len(cells), 6)]
        lines += ["", "samples per group:"]
        lines += [f"  {k:<32} {v:>6}" for k, v in self.groups.items()]
        if self.skipped:
            lines += ["", f"skipped (not in the vocabulary): {self.skipped_files} files"]
            lines += [f"  {s['path']}: {s['files']} files ({s['reason']})" for s in self.skipped[:max_list]]
            if len(self.skipped) > max_list:
                lines.append(f"  ... {len(self.skipped) - max_list} more in the report JSON")
        if self.label_exceptions:
            lines += ["", "left out, the label is not the ASL letter in that source (data/exceptions.py): "
                      + ", ".join(f"{k} {v} files" for k, v in self.label_exceptions.items())]
        for title, items in (("no hand found, left out", self.no_hand_files),
                             ("unreadable, left out", [u["path"] for u in self.unreadable_files])):
            if items:
                lines += ["", f"{title}: {len(items)} files"]
                lines += [f"  {p}" for p in items[:max_list]]
                if len(items) > max_list:
                    lines.append(f"  ... {len(items) - max_list} more in the report JSON")
        return "\n".join(lines)


# --- assembling the arrays ---------------------------------------------------------------------------

def render_sample(landmarks: np.ndarray, image_size: Tuple[int, int], handedness: int,
                  size: int) -> Tuple[np.ndarray, np.ndarray]:
    """(mask, vector) of one stored detection, through :mod:`fingerspell.features`."""
    label = "Left" if handedness == 0 else "Right"
    return (render_mask(landmarks, tuple(image_size), size=size),
            normalize_landmarks(landmarks, tuple(image_size), label))


def _arrays_from_records(items: List[ImageItem], recs: List[dict], size: int) -> DatasetArrays:
    n = len(items)
    masks = np.zeros((n, size, size, 3), np.uint8)
    landmarks = np.zeros((n, NUM_LANDMARKS, 3), np.float32)
    vectors = np.zeros((n, FEATURE_DIM), np.float32)
    handedness = np.full(n, -1, np.int8)
    sizes = np.zeros((n, 2), np.int32)
    no_hand = np.zeros(n, bool)
    second = np.zeros((n, FEATURE_DIM), np.float32)
    has_second = np.zeros(n, bool)
    for i, rec in enumerate(recs):
        sizes[i] = rec["image_size"]
        if rec["found"]:
            landmarks[i] = np.asarray(rec["landmarks"], np.float32)
            handedness[i] = _HANDEDNESS.get(rec["handedness"], 1)
            masks[i], vectors[i] = render_sample(landmarks[i], tuple(sizes[i]), int(handedness[i]), size)
            second[i] = vectors[i]
            if rec.get("second_landmarks") is not None:  # hands/second_look.py
                label = "Left" if handedness[i] == 0 else "Right"
                second[i] = normalize_landmarks(np.asarray(rec["second_landmarks"], np.float32),
                                                tuple(sizes[i]), label)
                has_second[i] = True
        else:
            no_hand[i] = True
    return DatasetArrays(
        masks=masks, landmarks=landmarks, vectors=vectors, handedness=handedness, image_sizes=sizes,
        second_vectors=second, has_second=has_second,
        labels=np.array([index_of(it.label) for it in items], np.int64),
        groups=np.array([it.group for it in items], dtype=str),
        sources=np.array([it.source for it in items], dtype=str),
        paths=np.array([it.path for it in items], dtype=str), no_hand=no_hand, classes=CLASSES,
    )


def build_arrays(sources: Sequence[Union[str, Path]], options: BuildOptions = BuildOptions(),
                 out: str = "") -> Tuple[DatasetArrays, BuildReport]:
    """Build a dataset in memory (no file written) and its report."""
    t0 = time.perf_counter()
    scans: List[SourceScan] = scan_sources(sources, options.limit_per_class, options.classes)
    items = [it for s in scans for it in s.items]
    recs, jobs = _cached_records(items, options)
    hits = sum(r is not None and "error" not in r for r in recs)
    for idx, rec in _run_detection(jobs, options, len(items), len(recs) - len(jobs)).items():
        recs[idx] = rec
    stats = {s.root: SourceStats(root=s.root, layout=s.layout, source=s.source, skipped_files=s.skipped_files)
             for s in scans}
    root_of = [s.root for s in scans for _ in s.items]
    keep, kept_recs, lists = _sort_records(items, recs, [stats[r] for r in root_of])
    if not keep:
        bad = len(lists["unreadable"])
        why = (f"none of the {len(items)} photos of {', '.join(map(str, sources))} could be read (corrupt or not "
               "images: use .jpg or .png photos)" if bad == len(items) else
               f"no hand was found in any of the {len(items)} photos of {', '.join(map(str, sources))}"
               f"{f' ({bad} unreadable)' if bad else ''}: check the photos, or lower --confidence")
        raise FingerspellError(why)
    arrays = _arrays_from_records(keep, kept_recs, options.mask_size)
    class_counts = Counter(it.label for it in keep)
    report = BuildReport(
        out=str(out), samples=len(arrays), mask_size=options.mask_size,
        options={k: v for k, v in asdict(options).items() if k not in ("progress", "test_fail_after")},
        sources=list(stats.values()),
        classes={c: class_counts[c] for c in CLASSES if class_counts[c]},
        groups=dict(sorted(Counter(it.group for it in keep).items())),
        skipped=[asdict(sk) for s in scans for sk in s.skipped],
        no_hand_files=lists["no_hand"], nothing_without_hand_files=lists["nothing"],
        unreadable_files=lists["unreadable"],
        cache_hits=hits, cache_misses=len(jobs), seconds=time.perf_counter() - t0,
        label_exceptions={k: v for s in scans for k, v in s.label_exceptions.items()},
    )
    return arrays, report


def _cached_records(items: List[ImageItem], options: BuildOptions) -> Tuple[List[Optional[dict]], list]:
    """Per item its cached detection (or read error), and the detection jobs for the misses."""
    cache_dir = Path(options.cache_dir).expanduser() if options.cache_dir else None
    settings = options.cache_settings()
    recs: List[Optional[dict]] = [None] * len(items)
    jobs = []
    for i, it in enumerate(items):
        try:
            data = Path(it.path).read_bytes()
        except OSError as exc:
            recs[i] = {"error": f"cannot read: {exc.strerror or exc}"}
            continue
        key = cache_key(data, settings, it.box)
        cached = _read_cache(cache_dir, key)
        if cached is not None:
            recs[i] = cached
        else:
            jobs.append((i, it.path, key, it.box))
    return recs, jobs


def _sort_records(items: List[ImageItem], recs: List[dict], stats: List[SourceStats]) -> tuple:
    """(kept items, their records, {"no_hand", "nothing", "unreadable"} file lists); counts into ``stats``."""
    keep, kept_recs = [], []
    lists: Dict[str, list] = {"no_hand": [], "nothing": [], "unreadable": []}
    for it, rec, st in zip(items, recs, stats):
        st.files += 1
        if "error" in rec:
            st.unreadable += 1
            lists["unreadable"].append({"path": it.path, "error": rec["error"]})
            continue
        if rec["found"]:
            st.found += 1
            st.found_via_box += int(rec.get("via") == "box")
            if it.box is not None:
                st.with_box += 1
                st.inside_box += int(_inside(rec["landmarks"], rec["image_size"], it.box))
        elif it.label == NOTHING:
            st.nothing_without_hand += 1
            lists["nothing"].append(it.path)
        else:
            st.left_out += 1
            lists["no_hand"].append(it.path)
            continue
        keep.append(it)
        kept_recs.append(rec)
    return keep, kept_recs, lists


def report_path(out: Union[str, Path]) -> Path:
    """Where the report of a dataset goes: ``<out>.report.json``."""
    out = Path(out)
    return out.with_name(out.name + ".report.json")


def build_dataset(sources: Sequence[Union[str, Path]], out: Union[str, Path],
                  options: BuildOptions = BuildOptions()) -> BuildReport:
    """Build ``out`` (a schema .npz) from photo folders; write ``<out>.report.json``; return the report."""
    out = Path(out).expanduser()
    if out.exists() and not options.overwrite:
        raise FingerspellError(f"{out} already exists: choose another --out or pass --overwrite")
    if out.suffix != ".npz":
        raise FingerspellError(f"--out {out} must end in .npz")
    arrays, report = build_arrays(sources, options, out=str(out))
    report.seconds = round(report.seconds, 2)
    with publish_together([out, report_path(out)]) as (tmp_npz, tmp_report):  # both or neither
        save_dataset(arrays, tmp_npz, overwrite=True)
        tmp_report.write_bytes(json_bytes(report.to_dict()))
    return report


__all__ = [
    "BUILD_VERSION", "BuildOptions", "BuildReport", "SourceStats", "build_arrays", "build_dataset",
    "cache_key", "render_sample", "report_path", "rerender_masks",
]

"""The motion letters J and Z, recognised from the path a fingertip draws during a movement.

J is the I hand shape whose little fingertip draws a hook: down, then curving toward the thumb
side as the wrist turns. Z is an extended index finger whose tip draws a Z (right, diagonal
down-left, right in the signer's view). :class:`MotionMatcher` gets the frames of one movement
(from :class:`fingerspell.reading.holds.HoldSegmenter`, when the hand comes to rest) and:

1. gates on the hand shape from the static model: per frame P(I) + P(J) + P(Y) for J (a new
   signer's I with the thumb a little out is read as Y: massey hand4's JOY came out as YOY) and
   P(D) + P(Z) + P(G) + P(X) + P(K) for Z (a new signer's index finger is read as K: models that
   never saw mon95 user_5 read half its D photos as K at 0.7, so 6 of its 9 video Zs missed the
   gate); frames at either end of the movement under ``min_shape`` are trimmed off (the
   transition into and out of the letter), the rest must average over it;
2. takes the fingertip's path (little finger for J, index for Z) in palm sizes, which must be
   at least ``min_path`` long;
3. resamples it to ``points`` points by arc length, centres it and scales it to unit RMS radius,
   and compares it with a template, and with its mirror image (camera mirrored or not, left or
   right hand), under rotations within ``max_rotation_deg``: the mean point distance must stay
   under ``max_distance_j`` / ``max_distance_z``, and a J's path must turn round by
   ``min_turn_j_deg`` (an arc or a bend between two letters is otherwise close to a hook). The
   whole path and sub-paths without up to 40% of its start and 30% of its end are tried (the
   move into the letter's place in the same hand shape, as in ZZ), each at least
   ``min_duration_s`` long.

Measured with ``benchmarks/holds_sim.py`` (30 fps, words spelled by the landmark simulator from
real massey and asl-alphabets landmarks, 12 J/Z per 20 words, 3 repetitions, paces 1.0 and 0.5 s
per letter): with the shipped model J/Z recall 36/36 at each pace and 0 J or Z written in 252
letters of words without them (D, I, Y, G, X holds and the moves between them); with models that
never saw the signer (massey hand1 / hand2 leave-one-out folds) also 36/36 and 0; with harsh
detection noise (2 px jitter, 5% dropouts, 2% one-frame jumps) 36/36 at 1.0 and 30/36 at 0.5.
End to end on real pixels (MediaPipe on massey photos moved along Z and J paths),
``tests/test_holds.py`` spells ZOO and JOO.

Against a small learned classifier (``benchmarks/motion_compare.py``: an MLP over resampled
fingertip paths, shape probabilities, path length and duration, trained on 782 movements made
from massey hand1-3 and asl-alphabets shapes, tested on 788 from massey hand4/hand5 shapes, 72 of
them J or Z): template matcher 72/72 with 0 false J/Z, MLP 71/72 with 0 false. The template
matcher is kept: as good or better, no training data to ship, and its assumptions are explicit,
where the MLP could only learn the simulator's own paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.reading.tracking import REFERENCE_FPS, below_reference, frames_at

MOTION_LETTERS = ("J", "Z")
TIP = {"J": 20, "Z": 8}
# Static letters whose hand shape a motion letter starts and ends in: a still hold of these right
# before (taken back) or right after (not written) a J / Z belongs to the motion.
SHAPE_LETTERS: Dict[str, Tuple[str, ...]] = {"J": ("I", "Y"), "Z": ("D", "G", "X", "K")}
SHAPE_GATE: Dict[str, Tuple[str, ...]] = {"J": ("I", "J", "Y"), "Z": ("D", "Z", "G", "X", "K")}
_PALM_PAIRS = ((0, 5), (0, 9), (0, 17), (5, 17))


def _polyline(vertices: Sequence[Tuple[float, float]], n: int) -> np.ndarray:
    return resample(np.asarray(vertices, dtype=np.float64), n)


def template(letter: str, n: int = 24) -> np.ndarray:
    """(n, 2) image-plane template (y down), normalised; x as seen by a non-mirrored camera is
    either way round (matching tries the mirror too)."""
    if letter == "Z":
        return normalise(_polyline([(0, 0), (1, 0), (0, 0.9), (1, 0.9)], n))
    if letter == "J":
        arc = [(0.25 - 0.25 * math.cos(a), 1.0 + 0.25 * math.sin(a)) for a in np.linspace(0, math.pi * 0.9, 8)]
        return normalise(_polyline([(0, 0), (0, 0.6)] + arc, n))
    raise FingerspellError(f"no motion template for {letter!r}: motion letters are {', '.join(MOTION_LETTERS)}")


def resample(path: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced along a polyline (by arc length)."""
    p = np.asarray(path, dtype=np.float64)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 1e-12:
        return np.repeat(p[:1], n, axis=0)
    q = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(q, s, p[:, 0]), np.interp(q, s, p[:, 1])], axis=1)


def normalise(path: np.ndarray) -> np.ndarray:
    """Centred on its mean, scaled to unit RMS radius."""
    c = path - path.mean(axis=0)
    r = math.sqrt(float((c ** 2).sum(axis=1).mean()))
    return c / r if r > 1e-12 else c


def template_variants(tmpl: np.ndarray, max_rotation_deg: float) -> np.ndarray:
    """(K, n, 2): a template and its mirror image under rotations within +-max_rotation_deg."""
    out = []
    for mirror in (1.0, -1.0):
        t = tmpl * np.array([mirror, 1.0])
        for deg in np.arange(-max_rotation_deg, max_rotation_deg + 1e-9, 5.0):
            a = math.radians(deg)
            rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
            out.append(t @ rot.T)
    return np.stack(out)


def path_distance(path: np.ndarray, tmpl: np.ndarray, max_rotation_deg: float) -> float:
    """Smallest mean point distance between a normalised path and a template or its mirror image,
    over rotations within +-max_rotation_deg."""
    return _nearest(path, template_variants(tmpl, max_rotation_deg))


def _nearest(path: np.ndarray, variants: np.ndarray) -> float:
    return float(np.linalg.norm(variants - path[None], axis=2).mean(axis=1).min())


@dataclass(frozen=True)
class MotionOptions:
    """Thresholds of the J / Z matcher (defaults tuned on the simulator, see the module doc)."""

    points: int = 24
    max_distance_j: float = 0.25
    max_distance_z: float = 0.4
    min_turn_j_deg: float = 100.0
    max_rotation_deg: float = 30.0
    min_path: float = 0.8
    min_shape: float = 0.35
    min_frames: int = 5
    min_duration_s: float = 0.2

    def __post_init__(self) -> None:
        if self.points < 4 or self.min_frames < 3:
            raise FingerspellError("motion option points must be at least 4 and min_frames at least 3")
        for name in ("max_distance_j", "max_distance_z", "min_turn_j_deg", "max_rotation_deg", "min_path",
                     "min_shape", "min_duration_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise FingerspellError(f"motion option {name}={value!r} must be a number >= 0")


@dataclass(frozen=True)
class MotionResult:
    letter: str
    score: float  # 0..1, 1 = the template exactly, with the hand shape certain
    distance: float  # mean point distance to the template (unit RMS radius)
    shape: float  # mean shape probability over the matched frames


class MotionMatcher:
    """J / Z from one movement's frames; None when the movement is neither."""

    def __init__(self, classes: Sequence[str], options: Optional[MotionOptions] = None) -> None:
        self.classes = tuple(classes)
        self.options = options or MotionOptions()
        self._gates = {}
        for letter in MOTION_LETTERS:
            idx = [self.classes.index(c) for c in SHAPE_GATE[letter] if c in self.classes]
            if idx and letter in self.classes:
                self._gates[letter] = idx
        self._variants = {k: template_variants(template(k, self.options.points), self.options.max_rotation_deg)
                          for k in self._gates}

    def match(self, points: np.ndarray, probs: np.ndarray, times: Optional[Sequence[float]] = None
              ) -> Optional[MotionResult]:
        """points: (T, 21, 2) pixels; probs: (T, C) static probabilities of the same frames;
        times: (T,) seconds (None: 30 fps)."""
        pts = np.asarray(points, dtype=np.float64)
        pr = np.asarray(probs, dtype=np.float64)
        if pts.ndim != 3 or pts.shape[1:] != (21, 2) or pr.shape != (pts.shape[0], len(self.classes)):
            raise FingerspellError(f"motion frames: points {pts.shape} and probs {pr.shape} do not fit "
                                   f"(T, 21, 2) and (T, {len(self.classes)})")
        ts = np.asarray(times, dtype=np.float64) if times is not None else np.arange(len(pts)) / 30.0
        if ts.shape != (pts.shape[0],):
            raise FingerspellError(f"motion frames: {ts.shape[0]} times for {pts.shape[0]} frames")
        best: Optional[MotionResult] = None
        for letter in self._gates:
            res = self._match_one(letter, pts, pr, ts)
            if res is not None and (best is None or res.score > best.score):
                best = res
        return best

    def _match_one(self, letter: str, pts: np.ndarray, probs: np.ndarray, ts: np.ndarray
                   ) -> Optional[MotionResult]:
        o = self.options
        gate = probs[:, self._gates[letter]].sum(axis=1)
        ok = np.flatnonzero(gate >= o.min_shape)
        if ok.size == 0:
            return None
        lo, hi = int(ok[0]), int(ok[-1]) + 1
        interval = _interval(ts)
        slow = below_reference(interval)  # under 30 fps: fewer frames to each movement
        min_frames = frames_at(o.min_frames, interval, floor=3)
        if hi - lo < min_frames or gate[lo:hi].mean() < o.min_shape:
            return None
        seg = pts[lo:hi]
        palm = float(np.median([np.mean([np.linalg.norm(p[a] - p[b]) for a, b in _PALM_PAIRS]) for p in seg]))
        if palm < 1e-6:
            return None
        tip = seg[:, TIP[letter]] / palm
        tip = tip if slow else _smooth_path(tip)  # under 30 fps the average would cut a Z's corners
        limit = o.max_distance_j if letter == "J" else o.max_distance_z
        best = None
        for i, j in self._windows(len(tip), min_frames):
            part = tip[i:j]
            if ts[lo + j - 1] - ts[lo + i] < o.min_duration_s:
                continue
            if np.linalg.norm(np.diff(part, axis=0), axis=1).sum() < o.min_path:
                continue
            path = resample(part, o.points)
            if letter == "J" and turn_deg(path) < o.min_turn_j_deg:
                continue
            d = _nearest(normalise(path), self._variants[letter])
            if d <= limit and (best is None or d < best[0]):
                best = (d, float(gate[lo + i:lo + j].mean()))
        if best is None:
            return None
        d, shape = best
        score = float(np.clip(1.0 - d / (2 * limit), 0, 1) * min(1.0, shape))
        return MotionResult(letter, score, d, shape)

    def _windows(self, n: int, min_frames: int):
        """The whole path, and sub-paths that drop up to 40% at the start and 30% at the end
        (a movement into the letter's position, or out of it, in the same hand shape)."""
        step = max(1, n // 15)
        for i in range(0, int(n * 0.4) + 1, step):
            for j in range(n, n - int(n * 0.3) - 1, -step):
                if j - i >= min_frames:
                    yield i, j


def _interval(ts: np.ndarray) -> float:
    """The median frame interval of a movement (1/30 s for one frame)."""
    return float(np.median(np.diff(ts))) if len(ts) > 1 else 1.0 / REFERENCE_FPS


def turn_deg(path: np.ndarray) -> float:
    """Angle between the path's opening direction (first 40%) and its closing one (last 25%):
    a J's hook turns it round by well over 90 degrees, an arc or a bend between letters less."""
    n = len(path)
    a = path[max(1, int(n * 0.4))] - path[0]
    b = path[-1] - path[min(n - 2, int(n * 0.75))]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-9 or nb < 1e-9:
        return 0.0
    return math.degrees(math.acos(float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


def _smooth_path(path: np.ndarray) -> np.ndarray:
    """A 3-point moving average (detection jitter would lengthen and roughen the path)."""
    if len(path) < 3:
        return path
    out = path.copy()
    out[1:-1] = (path[:-2] + path[1:-1] + path[2:]) / 3
    return out

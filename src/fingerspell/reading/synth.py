"""A landmark-level fingerspelling simulator, for tests and the word benchmark.

:class:`LetterBank` holds real hand shapes: the MediaPipe landmarks of labelled photos (a dataset
``.npz`` from ``fingerspell build-dataset``), turned into right-hand form, wrist at the origin,
in palm sizes. :func:`synth_word` spells a word with them at a pace (seconds per letter) and a
frame rate, the way a person does:

* each letter is a hold with detection jitter, a slow tremor and drift;
* between letters the landmarks move and morph from one shape to the next (smoothstep);
* a double letter is a short slide or bounce of the same shape;
* J moves the I shape so that the little fingertip draws a hook down and toward the thumb side
  while the hand turns; Z moves the index shape so that the fingertip draws a Z (first stroke
  away from the thumb, as the signer's right for a right hand); size, speed and direction vary;
* detections drop out for one or two frames, and optionally jump for one frame.

It returns the frames ``(t, landmarks or None)`` and the ground truth (each letter with the start
and end of its hold, or of its motion for J and Z). Where the bank holds a photo's second reading
(MediaPipe on the mirrored photo, :mod:`fingerspell.hands.second_look`), it is moved and turned with
the first and returned per frame in ``seconds`` (None while the hand morphs from or to a shape
read once), so the reader can read both as the recognizer does. :func:`photo_path_frames` moves a real photo
of a hand along a path on a canvas, for videos on which MediaPipe runs on real pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fingerspell.errors import FingerspellError

_PALM_PAIRS = ((0, 5), (0, 9), (0, 17), (5, 17))
Frame = Tuple[float, Optional[np.ndarray]]


@dataclass(frozen=True)
class SynthOptions:
    """How a word is spelled: pace (s per letter), frame rate and the imperfections of a detector."""

    fps: float = 30.0
    pace: float = 1.0
    transition_s: Optional[float] = None  # None: min(0.25, 0.4 * pace)
    image_size: Tuple[int, int] = (640, 480)
    palm_px: float = 70.0
    jitter_px: float = 0.8  # detection noise per landmark (std, pixels)
    tremor: float = 0.02  # slow hand tremor amplitude (palm sizes)
    dropout: float = 0.02  # chance per frame that a 1-2 frame detection gap starts
    jump: float = 0.0  # chance per frame of a one-frame landmark jump
    mirror: bool = False  # a selfie view: the hand and its paths mirrored (handedness "Left")
    lead_in_s: float = 0.3  # no hand before the first letter
    lead_out_s: float = 0.4  # hand gone after the last letter

    def __post_init__(self) -> None:
        if not (self.fps > 0 and self.pace > 0 and self.palm_px > 0):
            raise FingerspellError("synth options fps, pace and palm_px must be positive")
        if not all(0 <= v < 1 for v in (self.dropout, self.jump)):
            raise FingerspellError("synth options dropout and jump are chances in [0, 1)")

    @property
    def transition(self) -> float:
        return self.transition_s if self.transition_s is not None else default_transition(self.pace)


def default_transition(pace: float) -> float:
    """Seconds of movement between two letters at ``pace`` seconds a letter."""
    return min(0.25, 0.4 * pace)


@dataclass(frozen=True)
class SynthWord:
    word: str
    frames: Tuple[Frame, ...]
    image_size: Tuple[int, int]
    handedness: str
    truth: Tuple[Tuple[str, float, float], ...]  # (letter, start, end) of each hold / motion
    # per frame, the second reading of the hand (the mirrored photo's, moved with the first) or None
    seconds: Tuple[Optional[np.ndarray], ...] = ()
    # per frame, the photo whose hand a held letter shows (None while the hand morphs or draws J/Z;
    # empty where the bank was built without paths): its pixels stand for the frame's
    photos: Tuple[Optional[str], ...] = ()


def _palm(points: np.ndarray) -> float:
    return float(np.mean([np.linalg.norm(points[a, :2] - points[b, :2]) for a, b in _PALM_PAIRS]))


class LetterBank:
    """Real hand shapes per letter (and per signer group), in right-hand palm units."""

    def __init__(self, landmarks: np.ndarray, image_sizes: np.ndarray, handedness: np.ndarray,
                 letters: Sequence[str], groups: Optional[Sequence[str]] = None,
                 second: Optional[np.ndarray] = None, paths: Optional[Sequence[str]] = None) -> None:
        """``second``: optional (N, 21, 3) second readings of the same hands (a dataset's
        ``second_vectors`` points: right-hand form, wrist at the origin), NaN where there is none;
        ``paths``: optional photo paths, returned with each draw (:meth:`draw`)."""
        self.shapes: Dict[str, List[np.ndarray]] = {}
        self.by_group: Dict[Tuple[str, str], List[np.ndarray]] = {}
        self._pairs: Dict[object, List[np.ndarray]] = {}  # the same pools, (42, 3): first over second
        self._paths: Dict[object, List[Optional[str]]] = {}  # and each one's photo
        groups = list(groups) if groups is not None else [""] * len(letters)
        nan = np.full((21, 3), np.nan)
        for i, (lm, size, hand, letter, group) in enumerate(zip(landmarks, image_sizes, handedness, letters, groups)):
            w, h = (float(v) for v in size)
            pts = np.asarray(lm, dtype=np.float64) * np.array([w, h, w])
            pts -= pts[0]
            if int(hand) == 0:  # left hand -> right-hand form, as the model's features do
                pts[:, 0] = -pts[:, 0]
            palm = _palm(pts)
            if not np.isfinite(palm) or palm < 1e-6:
                continue
            other = nan if second is None else np.asarray(second[i], dtype=np.float64)
            other_palm = _palm(other) if np.all(np.isfinite(other)) else float("nan")
            other = other / other_palm if np.isfinite(other_palm) and other_palm > 1e-6 else nan
            pair = np.concatenate([pts / palm, other])
            for key, pool in ((str(letter), self.shapes), ((str(group), str(letter)), self.by_group)):
                pool.setdefault(key, []).append(pts / palm)
                self._pairs.setdefault(key, []).append(pair)
                self._paths.setdefault(key, []).append(None if paths is None else str(paths[i]))
        self.groups = sorted({g for g, _ in self.by_group})

    @classmethod
    def from_dataset(cls, data, groups: Optional[Sequence[str]] = None) -> "LetterBank":
        """From :class:`fingerspell.data.schema.DatasetArrays` (samples with a hand), optionally
        only the given signer groups."""
        keep = ~np.asarray(data.no_hand, bool) & (np.asarray(data.handedness) >= 0)
        if groups is not None:
            keep &= np.isin(np.asarray(data.groups), list(groups))
        names = np.asarray(data.classes)[np.asarray(data.labels)]
        second = np.asarray(data.second_vectors)[:, : 21 * 3].reshape(-1, 21, 3).astype(np.float64)
        second[~np.asarray(data.has_second, bool)] = np.nan
        return cls(data.landmarks[keep], data.image_sizes[keep], data.handedness[keep], names[keep],
                   np.asarray(data.groups)[keep], second[keep], np.asarray(data.paths)[keep])

    def sample(self, letter: str, rng: np.random.Generator, group: Optional[str] = None) -> np.ndarray:
        """(21, 3) one real shape of ``letter`` (from ``group`` when it has one)."""
        return self.sample_pair(letter, rng, group)[:21]

    def sample_pair(self, letter: str, rng: np.random.Generator, group: Optional[str] = None) -> np.ndarray:
        """(42, 3): one real shape of ``letter`` over its second reading (NaN where it has none);
        the same draw as :meth:`sample`."""
        return self.draw(letter, rng, group)[0]

    def draw(self, letter: str, rng: np.random.Generator,
             group: Optional[str] = None) -> Tuple[np.ndarray, Optional[str]]:
        """:meth:`sample_pair`'s draw with its photo's path (None: the bank has no paths)."""
        key = (group, letter) if group is not None and self._pairs.get((group, letter)) else letter
        pool = self._pairs.get(key)
        if not pool:
            raise FingerspellError(f"the letter bank has no {letter!r} shapes: build it from a dataset with it")
        i = int(rng.integers(len(pool)))
        return pool[i], self._paths[key][i]


def _rotate(shape: np.ndarray, deg: float, about: int = 0) -> np.ndarray:
    a = math.radians(deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out = shape.copy()
    out[:, :2] = (shape[:, :2] - shape[about, :2]) @ rot.T + shape[about, :2]
    return out


def _smooth(s: np.ndarray) -> np.ndarray:
    return s * s * (3 - 2 * s)


def _thumb_side(shape: np.ndarray) -> float:
    """+1 when the thumb side of the hand (index knuckle vs little-finger knuckle) is image-right."""
    return 1.0 if shape[5, 0] >= shape[17, 0] else -1.0


def _j_path(s: np.ndarray, side: float, depth: float, width: float) -> np.ndarray:
    """The little fingertip's offset (palm units) along a J: down, then hooking to ``side``."""
    straight = 0.55
    out = np.zeros((len(s), 2))
    for i, u in enumerate(s):
        if u <= straight:
            out[i] = (0.0, depth * u / straight)
        else:
            a = math.pi * 0.9 * (u - straight) / (1 - straight)
            out[i] = (side * width * (1 - math.cos(a)) / 2, depth + width / 2 * math.sin(a))
    return out


def _z_path(s: np.ndarray, side: float, width: float, height: float) -> np.ndarray:
    """The index fingertip's offset along a Z whose first stroke goes to ``side``."""
    verts = np.array([(0, 0), (side * width, 0), (0, height), (side * width, height)], dtype=np.float64)
    seg = np.linalg.norm(np.diff(verts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)]) / seg.sum()
    return np.stack([np.interp(s, cum, verts[:, 0]), np.interp(s, cum, verts[:, 1])], axis=1)


class _Spell:
    """Builds one word's poses frame by frame."""

    def __init__(self, bank: LetterBank, o: SynthOptions, rng: np.random.Generator) -> None:
        self.bank, self.o, self.rng = bank, o, rng
        self.group = bank.groups[int(rng.integers(len(bank.groups)))] if bank.groups else None
        self.poses: List[Tuple[float, Optional[np.ndarray]]] = []  # (t, shape with offset applied)
        self.photos: List[Optional[str]] = []  # per pose, the photo a held shape comes from
        self.photo: Optional[str] = None
        self.t = 0.0
        self.dt = 1.0 / o.fps
        self.pos = np.zeros(2)
        self.shape: Optional[np.ndarray] = None
        self.truth: List[Tuple[str, float, float]] = []

    def emit(self, shape: Optional[np.ndarray], photo: Optional[str] = None) -> None:
        self.poses.append((self.t, None if shape is None else shape.copy()))
        self.photos.append(photo)
        self.t += self.dt

    def frames_for(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.o.fps)))

    def move(self, target: np.ndarray, offset: np.ndarray, seconds: float, arc: float = 0.0) -> None:
        """Morph from the current shape and position to ``target`` at ``offset``."""
        start_shape, start_pos = self.shape, self.pos.copy()
        n = self.frames_for(seconds)
        for k in range(1, n + 1):
            u = _smooth(np.array(k / n))
            pos = start_pos + (offset - start_pos) * u + np.array([0.0, -arc * math.sin(math.pi * k / n)])
            shp = target if start_shape is None else start_shape + (target - start_shape) * u
            self.emit(self.placed(shp, pos))
        self.shape, self.pos = target, offset.copy()

    def placed(self, shape: np.ndarray, pos: np.ndarray) -> np.ndarray:
        out = shape.copy()
        out[:, :2] += pos
        return out

    def hold(self, seconds: float) -> None:
        n = self.frames_for(seconds)
        phase, freq = self.rng.uniform(0, 2 * math.pi, 2), self.rng.uniform(1.0, 3.0)
        drift = self.rng.normal(0, 0.05, 2)
        for k in range(n):
            wob = self.o.tremor * np.sin(2 * math.pi * freq * k * self.dt + phase) + drift * k * self.dt
            self.emit(self.placed(self.shape, self.pos + wob), self.photo)
        self.pos = self.pos + drift * n * self.dt

    def letter(self, letter: str, prev: Optional[str]) -> None:
        o, rng = self.o, self.rng
        if letter == "J":
            self.photo = None  # a moving hand: no photo shows it
            return self.motion_letter("J", self.bank.sample_pair("I", rng, self.group))
        if letter == "Z":
            base = "Z" if "Z" in self.bank.shapes else "D"
            self.photo = None
            return self.motion_letter("Z", self.bank.sample_pair(base, rng, self.group))
        if letter == prev and self.shape is not None:  # double letter: slide or bounce
            t0 = self.t
            if rng.random() < 0.5:
                self.move(self.shape, self.pos + np.array([rng.choice([-1, 1]) * rng.uniform(0.3, 0.5), 0.0]),
                          min(o.transition, 0.2))
            else:
                self.move(self.shape, self.pos.copy(), min(o.transition, 0.2), arc=rng.uniform(0.25, 0.4))
            rest = o.pace - (self.t - t0)
        elif self.shape is None:  # the first letter: the hand rises into view
            shape, self.photo = self.bank.draw(letter, rng, self.group)
            self.shape = _rotate(shape, rng.normal(0, 5))
            self.pos = np.array([rng.normal(0, 0.3), rng.uniform(1.2, 2.0)])
            self.move(self.shape, rng.normal(0, 0.15, 2), o.transition)
            rest = o.pace - o.transition
        else:
            shape, self.photo = self.bank.draw(letter, rng, self.group)
            target = _rotate(shape, rng.normal(0, 5))
            self.move(target, self.pos * 0.5 + rng.normal(0, 0.15, 2), o.transition)
            rest = o.pace - o.transition
        start = self.t
        self.hold(max(rest, 2 * self.dt))
        self.truth.append((letter, start, self.t))

    def motion_letter(self, letter: str, shape: np.ndarray) -> None:
        o, rng = self.o, self.rng
        if self.shape is None:
            self.shape, self.pos = shape, np.array([rng.normal(0, 0.3), rng.uniform(1.2, 2.0)])
        self.move(shape, self.pos * 0.5 + rng.normal(0, 0.1, 2), o.transition)
        self.hold(rng.uniform(0.0, 0.1))
        seconds = float(np.clip(rng.uniform(0.45, 0.6) * o.pace + 0.15, 0.35, 0.8))
        n = self.frames_for(seconds)
        s = _smooth(np.linspace(0, 1, n + 1)[1:])
        side = _thumb_side(shape)
        if letter == "J":
            path, tip = _j_path(s, side, rng.uniform(0.7, 1.1), rng.uniform(0.4, 0.7)), 20
            turn = -side * rng.uniform(25, 50)
        else:
            path, tip = _z_path(s, -side, rng.uniform(1.0, 1.6), rng.uniform(0.8, 1.3)), 8
            turn = 0.0
        start, tip0 = self.t, self.pos + shape[tip, :2]
        for k in range(n):
            rotated = _rotate(shape, turn * s[k], about=tip)
            self.pos = tip0 + path[k] - rotated[tip, :2] + rotated[0, :2]
            self.emit(self.placed(rotated - rotated[0], self.pos))
        self.shape = _rotate(shape, turn, about=tip)
        self.shape = self.shape - self.shape[0]
        self.truth.append((letter, start, self.t))
        self.hold(max(o.pace - o.transition - seconds, 0.15))


def synth_word(word: str, bank: LetterBank, options: Optional[SynthOptions] = None,
               rng: Optional[np.random.Generator] = None) -> SynthWord:
    """Spell ``word`` (letters A-Z) with the bank's shapes; see the module docstring."""
    o = options or SynthOptions()
    rng = rng if rng is not None else np.random.default_rng(0)
    letters = [c for c in word.upper() if c.isalpha()]
    if not letters:
        raise FingerspellError(f"cannot spell {word!r}: it has no letters A-Z")
    sp = _Spell(bank, o, rng)
    for _ in range(sp.frames_for(o.lead_in_s)):
        sp.emit(None)
    prev = None
    for c in letters:
        sp.letter(c, prev)
        prev = c
    for _ in range(sp.frames_for(o.lead_out_s)):
        sp.emit(None)
    frames, seconds = _to_frames(sp.poses, o, rng)
    return SynthWord(word.upper(), tuple(frames), o.image_size, "Left" if o.mirror else "Right", tuple(sp.truth),
                     tuple(seconds), tuple(sp.photos))


def _to_frames(poses: List[Tuple[float, Optional[np.ndarray]]], o: SynthOptions,
               rng: np.random.Generator) -> Tuple[List[Frame], List[Optional[np.ndarray]]]:
    """Poses (palm units, wrist-relative offsets; (42, 3) with the second reading under the first)
    -> normalised image landmarks with detector noise, and the second readings (None where a pose has none)."""
    w, h = o.image_size
    scale = o.palm_px * rng.uniform(0.85, 1.15)
    anchor = np.array([w * 0.5, h * 0.62])
    out: List[Frame] = []
    seconds: List[Optional[np.ndarray]] = []
    gap = seen = 0  # frames left in the current dropout; detections since the last one
    for t, pose in poses:
        if pose is None or gap > 0 or (seen >= 3 and rng.random() < o.dropout):  # runs of 1-2 frames, apart
            if pose is not None:
                gap = gap - 1 if gap > 0 else int(rng.integers(1, 3)) - 1
                seen = 0
            out.append((t, None))
            seconds.append(None)
            continue
        seen += 1
        px = pose * scale
        if o.mirror:
            px[:, 0] = -px[:, 0]
        px[:, :2] += anchor
        px = px.reshape(-1, 21, 3)
        px[:, :, :2] += rng.normal(0, o.jitter_px, (21, 2))  # both readings of a frame: the same noise
        if rng.random() < o.jump:
            px[:, :, :2] += rng.normal(0, 0.4 * scale, 2)
        lms = [np.stack([p[:, 0] / w, p[:, 1] / h, p[:, 2] / w], axis=1).astype(np.float32) for p in px]
        out.append((t, lms[0]))
        seconds.append(lms[1] if len(lms) > 1 and np.all(np.isfinite(lms[1])) else None)
    return out, seconds


def photo_path_frames(image: np.ndarray, box: Tuple[int, int, int, int], offsets: Sequence[Tuple[float, float]],
                      rotations: Optional[Sequence[float]] = None, size: Tuple[int, int] = (640, 480),
                      hand_height: float = 0.45, background: Optional[Sequence[int]] = None,
                      pivot: Optional[Tuple[float, float]] = None) -> List[np.ndarray]:
    """Video frames that move a photo's hand along a path: one BGR frame per offset.

    ``box`` (x0, y0, x1, y1) is the hand in ``image``; the crop around it (half its size again
    as margin) is scaled to ``hand_height`` of the frame height and pasted at the frame centre
    plus ``offsets`` (pixels), rotated by ``rotations`` (degrees) about ``pivot`` (a point of
    ``image``, e.g. a fingertip, which then follows ``offsets`` exactly; default the crop centre). The
    canvas is ``background`` (BGR), by default the median colour of the crop's border, so that a
    hand segmented on black (massey) stays on black: MediaPipe misses many of those on grey.
    """
    import cv2

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise FingerspellError(f"photo_path_frames needs a BGR image (H, W, 3), got shape {img.shape}")
    x0, y0, x1, y1 = (int(v) for v in box)
    mx, my = (x1 - x0) // 2, (y1 - y0) // 2
    cx0, cy0 = max(0, x0 - mx), max(0, y0 - my)
    crop = img[cy0: min(img.shape[0], y1 + my), cx0: min(img.shape[1], x1 + mx)]
    if crop.size == 0:
        raise FingerspellError(f"photo_path_frames: the box {box} lies outside the {img.shape[1]}x{img.shape[0]} image")
    if background is None:
        border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
        background = tuple(int(v) for v in np.median(border, axis=0))
    fill = tuple(float(v) for v in background)
    w, h = size
    k = hand_height * h / crop.shape[0]
    rotations = list(rotations) if rotations is not None else [0.0] * len(offsets)
    if len(rotations) != len(offsets):
        raise FingerspellError("photo_path_frames: give one rotation per offset")
    frames = []
    cx, cy = crop.shape[1] / 2, crop.shape[0] / 2
    px, py = (cx, cy) if pivot is None else (float(pivot[0]) - cx0, float(pivot[1]) - cy0)
    for (dx, dy), deg in zip(offsets, rotations):
        m = cv2.getRotationMatrix2D((px, py), float(deg), k)  # the pivot lands where it lies unturned
        m[:, 2] += np.array([w / 2 + dx - px + k * (px - cx), h / 2 + dy - py + k * (py - cy)])
        canvas = cv2.warpAffine(crop, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=fill)
        frames.append(canvas)
    return frames

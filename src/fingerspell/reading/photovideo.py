"""Videos of a word fingerspelled with real photos: each letter's photo moves into place, is held
with a slight tremor, and J and Z are drawn by moving the I (or Z/D) photo along their paths.

MediaPipe then runs on real pixels, so these videos test the whole reader end to end (the word
benchmark and the end-to-end tests use them). The paths are those of
:mod:`fingerspell.reading.synth`, in units of the hand box scaled into the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES
from fingerspell.errors import FingerspellError
from fingerspell.reading.synth import _j_path, _smooth, _z_path, default_transition, photo_path_frames

Box = Tuple[int, int, int, int]
Truth = List[Tuple[str, float, float]]


@dataclass(frozen=True)
class Photo:
    """One photo of a hand: the BGR image, the hand's box in it, and whether the thumb side of the
    hand (index knuckle against little-finger knuckle) lies image-right."""

    image: np.ndarray
    box: Box
    thumb_right: bool = True
    # the little fingertip (pixels of ``image``): a J turns the hand about it, so that it draws the
    # hook itself, as a signer's does; None turns the hand about the crop centre
    pinky_tip: Optional[Tuple[float, float]] = None
    # the palm size (pixels of ``image``, as reading.holds measures it): a J is drawn in palm
    # sizes of this hand, as the reader measures it; None: about a palm of the scaled hand box
    palm_px: Optional[float] = None


def photo_of_hand(image: np.ndarray, landmarks: np.ndarray) -> Photo:
    """A :class:`Photo` of the hand whose 21 landmarks (normalised to ``image``, as MediaPipe and
    the data sets give them) lie in ``image``: its box, thumb side, little fingertip and palm size."""
    from fingerspell.hands.landmarks import landmark_box
    from fingerspell.reading.tracking import palm_size_2d, pixel_points

    size = (image.shape[1], image.shape[0])
    px = pixel_points(np.asarray(landmarks), size)
    return Photo(image, landmark_box(np.asarray(landmarks), size), thumb_right=bool(px[5, 0] >= px[17, 0]),
                 pinky_tip=(float(px[20, 0]), float(px[20, 1])), palm_px=palm_size_2d(px))


@dataclass(frozen=True)
class PhotoVideoOptions:
    fps: float = 30.0
    pace: float = 1.0  # seconds per letter
    transition_s: Optional[float] = None  # None: as the landmark simulator (synth.default_transition)
    size: Tuple[int, int] = (640, 480)
    hand_height: float = 0.6  # the crop (the hand box and half its size around) over the frame height
    lead_in_s: float = 0.3
    entry_s: float = 0.0  # 0: the hand appears in place; else it rises into view from below in this time
    exit_s: float = 0.0  # 0: the hand vanishes after the last letter; else it drops out of view in this time
    lead_out_s: float = 0.5
    background: int = 90  # grey of the frames without a hand; with a hand, the photo's own border

    @property
    def transition(self) -> float:
        return self.transition_s if self.transition_s is not None else default_transition(self.pace)


class _Film:
    def __init__(self, o: PhotoVideoOptions, rng: np.random.Generator) -> None:
        self.o, self.rng = o, rng
        self.frames: List[np.ndarray] = []
        self.truth: List[Tuple[str, float, float]] = []
        self.pos = np.zeros(2)
        self.unit = 0.5 * o.hand_height * o.size[1] / 2  # about a palm, in pixels
        self.photo: "Photo | None" = None
        self.angle = 0.0  # the hand's turn (degrees) after a J, kept until the next move

    @property
    def t(self) -> float:
        return len(self.frames) / self.o.fps

    def n(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.o.fps)))

    def blank(self, seconds: float) -> None:
        w, h = self.o.size
        self.frames += [np.full((h, w, 3), self.o.background, np.uint8) for _ in range(self.n(seconds))]

    def shoot(self, photo: Photo, offsets, rotations=None) -> None:
        self.frames += photo_path_frames(photo.image, photo.box, [tuple(p) for p in offsets], rotations,
                                         size=self.o.size, hand_height=self.o.hand_height, background=None,
                                         pivot=photo.pinky_tip)

    def move_to(self, photo: Photo, target: np.ndarray, seconds: float, arc: float = 0.0) -> None:
        k = self.n(seconds)
        u = _smooth(np.arange(1, k + 1) / k)
        path = self.pos + (target - self.pos) * u[:, None]
        path[:, 1] -= arc * self.unit * np.sin(np.pi * np.arange(1, k + 1) / k)
        self.shoot(photo, path, list(self.angle * (1 - u)))  # the hand turns back as it moves on
        self.pos, self.photo, self.angle = target.copy(), photo, 0.0

    def hold(self, photo: Photo, seconds: float) -> None:
        k = self.n(seconds)
        phase, freq = self.rng.uniform(0, 2 * math.pi, 2), self.rng.uniform(1.0, 3.0)
        wob = 1.5 * np.sin(2 * math.pi * freq * np.arange(k)[:, None] / self.o.fps + phase)
        self.shoot(photo, self.pos + wob, [self.angle] * k)

    def palm(self, photo: Photo) -> float:
        """The photo's palm size in frame pixels (the scale photo_path_frames pastes it at)."""
        if not photo.palm_px:
            return self.unit
        x0, y0, x1, y1 = (int(v) for v in photo.box)
        my = (y1 - y0) // 2
        crop_h = min(photo.image.shape[0], y1 + my) - max(0, y0 - my)
        return float(photo.palm_px) * self.o.hand_height * self.o.size[1] / max(crop_h, 1)

    def motion(self, letter: str, photo: Photo) -> None:
        o, rng = self.o, self.rng
        # J in palm sizes of this hand, as the reader measures it (in the box unit, too small for
        # massey's large hands, no J was read); Z stays in the box unit (in palm sizes massey
        # hand4's Z was read less often: docs/holds.md)
        unit = self.palm(photo) if letter == "J" else self.unit
        seconds = float(np.clip(rng.uniform(0.45, 0.6) * o.pace + 0.15, 0.35, 0.8))
        s = _smooth(np.linspace(0, 1, self.n(seconds) + 1)[1:])
        side = 1.0 if photo.thumb_right else -1.0
        if letter == "J":
            path, turn = _j_path(s, side, rng.uniform(0.7, 1.1), rng.uniform(0.4, 0.7)), -side * rng.uniform(25, 50)
        else:
            path, turn = _z_path(s, -side, rng.uniform(1.0, 1.6), rng.uniform(0.8, 1.3)), 0.0
        start = self.t
        self.shoot(photo, self.pos + path * unit, list(turn * s))
        self.pos, self.angle = self.pos + path[-1] * unit, float(turn)
        self.truth.append((letter, start, self.t))
        self.hold(photo, max(o.pace - o.transition - seconds, 0.15))


def _into_place(film: _Film, photo: Photo, spread: float, first: bool) -> None:
    """Move the hand to the next letter's place, near the middle (from below the frame, for the
    first letter of a film with ``entry_s``)."""
    o = film.o
    if first and o.entry_s > 0:
        film.pos = np.array([0.0, float(o.size[1])])  # below the frame: the hand rises into view
        film.move_to(photo, film.rng.normal(0, spread, 2) * film.unit, o.entry_s)
    else:
        film.move_to(photo, film.pos * 0.5 + film.rng.normal(0, spread, 2) * film.unit, o.transition)


def photo_word_frames(word: str, photos: Dict[str, Photo], rng: np.random.Generator,
                      options: "PhotoVideoOptions | None" = None) -> Tuple[List[np.ndarray], Truth]:
    """(BGR frames, [(letter, hold start s, hold end s)]) of ``word`` spelled with ``photos``
    (one per letter; J uses ``photos['J']`` or the I photo, Z ``photos['Z']`` or the D photo)."""
    o = options or PhotoVideoOptions()
    film = _Film(o, rng)
    film.blank(o.lead_in_s)
    prev = None
    for c in word.upper():
        key = c if c in photos else MOTION_LETTER_SHAPES.get(c, c)
        if key not in photos:
            raise FingerspellError(f"no photo for {c!r}: give one per letter of {word!r}")
        photo = photos[key]
        if c in "JZ":
            _into_place(film, photo, 0.1, first=prev is None)
            film.hold(photo, rng.uniform(0.0, 0.1))  # the hand shape is formed, then drawn
            film.motion(c, photo)
        else:
            if c == prev:  # a double letter: a short slide or bounce of the same hand
                # in palm sizes of this hand, as the J: a hand near the camera (massey's, 1.7 units)
                # moves as many more pixels as it is larger; in units it barely moved (HELLO read HELO)
                palm = film.palm(photo)
                if rng.random() < 0.5:
                    target = film.pos + np.array([rng.choice([-1, 1]) * rng.uniform(0.3, 0.5) * palm, 0.0])
                    film.move_to(photo, target, 0.2)
                else:
                    film.move_to(photo, film.pos.copy(), 0.2, arc=rng.uniform(0.25, 0.4) * palm / film.unit)
            else:
                _into_place(film, photo, 0.15, first=prev is None)
            start = film.t
            film.hold(photo, max(o.pace - o.transition, 2 / o.fps))
            film.truth.append((c, start, film.t))
        prev = c
    if o.exit_s > 0 and film.photo is not None:  # the hand drops out of view below the frame
        film.move_to(film.photo, np.array([film.pos[0], float(o.size[1])]), o.exit_s)
    film.blank(o.lead_out_s)
    return film.frames, film.truth


def write_video(frames: List[np.ndarray], path, fps: float = 30.0, codec: str = "mp4v") -> None:
    """A video of ``frames``: mp4v (what OpenCV writes everywhere), or MJPG in an .avi (the
    near-lossless JPEG frames a webcam sends)."""
    import cv2

    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), float(fps), (w, h))
    if not out.isOpened():
        raise FingerspellError(f"OpenCV cannot write {path}: check the folder and the {codec} codec")
    for f in frames:
        out.write(f)
    out.release()


def letterbox(img: np.ndarray, size: Tuple[int, int] = (640, 480)) -> np.ndarray:
    """A photo scaled into a black frame of ``size`` (width, height), aspect kept: a camera-like frame
    (tests, benchmarks and the web app's load test make their videos from photos this way)."""
    import cv2

    w, h = size
    ih, iw = img.shape[:2]
    s = min(w / iw, h / ih)
    nw, nh = int(round(iw * s)), int(round(ih * s))
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y:y + nh, x:x + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return out

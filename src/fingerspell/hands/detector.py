"""Hand detection behind one small interface, with two MediaPipe backends.

* ``solutions``: the legacy ``mediapipe.solutions.hands`` graph with the models bundled in the
  mediapipe 0.10.21 wheel (the default).
* ``tasks``: the Tasks API ``HandLandmarker`` from a ``.task`` bundle, which is what users of
  mediapipe 0.10.30+ must use. Without a bundle path one is built from the bundled ``.tflite``
  files (see :func:`build_task_bundle`).

Both return :class:`Hand` records with handedness as seen in a non-mirrored camera image: the
legacy graph assumes a mirrored selfie image and names the opposite hand, so its label is
swapped; the Tasks HandLandmarker of 0.10.21 already names the right hand (checked on photos).

In still-image mode a frame where no hand is found is tried again with a black border around
it (30% of its size, then 60%): the palm detector misses hands that fill the frame (measured
here at confidence 0.5, massey photos go from 65% found to 99.9%). A hand that *is* found but
reaches within 10% of the photo's edge (a tight crop, a hand cut off) is looked at again with a
25% border, and that reading is kept when it finds a hand: MediaPipe places the landmarks (and
names the hand) better with room around it (massey leave-one-signer-out 93.3% -> 96.5%,
docs/accuracy_features.md). In both modes a frame where no hand is found is looked at again in
overlapping squares, for small hands (``tile_look``: hands/tiles.py). ``second_look``: second_look.py.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

import cv2
import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.hands.exposure import DARK_BELOW, lift_dark
from fingerspell.hands.landmarks import NUM_LANDMARKS, Hand, landmark_box, one_per_hand
from fingerspell.hands.task_bundle import build_task_bundle, bundled_model_paths, check_task_bundle, default_task_bundle  # noqa: F401 (the bundle helpers are re-exported here)
from fingerspell.media import decode_photo

BACKENDS = ("solutions", "tasks")
MODES = ("image", "video")


@dataclass(frozen=True)
class DetectorOptions:
    """How to find hands: the palm detector at 0.5 (the seed's 0.7 missed a Q, docs/runtime.md)."""

    backend: str = "solutions"
    mode: str = "image"
    max_hands: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.7
    model_complexity: int = 1
    task_path: Optional[str] = None
    border_retry: bool = True
    # Tried in turn until a hand is found: 30% finds most missed hands; the hands that fill a
    # massey photo edge to edge need 60% (44 of the 45 that 30% still missed).
    border_fractions: Tuple[float, ...] = (0.3, 0.6)
    # Still images: a found hand that comes within refine_edge (a fraction of the photo's side) of
    # an edge is detected again with a refine_border black border (0 turns this off).
    refine_border: float = 0.25
    refine_edge: float = 0.1
    # Read each found hand a second time on the mirrored frame (Hand.second_landmarks;
    # hands/second_look.py): a second MediaPipe graph, in a thread beside the first.
    second_look: bool = False
    lift_dark: float = DARK_BELOW  # a frame darker than this is lifted first (hands/exposure.py; 0 = off)
    tile_look: bool = True  # no hand found: the frame again in overlapping squares (hands/tiles.py)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise FingerspellError(f"unknown detector backend {self.backend!r}: use one of {BACKENDS}")
        if self.mode not in MODES:
            raise FingerspellError(f"unknown detector mode {self.mode!r}: use 'image' or 'video'")
        if self.model_complexity not in (0, 1):
            raise FingerspellError("model_complexity must be 0 (lite) or 1 (full)")
        if self.max_hands < 1:
            raise FingerspellError("max_hands must be at least 1")
        if not all(0.0 < f <= 2.0 for f in self.border_fractions):
            raise FingerspellError("border_fractions must each lie in (0, 2]")
        if not (0.0 <= self.refine_border <= 2.0 and 0.0 <= self.refine_edge < 0.5):
            raise FingerspellError("refine_border must lie in [0, 2] and refine_edge in [0, 0.5)")


# MediaPipe's C++ side logs a page of INFO/WARNING lines per graph; keep the console readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _display_hidden():
    """Hide $DISPLAY while a MediaPipe graph starts.

    With a display, MediaPipe probes for a GPU context and loads Mesa's libLLVM; importing
    torchvision (which brings triton's own LLVM) later in the same process then segfaults. We run
    MediaPipe on the CPU anyway, so it never needs the display.
    """
    saved = {k: os.environ.pop(k) for k in ("DISPLAY", "WAYLAND_DISPLAY") if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def load_image(path: Union[str, Path]) -> np.ndarray:
    """Read an image file as a BGR uint8 array, with a clear error for a missing or corrupt file."""
    p = Path(path)
    if p.is_dir():
        raise FingerspellError(f"image {p} is a folder, not an image file")
    if not p.is_file():
        raise FingerspellError(f"image {p} does not exist")
    try:
        data = np.fromfile(str(p), dtype=np.uint8)
    except OSError as exc:  # no read permission, an I/O error
        raise FingerspellError(f"cannot read image {p}: {exc.strerror or exc}; check its permissions") from None
    # not IMREAD_UNCHANGED, which ignores a phone photo's EXIF orientation (an upright L read as G);
    # ANYDEPTH keeps 16-bit pixels and ANYCOLOR grey ones for to_bgr_uint8, an alpha channel is dropped
    img = decode_photo(data, cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)  # a phone's HEIC or AVIF too
    if img is None:
        raise FingerspellError(f"cannot read image {p}: it is corrupt or not an image (use a .jpg or .png)")
    return to_bgr_uint8(img, name=str(p))


def to_bgr_uint8(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """Convert grayscale, RGBA, 16-bit or float [0, 1] frames to BGR uint8; refuse what can't be."""
    if not isinstance(frame, np.ndarray):
        raise FingerspellError(f"{name} is a {type(frame).__name__}, not an image array")
    if frame.size == 0 or frame.ndim < 2 or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise FingerspellError(f"{name} is empty (shape {frame.shape}): give a frame with pixels")
    if frame.dtype == np.uint8:
        img = frame
    elif frame.dtype == np.uint16:
        img = (frame >> 8).astype(np.uint8)
    elif frame.dtype == np.bool_:
        img = frame.astype(np.uint8) * 255
    elif np.issubdtype(frame.dtype, np.floating):
        if not np.all(np.isfinite(frame)):
            raise FingerspellError(f"{name} holds NaN or infinite values")
        scale = 255.0 if frame.max() <= 1.0 else 1.0
        img = np.clip(frame * scale, 0, 255).astype(np.uint8)
    else:
        raise FingerspellError(f"{name} has dtype {frame.dtype}: give uint8 (0-255) or float (0-1) pixels")
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim != 3:
        raise FingerspellError(f"{name} has shape {frame.shape}: expected HxW or HxWxC")
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if channels == 3:
        return np.ascontiguousarray(img)
    if channels == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    raise FingerspellError(f"{name} has {channels} channels: expected 1, 3 or 4")


def _swap_handedness(label: str) -> str:
    return {"Left": "Right", "Right": "Left"}.get(label, label)


class HandDetector:
    """Find hands in BGR frames: ``detect(frame_bgr) -> list[Hand]``.

    Use as a context manager or call :meth:`close`. Video mode tracks hands between calls and
    expects frames in order.
    """

    def __init__(self, options: Optional[DetectorOptions] = None, **overrides) -> None:
        if options is None:
            options = DetectorOptions(**overrides)
        elif overrides:
            from dataclasses import replace

            options = replace(options, **overrides)
        self.options = options
        self._timestamp_ms = 0
        self._mirror = self._tiles = None  # the second look (second_look.py), the closer look (tiles.py)
        self._kept: List[Hand] = []  # the hands of the previous frame (video mode)
        # True when the last detect() found its hands only on the bordered retry (for benchmarks).
        self.last_used_border = False
        with _display_hidden():
            self._impl = self._make_solutions() if options.backend == "solutions" else self._make_tasks()

    # --- backends -----------------------------------------------------------------------
    def _make_solutions(self):
        from mediapipe.python.solutions import hands as mp_hands

        o = self.options
        return mp_hands.Hands(
            static_image_mode=o.mode == "image",
            max_num_hands=o.max_hands,
            model_complexity=o.model_complexity,
            min_detection_confidence=o.min_detection_confidence,
            min_tracking_confidence=o.min_tracking_confidence,
        )

    def _make_tasks(self):
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions, RunningMode

        o = self.options
        path = check_task_bundle(o.task_path) if o.task_path else default_task_bundle(o.model_complexity)
        opts = HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=RunningMode.IMAGE if o.mode == "image" else RunningMode.VIDEO,
            num_hands=o.max_hands,
            min_hand_detection_confidence=o.min_detection_confidence,
            min_hand_presence_confidence=o.min_tracking_confidence,
            min_tracking_confidence=o.min_tracking_confidence,
        )
        try:
            return HandLandmarker.create_from_options(opts)
        except (RuntimeError, ValueError) as exc:
            raise FingerspellError(f"{path} could not be loaded as a hand landmarker bundle: {exc}") from None

    def _run(self, rgb: np.ndarray) -> List[tuple]:
        """Raw results: a list of (landmarks (21,3), world or None, label, score)."""
        out = []
        if self.options.backend == "solutions":
            res = self._impl.process(rgb)
            if not res.multi_hand_landmarks:
                return out
            worlds = res.multi_hand_world_landmarks or [None] * len(res.multi_hand_landmarks)
            for lms, world, handed in zip(res.multi_hand_landmarks, worlds, res.multi_handedness):
                pts = np.array([(p.x, p.y, p.z) for p in lms.landmark], dtype=np.float32)
                wpts = None if world is None else np.array(
                    [(p.x, p.y, p.z) for p in world.landmark], dtype=np.float32)
                cls = handed.classification[0]
                # The legacy graph assumes a mirrored selfie image: it names the other hand.
                out.append((pts, wpts, _swap_handedness(cls.label), float(cls.score)))
            return out
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self.options.mode == "image":
            res = self._impl.detect(image)
        else:
            res = self._impl.detect_for_video(image, self._timestamp_ms)
        for i, lms in enumerate(res.hand_landmarks):
            pts = np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float32)
            wpts = None
            if res.hand_world_landmarks and i < len(res.hand_world_landmarks):
                wpts = np.array([(p.x, p.y, p.z) for p in res.hand_world_landmarks[i]], dtype=np.float32)
            cat = res.handedness[i][0]
            out.append((pts, wpts, cat.category_name, float(cat.score)))
        return out

    # --- public -------------------------------------------------------------------------
    def detect(self, frame_bgr: np.ndarray, timestamp_ms: Optional[int] = None) -> List[Hand]:
        """Hands in one BGR frame (grayscale, RGBA and float frames are converted)."""
        frame = lift_dark(to_bgr_uint8(frame_bgr), self.options.lift_dark)
        h, w = frame.shape[:2]
        if self.options.mode == "video":
            self._timestamp_ms = (
                max(self._timestamp_ms + 1, int(timestamp_ms)) if timestamp_ms is not None
                else self._timestamp_ms + 33
            )
        pending = self._second_look().start(frame, self._timestamp_ms) if self.options.second_look else None
        rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        raw = self._run(rgb)
        self.last_used_border = False
        if not raw and self.options.mode == "image" and self.options.border_retry:
            raw = self._retry_with_border(rgb)
            self.last_used_border = bool(raw)
        elif raw and self.options.mode == "image" and self.options.refine_border and self._crowded(raw):
            raw = self._detect_with_border(rgb, self.options.refine_border) or raw
        if not raw and self.options.tile_look:
            raw = self._closer_look(rgb)
        hands = []
        for pts, wpts, label, score in raw:
            if pts.shape != (NUM_LANDMARKS, 3):
                continue
            hands.append(Hand(landmarks=pts, world_landmarks=wpts, handedness=label, score=score,
                              box=landmark_box(pts, (w, h)), image_size=(w, h)))
        hands = one_per_hand(hands, previous=self._kept)  # no second box on one hand
        self._kept = hands if self.options.mode == "video" else []
        if pending is not None:
            self._mirror.attach(pending, hands)
        return hands

    def _second_look(self):
        if self._mirror is None:
            from fingerspell.hands.second_look import MirrorLook

            self._mirror = MirrorLook(self)
        return self._mirror

    def _closer_look(self, rgb: np.ndarray) -> List[tuple]:
        from dataclasses import replace

        from fingerspell.hands.tiles import CONFIDENCE, TileLook

        if self._tiles is None:  # an image-mode graph of its own, at CONFIDENCE or the frame's threshold
            o = self.options
            self._tiles = TileLook(HandDetector(replace(
                o, mode="image", border_retry=False, refine_border=0.0, lift_dark=0.0, tile_look=False,
                second_look=False, min_detection_confidence=max(o.min_detection_confidence, CONFIDENCE))))
        return self._tiles.look(rgb, self._timestamp_ms if self.options.mode == "video" else None)

    def _crowded(self, raw: List[tuple]) -> bool:
        """True when a found hand comes within ``refine_edge`` of the photo's edge (normalised points)."""
        edge = self.options.refine_edge
        return any((pts[:, :2].min() < edge) or (pts[:, :2].max() > 1.0 - edge) for pts, *_ in raw)

    def _retry_with_border(self, rgb: np.ndarray) -> List[tuple]:
        for fraction in self.options.border_fractions:
            raw = self._detect_with_border(rgb, fraction)
            if raw:
                return raw
        return []

    def _detect_with_border(self, rgb: np.ndarray, fraction: float) -> List[tuple]:
        h, w = rgb.shape[:2]
        pad = max(1, int(round(fraction * max(h, w))))
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        ph, pw = padded.shape[:2]
        raw = self._run(np.ascontiguousarray(padded))
        out = []
        for pts, wpts, label, score in raw:
            pts = pts.copy()
            pts[:, 0] = (pts[:, 0] * pw - pad) / w
            pts[:, 1] = (pts[:, 1] * ph - pad) / h
            pts[:, 2] = pts[:, 2] * pw / w
            out.append((pts, wpts, label, score))
        return out

    def close(self) -> None:
        impl, self._impl = getattr(self, "_impl", None), None
        if impl is not None:
            impl.close()
        for look in (getattr(self, "_mirror", None), getattr(self, "_tiles", None)):
            if look is not None:
                look.close()
        self._mirror = self._tiles = None

    def __enter__(self) -> "HandDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

"""The Tasks API's hand landmarker bundle, made from the models inside the mediapipe wheel.

A ``.task`` bundle is an uncompressed zip of the palm detector (``hand_detector.tflite``) and the
landmark model (``hand_landmarks_detector.tflite``); mediapipe 0.10.21 bundles both as ``.tflite``
files, so the ``tasks`` backend (hands/detector.py) works offline.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Union

from fingerspell.cache import cache_dir
from fingerspell.errors import FingerspellError
from fingerspell.fileio import atomic_output


def _mediapipe_dir() -> Path:
    import mediapipe

    return Path(mediapipe.__file__).parent


def bundled_model_paths(model_complexity: int = 1) -> tuple:
    """(palm detector, hand landmarker) .tflite files inside the mediapipe wheel.

    Complexity 0 takes the lite landmark model only: the bundled lite palm detector lacks the
    normalisation metadata the Tasks API needs ("requires specifying NormalizationOptions").
    """
    kind = "full" if model_complexity == 1 else "lite"
    root = _mediapipe_dir() / "modules"
    palm = root / "palm_detection" / "palm_detection_full.tflite"
    landmark = root / "hand_landmark" / f"hand_landmark_{kind}.tflite"
    for p in (palm, landmark):
        if not p.exists():
            raise FingerspellError(
                f"{p} is missing: this mediapipe ships no hand models; install mediapipe==0.10.21 "
                "or pass a .task bundle with --task"
            )
    return palm, landmark


def build_task_bundle(out_path: Union[str, Path], model_complexity: int = 1) -> Path:
    """Write a HandLandmarker ``.task`` bundle from the wheel's bundled models.

    A bundle is an uncompressed zip holding ``hand_detector.tflite`` and
    ``hand_landmarks_detector.tflite``. Written atomically.
    """
    palm, landmark = bundled_model_paths(model_complexity)
    out = Path(out_path)
    with atomic_output(out) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(palm, "hand_detector.tflite")
        zf.write(landmark, "hand_landmarks_detector.tflite")
    return out


def default_task_bundle(model_complexity: int) -> Path:
    palm, landmark = bundled_model_paths(model_complexity)
    digest = hashlib.sha1(palm.read_bytes()[:4096] + landmark.read_bytes()[:4096]).hexdigest()[:10]
    cache = cache_dir()
    path = cache / f"hand_landmarker_{model_complexity}_{digest}.task"
    if not path.exists():
        build_task_bundle(path, model_complexity)
    return path


def check_task_bundle(path: Union[str, Path]) -> Path:
    """A clear error for a missing file or one that is not a HandLandmarker bundle."""
    p = Path(path)
    if not p.is_file():
        raise FingerspellError(f"hand landmarker bundle {p} does not exist: give the path of a .task file")
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FingerspellError(
            f"{p} is not a hand landmarker .task bundle ({exc}): it must be a zip holding "
            "hand_detector.tflite and hand_landmarks_detector.tflite"
        ) from None
    need = {"hand_detector.tflite", "hand_landmarks_detector.tflite"}
    if not need <= names:
        raise FingerspellError(
            f"{p} is not a hand landmarker .task bundle: it lacks {', '.join(sorted(need - names))}"
        )
    return p

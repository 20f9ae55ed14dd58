"""Video encoders for annotated output: H.264 where a bundled ffmpeg exists, else OpenCV's mp4v.

Browsers play H.264 in .mp4 but not MPEG-4 Part 2 (OpenCV's ``mp4v``, the only MP4 encoder its
pip wheels carry). The ``imageio-ffmpeg`` package ships a static ffmpeg binary with libx264, so
:func:`open_video_writer` pipes frames to it (yuv420p, ``+faststart`` so a browser can start
playing before the whole file is loaded) and falls back to ``mp4v`` when that binary is missing,
cannot encode, or the file type is not .mp4/.mov/.mkv. Every writer says which codec it used
(``writer.codec``: ``"h264"`` or ``"mp4v"``), and ``fingerspell run`` puts that in its transcript.

``FINGERSPELL_VIDEO_CODEC=mp4v`` (or ``h264``) forces one encoder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]
H264_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")
CODECS = ("auto", "h264", "mp4v")


def bundled_ffmpeg() -> Optional[str]:
    """Path of imageio-ffmpeg's ffmpeg binary, or None when the package or binary is missing."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (RuntimeError, OSError):
        return None
    return exe if exe and Path(exe).is_file() else None


class H264Writer:
    """Frames (BGR uint8) piped into ffmpeg's libx264; same methods as ``cv2.VideoWriter``."""

    codec = "h264"

    def __init__(self, path: PathLike, fps: float, size: Tuple[int, int], crf: int = 23) -> None:
        import imageio_ffmpeg

        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        # yuv420p needs even sides: an odd frame gets one black column/row (not a rescale).
        self.padded = (self.size[0] + self.size[0] % 2, self.size[1] + self.size[1] % 2)
        self.failed: Optional[str] = None
        self._gen = imageio_ffmpeg.write_frames(
            str(self.path), self.padded, fps=float(fps), codec="libx264", pix_fmt_in="bgr24",
            pix_fmt_out="yuv420p", quality=None, bitrate=None, macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-crf", str(int(crf)), "-preset", "veryfast", "-movflags", "+faststart"],
        )
        try:
            self._gen.send(None)  # starts ffmpeg
        except (OSError, RuntimeError, StopIteration) as exc:
            self._gen = None
            raise FingerspellError(f"ffmpeg could not start writing {self.path}: {exc}") from None

    def isOpened(self) -> bool:  # noqa: N802 - the cv2.VideoWriter name
        return self._gen is not None

    def write(self, frame: np.ndarray) -> None:
        if self._gen is None or self.failed:
            return
        if self.padded != self.size:
            import cv2

            frame = cv2.copyMakeBorder(frame, 0, self.padded[1] - frame.shape[0], 0, self.padded[0] - frame.shape[1],
                                       cv2.BORDER_CONSTANT, value=(0, 0, 0))
        try:
            self._gen.send(np.ascontiguousarray(frame, dtype=np.uint8))
        except (OSError, RuntimeError, StopIteration) as exc:  # a full disk, ffmpeg gone
            self.failed = str(exc)

    def release(self) -> None:
        gen, self._gen = self._gen, None
        if gen is not None:
            try:
                gen.close()
            except (OSError, RuntimeError) as exc:
                self.failed = self.failed or str(exc)


class Mp4vWriter:
    """OpenCV's MPEG-4 Part 2 writer, with a ``codec`` name."""

    codec = "mp4v"

    def __init__(self, path: PathLike, fps: float, size: Tuple[int, int]) -> None:
        import cv2

        self._w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps),
                                  (int(size[0]), int(size[1])))

    def isOpened(self) -> bool:  # noqa: N802
        return self._w.isOpened()

    def write(self, frame: np.ndarray) -> None:
        self._w.write(frame)

    def release(self) -> None:
        self._w.release()


def _wanted(codec: Optional[str]) -> str:
    codec = (codec or os.environ.get("FINGERSPELL_VIDEO_CODEC") or "auto").lower()
    if codec not in CODECS:
        raise FingerspellError(f"unknown video codec {codec!r}: use one of {', '.join(CODECS)}")
    return codec


def open_video_writer(path: PathLike, fps: float, size: Tuple[int, int], codec: Optional[str] = None):
    """A writer for ``path``: H.264 when possible (``codec`` "auto" or "h264"), else mp4v.

    The writer has ``write(frame)``, ``release()``, ``isOpened()`` and ``codec``. With "h264" and no
    usable encoder this raises; with "auto" it falls back quietly (the codec is recorded).
    """
    want = _wanted(codec)
    suffix = Path(path).suffix.lower() or ".mp4"
    if want != "mp4v":
        can = bundled_ffmpeg() is not None and suffix in H264_SUFFIXES
        if can:
            try:
                return H264Writer(path, fps, size)
            except FingerspellError:
                if want == "h264":
                    raise
        elif want == "h264":
            raise FingerspellError(f"no H.264 encoder for {path}: install imageio-ffmpeg (pip install imageio-ffmpeg) "
                                   "and use an .mp4 name")
    return Mp4vWriter(path, fps, size)


def probe_codec(path: PathLike) -> Optional[str]:
    """The video codec name in a file ("h264", "mpeg4", ...) as ffmpeg reads it, or None."""
    import re
    import subprocess

    exe = bundled_ffmpeg()
    if exe is None:
        return None
    proc = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Stream #\S+.*?Video: (\w+)", proc.stderr)
    return m.group(1) if m else None

"""Videos OpenCV's wheel cannot decode, read through imageio-ffmpeg's ffmpeg: AV1 above all.

OpenCV's pip wheels carry an FFmpeg without an AV1 software decoder ("Your platform doesn't support
hardware accelerated AV1 decoding"), and AV1 is what recent Android phones, screen recorders and
browsers (WebM) write. The ffmpeg binary bundled with ``imageio-ffmpeg`` (already a dependency, for
H.264 output) decodes it with libdav1d. :class:`FfmpegCapture` pipes its raw BGR frames and offers the
part of ``cv2.VideoCapture`` that :class:`~fingerspell.runtime.sources.VideoSource` uses, so a video
reads the same either way: upright (ffmpeg applies a phone's rotation tag itself) and each frame at
its own time (ffmpeg's ``showinfo`` filter reports every frame's size and timestamp on stderr, read
by a thread so that ffmpeg never waits on a full pipe).
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from typing import Optional, Tuple

import numpy as np

_FRAME = re.compile(rb"\bn:\s*\d+\s.*?\bpts_time:\s*(-?[\d.]+|nan).*?\bs:(\d+)x(\d+)")
_DURATION = re.compile(rb"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_FPS = re.compile(rb"Video: .*?, ([\d.]+) fps")
_STREAM = re.compile(rb"^\s*Stream #\d+:\d+.*?: (Video|Audio|Subtitle|Data):")
_WAIT_S = 30.0  # longest wait for one decoded frame before the file is taken as unreadable


class FfmpegCapture:
    """A video file's frames from ffmpeg, with the ``cv2.VideoCapture`` methods ``VideoSource`` calls
    (``isOpened``, ``read``, ``get``, ``set``, ``release``). :attr:`failed` is True when ffmpeg
    stopped with an error (a damaged file): the frames before it were read."""

    def __init__(self, path: str, ffmpeg: str) -> None:
        cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-i", str(path), "-map", "0:v:0",
               "-vf", "showinfo=checksum=0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"]
        self._frames: "queue.Queue[Optional[Tuple[int, int, float]]]" = queue.Queue()
        self._fps = self._duration = float("nan")
        self._pos_s = float("nan")
        self.returncode: Optional[int] = None  # ffmpeg's exit status, once the frames ran out
        self.streams = set()  # the kinds of stream ffmpeg found in the file ("Video", "Audio", ...)
        try:
            self._proc: Optional[subprocess.Popen] = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError:
            self._proc = None
            return
        self._thread = threading.Thread(target=self._read_log, name="fingerspell-ffmpeg-log", daemon=True)
        self._thread.start()

    def _read_log(self) -> None:
        """ffmpeg's stderr: the header's duration and rate, then one size and time per frame."""
        try:
            for line in self._proc.stderr:
                frame = _FRAME.search(line)
                if frame:
                    t = float(frame.group(1))
                    self._frames.put((int(frame.group(2)), int(frame.group(3)), t))
                    continue
                kind = _STREAM.search(line)
                if kind:
                    self.streams.add(kind.group(1).decode())
                d, f = _DURATION.search(line), _FPS.search(line)
                if d and not np.isfinite(self._duration):
                    self._duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
                if f and not np.isfinite(self._fps):
                    self._fps = float(f.group(1))
        except (OSError, ValueError):
            pass
        finally:
            self._frames.put(None)

    def isOpened(self) -> bool:  # noqa: N802 - cv2.VideoCapture's name
        return self._proc is not None

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        if self._proc is None:
            return False, None
        try:
            item = self._frames.get(timeout=_WAIT_S)
        except queue.Empty:
            item = None
        if item is None:
            self._frames.put(None)  # every later read ends too
            self._ended()
            return False, None
        w, h, t = item
        size = w * h * 3
        data = self._read_exact(size)
        if data is None:
            self._ended()
            return False, None
        self._pos_s = t
        return True, np.frombuffer(data, np.uint8).reshape(h, w, 3).copy()

    def _read_exact(self, size: int) -> Optional[bytes]:
        chunks, got = [], 0
        while got < size:
            chunk = self._proc.stdout.read(size - got)
            if not chunk:
                return None
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def get(self, prop: int) -> float:
        import cv2

        if prop == cv2.CAP_PROP_FPS:
            return self._fps if np.isfinite(self._fps) else 0.0
        if prop == cv2.CAP_PROP_FRAME_COUNT:  # from the header: an estimate, as OpenCV's often is
            known = np.isfinite(self._fps) and np.isfinite(self._duration)
            return float(round(self._fps * self._duration)) if known else 0.0
        if prop == cv2.CAP_PROP_POS_MSEC:
            return self._pos_s * 1000.0
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return False  # ffmpeg applies a rotation tag itself

    def _ended(self) -> None:
        if self.returncode is None and self._proc is not None:
            try:
                self.returncode = self._proc.wait(timeout=_WAIT_S)
            except subprocess.TimeoutExpired:
                self.returncode = -1

    @property
    def failed(self) -> bool:
        """Whether ffmpeg ended with an error (a damaged file): known once :meth:`read` ran out."""
        return self.returncode not in (None, 0)

    def release(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
        self._thread.join(timeout=5)

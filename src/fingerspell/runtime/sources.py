"""Where frames come from: a webcam, a video file, an image folder or one image.

``open_source(spec)`` returns a :class:`FrameSource`, an iterator of ``(frame_bgr, timestamp_s)``.
Timestamps are what the hold reader measures motion by: camera and live-stream frames get the
clock's time when each came (a thread takes them as they come: ``live_frames.py``), video frames
their own times in the file, image-folder frames ``index / fps``. A read failure in the middle of a
stream (a camera unplugged, a truncated file) ends the iteration cleanly and is noted in
:attr:`FrameSource.ended_early` / :attr:`FrameSource.message`; what was recognised is kept.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.media import IMAGE_SUFFIXES, TEXT_SUFFIXES, VIDEO_SUFFIXES, is_stream_url, passed_over, redacted_url
from fingerspell.runtime.live_frames import LiveFrames

DEFAULT_FPS = 10.0
Frame = Tuple[np.ndarray, float]


class FrameSource:
    """An iterator of (BGR uint8 frame, timestamp in seconds). Close it, or use ``with``."""

    name: str = "source"
    kind: str = "source"
    fps: float = DEFAULT_FPS
    frame_count: Optional[int] = None  # None when unknown (a camera)

    def __init__(self) -> None:
        self.ended_early = False
        self.message = ""
        self.frames_read = 0

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        item = self.read()
        if item is None:
            raise StopIteration
        self.frames_read += 1
        return item

    def read(self) -> Optional[Frame]:
        """The next frame, or None at the end (or after a read failure)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    @property
    def is_live(self) -> bool:
        return self.kind == "camera"

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> dict:
        return {"source": self.name, "kind": self.kind, "fps": self.fps, "frames_read": self.frames_read,
                "frame_count": self.frame_count, "ended_early": self.ended_early, "message": self.message}


@contextlib.contextmanager
def _quiet_opencv():
    """OpenCV prints warnings and errors of its own for a missing camera or a bad file; ours suffice."""
    import cv2

    try:
        level = cv2.getLogLevel()
        cv2.setLogLevel(0)  # silent
    except AttributeError:  # an OpenCV without the logging API
        level = None
    try:
        yield cv2
    finally:
        if level is not None:
            cv2.setLogLevel(level)


class _LiveSource:
    """What a webcam and a live stream share: frames from a :class:`LiveFrames` thread, the ones the
    reader had no time for counted in :attr:`dropped`."""

    _live: Optional[LiveFrames] = None

    @property
    def dropped(self) -> int:
        return self._live.dropped if self._live is not None else 0

    def _next_live(self, stopped: str) -> Optional[Frame]:
        """The newest frame, or None once the capture stopped (noted once, as ``stopped``)."""
        item = self._live.next() if self._live is not None else None
        if item is None and self._live is not None and not self.ended_early:
            self.ended_early, self.message = True, stopped
        return item

    def describe(self) -> dict:
        return {**super().describe(), "dropped": self.dropped}


class CameraSource(_LiveSource, FrameSource):
    """A webcam by index. Timestamps are seconds since the first frame, by the clock when each frame
    came: a thread takes the frames as the camera gives them and :meth:`read` returns the newest
    (:class:`~fingerspell.runtime.live_frames.LiveFrames`; frames the reader had no time for are
    dropped and counted in :attr:`dropped`)."""

    kind = "camera"

    def __init__(self, index: int, width: Optional[int] = None, height: Optional[int] = None) -> None:
        super().__init__()
        import cv2

        self.index = int(index)
        self.name = f"camera {self.index}"
        hint = (f"camera {self.index} could not be opened: check it is connected and not used by another "
                "program, try another --source index, or pass --source VIDEO_FILE / IMAGE_FOLDER / a phone "
                "camera app's address (http://...)")
        try:
            with _quiet_opencv():
                cap = cv2.VideoCapture(self.index)
        except cv2.error:
            raise FingerspellError(hint) from None
        if not cap.isOpened():
            cap.release()
            raise FingerspellError(hint)
        if width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(width))
        if height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(height))
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1 <= fps <= 240 else 30.0
        with _quiet_opencv():
            ok, first = cap.read()
        if not ok or first is None:
            cap.release()
            raise FingerspellError(
                f"camera {self.index} opened but gave no picture: check it is not used by another "
                "program, or pass --source VIDEO_FILE")
        self._live = LiveFrames(cap, first, name=f"fingerspell-camera-{self.index}")

    def read(self) -> Optional[Frame]:
        return self._next_live(f"camera {self.index} stopped giving frames after {self.frames_read}")

    def close(self) -> None:
        if self._live is not None:
            self._live.close()


class VideoSource(FrameSource):
    """A video file. Timestamps are the frames' own times in the file (a phone's variable frame
    rate included), or frame index / ``fps`` when ``fps`` is given."""

    kind = "video"
    decoder = "opencv"  # or "ffmpeg": what OpenCV cannot decode (AV1)

    def __init__(self, path: Union[str, Path], fps: Optional[float] = None) -> None:
        super().__init__()
        import cv2

        self.path = Path(path)
        self.name = str(self.path)
        if not self.path.is_file() or self.path.suffix.lower() in TEXT_SUFFIXES:
            what = "is a text file, not a video" if self.path.is_file() else "does not exist"
            raise FingerspellError(f"video {self.path} {what}: give a video file, an image folder or a webcam index")
        error = (f"cannot read video {self.path}: it is corrupt or in a format neither OpenCV nor ffmpeg can "
                 "decode (try an .mp4 or .avi, or an image folder)")
        try:
            return self._open(cv2.VideoCapture, str(self.path), fps, error)
        except FingerspellError:
            pass  # not chained to the error below: one message, not two
        self._open_with_ffmpeg(fps, error)

    def _open_with_ffmpeg(self, fps: Optional[float], error: str) -> None:
        """What OpenCV's wheel cannot decode (AV1: phones, screen recorders, WebM): runtime/ffmpeg_video.py."""
        from fingerspell.runtime.ffmpeg_video import FfmpegCapture
        from fingerspell.runtime.video_out import bundled_ffmpeg

        ffmpeg = bundled_ffmpeg()
        if ffmpeg is None:
            raise FingerspellError(error)
        cap = FfmpegCapture(str(self.path), ffmpeg)
        try:
            self._open(lambda _: cap, str(self.path), fps, error)
        except FingerspellError:
            if cap.streams and "Video" not in cap.streams:  # a sound recording named like a video
                kinds = " and ".join(sorted(cap.streams)).lower()
                raise FingerspellError(f"video {self.path} holds no picture, only {kinds}: give a video file") from None
            raise
        self.decoder = "ffmpeg"

    def _open(self, capture, target: str, fps: Optional[float], error: str) -> None:
        """Open ``capture(target)`` and read its first frame, or raise ``error``."""
        import cv2

        first = None
        with _quiet_opencv():
            self._cap = capture(target)
            if self._cap.isOpened():
                # a phone's upright video is stored sideways with a rotation tag, which OpenCV's
                # FFmpeg reader ignores unless asked: the hand would be read turned by 90 degrees
                self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
                ok, first = self._cap.read()
                first = first if ok else None
        if first is None:
            self._cap.release()
            self._cap = None
            raise FingerspellError(error)
        file_fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps else (float(file_fps) if file_fps and 0.5 <= file_fps <= 240 else DEFAULT_FPS)
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 else None
        self._pending: Optional[np.ndarray] = first
        self._index = 0
        # a phone's video has a variable frame rate (fewer frames in dim light): its frames are timed
        # by their own timestamps, not index / mean rate; an explicit fps keeps index / fps
        self._use_pts = not fps
        self._pts0 = self._pts()
        self._last_t = -1.0

    def _pts(self) -> float:
        import cv2

        ms = self._cap.get(cv2.CAP_PROP_POS_MSEC) if self._cap is not None else float("nan")
        return ms / 1000.0 if np.isfinite(ms) and ms >= 0 else float("nan")

    def _time(self) -> float:
        """The frame's time: its timestamp from the first frame's, where the file's timestamps rise
        (not more than 2 s from the last frame's); index / fps otherwise."""
        t = self._index / self.fps
        if self._use_pts and self._index > 0:
            pts = self._pts() - self._pts0
            step = pts - self._last_t
            t = pts if np.isfinite(pts) and 0 < step <= 2.0 else self._last_t + 1.0 / self.fps
        self._last_t = t
        return t

    def read(self) -> Optional[Frame]:
        if self._pending is not None:
            frame, self._pending = self._pending, None
        elif self._cap is None:
            return None
        else:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                # ffmpeg's frame count is the header's duration x rate, an estimate; its exit status
                # tells a damaged file too
                slack = 0.9 if self.decoder == "ffmpeg" else 1.0
                short = self.frame_count is not None and self._index < slack * self.frame_count
                if short or getattr(self._cap, "failed", False):
                    self.ended_early = True
                    self.message = (f"{self.path} ended after {self._index} of {self.frame_count or '?'} frames "
                                    "(truncated or damaged); kept what was read")
                self.close()
                return None
        t = self._time()
        self._index += 1
        return frame, t

    def close(self) -> None:
        cap, self._cap = getattr(self, "_cap", None), None
        if cap is not None:
            cap.release()

    def describe(self) -> dict:
        return {**super().describe(), "decoder": self.decoder}


STREAM_TIMEOUT_S = 10.0


class StreamSource(_LiveSource, VideoSource):
    """A network stream: a phone camera app (``http://PHONE:8080/video``, MJPEG), an IP camera
    (``rtsp://...``). A live stream (no frame count) reads like a webcam: a thread takes its frames
    as they come, each timed by the clock when it came, and :meth:`read` returns the newest (those
    the reader had no time for are dropped and counted, so it stays current and a backlog read in a
    burst never squeezes the time between frames). A video file behind a URL reads like a file."""

    def __init__(self, url: str, timeout_s: float = STREAM_TIMEOUT_S) -> None:
        FrameSource.__init__(self)
        import cv2

        self.url = url.strip()
        self.path = Path(redacted_url(self.url))
        self.name = redacted_url(self.url)
        ms = int(timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        self._open(lambda target: cv2.VideoCapture(target, cv2.CAP_FFMPEG, params), self.url, None,
                   f"cannot read the stream {self.name}: check the address, that the camera or phone app is "
                   "streaming and that this computer can reach it (a phone app shows its address, e.g. "
                   "http://192.168.1.20:8080/video)")
        self.kind = "video" if self.frame_count else "camera"
        if self.kind == "camera":
            cap, first, self._cap, self._pending = self._cap, self._pending, None, None
            self._live = LiveFrames(cap, first, name="fingerspell-stream")

    def read(self) -> Optional[Frame]:
        if self._live is None:
            return super().read()
        item = self._next_live(f"the stream {self.name} stopped after {self._index} frames")
        self._index += item is not None
        return item

    def close(self) -> None:
        if self._live is None:
            return super().close()
        self._live.close()  # a stalled stream ends at its read timeout and releases then


class ImageFolderSource(FrameSource):
    """Images of a folder in sorted name order (or one image), timestamped at ``fps``. An image that
    cannot be decoded is skipped and counted in :attr:`skipped`; the folder's other files (not of
    the photo types, not hidden) are named in :attr:`passed_over`."""

    kind = "images"

    def __init__(self, path: Union[str, Path], fps: float = DEFAULT_FPS) -> None:
        super().__init__()
        self.path = Path(path)
        self.name = str(self.path)
        if fps <= 0:
            raise FingerspellError(f"--fps {fps} must be positive")
        self.fps = float(fps)
        self.passed_over: List[str] = []
        if self.path.is_dir():
            inside = sorted(p for p in self.path.iterdir() if p.is_file())
            self.files: List[Path] = [p for p in inside if p.suffix.lower() in IMAGE_SUFFIXES]
            self.passed_over = [p.name for p in inside if passed_over(p)]
            if not self.files:  # a folder of clips: one video is read at a time
                clips = sorted(p.name for p in self.path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
                named = ", ".join(clips[:3]) + (", ..." if len(clips) > 3 else "")
                also = f"; it holds videos ({named}): give one with --source FILE" if clips else ""
                raise FingerspellError(f"image folder {self.path} holds no images "
                                       f"({', '.join(sorted(IMAGE_SUFFIXES))}){also}")
        elif self.path.is_file():
            self.files = [self.path]
        else:
            raise FingerspellError(f"{self.path} does not exist: give a video file, an image folder or a webcam index")
        self.frame_count = len(self.files)
        self.skipped: List[str] = []
        self._index = 0

    def read(self) -> Optional[Frame]:
        from fingerspell.hands.detector import load_image

        while self._index < len(self.files):
            i = self._index
            self._index += 1
            try:
                frame = load_image(self.files[i])
            except FingerspellError:
                self.skipped.append(str(self.files[i]))
                continue
            return frame, i / self.fps
        return None

    def describe(self) -> dict:
        return {**super().describe(), "skipped": list(self.skipped), "passed_over": list(self.passed_over)}


def no_frames(name, skipped) -> FingerspellError:
    """The error for a source that gave no frame at all (``run``, the Python API)."""
    why = f": unreadable {', '.join(skipped)}" if skipped else ""
    return FingerspellError(f"{name} gave no frames{why}: give a readable video, image or folder")


def open_source(spec: Union[str, int, Path, None] = 0, fps: float = DEFAULT_FPS) -> FrameSource:
    """A frame source from a webcam index (``0``), a video file, an image folder, an image file or a
    network stream (``http://``, ``rtsp://``, ...: :class:`StreamSource`).

    ``fps`` times the frames of an image folder (and of a video whose file gives no rate).
    """
    if spec is None:
        spec = 0
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec))
    if is_stream_url(str(spec).strip()):
        return StreamSource(str(spec))
    path = Path(spec)
    if not path.exists():
        raise FingerspellError(f"source {path} does not exist: give a webcam index (0), a video file, "
                               "a folder of images or a stream address (http://..., rtsp://...)")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFolderSource(path, fps=fps)
    return VideoSource(path, fps=None)


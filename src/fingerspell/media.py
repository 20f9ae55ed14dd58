"""Which files and addresses fingerspell reads as photos, videos and streams: one list for every
command, so a folder that ``predict`` reads is read the same by ``build-dataset``, ``detect``,
``calibrate`` and ``run``."""

from __future__ import annotations

#: still images OpenCV decodes (a phone photo's EXIF orientation applied: hands/detector.load_image)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
#: video files (OpenCV's FFmpeg; a phone video's rotation applied: runtime/sources.VideoSource)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
#: photo formats phones write that OpenCV's wheel does not decode: named in errors, counted when skipped
PHONE_ONLY_SUFFIXES = (".heic", ".heif", ".avif")

#: network addresses read as streams (runtime/sources.StreamSource): phone camera apps, IP cameras
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


def is_stream_url(spec) -> bool:
    """Is ``spec`` a network address (``rtsp://``, ``http://``, ...) rather than a file?"""
    return isinstance(spec, str) and "://" in spec and spec.split("://", 1)[0].lower() in STREAM_SCHEMES


def redacted_url(url: str) -> str:
    """The address without its password (``rtsp://user:secret@cam/`` -> ``rtsp://user:***@cam/``)."""
    head, sep, rest = url.partition("://")
    auth, at, host = rest.partition("@")
    if at and ":" in auth and "/" not in auth:
        return f"{head}{sep}{auth.split(':', 1)[0]}:***@{host}"
    return url


__all__ = ["IMAGE_SUFFIXES", "PHONE_ONLY_SUFFIXES", "STREAM_SCHEMES", "VIDEO_SUFFIXES", "is_stream_url",
           "redacted_url"]

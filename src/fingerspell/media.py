"""Which files fingerspell reads as photos and as videos: one list for every command, so a folder
that ``predict`` reads is read the same by ``build-dataset``, ``detect``, ``calibrate`` and ``run``."""

from __future__ import annotations

#: still images OpenCV decodes (a phone photo's EXIF orientation applied: hands/detector.load_image)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
#: video files (OpenCV's FFmpeg; a phone video's rotation applied: runtime/sources.VideoSource)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
#: photo formats phones write that OpenCV's wheel does not decode: named in errors, counted when skipped
PHONE_ONLY_SUFFIXES = (".heic", ".heif", ".avif")

__all__ = ["IMAGE_SUFFIXES", "PHONE_ONLY_SUFFIXES", "VIDEO_SUFFIXES"]

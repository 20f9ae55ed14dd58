"""Which files and addresses fingerspell reads as photos, videos and streams: one list for every
command, so a folder that ``predict`` reads is read the same by ``build-dataset``, ``detect``,
``calibrate`` and ``run``."""

from __future__ import annotations

import functools

#: still images: OpenCV decodes most (a phone photo's EXIF orientation applied: hands/detector.load_image),
#: Pillow an iPhone's HEIC photos (with pillow-heif) and AVIF ones (:func:`decode_photo`)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".heic", ".heif", ".avif")
#: video files (OpenCV's FFmpeg, else imageio-ffmpeg's ffmpeg for AV1; a phone video's rotation applied:
#: runtime/sources.VideoSource)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
#: text files that FFmpeg's "tty" reader plays as a video of the text drawn on a terminal screen
#: (a README.txt given as --source ran 208 frames and read nothing, silently): refused by name
TEXT_SUFFIXES = (".txt", ".ans", ".art", ".asc", ".diz", ".ice", ".nfo", ".vt")

#: network addresses read as streams (runtime/sources.StreamSource): phone camera apps, IP cameras
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


def is_stream_url(spec) -> bool:
    """Is ``spec`` a network address (``rtsp://``, ``http://``, ...) rather than a file?"""
    return isinstance(spec, str) and "://" in spec and spec.split("://", 1)[0].lower() in STREAM_SCHEMES


#: ftyp brands of HEIF still pictures (HEVC-coded: heic, heix, ...; mif1 / msf1: any HEIF)
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
#: ftyp brands of AVIF pictures (AV1-coded HEIF: recent Android phones, the web)
AVIF_BRANDS = (b"avif", b"avis")


def _brand(data) -> bytes:
    """The major brand of an ISO media file's ``ftyp`` box (its first 12 bytes), or b""."""
    head = bytes(data[:12])
    return head[8:12] if len(head) == 12 and head[4:8] == b"ftyp" else b""


def is_heif(data) -> bool:
    """Do these file bytes hold a HEIF/HEIC picture (an ISO box ``ftyp`` with a HEIF brand)?"""
    return _brand(data) in HEIF_BRANDS


def is_avif(data) -> bool:
    """Do these file bytes hold an AVIF picture (an ISO box ``ftyp`` with an AVIF brand)?"""
    return _brand(data) in AVIF_BRANDS


def decode_photo(data, flags: int):
    """A photo file's bytes (a uint8 array) as an image, or None when it cannot be decoded: a HEIF/HEIC
    or AVIF photo (known by its first bytes, whatever its name says) by Pillow (with pillow-heif for
    HEIF), anything else by ``cv2.imdecode`` with ``flags``, and by Pillow where OpenCV cannot (a GIF).
    OpenCV's wheel decodes no HEIF or AVIF."""
    if is_heif(data):
        _register_heif()
        return decode_with_pillow(data)
    if is_avif(data):  # Pillow's own AVIF plugin (its wheels bundle libavif since 11.3)
        return decode_with_pillow(data)
    import cv2

    if not len(data):
        return None
    img = cv2.imdecode(data, flags)
    return img if img is not None else decode_with_pillow(data)  # a GIF, which OpenCV's wheel does not read


def decode_with_pillow(data):
    """A photo's bytes decoded by Pillow as a BGR uint8 array, turned upright (its EXIF or HEIF
    rotation applied, as the phone shows it), or None when it cannot be decoded."""
    import io

    import numpy as np
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(bytes(data))) as im:
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except Exception:  # noqa: BLE001 - pillow-heif and libavif raise RuntimeError, ValueError, OSError, ...
        return None
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


@functools.lru_cache(maxsize=1)
def _register_heif() -> None:
    """Teach Pillow to open HEIF files (once)."""
    try:
        import pillow_heif
    except ImportError:  # a dependency: only a broken install lacks it
        from fingerspell.errors import FingerspellError

        raise FingerspellError("HEIC photos need pillow-heif, which is missing: run 'pip install pillow-heif' "
                               "(or reinstall fingerspell)") from None
    pillow_heif.register_heif_opener()


def passed_over(path) -> bool:
    """A file a folder read leaves out and reports: not of the photo types, not hidden (.DS_Store)."""
    name = getattr(path, "name", str(path))
    return not name.startswith(".") and getattr(path, "suffix", "").lower() not in IMAGE_SUFFIXES


def redacted_url(url: str) -> str:
    """The address without its password (``rtsp://user:secret@cam/`` -> ``rtsp://user:***@cam/``)."""
    head, sep, rest = url.partition("://")
    auth, at, host = rest.partition("@")
    if at and ":" in auth and "/" not in auth:
        return f"{head}{sep}{auth.split(':', 1)[0]}:***@{host}"
    return url


__all__ = ["AVIF_BRANDS", "HEIF_BRANDS", "IMAGE_SUFFIXES", "STREAM_SCHEMES", "VIDEO_SUFFIXES", "decode_photo",
           "decode_with_pillow", "is_avif", "is_heif", "is_stream_url", "passed_over", "redacted_url"]

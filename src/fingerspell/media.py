"""Which files and addresses fingerspell reads as photos, videos and streams: one list for every
command, so a folder that ``predict`` reads is read the same by ``build-dataset``, ``detect``,
``calibrate`` and ``run``."""

from __future__ import annotations

import functools

#: still images: OpenCV decodes most (a phone photo's EXIF orientation applied: hands/detector.load_image),
#: pillow-heif an iPhone's HEIC photos (:func:`decode_heif`)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".heic", ".heif")
#: video files (OpenCV's FFmpeg; a phone video's rotation applied: runtime/sources.VideoSource)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
#: photo formats phones write that neither decodes: named in errors, counted when skipped
PHONE_ONLY_SUFFIXES = (".avif",)

#: network addresses read as streams (runtime/sources.StreamSource): phone camera apps, IP cameras
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


def is_stream_url(spec) -> bool:
    """Is ``spec`` a network address (``rtsp://``, ``http://``, ...) rather than a file?"""
    return isinstance(spec, str) and "://" in spec and spec.split("://", 1)[0].lower() in STREAM_SCHEMES


#: ftyp brands of HEIF still pictures (HEVC-coded: heic, heix, ...; mif1 / msf1: any HEIF)
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def is_heif(data) -> bool:
    """Do these file bytes hold a HEIF/HEIC picture (an ISO box ``ftyp`` with a HEIF brand)?"""
    head = bytes(data[:12])
    return len(head) == 12 and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def decode_photo(data, flags: int):
    """A photo file's bytes (a uint8 array) as an image, or None when it cannot be decoded: a HEIF/HEIC
    photo (known by its first bytes, whatever its name says) by pillow-heif, anything else by
    ``cv2.imdecode`` with ``flags``."""
    if is_heif(data):
        return decode_heif(data)
    import cv2

    return cv2.imdecode(data, flags) if len(data) else None


def decode_heif(data):
    """A HEIF/HEIC photo's bytes as a BGR uint8 array, turned upright (its rotation applied, as an
    iPhone shows it), or None when it cannot be decoded."""
    import io

    import numpy as np
    from PIL import Image, ImageOps

    _register_heif()
    try:
        with Image.open(io.BytesIO(bytes(data))) as im:
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except Exception:  # noqa: BLE001 - pillow-heif raises RuntimeError, ValueError, OSError, ... on a bad file
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


def redacted_url(url: str) -> str:
    """The address without its password (``rtsp://user:secret@cam/`` -> ``rtsp://user:***@cam/``)."""
    head, sep, rest = url.partition("://")
    auth, at, host = rest.partition("@")
    if at and ":" in auth and "/" not in auth:
        return f"{head}{sep}{auth.split(':', 1)[0]}:***@{host}"
    return url


__all__ = ["HEIF_BRANDS", "IMAGE_SUFFIXES", "PHONE_ONLY_SUFFIXES", "STREAM_SCHEMES", "VIDEO_SUFFIXES",
           "decode_heif", "decode_photo", "is_heif", "is_stream_url", "redacted_url"]

"""The WebSocket protocol of the web app.

Client -> server:

* a **binary** message is one camera frame: the JPEG bytes, optionally after a 12-byte header
  ``b"FST1"`` + little-endian float64 capture time in seconds (the page sends
  ``performance.now() / 1000``); without the header the server's clock times the frame;
* a **text** message is a JSON command: ``{"type": "space" | "delete" | "undo" | "reset"}`` or
  ``{"type": "pick", "index": n}`` (suggestion n, 1-3).

Server -> client, always JSON text, exactly one reply per binary message (so a page that keeps
one frame in flight never stalls): ``{"type": "reading", ...}`` (see :func:`reading_message`), or
``{"type": "error" | "dropped", "code": ..., "message": ...}``. A command gets
``{"type": "sentence", ...}``. The server keeps no images: a frame lives only while it is read.
"""

from __future__ import annotations

import math
import struct
from typing import Optional, Tuple

import numpy as np

MAGIC = b"FST1"
HEADER = struct.Struct("<4sd")
JPEG_SOI = b"\xff\xd8"
COMMANDS = ("space", "delete", "undo", "reset", "pick")
# SOF markers that carry the frame size (baseline, extended, progressive, lossless, ...).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class FrameError(Exception):
    """A frame the server will not read; ``code`` is machine-readable, the text says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_message(self, frame: int) -> dict:
        return {"type": "error", "code": self.code, "frame": frame, "message": self.message}


def split_frame(data: bytes, max_bytes: int) -> Tuple[Optional[float], bytes]:
    """(client time or None, JPEG bytes) of one binary message, after the size check."""
    if len(data) > max_bytes:
        raise FrameError("too_large", f"frame of {len(data):,} bytes is over this server's cap of {max_bytes:,}: "
                         "send a smaller JPEG (640x480 at quality 0.8 is about 40-80 KB)")
    t: Optional[float] = None
    if data[:4] == MAGIC:
        if len(data) < HEADER.size:
            raise FrameError("bad_frame", "frame header is cut short: send b'FST1' + float64 time + JPEG")
        _, t = HEADER.unpack_from(data)
        if not math.isfinite(t):
            raise FrameError("bad_frame", f"frame time {t} is not a finite number of seconds")
        data = data[HEADER.size:]
    if data[:2] != JPEG_SOI:
        raise FrameError("bad_frame", "frame is not a JPEG image (it does not start with FF D8): send the camera "
                         "picture as image/jpeg")
    return t, data


def jpeg_size(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) from the JPEG's SOF marker without decoding it, or None if there is none."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in _SOF and i + 9 <= n:
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            return w, h
        if marker == 0xDA:  # start of scan before any SOF
            return None
        i += 2 + length
    return None


def decode_jpeg(data: bytes, max_pixels: int) -> np.ndarray:
    """The BGR image of a JPEG, refusing ones too large to decode safely."""
    import cv2

    size = jpeg_size(data)
    if size is None:
        raise FrameError("bad_frame", "frame is not a readable JPEG (no frame header found): send image/jpeg")
    w, h = size
    if w < 16 or h < 16 or w * h > max_pixels:
        raise FrameError("too_large" if w * h > max_pixels else "bad_frame",
                         f"frame of {w}x{h} pixels is outside 16x16 .. {max_pixels:,} pixels: send 640x480")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameError("bad_frame", f"frame of {w}x{h} could not be decoded as JPEG (corrupt data?)")
    return image


def parse_command(msg: dict) -> Tuple[str, int]:
    """(command, index) from a text message, or a FrameError naming what is accepted."""
    kind = msg.get("type") if isinstance(msg, dict) else None
    if kind not in COMMANDS:
        raise FrameError("bad_command", f"unknown command {kind!r}: send one of {', '.join(COMMANDS)}")
    index = msg.get("index", 0)
    if kind == "pick" and (not isinstance(index, int) or not 1 <= index <= 9):
        raise FrameError("bad_command", f"pick needs a suggestion number 1-9 as index, got {index!r}")
    return kind, int(index) if isinstance(index, int) else 0


def _hand(h) -> dict:
    hand = h.hand
    w, hgt = hand.image_size
    return {
        "track": h.track_id, "handedness": hand.handedness, "label": h.label,
        "confidence": round(float(h.confidence), 3), "accepted": h.accepted, "stable": h.stable,
        "box": _fractions(hand.box, (w, hgt)),
        "landmarks": np.round(hand.landmarks[:, :2].astype(np.float64), 4).tolist(),
        "top": [[name, round(float(p), 3)] for name, p in h.top],
    }


def _written(result) -> Optional[dict]:
    """The letter this frame wrote (a read hold, or an older recognizer's sentence event), or None."""
    hold = getattr(result, "hold", None)
    if hold is not None:
        return {"letter": hold.letter, "kind": getattr(hold, "kind", "static"),
                "confidence": round(float(hold.confidence), 3)}
    event = getattr(result, "event", None)
    if event is not None and hasattr(event, "label"):
        return {"letter": event.label, "kind": event.kind}
    return None


def _word(result) -> Optional[dict]:
    """The word this frame finished (the decoder's reading of the spelled letters), or None."""
    word = getattr(getattr(result, "reading", None), "word", None)
    if word is None:
        return None
    return {"spelled": getattr(word, "spelled", None), "word": getattr(word, "word", None),
            "accepted": bool(getattr(word, "accepted", False))}


def suggestion_words(items, k: int = 3) -> list:
    """Words from suggestions given as strings, (word, p) pairs or objects with ``.word``."""
    out = []
    for s in list(items or [])[:k]:
        word = s if isinstance(s, str) else getattr(s, "word", None)
        if word is None and isinstance(s, (tuple, list)) and s:
            word = s[0]
        out.append(str(word))
    return out


def _number(value) -> Optional[float]:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return round(v, 3) if math.isfinite(v) else None


def _fractions(box, image_size: Tuple[int, int]) -> list:
    """An (x0, y0, x1, y1) pixel box as fractions of the frame."""
    w, h = image_size
    return [round(box[0] / w, 4), round(box[1] / h, 4), round(box[2] / w, 4), round(box[3] / h, 4)]


def reading_message(result, image_size: Tuple[int, int], server_ms: float) -> dict:
    """The reply to one frame. Fields the recognizer does not have yet are null or empty."""
    best = result.best
    suggestions = getattr(result, "suggestions", None) or []
    return {
        "type": "reading", "frame": result.index, "time": round(float(result.timestamp), 4),
        "size": list(image_size), "hands": [_hand(h) for h in result.hands], "writer": result.writer,
        "letter": best.label if best is not None else None, "stable": result.stable,
        "hold_state": getattr(result, "hold_state", None), "progress": _number(getattr(result, "progress", None)),
        "motion": _number(getattr(result, "motion", None)), "written": _written(result),
        "word": _word(result),
        "sentence": result.sentence, "current_word": getattr(result, "current_word", None),
        "suggestions": suggestion_words(suggestions),
        "adaptation": getattr(result, "adaptation", None),  # learning from the words spelled (or --adapt)
        "resting": None if getattr(result, "resting", None) is None else _fractions(result.resting, image_size),
        "cut_off": bool(getattr(result, "cut_off", False)),  # the writing hand reaches out of the picture
        "timings_ms": {k: round(float(v), 2) for k, v in result.timings.items()},
        "server_ms": round(server_ms, 2),
    }

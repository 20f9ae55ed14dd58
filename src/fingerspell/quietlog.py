"""Hide the log noise MediaPipe, TFLite and absl print on every run (``--verbose`` shows it).

MediaPipe 0.10.21 logs through absl's C++ logger before anything initialises it, so
``GLOG_minloglevel`` does not silence it: lines such as ``INFO: Created TensorFlow Lite XNNPACK
delegate for CPU.`` and ``W0000 00:00:... inference_feedback_manager.cc:114] ...`` go straight to
file descriptor 2. :func:`install` therefore puts a filter on fd 2 itself: a pipe whose reader
thread drops those lines and passes everything else (Python's own messages, tracebacks, progress
bars) through to the real stderr unchanged. It is process-wide, idempotent, and undone at exit.

FFmpeg's lines from inside OpenCV (``[mov,mp4,... @ 0x55f0...] moov atom not found`` for a cut-off
video) go too: the command's own one-line error says what is wrong with the file.

Only the native log format is dropped; a Python warning or a real error is never hidden.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
from typing import Optional

# absl C++ lines ("W0000 00:00:1795689462.564841    6503 file.cc:114] ..."), TFLite's INFO banner,
# absl's "before InitializeLog" notice, and glog-style lines from the graph.
NOISE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"
    rb"|INFO: Created TensorFlow Lite"
    rb"|INFO: Initialized TensorFlow Lite"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|Fontconfig warning"
    rb"|\[[^\]\n]+ @ 0x[0-9a-fA-F]+\] )"  # FFmpeg inside OpenCV: "[av1 @ 0x55f0...] Failed to get pixel format."
)
_PREFIXES = (b"I0", b"W0", b"E0", b"INFO: ", b"WARNING: All log", b"Fontconfig", b"[")

_lock = threading.Lock()
_state: Optional["_Filter"] = None


def quiet_environment() -> None:
    """Environment settings that lower native log levels (effective before MediaPipe/TF load)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    logging.getLogger("absl").setLevel(logging.ERROR)
    if "absl.logging" in sys.modules:
        sys.modules["absl.logging"].set_verbosity("error")


def is_noise(line: bytes) -> bool:
    """True for a native log line that :func:`install` drops."""
    return bool(NOISE.match(line.lstrip(b"\r")))


class _Filter:
    """fd 2 -> pipe -> reader thread -> the saved real stderr, minus the noise lines."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.real = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self.read_fd = read_fd
        self.dropped = 0
        self.thread = threading.Thread(target=self._pump, name="fingerspell-stderr-filter", daemon=True)
        self.thread.start()

    def _emit(self, data: bytes) -> None:
        while data:
            try:
                n = os.write(self.real, data)
            except OSError:
                return
            data = data[n:]

    def _pump(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            out = []
            for line in lines:
                if is_noise(line):
                    self.dropped += 1
                else:
                    out.append(line + b"\n")
            # A partial line (a progress bar redrawn with \r) goes out at once unless it may be noise.
            if pending and not pending.lstrip(b"\r").startswith(_PREFIXES):
                out.append(pending)
                pending = b""
            if out:
                self._emit(b"".join(out))
        if pending and not is_noise(pending):
            self._emit(pending)
        os.close(self.read_fd)

    def close(self) -> None:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(self.real, 2)  # closes the pipe's last write end: the reader sees EOF
        self.thread.join(timeout=2.0)
        os.close(self.real)


def install() -> None:
    """Filter native log noise out of this process's stderr from now on (idempotent).

    Does nothing when ``sys.stderr`` has been replaced (a test runner or an IDE capturing output).
    """
    global _state
    quiet_environment()
    if sys.stderr is not sys.__stderr__:
        return  # stderr is already captured (pytest, an IDE): leave fd 2 to whoever captures it
    with _lock:
        if _state is not None:
            return
        try:
            _state = _Filter()
        except OSError:  # no fd 2 (a daemon, pythonw): nothing to filter
            return
        atexit.register(uninstall)


def uninstall() -> None:
    """Put the real stderr back (called at exit)."""
    global _state
    with _lock:
        state, _state = _state, None
    if state is not None:
        state.close()


def installed() -> bool:
    return _state is not None

"""Optional text-to-speech for the live app: espeak-ng / espeak if installed, else pyttsx3.

Speech never blocks the caller and never crashes the app: when no engine is present,
:func:`find_speaker` prints a one-line notice and returns None.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
from typing import Optional, Sequence

COMMANDS = ("espeak-ng", "espeak")


class Speaker:
    """Speaks text in the background."""

    name = "none"

    def speak(self, text: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CommandSpeaker(Speaker):
    """An espeak-style program (``espeak-ng TEXT``); a new utterance cuts off the previous one."""

    def __init__(self, executable: str, extra_args: Sequence[str] = ()) -> None:
        self.executable = executable
        self.name = executable
        self.extra_args = list(extra_args)
        self._proc: Optional[subprocess.Popen] = None

    def speak(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc = subprocess.Popen([self.executable, *self.extra_args, text],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            print(f"fingerspell: speech failed ({exc}); continuing without it", file=sys.stderr)

    def wait(self, timeout: float = 10.0) -> None:
        if self._proc is not None:
            self._proc.wait(timeout=timeout)

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()


class Pyttsx3Speaker(Speaker):
    """pyttsx3 on its own thread (its ``runAndWait`` blocks)."""

    name = "pyttsx3"

    def __init__(self) -> None:
        import pyttsx3

        self._engine = pyttsx3.init()
        self._queue: "queue.Queue[Optional[str]]" = queue.Queue()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                self._engine.say(text)
                self._engine.runAndWait()
            except Exception as exc:  # engine driver errors vary by platform
                print(f"fingerspell: speech failed ({exc})", file=sys.stderr)

    def speak(self, text: str) -> None:
        if text.strip():
            self._queue.put(text.strip())

    def close(self) -> None:
        self._queue.put(None)


def find_speaker(notice: bool = True) -> Optional[Speaker]:
    """The first speech engine found, or None (with a one-line notice on stderr)."""
    for cmd in COMMANDS:
        exe = shutil.which(cmd)
        if exe:
            return CommandSpeaker(exe)
    try:
        return Pyttsx3Speaker()
    except Exception:  # ImportError, or a pyttsx3 with no working driver
        pass
    if notice:
        print("fingerspell: --speak needs espeak-ng (apt-get install espeak-ng) or pyttsx3 "
              "(pip install pyttsx3); continuing without speech", file=sys.stderr)
    return None

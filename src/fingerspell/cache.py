"""The one cache folder: ``$XDG_CACHE_HOME/fingerspell`` (``~/.cache/fingerspell`` when unset).

Everything fingerspell keeps between runs lives under it: ONNX exports (``onnx/``), per-photo
detections of dataset builds (``build/``) and MediaPipe task bundles. Imports nothing heavy, so
command-line help can show the folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/fingerspell``, or ``~/.cache/fingerspell`` (read each call: tests and users may set it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "fingerspell"


def cache_dir(*parts: str) -> Path:
    """A folder under :func:`cache_root` (not created: the writer makes it when it writes)."""
    return cache_root().joinpath(*parts)

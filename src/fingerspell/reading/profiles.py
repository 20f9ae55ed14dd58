"""Where calibration profiles live: a user data folder, plus any path the user gives.

``$FINGERSPELL_PROFILES`` if set, else ``$XDG_DATA_HOME/fingerspell/profiles`` (by default
``~/.local/share/fingerspell/profiles``). A profile is named by its file stem: ``me`` is
``<folder>/me.profile``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Union

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]
SUFFIX = ".profile"


def profiles_dir() -> Path:
    """The user's profile folder (not created here)."""
    env = os.environ.get("FINGERSPELL_PROFILES")
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "fingerspell" / "profiles"


def _is_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or spec.endswith(SUFFIX) or spec.startswith((".", "~"))


def profile_path(spec: PathLike) -> Path:
    """Where a profile given as a path or a bare name is (or would be) stored."""
    s = str(spec)
    if not s:
        raise FingerspellError("empty profile name: give a name (me) or a path (me.profile)")
    return Path(s).expanduser() if _is_path(s) else profiles_dir() / f"{s}{SUFFIX}"


def resolve_profile(spec: PathLike) -> Path:
    """An existing profile file for a path or a stored name; a clear error naming what exists."""
    p = profile_path(spec)
    if p.is_file():
        return p
    names = ", ".join(list_profiles()) or "none"
    raise FingerspellError(f"profile {spec} not found ({p}): stored profiles: {names}; make one with "
                           "fingerspell calibrate --source DIR --out NAME")


def list_profiles() -> List[str]:
    """Names of the stored profiles, sorted."""
    root = profiles_dir()
    return sorted(p.stem for p in root.glob(f"*{SUFFIX}") if p.is_file()) if root.is_dir() else []


def remove_profile(spec: PathLike) -> Path:
    """Delete a stored profile (by name or path); returns its path."""
    p = resolve_profile(spec)
    p.unlink()
    return p

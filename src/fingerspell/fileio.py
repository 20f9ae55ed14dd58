"""Atomic file output: every file fingerspell writes appears whole or not at all.

A temp file in the target's folder is written, given the mode a new file gets under the umask
(``mkstemp`` makes 0600 files, which other users could not read), and renamed over the target.
Files that belong together (an ``.onnx`` and its card, a report and its plot) are staged side by
side and renamed in one go by :func:`publish_together`: all of them appear, or none does and the
files that were there before are left as they were.

A full disk (or a quota, or a file-size limit) turns into :class:`DiskFullError`, one line naming
the folder: "no space left on the device holding X".
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from fingerspell.errors import FingerspellError

PathLike = Union[str, Path]
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
FSYNC_MIN_BYTES = 1 << 20  # large files are synced before the rename; small ones are cheap to rewrite
LOW_SPACE_BYTES = 1 << 20


class DiskFullError(FingerspellError, OSError):
    """The device holding an output ran out of space (or a quota or file-size limit was hit).

    Also an OSError, so that code which shrugs off a failed optional write (a cache) still does.
    """

    def __init__(self, path: PathLike) -> None:
        p = Path(path)
        self.path = p
        folder = p if p.is_dir() else p.parent
        super().__init__(f"no space left on the device holding {folder}: free some space there "
                         "(or write somewhere else) and run again; nothing partial was left behind")

    def __reduce__(self):  # survives a process pool's pickling with its path, not its message
        return (type(self), (self.path,))


def is_no_space(exc: BaseException) -> bool:
    """True for the OSErrors a full disk, a quota or a file-size limit raise."""
    return isinstance(exc, DiskFullError) or (isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS)


def low_on_space(path: PathLike, need: int = LOW_SPACE_BYTES) -> bool:
    """True when the device holding ``path`` has less than ``need`` bytes free."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free < need
    except OSError:
        return False


def write_failed(path: PathLike, what: str = "file") -> FingerspellError:
    """The error for a writer that reports failure without saying why (OpenCV does)."""
    if low_on_space(path):
        return DiskFullError(path)
    return FingerspellError(f"could not write the {what} {path} completely: no space left on the device holding "
                            f"{Path(path).parent}, or a file-size limit was reached; nothing was left under that "
                            "name: free some space and run again")


def file_mode() -> int:
    """The mode a new file gets under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_beside(out: Path, suffix: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=suffix)
    os.close(fd)
    return Path(tmp)


def _finish(tmp: Path) -> None:
    """Give the temp file its final mode; sync large files so the rename never publishes a hole."""
    os.chmod(tmp, file_mode())
    if tmp.stat().st_size >= FSYNC_MIN_BYTES:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _unlink(path: Optional[Path]) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def atomic_output(path: PathLike, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it replaces ``path``, on error it is removed.

    A full disk raises :class:`DiskFullError`; the temp file is removed and ``path`` is untouched.
    """
    out = Path(path)
    tmp: Optional[Path] = None
    try:
        tmp = _temp_beside(out, suffix)
        yield tmp
        _finish(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        if is_no_space(exc):
            raise DiskFullError(out) from None
        raise
    finally:
        if tmp is not None and tmp.exists():
            _unlink(tmp)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_json(path: PathLike, obj: Any, indent: int = 1) -> Path:
    return atomic_write_bytes(path, json_bytes(obj, indent))


def json_bytes(obj: Any, indent: int = 1) -> bytes:
    return (json.dumps(obj, indent=indent) + "\n").encode("utf-8")


def _swap_in(tmps: Sequence[Path], targets: Sequence[Path]) -> None:
    """Rename every temp over its target; on any failure put every target back as it was."""
    backups: List[Optional[Path]] = []
    done: List[int] = []
    try:
        for t in targets:
            backup = None
            if t.exists():
                backup = _temp_beside(t, ".old")
                os.unlink(backup)
                try:
                    os.link(t, backup)  # a second name for the old file: no data written
                except OSError:  # a file system without hard links: no way back for this one
                    backup = None
            backups.append(backup)
        for i, (tmp, t) in enumerate(zip(tmps, targets)):
            os.replace(tmp, t)
            done.append(i)
    except BaseException:
        for i in reversed(done):
            with contextlib.suppress(OSError):
                if backups[i] is not None:
                    os.replace(backups[i], targets[i])
                else:
                    os.unlink(targets[i])
        raise
    finally:
        for b in backups:
            _unlink(b)


@contextlib.contextmanager
def publish_together(paths: Sequence[PathLike], staged: Optional[Dict[PathLike, PathLike]] = None
                     ) -> Iterator[List[Path]]:
    """Yield one temp path per target; when the block ends cleanly all are renamed into place.

    ``staged`` maps more targets to temp files already written beside them (a video), which are
    published with the rest. If the block raises (a full disk, Ctrl-C, a bug) or a rename fails,
    no target changes: the temp files are removed and files already there keep their old content.
    """
    extra = {Path(t): Path(tmp) for t, tmp in (staged or {}).items()}
    targets = [Path(p) for p in paths]
    everything = targets + list(extra)
    if len({t.resolve() for t in everything}) < len(everything):
        raise FingerspellError(f"files published together must differ: {[str(t) for t in everything]}")
    tmps: List[Path] = []
    try:
        for t in targets:
            tmps.append(_temp_beside(t, ".part"))
        yield list(tmps)
        for tmp in tmps + list(extra.values()):
            _finish(tmp)
        _swap_in(tmps + list(extra.values()), everything)
    except OSError as exc:
        if is_no_space(exc):
            raise DiskFullError(everything[0]) from None
        raise
    finally:
        for tmp in tmps + list(extra.values()):
            _unlink(tmp)


def write_together(contents: Dict[PathLike, bytes], staged: Optional[Dict[PathLike, PathLike]] = None
                   ) -> List[Path]:
    """Write ``{path: bytes}`` so that all files appear or none does (see :func:`publish_together`)."""
    paths = list(contents)
    with publish_together(paths, staged) as tmps:
        for tmp, p in zip(tmps, paths):
            tmp.write_bytes(contents[p])
    return [Path(p) for p in paths] + [Path(p) for p in (staged or {})]

"""Shared fixtures: the real photos in $FINGERSPELL_DATA (CI points it at ../shared/data)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


def data_root() -> Path:
    root = Path(os.environ.get("FINGERSPELL_DATA", REPO.parent / "shared" / "data"))
    if not (root / "massey").is_dir():
        raise RuntimeError(
            f"the test photos are not at {root}: set FINGERSPELL_DATA to the shared data folder"
        )
    return root


@pytest.fixture(scope="session")
def data() -> Path:
    return data_root()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _to_docs(shot: Path) -> None:
    """Copy a screenshot from test-artifacts/ to docs/ (same name) only when it is missing there or with
    FINGERSPELL_UPDATE_DOCS=1: a test run leaves the pictures in docs/ as they are."""
    target = REPO / "docs" / shot.name
    if not target.exists() or os.environ.get("FINGERSPELL_UPDATE_DOCS") == "1":
        shutil.copy(shot, target)


@pytest.fixture(scope="session")
def to_docs():
    return _to_docs


def _die_with_parent() -> None:
    """In the Xvfb child: get SIGTERM if pytest dies (a crash skips the fixture's teardown)."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def xvfb():
    """One virtual X server for every GUI test of the session: Tk keeps its display connection after
    a window is destroyed, so a server stopped between test modules would abort the next Tk call."""
    exe = shutil.which("Xvfb")
    assert exe, "Xvfb is not installed: run `make test` (it installs xvfb) or apt-get install xvfb"
    # Xvfb picks a free display itself and writes its number once it accepts clients: two pytest
    # workers (make test) starting one each cannot take the same number.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write_end), "-screen", "0", "1600x1200x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_end,),
                            preexec_fn=_die_with_parent)
    os.close(write_end)
    number = b""
    deadline = time.monotonic() + 15
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([read_end], [], [], 0.1)[0]:
            chunk = os.read(read_end, 16)
            if not chunk:
                break  # Xvfb exited without a display
            number += chunk
    os.close(read_end)
    if not number.strip().isdigit():
        proc.kill()
        pytest.fail(f"Xvfb did not start in 15 s (exit code {proc.wait()}): try `Xvfb -displayfd 1` by hand")
    yield f":{number.strip().decode()}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(autouse=True)
def _collect_windows_here(request):
    """After a GUI test, collect its garbage on the main thread: a Tk window left in a reference
    cycle and freed by a collection on another thread would abort the whole run (see
    ``live_widgets.retire_window``)."""
    yield
    if "xvfb" in request.fixturenames:
        import gc

        gc.collect()

"""Helpers for the reliability tests: the CLI in a child process (optionally under a file-size
limit that stands in for a full disk, no root needed), a small real checkpoint and dataset.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def obey_permissions() -> None:
    """In a child (preexec_fn): drop the capabilities that let root read any file, so that a
    ``chmod 000`` file is unreadable even when the tests run as root."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # takes effect at exec


def cli(args: Sequence[str], fsize: Optional[int] = None, timeout: float = 300,
        cwd: Optional[Path] = None, as_user: bool = False) -> subprocess.CompletedProcess:
    """``python -m fingerspell ARGS`` in a child; ``fsize`` caps every file it writes (bytes).

    With SIGXFSZ ignored, a write past the cap fails with EFBIG, as a write to a full disk fails
    with ENOSPC: the program must notice either. ``as_user``: file permissions bind even for root.
    """
    def limit() -> None:
        if as_user:
            obey_permissions()
        if fsize:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "fingerspell", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd, preexec_fn=limit if (fsize or as_user) else None)


def error_lines(proc: subprocess.CompletedProcess) -> List[str]:
    """The ``fingerspell X: error:`` lines; a traceback fails the caller's check."""
    assert "Traceback" not in proc.stderr, proc.stderr
    return [ln for ln in proc.stderr.splitlines() if ": error:" in ln]


def leftovers(folder: Path) -> List[str]:
    """Temp files (``.name.xxxx.part``) left in ``folder``."""
    return sorted(p.name for p in Path(folder).rglob(".*") if ".part" in p.name or p.name.endswith(".old"))


def tiny_checkpoint(folder: Path, hidden: int = 16) -> Path:
    """An untrained landmark MLP over all classes, saved as ``folder/m`` (.safetensors + .json)."""
    import torch

    from fingerspell.labels import CLASSES, NUM_CLASSES
    from fingerspell.models import build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model("landmark_mlp", NUM_CLASSES, hidden=(hidden,)).eval()
    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, {"classes": list(CLASSES), "training": {"test": "reliability"}, "metrics": {}},
                    folder / "m")
    return folder / "m"


def tiny_dataset(n: int = 40, seed: int = 0, letters: str = "ABCDE"):
    """A small DatasetArrays of landmark rows (random points, real shapes) for letters ``letters``."""
    from fingerspell.data.schema import DatasetArrays
    from fingerspell.hands.landmarks import FEATURE_DIM, NUM_LANDMARKS
    from fingerspell.labels import CLASSES, index_of

    rng = np.random.default_rng(seed)
    labels = np.array([index_of(letters[i % len(letters)]) for i in range(n)], np.int64)
    return DatasetArrays(
        masks=rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8),
        landmarks=rng.random((n, NUM_LANDMARKS, 3), dtype=np.float32),
        vectors=rng.standard_normal((n, FEATURE_DIM), dtype=np.float32),
        handedness=np.ones(n, np.int8), image_sizes=np.tile(np.array([640, 480], np.int32), (n, 1)),
        labels=labels, groups=np.array([f"s{i % 3}" for i in range(n)], dtype=str),
        sources=np.full(n, "test", dtype="<U4"),
        paths=np.array([f"p{i}.jpg" for i in range(n)], dtype=str), no_hand=np.zeros(n, bool), classes=CLASSES,
    )


def photo(data: Path, letter: str = "a", k: int = 0) -> Path:
    """A real massey photo."""
    files = sorted((data / "massey" / letter).glob("*.jpeg"))
    return files[k]

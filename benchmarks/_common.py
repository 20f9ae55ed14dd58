"""Helpers shared by the benchmark scripts: where the photos are, and what machine ran them."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: the cross-data-set protocols: (training sets, test set), names of artifacts/data/<name>.npz
CROSS = {"to-mon95": (("asl_train", "massey"), "mon95"), "to-asl": (("mon95", "massey"), "asl_test")}


def data_root() -> Path:
    root = Path(os.environ.get("FINGERSPELL_DATA", REPO.parent / "shared" / "data"))
    if not (root / "massey").is_dir():
        raise SystemExit(f"photos not found at {root}: set FINGERSPELL_DATA to the shared data folder")
    return root


def machine() -> str:
    """One line naming the machine, for the README's figures: the CPU with its family/model and widest
    vector unit (one name, e.g. "AMD EPYC", covers generations whose kernels round differently, and a
    trained figure can move with them), the cores and Python."""
    cpu, info = platform.processor() or platform.machine(), {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    cpu = info.get("model name", cpu)
    flags = set(info.get("flags", "").split())
    isa = next((f for f in ("avx512f", "avx2", "avx") if f in flags), "")
    if "cpu family" in info:
        cpu += f" (family {info['cpu family']} model {info.get('model', '?')}{', ' + isa if isa else ''})"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def mon95_sessions(paths) -> list:
    """mon95's recording session of each photo: 0 for photos 0-4 of a letter, 1 for 5-9 (two
    sittings of near-identical frames per user folder, docs/labels.md)."""
    return [int(re.search(r"(\d+)\.\w+$", str(p)).group(1)) // 5 for p in paths]


def write_results(out, doc: dict, md: str) -> None:
    """Write a benchmark's ``doc`` to ``out`` (JSON) and ``md`` beside it (``.md``), each file whole
    or not at all, and print the table."""
    from fingerspell.fileio import atomic_write_bytes, atomic_write_json

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, doc)
    atomic_write_bytes(out.with_suffix(".md"), md.encode("utf-8"))
    print(md)


def add_lift_blur(ap) -> None:
    """``--lift-blur K``: the dark-frame lift's Gaussian kernel (hands/exposure.py), an odd number of
    pixels; 0 (the default) keeps the product's."""
    import argparse

    def odd(text: str) -> int:
        k = int(text)
        if k < 0 or (k and k % 2 == 0):
            raise argparse.ArgumentTypeError(f"{text} is not an odd number of pixels (3, 5, 7, ...)")
        return k

    ap.add_argument("--lift-blur", type=odd, default=0, metavar="K",
                    help="the lift's Gaussian kernel in pixels (default: hands/exposure.py's BLUR)")


def use_lift_blur(k: int) -> None:
    """Set the lift's kernel to ``k`` pixels in this process (0: leave the product's)."""
    if k:
        from fingerspell.hands import exposure

        exposure.BLUR = k

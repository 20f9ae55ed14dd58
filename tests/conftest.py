"""Shared fixtures: the real photos in $FINGERSPELL_DATA (CI points it at ../shared/data)."""

from __future__ import annotations

import os
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

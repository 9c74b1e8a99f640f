"""Shared fixtures. Tests read real data from $DLMIA_DATA (medmnist/, pubmed/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    value = os.environ.get("DLMIA_DATA", "")
    root = Path(value or "/nonexistent")
    if not (root / "medmnist").is_dir() or not (root / "pubmed").is_dir():
        pytest.fail(
            f"DLMIA_DATA={value!r} must name a folder holding medmnist/*.npz and pubmed/ "
            "(the real test data); see README, section Tests"
        )
    return root


@pytest.fixture(scope="session")
def pubmed(data_root: Path) -> Path:
    return data_root / "pubmed"

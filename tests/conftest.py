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


@pytest.fixture(scope="session")
def quick_screened(data_root: Path) -> "pd.DataFrame":
    """The quick profile's literature stage up to the rules, as the workflow runs it
    (config.yaml, records read from ``data_root``): one row per unique record, with its decision."""
    import yaml

    from workflow.config import export_files, snapshot_files
    from workflow.literature import records
    from workflow.literature.collect import collect
    from workflow.literature.dedup import deduplicate
    from workflow.literature.screen import Criteria, screen

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["data_root"] = str(data_root)
    found, _ = collect(snapshot_files(config)[0], export_files(config)[0])
    unique, _ = deduplicate(records.frame(found))
    return screen(unique, Criteria.from_config(config["literature"]["screening"]))

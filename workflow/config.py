"""Reading the validated config: data root, snapshot files, per-run recipes, errors."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from jsonschema.exceptions import ValidationError

from .train.recipe import Recipe

SCHEMA = Path(__file__).parent / "schemas" / "config.schema.yaml"
DATA_ENV = "DLMIA_DATA"


def explain(error: ValidationError) -> str:
    """A schema error as one line naming the config key and what was expected."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        return f"config key '{key}': {error.message}; allowed keys: {', '.join(sorted(error.schema.get('properties', {})))}"
    expected = {k: v for k, v in error.schema.items() if k in ("type", "enum", "minimum", "maximum", "pattern", "minItems", "maxItems", "exclusiveMinimum", "exclusiveMaximum")}
    return f"config key '{key}': {error.message} (expected {expected})"


def data_root(config: dict) -> Path:
    """``data_root`` from the config, else ``$DLMIA_DATA``, else ``./data``."""
    return Path(config.get("data_root") or os.environ.get(DATA_ENV) or "data")


def snapshot_files(config: dict) -> tuple[list[Path], list[str]]:
    """The PubMed snapshot files in a stable order, and the patterns that matched nothing."""
    root = data_root(config)
    files: list[Path] = []
    unmatched: list[str] = []
    for pattern in config["literature"]["snapshot"]:
        found = sorted(Path(p) for p in glob.glob(str(root / pattern)))
        if not found:
            unmatched.append(str(root / pattern))
        files.extend(p for p in found if p not in files)
    return files, unmatched


def export_files(config: dict) -> tuple[list[dict], list[str]]:
    """One {path, format, source} per export file found, and the globs that matched nothing."""
    root = data_root(config)
    found: list[dict] = []
    unmatched: list[str] = []
    for export in config["literature"]["exports"]:
        paths = sorted(glob.glob(str(root / export["path"])))
        if not paths:
            unmatched.append(str(root / export["path"]))
        found.extend({**export, "path": path} for path in paths)
    return found, unmatched


def simulation_files(config: dict) -> tuple[list[str], list[str]]:
    """Labelled review CSVs for the screening simulation, and the globs that matched nothing."""
    root = data_root(config)
    found: list[str] = []
    unmatched: list[str] = []
    for pattern in config["literature"]["simulation"]["reviews"]:
        paths = sorted(glob.glob(str(root / pattern)))
        if not paths:
            unmatched.append(str(root / pattern))
        found.extend(p for p in paths if p not in found)
    return found, unmatched


def recipe(config: dict, model: str, spatial_dims: int) -> Recipe:
    """The training recipe of one model entry: global recipe, then the model's overrides."""
    settings = {**config["benchmark"].get("recipe", {}), **config["benchmark"]["models"][model].get("recipe", {})}
    batch = settings.pop(f"batch_size_{spatial_dims}d", None)
    settings.pop("batch_size_2d", None)
    settings.pop("batch_size_3d", None)
    if batch is not None:
        settings["batch_size"] = batch
    if "milestones" in settings:
        settings["milestones"] = tuple(settings["milestones"])
    return Recipe(**settings)

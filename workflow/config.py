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
    expected = {k: v for k, v in error.schema.items() if k in ("type", "enum", "minimum", "maximum", "multipleOf", "pattern", "minItems", "maxItems", "exclusiveMinimum", "exclusiveMaximum")}
    return f"config key '{key}': {error.message} (expected {expected})"


def data_root(config: dict) -> Path:
    """``data_root`` from the config, else ``$DLMIA_DATA``, else ``./data``."""
    return Path(config.get("data_root") or os.environ.get(DATA_ENV) or "data")


def _find(root: Path, pattern: str, unmatched: list[str]) -> list[str]:
    """Files matching ``pattern`` under ``root``, sorted; an empty match is noted."""
    found = sorted(glob.glob(str(root / pattern)))
    if not found:
        unmatched.append(str(root / pattern))
    return found


def snapshot_files(config: dict) -> tuple[list[str], list[str]]:
    """The PubMed snapshot files in a stable order, and the globs that matched nothing."""
    root, unmatched = data_root(config), []
    found = [f for pattern in config["literature"]["snapshot"] for f in _find(root, pattern, unmatched)]
    return list(dict.fromkeys(found)), unmatched


def export_files(config: dict) -> tuple[list[dict], list[str]]:
    """One {path, format, source} per export file found, and the globs that matched nothing."""
    root, unmatched = data_root(config), []
    found = [{**e, "path": f} for e in config["literature"]["exports"] for f in _find(root, e["path"], unmatched)]
    return found, unmatched


def simulation_files(config: dict) -> tuple[list[str], list[str]]:
    """Labelled review CSVs for the screening simulation, and the globs that matched nothing."""
    root, unmatched = data_root(config), []
    found = [f for pattern in config["literature"]["simulation"]["reviews"] for f in _find(root, pattern, unmatched)]
    return list(dict.fromkeys(found)), unmatched


def recipe(config: dict, model: str, spatial_dims: int) -> Recipe:
    """The training recipe of one model entry: global recipe, then the model's overrides
    (each resolved for ``spatial_dims`` first, so a model's ``epochs`` beats a global ``epochs_3d``)."""
    shared = Recipe.for_dims(config["benchmark"].get("recipe", {}), spatial_dims)
    own = Recipe.for_dims(config["benchmark"]["models"][model].get("recipe", {}), spatial_dims)
    return Recipe.from_dict({**shared, **own})

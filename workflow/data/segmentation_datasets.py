"""The 2-D segmentation datasets by name, prepared for training and read back for scoring.

:func:`prepare` gets a dataset (downloaded when its source is public, placed by the user
otherwise), checks every file a usable case reads against its MD5, reads each case, resizes
it to the training grid, z-scores each image and writes the dataset card: source, terms,
citation, modality, classes, pixel size, split sizes, the cases set aside with the reason,
and every usable case with its files. :func:`native` reads one case of the card again at
its own resolution, where test metrics are computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from . import drive, hc18, jsrt_scr, medseg_covid, montgomery
from .segmentation import SPLITS, Case, Sample, SegmentationDataError, channels_first, checksums, normalise, resize_image, resize_label, verify

DATASETS: dict[str, ModuleType] = {module.NAME: module for module in (hc18, montgomery, drive, jsrt_scr, medseg_covid)}
OPTIONS = {"jsrt_scr": ("test_fold",)}  # settings a dataset's cases() takes


@dataclass
class Prepared:
    """One split on the training grid."""

    images: np.ndarray  # float32 (N, C, H, W), each image z-scored per channel
    labels: np.ndarray  # uint8 (N, 1, H, W) class indices, or (N, K, H, W) {0, 1} per structure
    names: np.ndarray  # str (N,)


def module(name: str) -> ModuleType:
    if name not in DATASETS:
        raise ValueError(f"no 2-D segmentation dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def describe(name: str) -> dict:
    """Modality, classes (value → name), derived classes (name → values), multi-label or not."""
    dataset = module(name)
    return {
        "dataset": name,
        "modality": dataset.MODALITY,
        "classes": {int(value): label for value, label in dataset.CLASSES.items()},
        "derived": {label: list(values) for label, values in getattr(dataset, "DERIVED", {}).items()},
        "multilabel": dataset.MULTILABEL,
    }


def _options(name: str, settings: dict) -> dict:
    return {key: settings[key] for key in OPTIONS.get(name, ()) if key in settings}


def prepare(name: str, root: Path, settings: dict) -> tuple[dict[str, Prepared], dict]:
    """The splits of ``name`` under ``root`` (the data root's ``segmentation`` folder) on the
    training grid of ``settings`` (``size``: [rows, columns], or the images' own size when
    absent), and the dataset card."""
    dataset = module(name)
    dataset.ensure(root)
    usable, set_aside = dataset.cases(root, **_options(name, settings))
    if not usable:
        raise SegmentationDataError(f"{name}: no usable case under {root}; set aside: {set_aside}")
    missing = [split for split in ("train", "test") if not any(case.split == split for case in usable)]
    if missing:
        raise SegmentationDataError(f"{name}: no {' or '.join(missing)} case under {root}; set aside: {set_aside}")
    verify(root, sorted({file for case in usable for file in case.files}))
    rows: dict[str, list] = {split: [] for split in SPLITS}
    sizes, spacing = set(), []
    description = describe(name)
    for case in usable:
        sample = dataset.read(root, case)
        sizes.add(sample.image.shape[:2])
        spacing.append(sample.spacing)
        size = tuple(settings["size"]) if "size" in settings else sample.image.shape[:2]
        if "size" not in settings and len(sizes) > 1:
            raise SegmentationDataError(f"{name}: images of several sizes ({sorted(sizes)}); give segmentation.settings.{name}.size")
        image = normalise(channels_first(resize_image(sample.image, size)))
        label = resize_label(sample.label, size, description["multilabel"])
        rows[case.split].append((image, label if label.ndim == 3 else label[None], case.name))
    splits = {
        split: Prepared(np.stack([r[0] for r in found]), np.stack([r[1] for r in found]), np.asarray([r[2] for r in found]))
        for split, found in rows.items()
        if found
    }
    card = {
        **{k: v for k, v in description.items()},
        **dataset.card(root, usable, set_aside, **_options(name, settings)),
        "folder": f"segmentation/{getattr(dataset, 'FOLDER', '')}",
        "n_samples": {split: sum(case.split == split for case in usable) for split in SPLITS},
        "image_sizes": sorted(f"{w}x{h}" for h, w in sizes),
        "spacing_known": all(s is not None for s in spacing),
        "training_size": list(settings["size"]) if "size" in settings else None,
        "set_aside": set_aside,
        "cases": [{"name": c.name, "split": c.split, "group": c.group, "files": list(c.files)} for c in usable],
    }
    return splits, card


def native(name: str, root: Path, case: dict, sums: dict[str, str] | None = None) -> Sample:
    """A case of the card read again at its own resolution, its files checked first against
    ``sums`` (default: :func:`workflow.data.segmentation.checksums` of ``root``)."""
    verify(root, case["files"], sums)
    return module(name).read(root, Case(case["name"], case["split"], tuple(case["files"]), case.get("group", "")))


def save(splits: dict[str, Prepared], path: str | Path) -> None:
    np.savez(path, **{f"{split}_{field}": getattr(data, field) for split, data in splits.items() for field in Prepared.__dataclass_fields__})


def load(path: str | Path) -> dict[str, Prepared]:
    """Splits written by :func:`save`."""
    with np.load(path) as npz:
        present = sorted({key.split("_", 1)[0] for key in npz.files}, key=SPLITS.index)
        return {split: Prepared(**{field: npz[f"{split}_{field}"] for field in Prepared.__dataclass_fields__}) for split in present}

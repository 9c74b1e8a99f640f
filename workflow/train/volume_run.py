"""One 3-D segmentation run: a model, a volume dataset, a seed → metrics, log, per-case scores.

Volumes are preprocessed once (``workflow.data.volume_transforms``), the network trains on
random patches and segments whole volumes by sliding window. Metrics are computed on each
volume's own grid (its prediction taken back by MONAI's inverse of the preprocessing,
nearest-neighbour), per foreground class: the common metrics with distances in mm of that
volume's spacing. The first :data:`TRAIN_CHECK` training volumes go through the same path,
so the training Dice stands beside the test Dice. ``predictions.npz`` keeps, for up to
:data:`OVERLAY_CASES` test volumes, the axial slice through the centre of the ground truth
(image, truth and prediction per class, turned so that anterior is up) for the overlay figure. Like every run, the metrics
carry the configuration, seed, versions, device, host and timings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from monai.transforms import Compose
from tqdm import tqdm

from ..data.volume_transforms import native_label, preprocessing, to_native_grid
from ..models import create
from .engine import seed_everything
from .segmentation import Example, SegmentationRecipe, discrete, fit, predict
from .segmentation_augmentation import augmentation
from .segmentation_protocols import protocol
from .segmentation_run import TRAIN_CHECK, class_masks, fingerprint, overlay_cases, record, score, start


@dataclass(frozen=True)
class VolumeRunSpec:
    dataset: str
    model: str  # the config's name for this model entry
    arch: str
    params: dict
    recipe: SegmentationRecipe
    seed: int
    patch: tuple[int, int, int]
    spacing: tuple[float, float, float]  # mm the volumes are resampled to
    tolerance_mm: float  # of surface Dice
    window: tuple[float, float] | None = None  # CT intensity window (HU)
    augment: dict = field(default_factory=dict)
    profile: str = ""

    def fingerprint(self) -> str:
        return fingerprint(self)


def load_volumes(description: dict, root: Path, transform: Compose) -> dict[str, list[Example]]:
    """The cases of a :func:`workflow.data.volumes.prepare` description, preprocessed once by
    ``transform``, by split; each label keeps the transforms applied to it, for the inverse,
    and the path of its file (``label.meta['filename_or_obj']``)."""
    splits: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
    for case in tqdm(description["cases"], desc="volumes", file=sys.stderr):
        data = transform({"image": str(root / case["image"]), "label": str(root / case["label"])})
        splits[case["split"]].append(Example(case["name"], data["image"].as_tensor().float(), data["label"].float()))
    return splits


def centre_slice(label: np.ndarray) -> int:
    """The axial index through the centre of the foreground (the middle slice when there is none)."""
    z = np.flatnonzero(label.any(axis=(0, 1)))
    return int(round(z.mean())) if len(z) else label.shape[2] // 2


def _display(image: np.ndarray) -> np.ndarray:
    low, high = np.percentile(image, [0.5, 99.5])
    return (np.clip((image - low) / max(high - low, 1e-6), 0, 1) * 255).astype(np.uint8)


def execute(
    spec: VolumeRunSpec,
    description_path: str | os.PathLike,
    root: str | os.PathLike,
    metrics_path: str | os.PathLike,
    log_path: str | os.PathLike,
    cases_path: str | os.PathLike,
    predictions_path: str | os.PathLike,
    threads: int = 1,
    device: str = "auto",
    model_files: list[str] = (),
) -> dict:
    """Train and evaluate one run; the checkpoint beside ``metrics_path`` allows resuming."""
    metrics_path = Path(metrics_path)
    model_spec, target, started = start(spec, metrics_path, threads, device, model_files)

    description = json.loads(Path(description_path).read_text())
    classes = {int(value): name for value, name in description["classes"].items()}
    transform = preprocessing(description["modality"], spec.spacing, spec.patch, spec.window)
    volumes = load_volumes(description, Path(root), transform)
    seed_everything(spec.seed)
    model = create(spec.arch, spatial_dims=3, in_channels=description["channels"], out_channels=len(classes) + 1, img_size=spec.patch, **spec.params)
    began = time.perf_counter()
    result = fit(
        model, volumes["train"], volumes["val"], spec.recipe, spec.seed, target, list(classes), False, spec.patch,
        augmentation(spec.augment, 3), checkpoint=metrics_path.with_name("checkpoint.pt"), fingerprint=spec.fingerprint(),
    )
    wall = time.perf_counter() - began

    rules = protocol(spec.dataset)
    shown = overlay_cases([v.name for v in volumes["test"]], [True] * len(volumes["test"]))
    rows, slices = [], {}
    scored = [("test", v) for v in volumes["test"]] + [("train", v) for v in volumes["train"][:TRAIN_CHECK]]
    for split, volume in tqdm(scored, desc="scoring", file=sys.stderr):
        predicted = discrete(predict(model, volume.image, spec.patch, spec.recipe, False), False)[0]
        label, spacing = native_label(volume.label.meta["filename_or_obj"])
        native = to_native_grid(predicted, volume.label, transform)
        masks, truth = class_masks(native[None], classes, {}, False), class_masks(label[None], classes, {}, False)
        rows += [{"split": split, "spacing_mm": "×".join(f"{s:.4g}" for s in spacing), **row} for row in score(volume.name, masks, truth, spacing, spec.tolerance_mm)]
        if split == "test" and volume.name in shown:
            grid_label = np.asarray(volume.label[0]).astype(np.uint8)
            k = centre_slice(grid_label > 0)
            i = len(slices) // 4
            turn = lambda plane: np.rot90(plane).copy()  # RAS x, y → display rows, columns: anterior up  # noqa: E731
            slices |= {
                f"image_{i}": turn(_display(np.asarray(volume.image[0, :, :, k]))),
                f"truth_{i}": np.stack([turn(grid_label[:, :, k] == value) for value in classes]).astype(np.uint8),
                f"predicted_{i}": np.stack([turn(predicted.numpy()[:, :, k] == value) for value in classes]).astype(np.uint8),
                f"name_{i}": np.asarray(f"{volume.name} (axial)"),
            }
    np.savez_compressed(predictions_path, classes=np.asarray(list(classes.values())), **slices)
    fields = {
        "modality": description["modality"],
        "dims": 3,
        "input": "patch " + "×".join(map(str, spec.patch)) + " at " + "×".join(f"{s:g}" for s in spec.spacing) + " mm",
        "patch": list(spec.patch),
        "spacing_mm": list(spec.spacing),  # of training; metrics use each volume's own
        "tolerance": spec.tolerance_mm,
        "distance_unit": "mm",
        "classes": list(classes.values()),
        "derived_classes": [],
        "train_images": len(volumes["train"]),
    }
    run = {"model_spec": model_spec, "model": model, "result": result, "wall": wall, "started": started, "device": target}
    return record(spec, run, fields, pd.DataFrame(rows), rules, [], {"cases": cases_path, "log": log_path, "metrics": metrics_path})

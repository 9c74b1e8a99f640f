"""One 3-D segmentation run: a model, a volume dataset, a seed → metrics, log, per-case scores.

Metrics are computed on each test volume's own grid (its prediction taken back by MONAI's
inverse of the preprocessing, nearest-neighbour), per foreground class: Dice, HD95 in
voxels and in mm of that volume's spacing, surface Dice at the stated tolerance. The training Dice of the selected weights (whole volumes, the first
:data:`TRAIN_CHECK` training volumes) sits beside the test Dice, so overfitting shows.
``predictions.npz`` keeps, per test volume, the axial slice through the centre
of its ground truth (image, label, prediction) for the overlay figure. Like every run, the
metrics carry the configuration, seed, versions, device, host and timings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from monai.transforms import Compose

from ..data.volume_transforms import native_label, patch_sampler, preprocessing, to_native_grid
from ..models import create
from .engine import seed_everything
from .segmentation_run import fingerprint, record, start
from .segmentation_metrics import volume_metrics
from .volumes import Volume, VolumeRecipe, fit, foreground_dice, predict

TRAIN_CHECK = 8  # training volumes segmented whole after training, for the training Dice

@dataclass(frozen=True)
class VolumeRunSpec:
    dataset: str
    model: str  # the config's name for this model entry
    arch: str
    params: dict
    recipe: VolumeRecipe
    seed: int
    patch: tuple[int, int, int]
    spacing: tuple[float, float, float]  # mm the volumes are resampled to
    tolerance_mm: float  # of surface Dice
    window: tuple[float, float] | None = None  # CT intensity window (HU)
    profile: str = ""

    def fingerprint(self) -> str:
        return fingerprint(self)


def load_volumes(description: dict, root: Path, transform: Compose) -> dict[str, list[Volume]]:
    """The cases of a :func:`workflow.data.volumes.prepare` description, preprocessed once by
    ``transform``, by split; each label keeps the transforms applied to it, for the inverse."""
    splits: dict[str, list[Volume]] = {"train": [], "val": [], "test": []}
    for case in tqdm(description["cases"], desc="volumes", file=sys.stderr):
        data = transform({"image": str(root / case["image"]), "label": str(root / case["label"])})
        splits[case["split"]].append(Volume(case["name"], data["image"].as_tensor().float(), data["label"], str(root / case["label"])))
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
        model, volumes["train"], volumes["val"], patch_sampler(spec.patch, spec.recipe.samples), spec.patch, list(classes),
        spec.recipe, spec.seed, target, checkpoint=metrics_path.with_name("checkpoint.pt"), fingerprint=spec.fingerprint(),
    )
    wall = time.perf_counter() - began

    checked = volumes["train"][:TRAIN_CHECK]
    train_dice = float(np.mean([foreground_dice(predict(model, v.image, spec.patch, spec.recipe), v.label[0], list(classes)) for v in checked]))
    rows, slices = [], {}
    for i, volume in enumerate(tqdm(volumes["test"], desc="test volumes", file=sys.stderr)):
        predicted = predict(model, volume.image, spec.patch, spec.recipe)
        truth, spacing = native_label(volume.source)
        native = to_native_grid(predicted, volume.label, transform)
        scores = volume_metrics(native, truth, spacing, classes, spec.tolerance_mm)
        rows += [{"case": volume.name, "spacing_mm": "×".join(f"{s:.4g}" for s in spacing), **row} for row in scores]
        label, predicted = np.asarray(volume.label[0]).astype(np.uint8), predicted.numpy()
        k = centre_slice(label > 0)
        slices |= {f"image_{i}": _display(np.asarray(volume.image[0, :, :, k])), f"mask_{i}": label[:, :, k], f"predicted_{i}": predicted[:, :, k]}
    np.savez_compressed(predictions_path, names=np.asarray([v.name for v in volumes["test"]]), **slices)
    fields = {
        "modality": description["modality"],
        "dims": 3,
        "input": "patch " + "×".join(map(str, spec.patch)) + " at " + "×".join(f"{s:g}" for s in spec.spacing) + " mm",
        "patch": list(spec.patch),
        "spacing_mm": list(spec.spacing),  # of training; metrics use each test volume's own
        "tolerance_mm": spec.tolerance_mm,
        "classes": {str(k): v for k, v in classes.items()},
        "demonstration": description["demonstration"],
        "train_dice": train_dice,
        "train_dice_volumes": len(checked),
        "train_images": len(volumes["train"]),
    }
    run = {"model_spec": model_spec, "model": model, "result": result, "wall": wall, "started": started, "device": target}
    return record(spec, run, fields, pd.DataFrame(rows), {"cases": cases_path, "log": log_path, "metrics": metrics_path})

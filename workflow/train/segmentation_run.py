"""One segmentation run: a model, a prepared dataset, a seed → metrics, log, per-case scores.

Like the classification runs, every result file carries the run's configuration, the
seed, package versions, device, host and timings.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..data.segmentation import MODALITIES, read
from ..models import create, get, load_plugins
from ..models.registry import ModelSpec
from .engine import pick_device, seed_everything
from .provenance import environment, now
from .run import _write_json
from .segmentation import SegmentationRecipe, fit, predict, to_device
from .segmentation_metrics import case_metrics


@dataclass(frozen=True)
class SegmentationRunSpec:
    dataset: str
    model: str  # the config's name for this model entry
    arch: str  # the registry name it builds
    params: dict
    recipe: SegmentationRecipe
    seed: int
    size: int
    tolerance_mm: float = 2.0  # of surface Dice
    profile: str = ""

    def fingerprint(self) -> str:
        return fingerprint(self)


def fingerprint(spec) -> str:
    """A short hash of a run's spec, recipe included: a checkpoint resumes only its own configuration."""
    text = json.dumps({**asdict(spec), "recipe": asdict(spec.recipe)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def start(spec, metrics_path: Path, threads: int, device: str, model_files: list[str]) -> tuple[ModelSpec, torch.device, str]:
    """What every segmentation run (2-D or 3-D) does first: threads, model plugins, a check
    that the architecture segments, the run folder, the device and the start time."""
    torch.set_num_threads(threads)
    load_plugins(list(model_files))
    model_spec = get(spec.arch)
    if model_spec.task != "segmentation":
        raise ValueError(f"model {spec.model!r}: {spec.arch} is a {model_spec.task} model, not a segmentation model")
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    return model_spec, pick_device(device), now()


def summary(cases: pd.DataFrame) -> dict[str, float]:
    """Test means over ``cases.csv`` rows (a 3-D case has a row per class); the sd is over
    cases, each case's Dice first averaged over its classes."""
    per_case = cases.groupby("case", sort=False)["dice"].mean()
    return {
        "dice": float(cases["dice"].mean()),
        "dice_sd": float(per_case.std(ddof=1)) if len(per_case) > 1 else float("nan"),
        "hd95_px": float(cases["hd95_px"].mean()),
        "hd95_mm": float(cases["hd95_mm"].mean()),
        "surface_dice": float(cases["surface_dice"].mean()),
        "cases": len(per_case),
        "empty_predictions": int((cases["predicted_pixels"] == 0).sum()),
    }


def record(spec, run: dict, fields: dict, cases: pd.DataFrame, paths: dict[str, str | os.PathLike]) -> dict:
    """Write a finished run's ``cases.csv``, ``log.csv`` and ``metrics.json``: ``fields`` (the
    dataset's own: modality, input...) among what every segmentation run records. ``run``
    holds ``model_spec``, ``model``, ``result`` (a fit), ``wall``, ``started`` and ``device``."""
    result = run["result"]
    cases.to_csv(paths["cases"], index=False)
    pd.DataFrame(result.history).to_csv(paths["log"], index=False)
    metrics = {
        "dataset": spec.dataset,
        **fields,
        "task": "segmentation",
        "model": spec.model,
        "arch": spec.arch,
        "family": run["model_spec"].family,
        "seed": spec.seed,
        "profile": spec.profile,
        "test": summary(cases),
        "val_dice": result.history[result.best_epoch - 1]["val_dice"] if result.best_epoch else float("nan"),
        "best_epoch": result.best_epoch,
        "epochs": spec.recipe.epochs,
        "parameters": sum(p.numel() for p in run["model"].parameters()),
        "train_seconds": round(result.train_seconds, 3),
        "wall_seconds": round(run["wall"], 3),
        "resumed_from_epoch": result.resumed_from_epoch,
        "started": run["started"],
        "finished": now(),
        "config": {"params": spec.params, "recipe": asdict(spec.recipe), "fingerprint": spec.fingerprint()},
        **environment(run["device"]),
    }
    _write_json(metrics, paths["metrics"])
    return metrics


def execute(
    spec: SegmentationRunSpec,
    npz: str | os.PathLike,
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

    arrays = read(npz)
    splits = {name: to_device(split, target) for name, split in arrays.items()}
    seed_everything(spec.seed)
    model = create(spec.arch, spatial_dims=2, in_channels=1, out_channels=2, img_size=(spec.size, spec.size), **spec.params)
    began = time.perf_counter()
    result = fit(model, splits, spec.recipe, spec.seed, checkpoint=metrics_path.with_name("checkpoint.pt"), fingerprint=spec.fingerprint())
    wall = time.perf_counter() - began

    test = arrays["test"]
    predicted = predict(model, splits["test"].images, spec.recipe.eval_batch_size).cpu().numpy()
    cases = case_metrics(predicted, test.masks, test.spacing, test.groups, spec.tolerance_mm)
    np.savez_compressed(predictions_path, images=test.images, masks=test.masks, predicted=predicted, names=test.names, groups=test.groups)
    fields = {
        "modality": MODALITIES[spec.dataset],
        "dims": 2,
        "input": f"{spec.size}×{spec.size} px",
        "size": spec.size,
        "tolerance_mm": spec.tolerance_mm,
        "train_images": int(len(arrays["train"].images)),
    }
    run = {"model_spec": model_spec, "model": model, "result": result, "wall": wall, "started": started, "device": target}
    return record(spec, run, fields, cases, {"cases": cases_path, "log": log_path, "metrics": metrics_path})

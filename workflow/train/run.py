"""One benchmark run: a model, a dataset, a seed → metrics, log, predictions.

Every result file carries what produced it: the run's full configuration, the seed,
package versions, device, host and timings.
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

from ..data.medmnist import Dataset, load_splits, verify
from ..models import create, get, load_plugins
from .engine import fit, pick_device, seed_everything, to_split
from .recipe import Recipe
from .provenance import environment, now


@dataclass(frozen=True)
class RunSpec:
    dataset: str
    model: str  # the config's name for this model entry
    arch: str  # the registry name it builds
    params: dict
    recipe: Recipe
    seed: int
    profile: str = ""

    def fingerprint(self) -> str:
        text = json.dumps({**asdict(self), "recipe": asdict(self.recipe)}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_json(payload: dict, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    os.replace(partial, path)


def flops_per_image(model: torch.nn.Module, image: torch.Tensor) -> int:
    """Floating-point operations of one forward pass (torch's FLOP counter; 2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(image.float())
    return int(counter.get_total_flops())


def execute(
    spec: RunSpec,
    npz: str | os.PathLike,
    metrics_path: str | os.PathLike,
    log_path: str | os.PathLike,
    predictions_path: str | os.PathLike,
    threads: int = 1,
    device: str = "auto",
    model_files: list[str] = (),
) -> dict:
    """Train and evaluate one run; the checkpoint beside ``metrics_path`` allows resuming."""
    torch.set_num_threads(threads)
    load_plugins(list(model_files))
    metrics_path = Path(metrics_path)
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    dataset = Dataset.from_id(spec.dataset)
    target = pick_device(device)
    started = now()

    verify(dataset, npz)
    arrays = load_splits(dataset, npz)
    splits = {name: to_split(x, y, dataset.spatial_dims, target) for name, (x, y) in arrays.items()}
    seed_everything(spec.seed)
    model = create(
        spec.arch,
        spatial_dims=dataset.spatial_dims,
        in_channels=splits["train"].images.shape[1],
        out_channels=dataset.n_classes,
        img_size=tuple(splits["train"].images.shape[2:]),
        **spec.params,
    )
    began = time.perf_counter()
    result = fit(
        model,
        splits,
        dataset.task,
        spec.recipe,
        spec.seed,
        checkpoint=metrics_path.with_name("checkpoint.pt"),
        fingerprint=spec.fingerprint(),
    )
    wall = time.perf_counter() - began

    pd.DataFrame(result.history).to_csv(log_path, index=False)
    np.savez_compressed(
        predictions_path,
        scores=result.test_scores,
        labels=arrays["test"][1],
    )
    metrics = {
        "dataset": dataset.id,
        "flag": dataset.flag,
        "size": dataset.size,
        "modality": dataset.modality,
        "task": dataset.task,
        "model": spec.model,
        "arch": spec.arch,
        "family": get(spec.arch).family,
        "seed": spec.seed,
        "profile": spec.profile,
        "test": result.metrics["test"],
        "val": result.metrics["val"],
        "best_epoch": result.best_epoch,
        "epochs": spec.recipe.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        "flops_per_image": flops_per_image(model, splits["test"].images[:1]),
        "train_seconds": round(result.train_seconds, 3),
        "wall_seconds": round(wall, 3),
        "resumed_from_epoch": result.resumed_from_epoch,
        "started": started,
        "finished": now(),
        "config": {"params": spec.params, "recipe": asdict(spec.recipe), "fingerprint": spec.fingerprint()},
        **environment(target),
    }
    _write_json(metrics, metrics_path)
    return metrics

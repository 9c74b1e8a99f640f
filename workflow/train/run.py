"""One benchmark run: a model, a dataset, a seed → metrics, log, predictions.

Every result file carries what produced it: the run's full configuration, the seed,
package versions, device, host and timings. A model with a pretraining stage (the
registry's ``pretrain`` hook, e.g. an autoencoder's reconstruction training) runs it on the
real training images first; its result is saved beside the metrics under the run's
fingerprint, so a resumed run reuses it and a changed configuration starts afresh. A run
with ``augment: {gan: ratio}`` trains on the real training split plus synthetic images.
A classical baseline (a scikit-learn estimator) is fitted by grid search on the validation
split instead (``workflow.train.classical``) and writes the same files, its log holding one
row per grid candidate.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from ..data.download import md5sum
from ..data.medmnist import Dataset, load_splits, verify
from ..gan.augment import with_synthetic
from ..models import create, get, load_plugins
from .classical import fit_classical
from .engine import FitResult, TrainingDiverged, _save_atomic, autocast_dtype, fit, pick_device, seed_everything, to_split
from .recipe import Recipe
from .provenance import environment, now


CHECKPOINT = "checkpoint.pt"  # a network's last epoch and best weights, beside metrics.json
CLASSICAL_MODEL = "model.joblib"  # a scikit-learn baseline's fitted estimator, beside metrics.json


@dataclass(frozen=True)
class RunSpec:
    dataset: str
    model: str  # the config's name for this model entry
    arch: str  # the registry name it builds
    params: dict
    recipe: Recipe
    seed: int
    profile: str = ""
    augment: dict = field(default_factory=dict)  # {"gan": synthetic images per real training image}

    def fingerprint(self, *inputs: str) -> str:
        """A digest of the configuration and of ``inputs`` (digests of files the run reads besides the dataset)."""
        text = json.dumps({**asdict(self), "recipe": asdict(self.recipe), "inputs": inputs}, sort_keys=True, default=str)
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


def _split_params(arch: str, params: dict) -> tuple[dict, dict]:
    """The entry's params as (builder's, pretraining hook's): the hook takes those its signature names."""
    hook = get(arch).pretrain
    names = set(inspect.signature(hook).parameters) - {"model", "images", "seed"} if hook else set()
    return {k: v for k, v in params.items() if k not in names}, {k: v for k, v in params.items() if k in names}


def pretrain(spec: RunSpec, model: torch.nn.Module, images: torch.Tensor, params: dict, path: Path, fingerprint: str) -> dict | None:
    """Run the model's pretraining hook, or reuse its saved result when ``fingerprint`` matches."""
    hook = get(spec.arch).pretrain
    if hook is None:
        return None
    if path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved["fingerprint"] == fingerprint:
            model.load_state_dict(saved["model"])
            return {**saved["stats"], "reused": True}
    stats = hook(model, images, spec.seed, **params)
    _save_atomic({"fingerprint": fingerprint, "model": model.state_dict(), "stats": stats}, path)
    return {**stats, "reused": False}


def execute(
    spec: RunSpec,
    npz: str | os.PathLike,
    metrics_path: str | os.PathLike,
    log_path: str | os.PathLike,
    predictions_path: str | os.PathLike,
    threads: int = 1,
    device: str = "auto",
    model_files: list[str] = (),
    synthetic: str | os.PathLike | None = None,
) -> dict:
    """Train and evaluate one run; the checkpoints beside ``metrics_path`` allow resuming.

    ``synthetic`` (the GAN step's npz) is required when ``spec.augment`` asks for images.
    A scikit-learn baseline is fitted on the CPU whatever ``device`` says.
    """
    torch.set_num_threads(threads)
    load_plugins(list(model_files))
    metrics_path = Path(metrics_path)
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    dataset = Dataset.from_id(spec.dataset)
    classical = get(spec.arch).framework == "sklearn"
    target = torch.device("cpu") if classical else pick_device(device)
    started = now()

    verify(dataset, npz)
    arrays = load_splits(dataset, npz)
    augment, inputs = {}, ()
    if spec.augment.get("gan"):
        if synthetic is None:
            raise ValueError(f"{spec.model} asks for GAN augmentation but no synthetic images were given")
        arrays, added = with_synthetic(arrays, synthetic, spec.augment["gan"])
        gan_metrics = Path(synthetic).with_name("metrics.json")
        augment = {"gan": spec.augment["gan"], "synthetic_images": added, "synthetic": str(synthetic), "gan_metrics": str(gan_metrics)}
        inputs = (md5sum(synthetic),)
    fingerprint = spec.fingerprint(*inputs)
    identity = {
        "dataset": dataset.id, "flag": dataset.flag, "size": dataset.size, "modality": dataset.modality, "task": dataset.task,
        "model": spec.model, "arch": spec.arch, "family": "gan" if augment else get(spec.arch).family,
        "seed": spec.seed, "profile": spec.profile, "epochs": None if classical else spec.recipe.epochs,
        "precision": "bf16" if autocast_dtype(spec.recipe.precision, target) and not classical else "fp32",  # recipe "auto" resolved
    }
    config = {"params": spec.params, "recipe": asdict(spec.recipe), "augment": spec.augment, "fingerprint": fingerprint}
    began = time.perf_counter()
    if classical:
        with threadpool_limits(threads):
            fitted = fit_classical(spec.arch, _classical_params(spec), arrays, dataset.task, dataset.spatial_dims, dataset.n_classes)
        joblib.dump(fitted.estimator, metrics_path.with_name(CLASSICAL_MODEL))  # the trust stage scores it again
        result = {
            "best_epoch": None,
            "selected": fitted.selected,  # the grid candidate with the best validation AUC
            "parameters": fitted.parameters,
            "flops_per_image": fitted.flops_per_image,
            "train_seconds": round(fitted.train_seconds, 3),  # the whole grid search
        }
    else:
        try:
            fitted, result = _fit_network(spec, dataset, arrays, target, metrics_path, fingerprint, len(arrays["train"][0]) - augment.get("synthetic_images", 0))
        except TrainingDiverged as error:  # recorded as a failed run, which the report lists
            pd.DataFrame(error.history).to_csv(log_path, index=False)
            np.savez_compressed(predictions_path, scores=np.empty((0, dataset.n_classes)), labels=np.empty((0, 1)))
            failed = {**identity, "status": "failed", "reason": str(error), "started": started, "finished": now(), "config": config, **environment(target)}
            _write_json(failed, metrics_path)
            return failed
    wall = time.perf_counter() - began

    pd.DataFrame(fitted.history).to_csv(log_path, index=False)
    np.savez_compressed(  # validation scores too: the trust stage calibrates on them
        predictions_path, scores=fitted.test_scores, labels=arrays["test"][1], val_scores=fitted.val_scores, val_labels=arrays["val"][1]
    )
    metrics = {
        **identity,
        "status": "ok",
        "test": fitted.metrics["test"],
        "val": fitted.metrics["val"],
        **result,
        "wall_seconds": round(wall, 3),
        **({"augment": augment} if augment else {}),
        "started": started,
        "finished": now(),
        "config": config,
        **environment(target),
    }
    _write_json(metrics, metrics_path)
    return metrics


def _classical_params(spec: RunSpec) -> dict:
    """The entry's params, with the recipe's balanced class weights for a builder that takes ``class_weight``."""
    takes = "class_weight" in inspect.signature(get(spec.arch).builder).parameters
    return {**spec.params, **({"class_weight": "balanced"} if takes and spec.recipe.class_weights == "balanced" else {})}


def _fit_network(
    spec: RunSpec, dataset: Dataset, arrays: dict, target: torch.device, metrics_path: Path, fingerprint: str, n_real: int
) -> tuple[FitResult, dict]:
    """Build, pretrain (if the model has a stage for it) and fit a network; its result and
    the metrics fields it adds (best epoch, size, FLOPs, training time, pretraining)."""
    splits = {name: to_split(x, y, dataset.spatial_dims, target) for name, (x, y) in arrays.items()}
    builder_params, pretrain_params = _split_params(spec.arch, spec.params)
    seed_everything(spec.seed)
    model = create(
        spec.arch,
        spatial_dims=dataset.spatial_dims,
        in_channels=splits["train"].images.shape[1],
        out_channels=dataset.n_classes,
        img_size=tuple(splits["train"].images.shape[2:]),
        **builder_params,
    )
    real_train = splits["train"].images[:n_real]  # synthetic images come after the real ones
    pretraining = pretrain(spec, model, real_train, pretrain_params, metrics_path.with_name("pretrain.pt"), fingerprint)
    fitted = fit(model, splits, dataset.task, spec.recipe, spec.seed, checkpoint=metrics_path.with_name(CHECKPOINT), fingerprint=fingerprint)
    return fitted, {
        "best_epoch": fitted.best_epoch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "flops_per_image": flops_per_image(model, splits["test"].images[:1]),
        "train_seconds": round(fitted.train_seconds + (pretraining or {}).get("seconds", 0.0), 3),  # pretraining included
        "resumed_from_epoch": fitted.resumed_from_epoch,
        **({"pretrain": pretraining} if pretraining else {}),
    }

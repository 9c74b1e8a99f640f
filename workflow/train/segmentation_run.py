"""One 2-D segmentation run: a model, a prepared dataset, a seed → metrics, log, per-case scores.

The network trains on the dataset's training grid; every test image is then segmented
whole, its class probabilities are resized (bilinear) to the image's own label grid and
scored there, per class, with the common metrics and the dataset's own protocol
(``workflow.train.segmentation_protocols``). The first :data:`TRAIN_CHECK` training images
go through the same path, so the training Dice stands beside the test Dice. Like the
classification runs, every result file carries the run's configuration, the seed, package
versions, device, host and timings.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from tqdm import tqdm

from ..data.segmentation import checksums, label_stack
from ..data.segmentation_datasets import load, native
from ..models import create, get, load_plugins
from ..models.registry import ModelSpec
from .engine import pick_device, seed_everything
from .provenance import environment, now
from .run import _write_json
from .segmentation import Example, SegmentationRecipe, discrete, fit, predict
from .segmentation_augmentation import augmentation
from .segmentation_metrics import case_rows, summary
from .segmentation_protocols import Protocol, protocol

TRAIN_CHECK = 8  # training cases scored after training, for the training Dice
OVERLAY_CASES = 8  # test cases kept in predictions.npz for the overlay figure
DISPLAY_SIDE = 256  # their longest side there, in pixels


@dataclass(frozen=True)
class SegmentationRunSpec:
    dataset: str
    model: str  # the config's name for this model entry
    arch: str  # the registry name it builds
    params: dict
    recipe: SegmentationRecipe
    seed: int
    tolerance: float  # of surface Dice
    tolerance_unit: str = "mm"  # mm (tolerance_mm), or px (tolerance_px) for a dataset without a pixel size
    size: tuple[int, int] | None = None  # training grid (rows, columns); None: the images' own
    patch: tuple[int, int] | None = None  # training patch and sliding window; None: whole images
    augment: dict = field(default_factory=dict)
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


def class_masks(encoded: np.ndarray, classes: dict[int, str], derived: dict[str, list[int]], multilabel: bool) -> dict[str, np.ndarray]:
    """A label or prediction (class map (1, ...) or multi-label stack) as one boolean mask per
    class name, derived classes (unions) after the classes."""
    stack = label_stack(encoded if multilabel else encoded[0], classes, multilabel)
    masks = dict(zip(classes.values(), stack))
    for name, values in derived.items():
        masks[name] = np.logical_or.reduce([masks[classes[v]] for v in values])
    return masks


def class_probabilities(probabilities: np.ndarray, classes: dict[int, str], derived: dict[str, list[int]], multilabel: bool) -> dict[str, np.ndarray]:
    """The probability of each class name (a derived class: the sum over its classes): the
    output channel of a class value is its value under a softmax (channel 0: background),
    its position among the classes for a multi-label stack."""
    channel = {value: i if multilabel else value for i, value in enumerate(classes)}
    found = {name: probabilities[channel[value]] for value, name in classes.items()}
    for name, values in derived.items():
        found[name] = sum(probabilities[channel[v]] for v in values)
    return found


def score(case: str, masks: dict[str, np.ndarray], truth: dict[str, np.ndarray], spacing, tolerance: float, region=None) -> list[dict]:
    """The metric rows of one case, class by class."""
    names = list(truth)
    rows = case_rows(np.stack([masks[n] for n in names]), np.stack([truth[n] for n in names]), names, spacing, tolerance, region)
    return [{"case": case, **row} for row in rows]


def with_protocol(rows: list[dict], extra: dict[str, dict]) -> list[dict]:
    return [{**row, **extra.get(row["class"], {})} for row in rows]


def display(image: np.ndarray, masks: dict[str, np.ndarray], predicted: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An image (grey or RGB, uint8) with its truth and prediction stacks, shrunk to at most
    :data:`DISPLAY_SIDE` pixels a side for the overlay figure."""
    height, width = next(iter(masks.values())).shape
    factor = min(1.0, DISPLAY_SIDE / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    shown = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))

    def shrink(stack: dict[str, np.ndarray]) -> np.ndarray:
        return np.stack([np.asarray(Image.fromarray(m.astype(np.uint8)).resize(size, Image.NEAREST)) for m in stack.values()])

    return shown, shrink(masks), shrink(predicted)


def overlay_cases(names: list[str], has_foreground: list[bool]) -> set[str]:
    """Up to :data:`OVERLAY_CASES` test cases with a labelled structure, evenly spaced."""
    labelled = [n for n, fg in zip(names, has_foreground) if fg]
    if not labelled:
        return set()
    return {labelled[i] for i in np.unique(np.linspace(0, len(labelled) - 1, min(OVERLAY_CASES, len(labelled))).round().astype(int))}


def record(spec, run: dict, fields: dict, cases: pd.DataFrame, rules: Protocol, derived: list[str], paths: dict[str, str | os.PathLike]) -> dict:
    """Write a finished run's ``cases.csv``, ``log.csv`` and ``metrics.json``: ``fields`` (the
    dataset's own: modality, input...) among what every segmentation run records. ``run``
    holds ``model_spec``, ``model``, ``result`` (a fit), ``wall``, ``started`` and ``device``."""
    result = run["result"]
    cases.to_csv(paths["cases"], index=False)
    pd.DataFrame(result.history).to_csv(paths["log"], index=False)
    test = cases[cases["split"] == "test"]
    trained = cases[cases["split"] == "train"]
    metrics = {
        "dataset": spec.dataset,
        **fields,
        "task": "segmentation",
        "model": spec.model,
        "arch": spec.arch,
        "family": run["model_spec"].family,
        "seed": spec.seed,
        "profile": spec.profile,
        "test": summary(test, derived),
        "protocol": rules.summary(test),
        "train_dice": summary(trained, derived)["dice"],
        "train_dice_cases": int(trained["case"].nunique()),
        "val_dice": result.history[result.best_epoch - 1]["val_dice"] if result.best_epoch else float("nan"),
        "best_epoch": result.best_epoch,
        "epochs": spec.recipe.epochs,
        "parameters": sum(p.numel() for p in run["model"].parameters()),
        "train_seconds": round(result.train_seconds, 3),
        "wall_seconds": round(run["wall"], 3),
        "resumed_from_epoch": result.resumed_from_epoch,
        "started": run["started"],
        "finished": now(),
        "config": {"params": spec.params, "recipe": asdict(spec.recipe), "augment": spec.augment, "fingerprint": spec.fingerprint()},
        **environment(run["device"]),
    }
    _write_json(metrics, paths["metrics"])
    return metrics


def execute(
    spec: SegmentationRunSpec,
    npz: str | os.PathLike,
    card_path: str | os.PathLike,
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
    metrics_path, root = Path(metrics_path), Path(root)
    model_spec, target, started = start(spec, metrics_path, threads, device, model_files)
    card = json.loads(Path(card_path).read_text())
    if (spec.tolerance_unit == "mm") != card["spacing_known"]:
        given, wanted = ("tolerance_mm", "tolerance_px") if spec.tolerance_unit == "mm" else ("tolerance_px", "tolerance_mm")
        raise ValueError(
            f"segmentation.settings.{spec.dataset}.{given}: {spec.dataset} "
            + ("has no pixel size" if spec.tolerance_unit == "mm" else "has a pixel size") + f"; give {wanted}"
        )
    classes = {int(value): name for value, name in card["classes"].items()}
    derived, multilabel = card["derived"], card["multilabel"]

    arrays = load(npz)
    examples = {
        split: [Example(str(n), torch.from_numpy(i), torch.from_numpy(l).float()) for n, i, l in zip(data.names, data.images, data.labels)]
        for split, data in arrays.items()
    }
    grid = tuple(arrays["train"].images.shape[2:])
    seed_everything(spec.seed)
    outputs = len(classes) if multilabel else len(classes) + 1
    model = create(spec.arch, spatial_dims=2, in_channels=arrays["train"].images.shape[1], out_channels=outputs, img_size=spec.patch or grid, **spec.params)
    began = time.perf_counter()
    result = fit(
        model, examples["train"], examples.get("val", []), spec.recipe, spec.seed, target, list(classes), multilabel,
        spec.patch, augmentation(spec.augment, 2), checkpoint=metrics_path.with_name("checkpoint.pt"), fingerprint=spec.fingerprint(),
    )
    wall = time.perf_counter() - began

    by_name = {case["name"]: case for case in card["cases"]}
    rules = protocol(spec.dataset)
    shown = overlay_cases([e.name for e in examples["test"]], [bool(e.label.any()) for e in examples["test"]])
    names, sums = [*classes.values(), *derived], checksums(root)
    rows, slices = [], {}
    scored = [("test", e) for e in examples["test"]] + [("train", e) for e in examples["train"][:TRAIN_CHECK]]
    for split, example in tqdm(scored, desc="scoring", file=sys.stderr):
        sample = native(spec.dataset, root, by_name[example.name], sums)
        label_grid = sample.label.shape[-2:]
        probabilities = predict(model, example.image, spec.patch, spec.recipe, multilabel)
        probabilities = torch.nn.functional.interpolate(probabilities[None], size=label_grid, mode="bilinear", align_corners=False)[0]
        predicted = class_masks(discrete(probabilities, multilabel).numpy(), classes, derived, multilabel)
        truth = class_masks(sample.label if multilabel else sample.label[None], classes, derived, multilabel)
        scored_rows = score(example.name, predicted, truth, sample.spacing, spec.tolerance, sample.region)
        if split == "test":
            extra = rules.case(example.name, class_probabilities(probabilities.numpy(), classes, derived, multilabel), predicted, truth, sample)
            scored_rows = with_protocol(scored_rows, extra)
            if example.name in shown:  # the classes themselves, not their unions
                image, masks, guessed = display(sample.image, {c: truth[c] for c in classes.values()}, {c: predicted[c] for c in classes.values()})
                k = len(slices) // 4
                slices |= {f"image_{k}": image, f"truth_{k}": masks, f"predicted_{k}": guessed, f"name_{k}": np.asarray(example.name)}
        rows += [{"split": split, **row} for row in scored_rows]
    np.savez_compressed(predictions_path, classes=np.asarray(list(classes.values())), **slices)
    fields = {
        "modality": card["modality"],
        "dims": 2,
        "input": _input(grid, spec.patch, card),
        "size": list(grid),
        "patch": list(spec.patch) if spec.patch else None,
        "tolerance": spec.tolerance,
        "distance_unit": spec.tolerance_unit,
        "classes": names,
        "derived_classes": list(derived),
        "train_images": len(examples["train"]),
    }
    run = {"model_spec": model_spec, "model": model, "result": result, "wall": wall, "started": started, "device": target}
    return record(spec, run, fields, pd.DataFrame(rows), rules, list(derived), {"cases": cases_path, "log": log_path, "metrics": metrics_path})


def _input(grid: tuple[int, ...], patch: tuple[int, ...] | None, card: dict) -> str:
    """What the network saw, for the table: the training grid (and patch), and the images' own size."""
    text = "×".join(map(str, grid)) + " px"
    if patch:
        text += ", patches " + "×".join(map(str, patch))
    own = card["image_sizes"]
    return text + f" (images {own[0] if len(own) == 1 else 'of ' + str(len(own)) + ' sizes'}, scored on their label grid)"

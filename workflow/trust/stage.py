"""The trust stage for runs of one dataset: every run's explanations, calibration,
robustness and inference cost, computed from its run folder and the test set. Calibration
uses the validation and test scores the run saved (``predictions.npz``); the rest runs the
model restored from its checkpoint or estimator, whose scores on the robustness images are
checked against the saved ones.

The explained test images and the corrupted copies of the test set are drawn from the
trust seed alone, so every job of a dataset (the DAG runs one per model) explains the same
images and scores the same corruptions. A job's ``trust.json`` holds one record per run
(every number, with the settings, versions and device); its ``maps.npz`` the explained
images and each model's maps for its lowest seed (the ones the report draws).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..data.medmnist import Dataset, load_splits, verify
from ..train.metrics import MULTI_LABEL
from ..train.provenance import environment, now
from .calibration import calibration_summary, probabilities
from .faithfulness import area, curves, rank_correlation
from .latency import measure_latency
from .robustness import SEVERITIES, corrupt_2d, corrupt_3d, corruptions_3d, medmnistc_corruptions, robustness_scores
from .saliency import not_applicable, saliency
from .trained import TrainedModel, as_inputs, load


@dataclass(frozen=True)
class TrustSettings:
    """The configuration's ``trust`` section (see workflow/schemas/config.schema.yaml)."""

    seed: int = 0
    saliency: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    robustness: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, section: dict) -> TrustSettings:
        return cls(**{k: section[k] for k in ("seed", "saliency", "calibration", "robustness", "latency")})


def sample(n_images: int, limit: int, seed: int) -> np.ndarray:
    """A seeded, sorted choice of ``limit`` indices out of ``n_images`` (all when fewer)."""
    if limit >= n_images:
        return np.arange(n_images)
    return np.sort(np.random.default_rng(seed).choice(n_images, limit, replace=False))


def corrupted_sets(dataset: Dataset, images: np.ndarray, settings: dict, seed: int) -> tuple[dict[str, list[np.ndarray]], dict[str, str]]:
    """The test images under each configured corruption at severities 1..5, and the
    corruptions left out with their reasons."""
    wanted = settings.get("corruptions_2d" if dataset.spatial_dims == 2 else "corruptions_3d", "all")
    if dataset.spatial_dims == 2:
        available, left_out = medmnistc_corruptions(dataset.flag)
        apply = lambda name, severity, k: corrupt_2d(images, available[name], severity, k)  # noqa: E731
    else:
        available, left_out = corruptions_3d(), {}
        apply = lambda name, severity, k: corrupt_3d(images, name, severity, k)  # noqa: E731
    names = list(available) if wanted == "all" else [n for n in wanted if n in available]
    if wanted != "all":
        unknown = [n for n in wanted if n not in available and n not in left_out]
        left_out = {**{n: r for n, r in left_out.items() if n in wanted}, **{n: f"not a corruption defined for {dataset.flag}" for n in unknown}}
    sets = {name: [apply(name, severity, seed + 1000 * i + severity) for severity in SEVERITIES] for i, name in enumerate(names)}
    return sets, left_out


def _rounded(values: np.ndarray) -> list[float]:
    """Curve points for the record, to 5 decimals (their areas are kept at full precision)."""
    return [round(float(v), 5) for v in values]


def _trained(run_dir: str | os.PathLike) -> bool:
    """Whether the run finished training (a failed run has no model; the benchmark report lists it)."""
    status = json.loads((Path(run_dir) / "metrics.json").read_text()).get("status")
    if status != "ok":
        print(f"not scored: {run_dir} ({status})", file=sys.stderr)
    return status == "ok"


def _targets(probabilities: np.ndarray) -> np.ndarray:
    """The class each explanation explains: the predicted one (the top label for multi-label)."""
    return probabilities.argmax(axis=1)


def _logits(probabilities: np.ndarray, task: str) -> np.ndarray:
    """Logits that give back ``probabilities``: log-probabilities under a softmax (equal to
    the network's logits up to a constant per row), log-odds per label under sigmoids."""
    p = np.clip(probabilities.astype(np.float64), 1e-30, 1.0)
    return np.log(p / np.clip(1.0 - p, 1e-30, None)) if task == MULTI_LABEL else np.log(p)


def _rhos(trained: np.ndarray, randomised: np.ndarray) -> dict[str, list[float]]:
    """Per image, the rank correlation of the signed maps and of their magnitudes (None: undefined)."""
    defined = lambda rho: None if np.isnan(rho) else rho  # noqa: E731
    return {
        "rho": [defined(rank_correlation(a, b)) for a, b in zip(trained, randomised)],
        "rho_abs": [defined(rank_correlation(a, b, absolute=True)) for a, b in zip(trained, randomised)],
    }


def randomisation(model: TrainedModel, method: str, x: torch.Tensor, target: torch.Tensor, maps: np.ndarray, seed: int, **options) -> dict:
    """The model-randomisation check of one method: rank correlations with the maps of the
    model with every weight drawn again (independent), and after each step of the
    cascading form (blocks re-drawn from the output down; their names in ``blocks``)."""
    independent = _rhos(maps, saliency(model.randomised(seed), method, x, target, **options))
    steps = [(block, _rhos(maps, saliency(twin, method, x, target, **options))) for block, twin in model.cascade(seed, x)]
    return {
        "randomisation_rho": independent["rho"],
        "randomisation_rho_abs": independent["rho_abs"],
        "cascade": {"blocks": [b for b, _ in steps], "rho": [r["rho"] for _, r in steps], "rho_abs": [r["rho_abs"] for _, r in steps]},
    }


def explain(model: TrainedModel, x: torch.Tensor, targets: np.ndarray, settings: dict, seed: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Maps of every configured method, their deletion/insertion areas (with a random map's
    as the reference) and the model-randomisation check; methods that do not apply are
    listed with the reason."""
    target = torch.from_numpy(targets)
    steps = settings["steps"]
    dims = x.ndim - 2
    occlusion = {"window": settings["occlusion"][f"window_{dims}d"], "stride": settings["occlusion"][f"stride_{dims}d"]}
    rng = np.random.default_rng(seed)
    result: dict = {"methods": {}, "skipped": {}}
    maps: dict[str, np.ndarray] = {}
    candidates = {"random": rng.random((len(x), *x.shape[2:]))}
    for method in settings["methods"]:
        reason = not_applicable(model, method, x)
        if reason:
            result["skipped"][method] = reason
            continue
        candidates[method] = saliency(model, method, x, target, **occlusion)
        result["methods"][method] = randomisation(model, method, x, target, candidates[method], seed, **occlusion)
    for method, method_maps in candidates.items():
        per_image = []
        for i, image in enumerate(x):
            probability = lambda batch, c=int(targets[i]): model.probabilities(batch)[:, c]  # noqa: E731
            curve = curves(probability, image, method_maps[i], steps, seed=seed + i)
            per_image.append(
                {"deletion_auc": area(curve["fraction"], curve["deletion"]), "insertion_auc": area(curve["fraction"], curve["insertion"]),
                 "deletion": _rounded(curve["deletion"]), "insertion": _rounded(curve["insertion"])}
            )
        entry = result["methods"].setdefault(method, {})
        entry["deletion_auc"] = [p["deletion_auc"] for p in per_image]
        entry["insertion_auc"] = [p["insertion_auc"] for p in per_image]
        entry["curves"] = [{"deletion": p["deletion"], "insertion": p["insertion"]} for p in per_image]
        if method != "random":
            maps[method] = method_maps.astype(np.float16)
    result["fraction"] = np.linspace(0, 1, steps + 1).tolist()
    result["threshold"] = settings["sanity_threshold"]
    return result, maps


def records_json(records: list[dict]) -> str:
    """The records as a JSON list, one record per line."""
    return "[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n]\n"


def evaluate_dataset(
    dataset_id: str,
    npz: str | os.PathLike,
    run_dirs: list[str | os.PathLike],
    output: str | os.PathLike,
    maps_output: str | os.PathLike,
    settings: TrustSettings,
    threads: int = 1,
    model_files: list[str] = (),
) -> list[dict]:
    """Score every run of ``dataset_id`` (its folders ``run_dirs``); write the records to
    ``output`` (JSON) and the lowest seed's maps to ``maps_output`` (keys ``{model}/seed{seed}/{method}``)."""
    torch.set_num_threads(threads)
    dataset = Dataset.from_id(dataset_id)
    verify(dataset, npz)
    arrays = load_splits(dataset, npz)
    test_images, test_labels = arrays["test"]
    val_labels = arrays["val"][1]
    dims = dataset.spatial_dims
    x_test = as_inputs(test_images, dims)
    run_dirs = [d for d in run_dirs if _trained(d)]
    models = [load(run_dir, model_files) for run_dir in run_dirs]  # a missing model stops the job before any work

    explained = sample(len(test_images), settings.saliency["images"] if settings.saliency.get("enabled") else 0, settings.seed)
    robust_index = sample(len(test_images), settings.robustness.get("images", len(test_images)), settings.seed)
    sets, left_out = ({}, {})
    if settings.robustness.get("enabled"):
        sets, left_out = corrupted_sets(dataset, test_images[robust_index], settings.robustness, settings.seed)
        sets = {name: [as_inputs(images, dims) for images in per_severity] for name, per_severity in sets.items()}

    records, maps = [], {}
    first_seed = {name: min(m.run["seed"] for m in models if m.run["model"] == name) for name in {m.run["model"] for m in models}}
    for run_dir, model in tqdm(list(zip(run_dirs, models)), desc=f"trust {dataset_id}", file=sys.stderr):
        began = now()
        saved = dict(np.load(Path(run_dir) / "predictions.npz"))
        if "val_scores" not in saved:  # a run made before runs kept them: score the validation split again
            saved["val_scores"] = probabilities(model.predict_logits(as_inputs(arrays["val"][0], dims)), dataset.task)
        test_probabilities = saved["scores"]
        clean = probabilities(model.predict_logits(x_test[robust_index]), dataset.task)
        record: dict = {
            "dataset": dataset.id, "flag": dataset.flag, "modality": dataset.modality, "task": dataset.task,
            "model": model.run["model"], "arch": model.run["arch"], "family": model.family, "seed": model.run["seed"],
            "profile": model.run.get("profile", ""), "test_auc": model.run["test"]["auc"], "test_acc": model.run["test"]["acc"],
            # the restored model against the run's own test scores, on the robustness images
            "rescored_max_abs_diff": float(np.abs(test_probabilities[robust_index] - clean).max()),
            "settings": {"seed": settings.seed, "saliency": settings.saliency, "calibration": settings.calibration,
                         "robustness": settings.robustness, "latency": settings.latency},
        }
        if settings.calibration.get("enabled"):
            record["calibration"] = calibration_summary(
                _logits(saved["val_scores"], dataset.task), val_labels, _logits(test_probabilities, dataset.task), test_labels, dataset.task,
                settings.calibration["bins"], settings.calibration.get("resamples", 1000), settings.seed,
            )
        if settings.robustness.get("enabled"):
            corrupted = {name: [probabilities(model.predict_logits(images), dataset.task) for images in per_severity] for name, per_severity in sets.items()}
            record["robustness"] = robustness_scores(dataset.flag, dataset.task, test_labels[robust_index], clean, corrupted, left_out)
            if len(robust_index) < len(test_images):
                record["robustness"]["indices"] = robust_index.tolist()
        if len(explained):
            record["saliency"], run_maps = explain(model, x_test[explained], _targets(test_probabilities[explained]), settings.saliency, settings.seed)
            record["saliency"]["indices"] = explained.tolist()
            record["saliency"]["targets"] = _targets(test_probabilities[explained]).tolist()
            if model.run["seed"] == first_seed[model.run["model"]]:  # one seed's maps are drawn and kept; every seed's scores
                maps.update({f"{model.run['model']}/seed{model.run['seed']}/{method}": m for method, m in run_maps.items()})
        if settings.latency.get("enabled"):
            forward = torch.no_grad()(model.logits)
            timing = {k: settings.latency[k] for k in ("repeats", "warmup", "max_batch")}
            record["latency"] = measure_latency(forward, x_test[:1], **timing)
            if torch.cuda.is_available() and model.module is not None:  # the same network on the GPU as well
                cuda = torch.device("cuda")
                network = copy.deepcopy(model.module).to(cuda).eval()
                on_gpu = torch.no_grad()(lambda x: network(model.network_input(x)))
                record["latency_cuda"] = measure_latency(on_gpu, x_test[:1].to(cuda), device=cuda, **timing)
        record.update({"started": began, "finished": now(), **environment(torch.device("cpu"))})
        records.append(record)

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(maps_output, images=test_images[explained], labels=test_labels[explained], indices=explained, **maps)
    partial = Path(f"{output}.part")
    partial.write_text(records_json(records))
    os.replace(partial, output)
    return records

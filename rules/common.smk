# Config validation and the names every rule shares.
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from jsonschema.exceptions import ValidationError

import sys
from dataclasses import asdict
from pathlib import Path

from workflow.config import data_root, explain, export_files, recipe, simulation_files, snapshot_files
from workflow.data.medmnist import Dataset
from workflow.literature.evidence import VOCABULARY
from workflow.models import get as get_model, load_plugins

try:
    validate(config, "../workflow/schemas/config.schema.yaml")
except WorkflowError as error:
    cause = error.__context__  # snakemake raises while handling the schema's ValidationError
    if not isinstance(cause, ValidationError):
        raise
    raise WorkflowError(f"invalid configuration: {explain(cause)}") from None

RESULTS = config["results"]
LITERATURE = config["literature"]["enabled"]
DATA_ROOT = data_root(config)
LOGS = f"{RESULTS}/logs"
DATASETS = {d.id: d for d in (Dataset(flag, config["data"]["size"]) for flag in config["benchmark"]["datasets"])}
MODELS = config["benchmark"]["models"]
if "run_models" in config["benchmark"]:
    _unknown = sorted(set(config["benchmark"]["run_models"]) - set(MODELS))
    if _unknown:
        raise WorkflowError(
            f"invalid configuration: benchmark.run_models: no models entry named {', '.join(_unknown)}; "
            f"entries: {', '.join(sorted(MODELS))}"
        )
    MODELS = {name: MODELS[name] for name in config["benchmark"]["run_models"]}
SEEDS = config["benchmark"]["seeds"]

load_plugins(config["benchmark"]["model_files"])
_MODEL_FILES = {str(Path(path).resolve()): path for path in config["benchmark"]["model_files"]}


def model_source(arch: str) -> list[str]:
    """The model file (as the config names it) that registers ``arch``; none for a built-in
    model. A job gets only its own model's file, as a parameter to load and as an input, so
    adding or removing another model reruns nothing and changing this file reruns its runs."""
    registering = sys.modules[get_model(arch).builder.__module__]  # ("module" is a Snakemake keyword)
    path = str(Path(registering.__file__).resolve())
    return [_MODEL_FILES[path]] if path in _MODEL_FILES else []
for _name, _entry in MODELS.items():
    try:
        get_model(_entry["arch"])
    except KeyError as error:
        raise WorkflowError(f"invalid configuration: benchmark.models.{_name}.arch: {error.args[0]}") from None


def runs():
    """(dataset, model) pairs to run, and the skipped pairs with their reasons: each model runs
    on the datasets its entry names (all by default) that it can take."""
    pairs, skipped = [], []
    for dataset in DATASETS.values():
        for name, entry in MODELS.items():
            spec = get_model(entry["arch"])
            if "datasets" in entry and dataset.flag not in entry["datasets"]:
                continue
            if spec.task != "classification":
                raise WorkflowError(
                    f"invalid configuration: benchmark.models.{name}.arch: {spec.name} is a {spec.task} model; "
                    "MedMNIST runs need a classification model"
                )
            if entry.get("augment", {}).get("gan") and (dataset.spatial_dims != 2 or dataset.task.startswith("multi-label")):
                reason, why = "GAN augmentation takes 2-D single-label datasets", "2-D single-label only"
            elif not spec.supports(dataset.spatial_dims):
                dims = "/".join(map(str, spec.spatial_dims))
                reason, why = f"{spec.name} takes {spec.spatial_dims}-D inputs, {dataset.id} is {dataset.spatial_dims}-D", f"{dims}-D only"
            elif dataset.spatial_dims == 2 and "depth" in recipe(config, name, 2).augmentation.flips:
                reason, why = f"its augmentation flips depth, {dataset.id} is 2-D", "flips depth: 3-D only"
            else:
                pairs.append((dataset.id, name))
                continue
            logger.warning(f"skipping {name} on {dataset.id}: {reason}")
            family = "gan" if entry.get("augment", {}).get("gan") else spec.family
            skipped.append(
                {"dataset": dataset.id, "model": name, "family": family, "modality": dataset.modality,
                 "status": "skipped", "reason": reason, "why": why}
            )
    return pairs, skipped


RUNS, SKIPPED = runs()


def run_metrics():
    return [
        f"{RESULTS}/runs/{dataset}/{model}/seed{seed}/metrics.json"
        for dataset, model in RUNS
        for seed in SEEDS
    ]


def final_outputs():
    return [
        f"{RESULTS}/report/benchmark.csv",
        f"{RESULTS}/report/benchmark.md",
        f"{RESULTS}/report/benchmark_auc.png",
        f"{RESULTS}/report/roc_curves.png",
        *(literature_outputs() if LITERATURE else []),  # rules/literature.smk
        *(
            [
                f"{RESULTS}/report/segmentation.csv",
                f"{RESULTS}/report/segmentation.md",
                f"{RESULTS}/report/segmentation_vs_published.csv",
                f"{RESULTS}/report/segmentation_overlays.png",
                f"{RESULTS}/report/segmentation_curves.png",
            ]
            if SEGMENTATION  # rules/segmentation.smk
            else []
        ),
        *gan_outputs(),  # rules/gan.smk
        *trust_outputs(),  # rules/trust.smk
    ]


wildcard_constraints:
    dataset="|".join(DATASETS) or "^$",
    model="|".join(MODELS),
    seed=r"\d+",


def config_recipe(model, spatial_dims):
    return asdict(recipe(config, model, spatial_dims))

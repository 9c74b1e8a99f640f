"""The profiles as Snakemake sees them: each file given with --configfile merges into
config.yaml key by key, so every profile must state the keys it means to change."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from snakemake.utils import update_config

from conftest import REPO
from workflow.config import recipe

BASE = yaml.safe_load((REPO / "config.yaml").read_text())


def merged(*names: str) -> dict:
    """config.yaml with the named profiles laid over it in order, as ``--configfile`` does."""
    config = copy.deepcopy(BASE)
    for name in names:
        update_config(config, yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text()))
    return config


@pytest.mark.parametrize(
    ("name", "epochs_2d", "epochs_3d"),
    [("full", 100, 100), ("reproduce", 100, 100), ("cpu", 20, 10)],
)
def test_profiles_train_every_model_with_their_own_recipe(name: str, epochs_2d: int, epochs_3d: int):
    config = merged(name)
    models = config["benchmark"].get("run_models", config["benchmark"]["models"])
    for model in models:
        for dims, epochs in ((2, epochs_2d), (3, epochs_3d)):
            resolved = recipe(config, model, dims)
            published = (resolved.milestones, resolved.batch_size) == ((0.5, 0.75), 128 if dims == 2 else 32)
            assert (resolved.epochs, resolved.class_weights, published) == (epochs, "none", True), (name, model, dims)


def test_quick_profile_weighs_classes_and_sizes_epochs_per_family():
    assert (recipe(BASE, "resnet18", 2).epochs, recipe(BASE, "resnet18", 3).epochs) == (6, 3)
    assert (recipe(BASE, "densenet121", 2).epochs, recipe(BASE, "densenet121", 3).epochs) == (3, 1)
    assert recipe(BASE, "slice_rnn", 3).epochs == 6 and recipe(BASE, "vit", 3).epochs == 6 and recipe(BASE, "vit", 2).epochs == 6
    assert (recipe(BASE, "resnet18", 2).batch_size, recipe(BASE, "resnet18", 3).batch_size) == (64, 16)
    assert {recipe(BASE, m, 2).class_weights for m in BASE["benchmark"]["models"]} == {"balanced"}


def test_profile_params_replace_the_quick_sizes():
    full, cpu, reproduce = merged("full"), merged("cpu"), merged("reproduce")
    assert full["benchmark"]["models"]["resnet18"]["params"] == {"widen_factor": 1.0, "stem_stride": 1}
    assert full["benchmark"]["models"]["vit"]["params"]["hidden_size"] == 192
    assert reproduce["benchmark"]["models"]["resnet18"]["params"] == {"widen_factor": 1.0, "stem_stride": 1}
    assert cpu["benchmark"]["models"]["resnet18"]["params"] == cpu["benchmark"]["models"]["resnet18_gan"]["params"]
    assert cpu["literature"]["enabled"] is False and cpu["results"] == "benchmarks/results/cpu"


def test_the_kept_cpu_comparison_runs_were_made_by_the_cpu_profile_as_it_stands():
    from dataclasses import asdict

    from workflow.data.medmnist import Dataset

    config = merged("cpu")
    runs = sorted((REPO / "benchmarks" / "results" / "cpu" / "runs").glob("*/*/seed*/metrics.json"))
    models, datasets, seeds = config["benchmark"]["models"], config["benchmark"]["datasets"], config["benchmark"]["seeds"]
    assert len(runs) == (len(datasets) * 6 + 2 * 1 + 3 * 1) * len(seeds)  # 6 families everywhere, RNN on 2 volumes, GAN on 3 images
    for path in runs:
        run = json.loads(path.read_text())
        dims = Dataset(run["dataset"]).spatial_dims
        assert run["status"] == "ok" and run["profile"] == "cpu" and run["seed"] in seeds
        assert run["config"]["params"] == models[run["model"]]["params"], path
        assert run["config"]["recipe"] == json.loads(json.dumps(asdict(recipe(config, run["model"], dims)))), path


def test_the_kept_cpu_segmentation_runs_were_made_by_the_cpu_profile_as_it_stands():
    """Every kept 2-D and 3-D segmentation run has the profile's model sizes, recipe (with its
    dataset's epochs...), augmentation, input and tolerance; together they are every (dataset,
    model, seed) of the profile: the five modalities, each model, three seeds."""
    from dataclasses import asdict

    from workflow.train.segmentation import SegmentationRecipe

    config = merged("cpu")["segmentation"]
    volumes, seeds = config["volumes"], config["seeds"]
    recipe_keys = ("epochs", "batch_size", "samples", "val_every")  # rules/segmentation.smk

    def recipe_of(section: dict, settings: dict) -> dict:
        return asdict(SegmentationRecipe(**{**section["recipe"], **{k: settings[k] for k in recipe_keys if k in settings}}))

    expected = {(d, m, s) for d in config["datasets"] for m in config["settings"][d].get("models", config["models"]) for s in seeds}
    expected |= {(d, m, s) for d in volumes["datasets"] for m in volumes["settings"][d].get("models", volumes["models"]) for s in seeds}
    assert {run[0] for run in expected} == {"hc18", "drive", "jsrt_scr", "medseg_covid", "Task04_Hippocampus"} and len(expected) == 60
    found, modalities = set(), set()
    for path in (REPO / "benchmarks" / "results" / "cpu" / "segmentation" / "runs").glob("*/*/seed*/metrics.json"):
        run = json.loads(path.read_text())
        found.add((run["dataset"], run["model"], run["seed"]))
        modalities.add(run["modality"])
        assert run["profile"] == "cpu", path
        section, settings = (config, config["settings"][run["dataset"]]) if run["dims"] == 2 else (volumes, volumes["settings"][run["dataset"]])
        assert run["config"]["params"] == section["models"][run["model"]].get("params", {}), path
        assert run["config"]["recipe"] == recipe_of(section, settings), path
        assert run["config"]["augment"] == settings["augment"], path
        assert run["tolerance"] == settings.get("tolerance_mm", settings.get("tolerance_px")), path
        if run["dims"] == 2:
            assert (run["patch"], run["size"] if "size" in settings else None) == (settings.get("patch"), settings.get("size")), path
        else:
            assert (run["patch"], run["spacing_mm"]) == (settings["patch"], settings["spacing"]), path
    assert found == expected and modalities == {"ultrasound", "fundus", "X-ray", "CT", "MRI"}


def test_the_readme_segmentation_tables_are_the_kept_cpu_report():
    """The README's Dice table carries the kept report's cell for every dataset and model
    (the 3-D models in the columns of their 2-D namesakes), and each row of its comparison
    with published results is a row of the kept segmentation_vs_published.md."""
    import pandas as pd

    from workflow.report.segmentation_tables import cells

    report = REPO / "benchmarks" / "results" / "cpu" / "report"
    kept = cells(pd.read_csv(report / "segmentation.csv")).set_index(["dataset", "model"])
    readme = (REPO / "README.md").read_text()
    dice, published = readme[readme.index("**Segmentation on five modalities**") :].split("\n\n")[2:5:2]
    header, _, *rows = dice.splitlines()
    models = [cell.strip() for cell in header.strip("|").split("|")][2:]
    assert models == ["U-Net", "Attention U-Net", "UNETR", "SwinUNETR"]
    names = ["unet", "attention_unet", "unetr", "swin_unetr"]
    seen = set()
    for row in rows:
        modality, dataset, *values = [cell.strip() for cell in row.strip("|").split("|")]
        dataset, cases = dataset.rstrip(")").split(" (")
        for name, value in zip(names, values):
            model = name if (dataset, name) in kept.index else f"{name}3d"
            expected = kept.loc[(dataset, model)]
            assert (modality, cases, value) == (expected["modality"], expected["test cases"], expected["Dice"]), (dataset, model)
            seen.add((dataset, model))
    assert seen == set(kept.index) and len(seen) == 20
    lines = set((report / "segmentation_vs_published.md").read_text().splitlines())
    quoted = published.splitlines()
    assert quoted[:2] == ["| dataset | metric | method | value | split | protocol | source |", "|---|---|---|---|---|---|---|"]
    assert len(quoted) > 6 and all(line in lines for line in quoted[2:])

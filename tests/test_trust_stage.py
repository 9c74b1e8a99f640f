"""The trust stage end to end on real BreastMNIST runs: a small network and the classical
baseline trained here, scored from their run folders, then the report's tables and figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workflow.data.medmnist import Dataset
from workflow.report import trust_figures, trust_tables
from workflow.train.recipe import Recipe
from workflow.train.run import RunSpec, execute
from workflow.trust.stage import TrustSettings, evaluate_dataset
from workflow.trust.trained import MissingModel, load

BREAST = Dataset("breastmnist")
SETTINGS = TrustSettings(
    seed=0,
    saliency={"enabled": True, "methods": ["gradcam", "rollout", "occlusion"], "images": 2, "steps": 8, "sanity_threshold": 0.5,
              "occlusion": {"window_2d": 4, "stride_2d": 4, "window_3d": 7, "stride_3d": 7}},
    calibration={"enabled": True, "bins": 5, "resamples": 50},
    robustness={"enabled": True, "images": 40, "corruptions_2d": ["speckle_noise", "pixelate", "brightness_up"], "corruptions_3d": "all"},
    latency={"enabled": True, "repeats": 5, "warmup": 1, "max_batch": 8},
)


@pytest.fixture(scope="module")
def runs(data_root: Path, tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    npz = BREAST.path(data_root)
    folders = []
    for name, arch, params in (("resnet18", "resnet18", {"widen_factor": 0.0625, "stem_stride": 2}), ("lr", "logistic_regression", {"C": [0.01]})):
        folder = root / name / "seed0"
        folder.mkdir(parents=True)
        spec = RunSpec("breastmnist", name, arch, params, Recipe(epochs=1, batch_size=64), seed=0, profile="test")
        execute(spec, npz, folder / "metrics.json", folder / "log.csv", folder / "predictions.npz")
        folders.append(folder)
    return folders


def test_every_part_is_scored_from_the_run_folders(runs, data_root: Path, tmp_path: Path):
    output = tmp_path / "trust" / "breastmnist" / "trust.json"
    records = evaluate_dataset("breastmnist", BREAST.path(data_root), runs, output, output.with_name("maps.npz"), SETTINGS)
    assert json.loads(output.read_text()) == json.loads(json.dumps(records))
    network, linear = records
    for record, folder in zip(records, runs):
        run = json.loads((folder / "metrics.json").read_text())
        assert {k: record[k] for k in ("dataset", "flag", "modality", "task", "model", "arch", "family", "seed", "profile", "test_auc", "test_acc")} == {
            "dataset": "breastmnist", "flag": "breastmnist", "modality": BREAST.modality, "task": "binary-class", "model": run["model"],
            "arch": run["arch"], "family": run["family"], "seed": 0, "profile": "test", "test_auc": run["test"]["auc"], "test_acc": run["test"]["acc"]}
        assert record["settings"] == {"seed": 0, "saliency": SETTINGS.saliency, "calibration": SETTINGS.calibration,
                                      "robustness": SETTINGS.robustness, "latency": SETTINGS.latency}
        assert record["started"] <= record["finished"] and record["device"]
        assert record["rescored_max_abs_diff"] < 1e-5  # the restored model gives the run's own test scores
        calibration = record["calibration"]
        assert calibration["temperature"] > 0 and sum(b["count"] for b in calibration["reliability_after"]) == 156  # the whole test split
        assert calibration["resamples"] == 50 and calibration["ece_change_low"] <= calibration["ece_change_high"]
        for when in ("before", "after"):
            scores = calibration[when]
            assert scores["ece_low"] <= scores["ece_high"] and 0 < scores["noise_floor_mean"] <= scores["noise_floor_p95"] < 0.5
        degenerate = calibration["degenerate"]
        assert (degenerate is None) == (calibration["val_accuracy"] > calibration["val_chance"] and 0.01 <= calibration["temperature"] <= 100)
        assert set(record["robustness"]["corruptions"]) == {"speckle_noise", "pixelate"}
        assert "torchvision" in record["robustness"]["left_out"]["brightness_up"]
        assert record["robustness"]["n_images"] == 40 and record["robustness"]["rbe"] is not None
        assert record["latency"]["latency_ms_p95"] >= record["latency"]["latency_ms_median"] > 0
        assert len(record["saliency"]["methods"]["occlusion"]["deletion_auc"]) == 2
    assert set(network["saliency"]["methods"]) == {"gradcam", "occlusion", "random"} and "rollout" in network["saliency"]["skipped"]
    for record in records:
        for method in set(record["saliency"]["methods"]) - {"random"}:
            check = record["saliency"]["methods"][method]
            assert len(check["randomisation_rho"]) == len(check["randomisation_rho_abs"]) == 2
            assert all(rho is None or -1 <= rho <= 1 for rho in check["randomisation_rho"] + check["randomisation_rho_abs"])
            steps = check["cascade"]
            assert len(steps["rho"]) == len(steps["rho_abs"]) == len(steps["blocks"]) and all(len(step) == 2 for step in steps["rho"])
    # the cascade re-draws MONAI's ResNet from its classifier down to its stem, blocks in the order the forward pass runs them
    assert network["saliency"]["methods"]["gradcam"]["cascade"]["blocks"] == ["fc", "layer4", "layer3", "layer2", "layer1", "bn1", "conv1"]
    assert linear["saliency"]["methods"]["occlusion"]["cascade"]["blocks"] == ["coefficients"]
    assert set(linear["saliency"]["methods"]) == {"occlusion", "random"} and "scikit-learn" in linear["saliency"]["skipped"]["gradcam"]
    maps = np.load(output.with_name("maps.npz"))
    assert maps["resnet18/seed0/gradcam"].shape == (2, 28, 28) and maps["images"].shape == (2, 28, 28)
    assert list(maps["indices"]) == network["saliency"]["indices"]

    frame = trust_tables.runs(records)
    assert list(frame["model"]) == ["resnet18", "lr"] and frame["ece_before"].notna().all()
    assert (frame["ece_low_before"] <= frame["ece_high_before"]).all() and frame["noise_floor_p95_after"].notna().all()
    text = trust_tables.markdown(records, "test")
    for heading in ("## Explanations", "## Calibration", "## Robustness", "## Real-time cost", "Methods that do not apply", "left out here"):
        assert heading in text
    for block in text.split("\n\n"):  # every Markdown table keeps its columns: no stray pipe in a header or cell
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) <= 1, rows[:2]
    explanations = trust_tables.explanations(records)
    figures = {name: tmp_path / f"{name}.png" for name in ("saliency", "faithfulness", "sanity", "reliability", "calibration", "robustness", "latency")}
    trust_figures.saliency_panel({"breastmnist": dict(maps)}, figures["saliency"], "t")
    trust_figures.faithfulness(explanations, figures["faithfulness"], "t")
    trust_figures.sanity(explanations, trust_tables.cascade(records), 0.5, figures["sanity"], "t")
    trust_figures.reliability(trust_tables.reliability(records), figures["reliability"], "t")
    trust_figures.calibration(frame, figures["calibration"], "t")
    trust_figures.robustness(trust_tables.robustness(records), figures["robustness"], "t")
    trust_figures.latency(frame, figures["latency"], "t")
    assert all(path.stat().st_size > 5000 for path in figures.values())


def test_parts_switched_off_and_runs_saved_without_validation_scores(runs, data_root: Path, tmp_path: Path):
    network = runs[0]
    kept = dict(np.load(network / "predictions.npz"))
    full = evaluate_dataset("breastmnist", BREAST.path(data_root), runs[:1], tmp_path / "a.json", tmp_path / "a.npz", SETTINGS)[0]
    np.savez(network / "predictions.npz", **{k: v for k, v in kept.items() if k != "val_scores"})  # as runs saved before they kept them
    settings = TrustSettings(seed=0, saliency={"enabled": False}, calibration=SETTINGS.calibration,
                             robustness={"enabled": True, "corruptions_2d": ["pixelate"]}, latency={"enabled": False})
    try:
        [record] = evaluate_dataset("breastmnist", BREAST.path(data_root), runs[:1], tmp_path / "b.json", tmp_path / "b.npz", settings)
    finally:
        np.savez(network / "predictions.npz", **kept)
    assert record["calibration"]["temperature"] == pytest.approx(full["calibration"]["temperature"], rel=1e-4)  # validation scored again
    assert "saliency" not in record and "latency" not in record
    assert record["robustness"]["n_images"] == 156 and "indices" not in record["robustness"]  # no limit: the whole test split
    assert len(np.load(tmp_path / "b.npz")["indices"]) == 0


def test_a_missing_checkpoint_stops_the_job_naming_the_run(runs, data_root: Path, tmp_path: Path):
    network = runs[0]
    (network / "checkpoint.pt").rename(network / "kept.pt")
    try:
        with pytest.raises(MissingModel, match=f"run {network}: no checkpoint.pt"):
            evaluate_dataset("breastmnist", BREAST.path(data_root), runs, tmp_path / "t.json", tmp_path / "m.npz", SETTINGS)
        assert not (tmp_path / "t.json").exists()
    finally:
        (network / "kept.pt").rename(network / "checkpoint.pt")
    assert load(network).module is not None

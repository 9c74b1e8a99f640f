"""The Snakemake DAG itself: config validation, dry runs, and one real end-to-end run."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import browser
from conftest import REPO

PLUGIN = REPO / "tests" / "plugins" / "tiny_cnn.py"


def snakemake(workdir: Path, *args: str, config: dict | None = None, data: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]
    if config is not None:
        path = workdir / "test-config.yaml"
        path.write_text(yaml.safe_dump(config))
        command += ["--configfile", str(path)]
    env = {**os.environ, "DLMIA_DATA": str(data) if data else str(workdir / "no-data")}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


def job_counts(output: str) -> dict[str, int]:
    lines = output.split("Job stats:")[1].splitlines()[3:]
    counts = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"benchmark": {"recipe": {"epochs": "many"}}}, "config key 'benchmark.recipe.epochs': 'many' is not of type 'integer'"),
        ({"benchmark": {"epoch": 3}}, "config key 'benchmark': Additional properties are not allowed ('epoch' was unexpected)"),
        ({"benchmark": {"datasets": ["mnist"]}}, "config key 'benchmark.datasets.0': 'mnist' is not one of"),
        ({"literature": {"screening": {"years": [2015]}}}, "config key 'literature.screening.years'"),
        ({"benchmark": {"models": {"x": {"arch": "nosuchnet"}}}}, "benchmark.models.x.arch: no model architecture 'nosuchnet'"),
        ({"benchmark": {"run_models": ["resnet81"]}}, "benchmark.run_models: no models entry named resnet81"),
        ({"benchmark": {"models": {"x": {"arch": "unet"}}}}, "benchmark.models.x.arch: unet is a segmentation model"),
        ({"trust": {"saliency": {"methods": ["lime"]}}}, "config key 'trust.saliency.methods.0': 'lime' is not one of ['gradcam', 'rollout', 'occlusion']"),
        ({"trust": {"calibration": {"bins": 1}}}, "config key 'trust.calibration.bins': 1 is less than the minimum of 2"),
        (
            {"segmentation": {"volumes": {"datasets": ["Task04_Hippocampus", "Task11_Knee"]}}},
            "config key 'segmentation.volumes.datasets.1': 'Task11_Knee' does not match",
        ),
        ({"segmentation": {"volumes": {"datasets": ["Task05_Prostate"]}}}, "segmentation.volumes.settings.Task05_Prostate: missing"),
        (
            {"segmentation": {"volumes": {"settings": {"Task04_Hippocampus": {"models": ["vnet"]}}}}},
            "segmentation.volumes.settings.Task04_Hippocampus.models: 'vnet' is not an entry of segmentation.volumes.models (unet3d)",
        ),
        (
            {"segmentation": {"volumes": {"settings": {"Task04_Hippocampus": {"patch": [64, 64, 24]}}}}},
            "config key 'segmentation.volumes.settings.Task04_Hippocampus.patch.2': 24 is not a multiple of 16",
        ),
        ({"segmentation": {"datasets": ["hc18", "drive"]}}, "segmentation.settings.drive: missing"),
        (
            {"segmentation": {"settings": {"hc18": {"augment": {"flip_axes": [3]}}}}},
            "config key 'segmentation.settings.hc18.augment.flip_axes.0': 3 is greater than the maximum of 2",
        ),
        (
            {"segmentation": {"settings": {"hc18": {"tolerance_px": 2}}}},
            "config key 'segmentation.settings.hc18'",
        ),
        (
            {"benchmark": {"recipe": {"augmentation": {"flips": ["diagonal"]}}}},
            "config key 'benchmark.recipe.augmentation.flips.0': 'diagonal' is not one of ['horizontal', 'vertical', 'depth']",
        ),
    ],
)
def test_bad_config_is_refused_before_any_job_naming_the_key(tmp_path: Path, config: dict, message: str):
    result = snakemake(tmp_path, "-n", config=config)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


def test_full_configuration_lists_the_whole_dag_without_data(tmp_path: Path):
    result = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config" / "full.yaml"))
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    # resnet18, densenet121, vit, cnn_transformer, autoencoder and logistic_regression on all 18
    # subsets, slice_rnn on the 6 volumes, resnet18_gan on 5 2-D subsets, each with its GAN; 3 seeds
    assert counts["dataset"] == 18 and counts["train"] == (18 * 6 + 6 + 5) * 3 and counts["gan"] == 5 * 3
    # U-Net, Attention U-Net, UNETR and SwinUNETR on the five 2-D datasets (HC18, Montgomery,
    # DRIVE, JSRT/SCR, MedSeg) and on the Decathlon hippocampus and spleen in 3-D; 3 seeds
    assert counts["segmentation_train"] == 5 * 4 * 3 and counts["segmentation_volume_train"] == 2 * 4 * 3
    assert counts["segmentation_dataset"] == 5 and counts["segmentation_volumes"] == 2
    assert counts["search_pubmed"] == 1


def test_reproduction_profile_runs_only_the_published_resnet18(tmp_path: Path, data_root: Path):
    result = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config" / "reproduce.yaml"), data=data_root)
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    assert counts["train"] == 5 * 3 and "gan" not in counts and "segmentation_train" not in counts
    assert "model=resnet18," in result.stdout and "model=autoencoder" not in result.stdout


def test_without_data_or_internet_the_run_stops_at_a_download_naming_url_and_destination(tmp_path: Path):
    """The quick profile on an empty data folder with every request refused (a proxy on a
    closed port): the first downloads fail with their URL, destination and advice, no traceback."""
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "DLMIA_DATA": str(tmp_path / "data"), "http_proxy": closed, "https_proxy": closed}
    env.pop("no_proxy", None)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--cores", "2"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    failed = [line for line in output.splitlines() if line.startswith("error: ")]
    assert failed, output[-3000:]
    medmnist = [line for line in failed if "medmnist" in line]
    assert medmnist or any("eutils.ncbi" in line for line in failed), failed
    for line in medmnist:
        flag = line.split("medmnist/")[1].split(".npz")[0]
        assert f"{tmp_path / 'data' / 'medmnist' / flag}.npz" in line and "https://zenodo.org/" in line and "failed after 4 attempt(s)" in line
    assert "Traceback" not in output
    assert not list((tmp_path / "results").glob("runs/*")) and not list((tmp_path / "data").rglob("*.npz"))


def test_missing_snapshot_falls_back_to_a_pubmed_search(tmp_path: Path):
    result = snakemake(tmp_path, "-n")
    assert result.returncode == 0, result.stderr
    assert f"literature.snapshot: no file matches {tmp_path / 'no-data'}/pubmed/efetch_sets/*/*.xml" in result.stderr + result.stdout
    assert "searching PubMed instead" in result.stderr + result.stdout
    assert job_counts(result.stdout)["search_pubmed"] == 1


def test_models_run_on_the_datasets_their_entry_names(tmp_path: Path, data_root: Path):
    config = {"benchmark": {"seeds": [0, 1], "run_models": ["resnet18"], "models": {"resnet18": {"arch": "resnet18", "datasets": ["breastmnist", "vesselmnist3d"]}}}}
    result = snakemake(tmp_path, "-n", config=config, data=data_root)
    assert result.returncode == 0, result.stderr
    assert job_counts(result.stdout)["train"] == 2 * 2
    assert "dataset=pneumoniamnist, model=" not in result.stdout


def test_model_that_cannot_take_a_dataset_is_skipped_with_a_message(tmp_path: Path, data_root: Path):
    config = {
        "benchmark": {
            "datasets": ["breastmnist", "adrenalmnist3d"],
            "seeds": [0, 1],
            "model_files": [str(REPO / "tests" / "plugins" / "flat_cnn.py")],
            "run_models": ["resnet18", "flat"],
            "models": {"flat": {"arch": "flat_cnn"}},
        }
    }
    result = snakemake(tmp_path, "-n", config=config, data=data_root)
    assert result.returncode == 0, result.stderr
    assert "skipping flat on adrenalmnist3d: flat_cnn takes (2,)-D inputs, adrenalmnist3d is 3-D" in result.stderr + result.stdout
    assert job_counts(result.stdout)["train"] == 2 * 2 + 1 * 2  # resnet18 (config.yaml) on both, flat on one
    assert "dataset=breastmnist, model=flat, seed=0" in result.stdout


def test_depth_flips_run_on_volumes_only(tmp_path: Path, data_root: Path):
    augmentation = {"flips": ["depth", "horizontal"], "translate": 2}
    config = {
        "benchmark": {
            "datasets": ["breastmnist", "adrenalmnist3d"],
            "seeds": [0, 1],
            "run_models": ["flipped"],
            "models": {"flipped": {"arch": "resnet18", "recipe": {"augmentation": augmentation}}},
        }
    }
    result = snakemake(tmp_path, "-n", config=config, data=data_root)
    assert result.returncode == 0, result.stderr
    assert "skipping flipped on breastmnist: its augmentation flips depth, breastmnist is 2-D" in result.stderr + result.stdout
    assert job_counts(result.stdout)["train"] == 2 and "dataset=adrenalmnist3d, model=flipped" in result.stdout
    assert "dataset=adrenalmnist3d, model=flat" not in result.stdout


TINY = {
    "profile": "test",
    "literature": {
        "snapshot": ["pubmed/efetch_sets/*/*.xml", "pubmed/biopython_Tests_Entrez/pubmed*.xml"],
        "exports": [{"path": "literature_exports/DDSA_Sourget/Synapse.csv", "format": "csv", "source": "Dimensions"}],
        "simulation": {"reviews": ["screening/asreview_test_fixtures/Kwok_2020.csv"], "models": ["nb"], "seeds": [0, 1]},
        "screening": {
            "years": [2012, 2025],
            "languages": ["eng"],
            "exclude_publication_types": ["Case Reports"],
            "required_terms": {"method": ["neural network", "deep learning"], "imaging": ["MRI", "imaging"]},
        },
    },
    "benchmark": {
        "datasets": ["breastmnist", "adrenalmnist3d"],
        "seeds": [0, 1],
        "threads": 1,
        "model_files": ["plugins/tiny_cnn.py", "plugins/nan_cnn.py", "plugins/flat_cnn.py"],  # copied into the run's folder
        "recipe": {"epochs": 1},
        "models": {
            "tiny": {"arch": "tiny_cnn", "params": {"width": 4}},
            # 5 finite steps: BreastMNIST's 546 images in batches of 128 make epoch 1; epoch 2 turns NaN
            "broken": {"arch": "nan_cnn", "datasets": ["breastmnist"], "params": {"finite_steps": 5}, "recipe": {"epochs": 2, "batch_size_2d": 128}},
            "flat": {"arch": "flat_cnn", "datasets": ["adrenalmnist3d"]},  # 2-D only: skipped when the DAG is built
        },
    },
    "trust": {
        "saliency": {"images": 2, "steps": 4, "occlusion": {"window_3d": 14, "stride_3d": 14}},
        "robustness": {"images": 16, "corruptions_2d": ["speckle_noise"], "corruptions_3d": ["gaussian_noise"]},
        "latency": {"repeats": 3, "warmup": 1, "max_batch": 4},
    },
}


def with_plugins(workdir: Path) -> Path:
    """``workdir`` with the test model files copied into ``plugins/``, where TINY names them."""
    shutil.copytree(REPO / "tests" / "plugins", workdir / "plugins", dirs_exist_ok=True)
    return workdir


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    workdir = with_plugins(tmp_path_factory.mktemp("dag"))  # model files a user keeps beside their run
    result = snakemake(workdir, "--replace-workflow-config", config=TINY, data=data_root)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_end_to_end_run_writes_every_stage(finished_run: Path):
    results = finished_run / "results"
    prisma = json.loads((results / "literature" / "prisma.json").read_text())
    assert prisma["identified_by_source"] == {"PubMed": 329, "Dimensions": 211}
    assert prisma["identified"] == 540 and prisma["duplicates_removed"] == 97
    assert prisma["screened"] == prisma["included"] + prisma["to_screen"] + prisma["excluded"] == 443 - prisma["excluded_automatic"]
    template = pd.read_csv(results / "report" / "prisma2020.csv").set_index("data")["n"]
    assert template["database_results"] == "PubMed, 329; Dimensions, 211" and int(template["duplicates"]) == 97
    simulation = pd.read_csv(results / "literature" / "simulation.csv")
    assert simulation[["dataset", "model", "seeds"]].values.tolist() == [["Kwok_2020", "nb", 2]]
    evidence = pd.read_csv(results / "report" / "evidence_counts.csv", index_col=0)
    assert evidence.index[-1] == "none" and evidence.to_numpy().sum() >= prisma["included"]
    screened = pd.read_csv(results / "literature" / "screened.csv")
    assert (screened["reason"].notna() == (screened["decision"] != "include")).all()
    left = pd.read_csv(results / "literature" / "to_screen.csv")
    assert len(left) == prisma["to_screen"] and (left["decision"] == "screen").all() and left["reason"].str.startswith("uncertain: ").all()

    card = json.loads((results / "data" / "adrenalmnist3d.json").read_text())
    assert card["modality"] == "CT" and card["md5"] == "bbd3c5a5576322bc4cdfea780653b1ce"

    metrics = json.loads((results / "runs" / "breastmnist" / "tiny" / "seed1" / "metrics.json").read_text())
    assert metrics["seed"] == 1 and metrics["family"] == "cnn" and metrics["epochs"] == 1
    assert 0.0 <= metrics["test"]["auc"] <= 1.0
    assert {"torch", "monai", "medmnist", "python"} <= set(metrics["versions"])
    assert metrics["device"].startswith("cpu") and metrics["config"]["params"] == {"width": 4}
    assert metrics["precision"] == "fp32" and metrics["config"]["recipe"]["augmentation"]["flips"] == []

    table = pd.read_csv(results / "report" / "benchmark.csv")
    assert sorted(table["dataset"]) == ["adrenalmnist3d", "breastmnist"]
    assert (table["seeds"] == 2).all()
    assert "profile: test, epochs: 1, 4 runs" in (results / "report" / "benchmark.md").read_text()
    assert table["flops_per_image"].gt(0).all() and table["balanced_acc_mean"].between(0, 1).all()
    assert (results / "report" / "benchmark_vs_published.md").read_text().count("| breastmnist | tiny |") == 1
    intervals = pd.read_csv(results / "report" / "auc_intervals.csv")
    assert len(intervals) == 4 and (intervals["auc_low"] <= intervals["auc"]).all() and (intervals["auc"] <= intervals["auc_high"]).all()
    assert (results / "report" / "benchmark.tex").read_text().startswith("\\begin{table}")
    missing = pd.read_csv(results / "report" / "runs_not_made.csv")
    failed, skipped = missing[missing["status"] == "failed"], missing[missing["status"] == "skipped"]
    assert failed[["model", "seed"]].values.tolist() == [["broken", "0"], ["broken", "1"]]  # a skipped pair has seed "all"
    assert (failed["reason"] == "training loss became nan in epoch 2").all()
    assert "| breastmnist | broken | 0 | failed | training loss became nan in epoch 2 |" in (results / "report" / "runs_not_made.md").read_text()
    assert skipped[["dataset", "model", "seed"]].values.tolist() == [["adrenalmnist3d", "flat", "all"]]
    assert "flat_cnn takes (2,)-D inputs, adrenalmnist3d is 3-D" in (results / "report" / "runs_not_made.md").read_text()
    for seed in (0, 1):  # the epoch before the loss turned NaN stays in the failed run's log
        log = pd.read_csv(results / "runs" / "breastmnist" / "broken" / f"seed{seed}" / "log.csv")
        assert log["epoch"].tolist() == [1] and np.isfinite(log["train_loss"]).all()
    trust = pd.read_csv(results / "report" / "trust.csv")  # every trained run, the failed ones left out
    assert sorted(zip(trust["dataset"], trust["model"], trust["seed"])) == [(d, "tiny", s) for d in ("adrenalmnist3d", "breastmnist") for s in (0, 1)]
    assert (trust["rescored_max_abs_diff"] < 1e-5).all() and trust["ece_after"].notna().all() and (trust["latency_ms_median"] > 0).all()
    assert "## Explanations" in (results / "report" / "trust.md").read_text()
    for figure in ("family_modality_heatmap.png", "ranking.png", "benchmark_auc.png", "accuracy_vs_cost.png", "roc_curves.png", "learning_curves.png", "prisma_flow.png", "evidence_map.png", "evidence_per_year.png", "recall_curves.png", "trust_saliency.png", "trust_faithfulness.png", "trust_sanity.png", "trust_reliability.png", "trust_calibration.png", "trust_robustness.png", "trust_latency.png"):
        assert (results / "report" / figure).stat().st_size > 5_000


def test_a_finished_run_has_nothing_left_to_do(finished_run: Path, data_root: Path):
    result = snakemake(finished_run, "-n", "--replace-workflow-config", config=TINY, data=data_root)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_changed_recipe_runs_a_failed_run_again(finished_run: Path, data_root: Path):
    config = copy.deepcopy(TINY)
    config["benchmark"]["models"]["broken"]["recipe"]["lr"] = 1e-4
    result = snakemake(finished_run, "-n", "--replace-workflow-config", config=config, data=data_root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout)["train"] == 2
    assert "dataset=breastmnist, model=broken, seed=0" in result.stdout and "model=tiny" not in result.stdout


def _listed_jobs(output: str) -> list[dict[str, str]]:
    """The jobs a dry run lists: rule and wildcards of each."""
    jobs, rule = [], None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
            jobs.append({"rule": rule})
        elif line.startswith("wildcards:") and jobs:
            jobs[-1].update(dict(item.split("=", 1) for item in line.removeprefix("wildcards:").strip().split(", ")))
    return jobs


REPORTS = {"benchmark_report", "trust_report", "reported_metrics", "all"}  # the jobs that read every run's results


def test_adding_a_model_schedules_its_runs_alone_and_the_reports(finished_run: Path, data_root: Path, tmp_path: Path):
    """One model file and one config entry more: the dry run lists that model's runs and its
    trust jobs, then the report jobs; removing a model reruns nothing but the reports; a
    change to a model's own file reruns that model's runs alone."""
    plugin = tmp_path / "wide_cnn.py"
    plugin.write_text(PLUGIN.read_text().replace('"tiny_cnn"', '"wide_cnn"').replace("def tiny_cnn", "def wide_cnn"))
    added = copy.deepcopy(TINY)
    added["benchmark"]["model_files"].append(str(plugin))
    added["benchmark"]["models"]["wide"] = {"arch": "wide_cnn", "params": {"width": 6}}
    result = snakemake(finished_run, "-n", "--replace-workflow-config", config=added, data=data_root)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = _listed_jobs(result.stdout)
    assert sorted((j["rule"], j["dataset"], j["seed"]) for j in jobs if j["rule"] == "train") == [("train", d, s) for d in ("adrenalmnist3d", "breastmnist") for s in "01"]
    assert sorted((j["dataset"], j["model"]) for j in jobs if j["rule"] == "trust") == [("adrenalmnist3d", "wide"), ("breastmnist", "wide")]
    assert all(j.get("model", "wide") == "wide" for j in jobs)
    assert {j["rule"] for j in jobs} - {"train", "trust"} <= REPORTS

    removed = copy.deepcopy(TINY)
    del removed["benchmark"]["models"]["broken"]
    result = snakemake(finished_run, "-n", "--replace-workflow-config", config=removed, data=data_root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {j["rule"] for j in _listed_jobs(result.stdout)} <= REPORTS

    plugin = finished_run / "plugins" / "nan_cnn.py"  # edited in place, then restored
    original, stat = plugin.read_text(), plugin.stat()
    try:
        plugin.write_text(original + "\n# changed\n")
        result = snakemake(finished_run, "-n", "--replace-workflow-config", config=TINY, data=data_root)
    finally:
        plugin.write_text(original)
        os.utime(plugin, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert result.returncode == 0, result.stderr[-3000:]
    trained = [j for j in _listed_jobs(result.stdout) if j["rule"] == "train"]
    assert sorted((j["model"], j["seed"]) for j in trained) == [("broken", "0"), ("broken", "1")]


def test_reviewers_decisions_rank_the_rest_and_say_when_to_stop(finished_run: Path, data_root: Path):
    included = pd.read_csv(finished_run / "results" / "literature" / "included.csv")["record_id"].tolist()
    decisions = finished_run / "decisions.csv"
    pd.DataFrame({"record_id": included[:12], "label": [1, 0, 0, 1] + [0] * 8}).to_csv(decisions, index=False)
    config = copy.deepcopy(TINY)
    config["literature"]["screening"]["decisions"] = str(decisions)
    targets = ["results/literature/priority.csv", "results/report/screening_stopping.md"]
    result = snakemake(finished_run, *targets, "--replace-workflow-config", config=config, data=data_root)
    assert result.returncode == 0, result.stderr[-3000:]
    ranked = pd.read_csv(finished_run / targets[0])
    assert ranked["label"].notna().sum() == 12 and ranked["priority"].min() == 1
    advice = (finished_run / targets[1]).read_text()
    assert advice.startswith(f"Screened 12 of {len(ranked)} records, 2 relevant.") and "8 irrelevant records in a row" in advice
    assert "screen at least" in advice


def test_report_tables_and_figures_regenerate_without_retraining(finished_run: Path, data_root: Path):
    results = finished_run / "results"
    metrics = results / "runs" / "breastmnist" / "tiny" / "seed0" / "metrics.json"
    trained, drawn = metrics.stat().st_mtime_ns, (results / "report" / "benchmark_auc.png").stat().st_mtime_ns
    rules = ["benchmark_report", "literature_report", "trust_report"]  # as `make figures` picks them
    result = snakemake(finished_run, "--forcerun", *rules, "--allowed-rules", *rules, "all", "--replace-workflow-config", config=TINY, data=data_root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics.stat().st_mtime_ns == trained and (results / "report" / "benchmark_auc.png").stat().st_mtime_ns > drawn
    assert "rule train" not in result.stdout + result.stderr


def test_html_report_is_built_from_the_results(finished_run: Path, data_root: Path):
    result = snakemake(finished_run, "--report", "report.html", "--replace-workflow-config", config=TINY, data=data_root)
    assert result.returncode == 0, result.stderr[-3000:]
    html = (finished_run / "report.html").read_text()
    for name in ("benchmark_auc.png", "prisma_flow.png", "evidence_map.png", "prisma2020.csv", "trust_saliency.png", "trust.md"):
        assert name in html


@pytest.mark.skipif(browser.chromium() is None, reason="needs Debian's chromium (make test installs it where apt-get may)")
def test_html_report_shows_every_figure_in_a_browser(finished_run: Path, data_root: Path):
    report = finished_run / "report.html"
    if not report.exists():
        result = snakemake(finished_run, "--report", "report.html", "--replace-workflow-config", config=TINY, data=data_root)
        assert result.returncode == 0, result.stderr[-3000:]
    checks, errors = browser.figure_checks(report, finished_run)
    assert errors == []
    figures = {Path(c["path"]).name: c for c in checks}
    assert {"benchmark_auc.png", "family_modality_heatmap.png", "ranking.png", "prisma_flow.png", "evidence_map.png"} <= set(figures)
    for name, check in figures.items():
        assert check["listed"] and check["shown"] and check["width"] > 200 and check["height"] > 100, name
    browser.screenshot(report, finished_run / "report.png")
    assert (finished_run / "report.png").read_bytes()[:4] == b"\x89PNG"

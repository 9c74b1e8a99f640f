import json
from pathlib import Path

import pytest

from workflow.report import figures, tables


def _run(path: Path, dataset: str, model: str, seed: int, auc: float, acc: float) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    metrics = {
        "dataset": dataset, "modality": "CT", "model": model, "family": "cnn", "seed": seed,
        "test": {"acc": acc, "auc": auc, "balanced_acc": acc, "f1": acc}, "epochs": 2, "best_epoch": 1,
        "parameters": 11_000, "flops_per_image": 2.5e8,
        "train_seconds": 1.0, "device": "cpu", "profile": "test",
    }
    (path / "metrics.json").write_text(json.dumps(metrics))
    return path / "metrics.json"


def test_summary_gives_mean_and_sample_std_over_seeds(tmp_path: Path):
    files = [
        _run(tmp_path / "a0", "adrenalmnist3d", "resnet18", 0, 0.80, 0.70),
        _run(tmp_path / "a1", "adrenalmnist3d", "resnet18", 1, 0.90, 0.80),
        _run(tmp_path / "b0", "breastmnist", "resnet18", 0, 0.70, 0.60),
    ]
    runs = tables.collect(files)
    summary = tables.summarise(runs).set_index("dataset")
    assert summary.loc["adrenalmnist3d", "auc_mean"] == pytest.approx(0.85)
    assert summary.loc["adrenalmnist3d", "auc_std"] == pytest.approx(0.0707107, rel=1e-5)
    assert summary.loc["breastmnist", "auc_std"] == 0.0 and summary.loc["breastmnist", "seeds"] == 1
    text = tables.markdown(tables.summarise(runs), tables.caption(runs))
    assert "| adrenalmnist3d | CT | resnet18 | 0.750 ± 0.071 | 0.850 ± 0.071 | 0.750 ± 0.071 | 0.750 ± 0.071 | 2 | 2 | 11,000 | 250 | 1 |" in text
    assert "| breastmnist | CT | resnet18 | 0.600 | 0.700 | 0.600 | 0.600 | 1 |" in text  # one seed: no spread shown
    assert text.startswith("Test metrics (mean ± sample std over seeds), profile: test, epochs: 2, 3 runs.")


def test_latex_family_modality_and_cost_outputs(tmp_path: Path):
    files = [
        _run(tmp_path / "a", "adrenalmnist3d", "res_net", 0, 0.8, 0.7),
        _run(tmp_path / "b", "organmnist3d", "res_net", 0, 0.9, 0.8),
        _run(tmp_path / "c", "breastmnist", "res_net", 0, 0.6, 0.5),
    ]
    summary = tables.summarise(tables.collect(files))
    text = tables.latex(summary, "AUC ± std, 5% subset")
    assert r"\caption{AUC $\pm$ std, 5\% subset}" in text and r"\begin{tabular}{lllccccccccc}" in text
    assert r"adrenalmnist3d & CT & res\_net & 0.700 & 0.800 & 0.700 & 0.700 & 1 & 2 & 11,000 & 250 & 1 \\" in text
    cells = tables.family_modality(summary, tables.collect(files), []).set_index("modality")
    assert cells.loc["CT", "best"] == 0.9 and cells.loc["CT", "mean"] == pytest.approx((0.8 + 0.9 + 0.6) / 3)  # all CT here
    figures.accuracy_vs_cost(summary, tmp_path / "cost.png")
    assert (tmp_path / "cost.png").stat().st_size > 10_000
    cost = tables.cost(summary, {"adrenalmnist3d": 1188, "organmnist3d": 972, "breastmnist": 546})
    assert cost.set_index("dataset").loc["breastmnist", "images_per_second"] == pytest.approx(546 * 2 / 1.0)
    assert "| breastmnist | res_net | 0.600 | 0.01 | 250 | 1 | 1,092 |" in tables.to_markdown(tables.cost_cells(cost), "c")


def test_family_modality_grid_says_why_a_cell_is_empty(tmp_path: Path):
    import pandas as pd

    runs = tables.collect([_run(tmp_path / "a", "adrenalmnist3d", "resnet18", 0, 0.8, 0.7), _run(tmp_path / "b", "adrenalmnist3d", "vit", 0, 0.7, 0.6)])
    runs.loc[1, "family"] = "vit"
    runs = pd.concat([runs, runs.iloc[[1]].assign(dataset="vesselmnist3d", modality="MRI", status="failed", auc=None)], ignore_index=True)
    skipped = [{"dataset": "breastmnist", "model": "rnn", "family": "rnn", "modality": "ultrasound", "reason": "slice_rnn takes (3,)-D inputs", "why": "3-D only"},
               {"dataset": "adrenalmnist3d", "model": "rnn", "family": "rnn", "modality": "CT", "reason": "r", "why": "3-D only"}]
    segmentation = pd.DataFrame({"dataset": ["hc18", "drive", "drive"], "family": ["unet", "unet", "hybrid"],
                                 "modality": ["ultrasound", "fundus", "fundus"], "dice_mean": [0.71, 0.78, 0.80]})
    table = tables.family_modality(tables.summarise(runs), runs, skipped, segmentation)
    wide = tables.family_modality_cells(table).set_index("family")
    assert wide.columns.tolist() == ["CT", "MRI", "fundus", "ultrasound"]
    assert wide.index.tolist() == ["cnn", "vit", "rnn", "unet (segmentation, Dice)", "hybrid (segmentation, Dice)"]  # registry order, segmentation last
    assert wide.loc["cnn"].tolist() == ["0.800 (0.800)", "n/a: no MRI dataset run for classification", "n/a: no fundus dataset run for classification", "n/a: no ultrasound dataset run for classification"]
    assert wide.loc["vit", "MRI"] == "n/a: failed" and wide.loc["rnn", "ultrasound"] == "n/a: 3-D only"
    assert wide.loc["rnn", "CT"] == "n/a: 3-D only" and wide.loc["unet (segmentation, Dice)", "ultrasound"] == "0.710 (0.710)"
    assert wide.loc["unet (segmentation, Dice)", "CT"] == "n/a: no CT dataset run for segmentation"
    assert wide.loc["hybrid (segmentation, Dice)", "fundus"] == "0.800 (0.800)" and wide.loc["unet (segmentation, Dice)", "fundus"] == "0.780 (0.780)"
    figures.family_modality_heatmap(table, tmp_path / "heat.png", "t")
    assert (tmp_path / "heat.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "heat.svg").read_text()  # every PNG has its SVG


def test_failed_and_skipped_runs_are_listed_not_dropped(tmp_path: Path):
    ok = _run(tmp_path / "a", "breastmnist", "m", 0, 0.8, 0.7)
    failed = tmp_path / "b" / "metrics.json"
    failed.parent.mkdir()
    failed.write_text(json.dumps({"dataset": "breastmnist", "modality": "CT", "model": "m", "family": "cnn", "seed": 1,
                                  "status": "failed", "reason": "training loss became nan in epoch 3", "epochs": 2, "profile": "test"}))
    runs = tables.collect([ok, failed])
    assert tables.summarise(runs)["seeds"].tolist() == [1]  # the failed seed is not averaged in
    skipped = [{"dataset": "adrenalmnist3d", "model": "vit2d", "status": "skipped", "reason": "takes (2,)-D inputs"}]
    listed = tables.not_made(runs, skipped)
    assert listed[["model", "seed", "status"]].values.tolist() == [["vit2d", "all", "skipped"], ["m", "1", "failed"]]
    assert "training loss became nan in epoch 3" in tables.to_markdown(listed, "c")


def test_comparison_with_published_baselines(tmp_path: Path):
    runs = tables.collect([_run(tmp_path / "a", "pneumoniamnist", "resnet18", 0, 0.95, 0.88), _run(tmp_path / "b", "octmnist", "resnet18", 0, 0.9, 0.7)])
    table = tables.versus_published(tables.summarise(runs))
    assert table["dataset"].tolist() == ["pneumoniamnist"]  # no published row kept for octmnist here
    row = table.iloc[0]
    assert row["auc_difference"] == pytest.approx(0.95 - 0.944) and row["acc_difference"] == pytest.approx(0.88 - 0.854)
    text = tables.versus_published_markdown(table, "caption")
    assert "| pneumoniamnist | resnet18 | 1 | 2 | 0.880 | 0.950 | ResNet-18 (28) | 0.854 | 0.944 | +0.026 | +0.006 |" in text
    assert "Scientific Data" in text


def test_learning_and_roc_figures_come_from_run_files(tmp_path: Path):
    import numpy as np
    import pandas as pd

    files = []
    for seed in (0, 1):
        path = _run(tmp_path / f"s{seed}", "retinamnist", "m", seed, 0.7, 0.5)
        pd.DataFrame({"epoch": [1, 2], "train_loss": [1.0, 0.8], "val_acc": [0.4, 0.5], "val_auc": [0.6, 0.7]}).to_csv(path.with_name("log.csv"), index=False)
        files.append(path)
    floor = _run(tmp_path / "lr", "retinamnist", "logistic_regression", 0, 0.7, 0.5)
    floor.write_text(json.dumps({**json.loads(floor.read_text()), "val": {"auc": 0.65}}))
    pd.DataFrame({"C": [0.1, 1.0], "val_acc": [0.4, 0.5], "val_auc": [0.6, 0.65]}).to_csv(floor.with_name("log.csv"), index=False)
    logs, floors = tables.learning_logs([*files, floor])
    assert logs.groupby("seed").size().tolist() == [2, 2] and set(logs["dataset"]) == {"retinamnist"}
    assert floors[["model", "val_auc"]].values.tolist() == [["logistic_regression", 0.65]]  # a grid search has no epochs
    figures.learning_curves(logs, floors, tmp_path / "learning.png")
    flat = tables.plateaus(pd.DataFrame({"dataset": "d", "model": "m", "seed": 0, "epoch": range(1, 9), "val_auc": [0.5, 0.7, 0.8, 0.9, 0.85, 0.86, 0.87, 0.84]}))
    # the last quarter of 8 epochs starts at epoch 6: 0.86, 0.87, 0.84
    assert flat.loc[0, "last_quarter_range"] == pytest.approx(0.03) and flat.loc[0, "best_minus_last"] == pytest.approx(0.06)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (40, 1))
    predictions = pd.DataFrame([{"dataset": "retinamnist", "model": "m", "seed": 0, "scores": rng.random((40, 5)), "labels": labels}])
    figures.roc_curves(predictions, tmp_path / "roc.png")
    for name in ("learning.png", "roc.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_figures_are_written(tmp_path: Path):
    runs = tables.collect([_run(tmp_path / "a0", "breastmnist", "m", 0, 0.8, 0.7), _run(tmp_path / "a1", "breastmnist", "m", 1, 0.9, 0.8)])
    figures.benchmark_auc(runs, tmp_path / "auc.png", title="t")
    counts = {
        "identified": 10, "identified_by_source": {"PubMed": 10}, "malformed_set_aside": 1, "duplicates_removed": 2,
        "excluded_automatic": 1, "excluded_automatic_by_reason": {"publication type: Letter": 1},
        "screened": 7, "excluded": 3, "excluded_by_reason": {"no method term": 3}, "to_screen": 1, "included": 3,
    }
    figures.prisma_flow(counts, [tmp_path / "prisma.png", tmp_path / "prisma.svg"])
    for name in ("auc.png", "prisma.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "prisma.svg").read_text()
    assert "Records screened" in svg and "no method term (n = 3)" in svg and "uncertain to the rules; n = 1" in svg


def test_reproduction_table_sets_the_kept_runs_beside_the_published_numbers(capsys):
    from benchmarks.reproduction_table import main

    folder = Path(__file__).parents[1] / "benchmarks" / "results" / "reproduce"
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("*_metrics.json"))]
    main([str(folder)])
    printed = capsys.readouterr().out
    assert printed.count("| breastmnist | ") == 1 + sum(r["dataset"] == "breastmnist" for r in runs) + 1  # summary, runs, published
    breast = [r["test"]["acc"] for r in runs if r["dataset"] == "breastmnist"]
    assert f"| breastmnist | resnet18 | {len(breast)} | 100 | {sum(breast) / len(breast):.3f}" in printed
    assert "| ResNet-18 (28) | 0.863 | 0.901 |" in printed


def test_runs_that_predict_one_class_for_every_image_are_named():
    import numpy as np
    import pandas as pd

    from workflow.report import benchmark, stats

    majority = np.tile([0.2, 0.8], (10, 1))
    assert benchmark.classes_predicted("binary-class", majority) == 1
    assert benchmark.classes_predicted("multi-class", np.eye(3)[[0, 1, 1, 2]]) == 3
    assert benchmark.classes_predicted("multi-label, binary-class", np.array([[0.9, 0.1, 0.2], [0.6, 0.4, 0.7]])) == 2
    intervals = pd.DataFrame([
        {"dataset": "breastmnist", "model": "vit", "seed": 0, "auc": 0.6, "auc_low": 0.5, "auc_high": 0.7, "resamples": 500, "classes_predicted": 1},
        {"dataset": "breastmnist", "model": "cnn", "seed": 0, "auc": 0.8, "auc_low": 0.7, "auc_high": 0.9, "resamples": 500, "classes_predicted": 2},
    ])
    ranking = stats.Ranking(pd.Series(dtype=float), float("nan"), float("nan"), float("nan"), 1, [])
    text = benchmark.statistics_markdown("c", intervals, stats.paired_comparisons(intervals), ranking)
    assert "Runs that give every test image the same class (1 of 2): breastmnist/vit/seed0." in text

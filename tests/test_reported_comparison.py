"""Reported versus measured (workflow/literature/reported_comparison.py): counts, medians and
interquartile ranges per family × modality cell, the join with the benchmark's cells (AUC,
the ACC of the same runs, Dice) and why a cell is not covered, identifiers kept in the CSV,
and the figure drawn from the extractor's pairs on real included records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workflow.literature import evidence
from workflow.literature.reported_comparison import FIGURE_METRICS, PLAUSIBLE, comparison, figure_data, for_review, markdown, reported_metrics, with_accuracy
from workflow.literature.reported_metrics import COLUMNS
from workflow.report import tables
from workflow.report.figures import reported_vs_measured

NAN = float("nan")


def pair(record: str, family: str, modality: str, metric: str, value: float, *, headline: bool = True, role: str = "proposed", unit: str = "fraction") -> dict:
    return {
        "record_id": record, "pmid": f"9{record[1:]}", "doi": f"10.1/{record.lower()}", "family": family, "modality": modality,
        "metric": metric, "value": value, "value_high": NAN, "spread": NAN, "unit": unit, "role": role, "headline": headline,
        "sentence": f"{record} states {metric} {value}",
    }


# Two cells. CNN × X-ray: AUC headlines 0.80, 0.95, 0.85, 0.90 from four records, and R005
# states an AUC that is not its headline (a study, no headline); a comparison value and an
# AUC in "other" units count nowhere. ViT × MRI: accuracy headlines 0.70, 0.99, 0.90; R007
# states two accuracies (one study), R009 an HD95 in mm.
PAIRS = pd.DataFrame([
    pair("R001", "CNN", "X-ray", "auc", 0.80),
    pair("R002", "CNN", "X-ray", "auc", 0.95),
    pair("R002", "CNN", "X-ray", "auc", 0.60, role="comparison", headline=False),
    pair("R003", "CNN", "X-ray", "auc", 0.85),
    pair("R004", "CNN", "X-ray", "auc", 0.90),
    pair("R005", "CNN", "X-ray", "dice", 0.88),
    pair("R005", "CNN", "X-ray", "auc", 0.70, headline=False),
    pair("R006", "CNN", "X-ray", "auc", 99.0, unit="other", headline=False),
    pair("R007", "ViT", "MRI", "accuracy", 0.70),
    pair("R007", "ViT", "MRI", "accuracy", 0.75, headline=False),
    pair("R008", "ViT", "MRI", "accuracy", 0.99),
    pair("R009", "ViT", "MRI", "accuracy", 0.90),
    pair("R009", "ViT", "MRI", "hd95", 4.5, unit="mm", headline=False),
])

# A benchmark of two X-ray CNN runs and one MRI ViT run, summarised as benchmark.csv is;
# family_modality.csv is made from it by the report's own function.
BENCHMARK = pd.DataFrame({
    "dataset": ["pneumoniamnist", "pneumoniamnist", "vesselmnist3d"], "modality": ["X-ray", "X-ray", "MRI"],
    "model": ["resnet18", "densenet121", "vit"], "family": ["cnn", "cnn", "vit"],
    "acc_mean": [0.80, 0.70, 0.60], "auc_mean": [0.90, 0.95, 0.75],
})
RUNS = BENCHMARK[["dataset", "model", "family", "modality"]].assign(seed=0, status="ok")
SKIPPED = [{"dataset": "vesselmnist3d", "model": "resnet18", "family": "cnn", "modality": "MRI", "reason": "skipped", "why": "3-D only"}]
SEGMENTATION = pd.DataFrame({"dataset": ["breastmnist"], "model": ["unet"], "family": ["unet"], "modality": ["ultrasound"], "dice_mean": [0.72], "demonstration": [False]})


@pytest.fixture
def measured() -> pd.DataFrame:
    return tables.family_modality(BENCHMARK, RUNS, SKIPPED, SEGMENTATION)


def cell(table: pd.DataFrame, family: str, modality: str, metric: str) -> pd.Series:
    rows = table[(table["family"] == family) & (table["modality"] == modality) & (table["metric"] == metric)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_counts_medians_and_interquartile_ranges_per_cell(measured: pd.DataFrame):
    table = comparison(PAIRS, measured)
    auc = cell(table, "CNN", "X-ray", "auc")
    assert (auc["studies"], auc["headlines"]) == (5, 4)  # R001-R005 report an AUC of their own; four headlines
    # sorted 0.80 0.85 0.90 0.95: median (0.85 + 0.90) / 2; Q1 at position 0.75, Q3 at 2.25 (linear)
    assert (auc["median"], auc["q1"], auc["q3"]) == pytest.approx((0.875, 0.8375, 0.9125))
    assert (auc["q1"], auc["median"], auc["q3"]) == pytest.approx(tuple(np.percentile([0.80, 0.95, 0.85, 0.90], [25, 50, 75])))
    accuracy = cell(table, "ViT", "MRI", "accuracy")
    assert (accuracy["studies"], accuracy["headlines"]) == (3, 3)
    assert (accuracy["median"], accuracy["q1"], accuracy["q3"]) == pytest.approx((0.90, 0.80, 0.945))
    assert (accuracy["q1"], accuracy["median"], accuracy["q3"]) == pytest.approx(tuple(np.percentile([0.70, 0.99, 0.90], [25, 50, 75])))
    dice = cell(table, "CNN", "X-ray", "dice")
    assert (dice["studies"], dice["headlines"], dice["median"]) == (1, 1, pytest.approx(0.88))
    hd95 = cell(table, "ViT", "MRI", "hd95")  # stated, but no headline: counted, no median
    assert (hd95["studies"], hd95["headlines"]) == (1, 0) and np.isnan(hd95["median"])
    assert len(table) == 4  # no cell for the comparison value or the AUC in other units


def test_values_outside_a_metrics_plausible_range_are_listed_for_review_not_summarised(measured: pd.DataFrame):
    # "a learning rate of 0.001" read as an accuracy, a Dice typed "0.86%", a range reaching past 1
    wrong = pd.DataFrame([
        pair("R010", "CNN", "X-ray", "accuracy", 0.001), pair("R011", "CNN", "X-ray", "dice", 0.0086),
        {**pair("R012", "CNN", "X-ray", "auc", 0.9), "value_high": 1.2}, pair("R013", "ViT", "MRI", "hd95", 0.0, unit="mm"),
        pair("R014", "CNN", "X-ray", "accuracy", 0.3), pair("R015", "CNN", "X-ray", "dice", 1.0),  # on the bounds: kept
    ])
    review = for_review(pd.concat([PAIRS, wrong]))
    assert review["record_id"].tolist() == ["R010", "R011", "R012", "R013"]
    assert review["reason"].iloc[0] == f"accuracy 0.001 outside the plausible range {PLAUSIBLE['accuracy']}"
    table = comparison(pd.concat([PAIRS, wrong]), measured)
    assert cell(table, "CNN", "X-ray", "accuracy")[["studies", "median"]].tolist() == [1, pytest.approx(0.3)]
    assert cell(table, "CNN", "X-ray", "dice")[["studies", "median"]].tolist() == [2, pytest.approx(0.94)]
    assert cell(table, "CNN", "X-ray", "auc")["studies"] == 5  # R012's range is out
    heads, _ = figure_data(pd.concat([PAIRS, wrong]), measured)
    assert not set(heads["record_id"]) & {"R010", "R011", "R012", "R013"}
    assert "2 extracted values outside" in markdown(table, "quick", 20, set_aside=2)


def test_a_record_with_two_families_counts_in_both_cells(measured: pd.DataFrame):
    pairs = pd.DataFrame([
        pair("R001", "CNN; ViT", "X-ray; CT", "auc", 0.90),
        pair("R002", "CNN", "X-ray", "auc", 0.70),
        pair("R003", "", "", "auc", 0.60),
    ])
    table = comparison(pairs, measured)
    assert cell(table, "CNN", "X-ray", "auc")[["studies", "median"]].tolist() == [2, pytest.approx(0.80)]
    for family, modality in [("ViT", "X-ray"), ("CNN", "CT"), ("ViT", "CT")]:
        assert cell(table, family, modality, "auc")[["studies", "median"]].tolist() == [1, pytest.approx(0.90)]
    assert cell(table, "none", "none", "auc")["studies"] == 1
    assert len(table) == 5


def test_the_join_sets_the_measured_score_beside_its_cell_and_says_why_others_have_none(measured: pd.DataFrame):
    pairs = pd.DataFrame([
        pair("R001", "CNN", "X-ray", "auc", 0.90),
        pair("R002", "CNN", "MRI", "auc", 0.80),
        pair("R003", "RNN", "X-ray", "auc", 0.80),
        pair("R004", "CNN", "ultrasound", "auc", 0.80),
        pair("R010", "CNN", "histopathology", "auc", 0.80),
        pair("R005", "CNN", "X-ray", "sensitivity", 0.80),
        pair("R006", "", "X-ray", "auc", 0.80),
        pair("R007", "U-Net", "ultrasound", "dice", 0.85),
        pair("R008", "U-Net", "X-ray", "dice", 0.85),
        pair("R009", "U-Net", "ultrasound", "accuracy", 0.85),
    ])
    table = comparison(pairs, with_accuracy(measured, BENCHMARK))
    auc = cell(table, "CNN", "X-ray", "auc")
    assert (auc["benchmark_best"], auc["benchmark_mean"], auc["benchmark"]) == (pytest.approx(0.95), pytest.approx(0.925), "measured")
    dice = cell(table, "U-Net", "ultrasound", "dice")
    assert (dice["benchmark_best"], dice["benchmark"]) == (pytest.approx(0.72), "measured")
    reasons = {
        ("CNN", "MRI", "auc"): "not covered: 3-D only",
        ("RNN", "X-ray", "auc"): "not covered: the benchmark trains no RNN family",
        ("CNN", "ultrasound", "auc"): "not covered: no ultrasound dataset run for classification",
        ("CNN", "histopathology", "auc"): "not covered: no histopathology dataset in the benchmark",
        ("CNN", "X-ray", "sensitivity"): "not covered: the benchmark reports no sensitivity for CNN",
        ("none", "X-ray", "auc"): "not covered: the record has no family or no modality tag",
        ("U-Net", "X-ray", "dice"): "not covered: no X-ray dataset run for segmentation",
        ("U-Net", "ultrasound", "accuracy"): "not covered: the benchmark reports no accuracy for U-Net",
    }
    for (family, modality, metric), reason in reasons.items():
        row = cell(table, family, modality, metric)
        assert row["benchmark"] == reason and np.isnan(row["benchmark_best"]) and np.isnan(row["benchmark_mean"])
    assert "| CNN | X-ray | auc | 1 | 0.900 [0.900, 0.900] | 1 | 0.950 (0.925) | pneumoniamnist/densenet121 | measured |" in markdown(table, "quick", 10)


def test_measured_accuracy_is_that_of_the_runs_behind_the_auc(measured: pd.DataFrame):
    cells = with_accuracy(measured, BENCHMARK)
    acc = cell(cells, "cnn", "X-ray", "ACC")
    # the best AUC (0.95) is densenet121's, whose ACC is 0.70 (not the cell's best ACC, 0.80); the mean over both runs
    assert (acc["best"], acc["mean"], acc["run"]) == (pytest.approx(0.70), pytest.approx(0.75), "pneumoniamnist/densenet121")
    assert cell(cells, "cnn", "X-ray", "AUC")["run"] == "pneumoniamnist/densenet121"
    assert cell(cells, "vit", "MRI", "ACC")[["best", "mean", "run"]].tolist() == [pytest.approx(0.60), pytest.approx(0.60), "vesselmnist3d/vit"]
    missing = cell(cells, "cnn", "MRI", "ACC")
    assert np.isnan(missing["best"]) and missing["reason"] == "3-D only" and missing["run"] == ""
    assert cell(cells, "unet", "ultrasound", "Dice")["run"] == ""
    assert len(cells) == len(measured) + (measured["metric"] == "AUC").sum()

    pairs = pd.DataFrame([pair("R001", "CNN", "X-ray", "accuracy", 0.93), pair("R002", "CNN", "X-ray", "auc", 0.97)])
    table = comparison(pairs, cells)
    reported = cell(table, "CNN", "X-ray", "accuracy")
    assert reported[["benchmark_best", "benchmark_mean", "benchmark_run", "benchmark"]].tolist() == [
        pytest.approx(0.70), pytest.approx(0.75), "pneumoniamnist/densenet121", "measured"
    ]
    assert cell(table, "CNN", "X-ray", "auc")[["benchmark_best", "benchmark_run"]].tolist() == [pytest.approx(0.95), "pneumoniamnist/densenet121"]


def test_files_from_different_benchmark_runs_are_refused(measured: pd.DataFrame):
    with pytest.raises(ValueError, match="cnn × X-ray"):
        with_accuracy(measured, BENCHMARK.assign(auc_mean=[0.90, 0.96, 0.75]))
    with pytest.raises(ValueError, match="cnn × X-ray"):  # same best, another run set: the mean differs
        with_accuracy(measured, BENCHMARK.iloc[1:])
    with pytest.raises(ValueError, match="does not score"):
        with_accuracy(measured, pd.concat([BENCHMARK, BENCHMARK.iloc[[2]].assign(family="cnn", model="resnet18")]))


@pytest.fixture(scope="module")
def real_records(quick_screened: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eight included records of the quick profile that state a pair, and their evidence tags."""
    included = quick_screened[quick_screened["decision"] == "include"]
    chosen = included[included["record_id"].isin(["R000028", "R002409", "R003275", "R003527", "R001798", "R000802", "R002880", "R002347"])]
    assert len(chosen) == 8
    return chosen, evidence.tag(chosen, evidence.load_vocabulary())


def test_every_reported_number_keeps_its_record_pmid_and_doi(real_records: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path):
    chosen, tags = real_records
    pairs = reported_metrics(chosen, tags)
    pairs.to_csv(tmp_path / "reported_metrics.csv", index=False)
    written = pd.read_csv(tmp_path / "reported_metrics.csv", dtype={"record_id": str, "pmid": str, "doi": str}, keep_default_na=False)
    assert list(written.columns) == ["record_id", "pmid", "doi", "family", "modality", *[c for c in COLUMNS if c not in ("record_id", "pmid", "doi")]]
    assert len(written) >= 20 and set(written["record_id"]) == set(chosen["record_id"])
    source = chosen.set_index("record_id")
    for row in written.itertuples(index=False):
        assert row.record_id and (row.pmid or row.doi)
        assert (row.pmid, row.doi) == (str(source.loc[row.record_id, "pmid"]), str(source.loc[row.record_id, "doi"]))
        assert row.sentence and f"{row.value}" != ""
    tagged = tags.set_index("record_id")
    assert [tagged.loc[r, "families"] for r in written["record_id"]] == written["family"].tolist()
    assert [tagged.loc[r, "modalities"] for r in written["record_id"]] == written["modality"].tolist()


def test_the_figure_is_drawn_from_real_records(real_records: tuple[pd.DataFrame, pd.DataFrame], measured: pd.DataFrame, tmp_path: Path):
    chosen, tags = real_records
    pairs = reported_metrics(chosen, tags)
    cells = with_accuracy(measured, BENCHMARK)
    vocabulary = evidence.load_vocabulary()
    path = tmp_path / "reported_vs_measured.png"
    heads, bench = figure_data(pairs, cells)
    reported_vs_measured(heads, bench, list(FIGURE_METRICS), path, list(vocabulary["families"]), [*vocabulary["modalities"], evidence.UNTAGGED])
    assert path.stat().st_size > 5_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

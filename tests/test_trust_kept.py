"""The trust numbers that docs/trust.md quotes for the CPU comparison against
the kept trust records (benchmarks/results/cpu/trust), computed from the kept runs."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import REPO
from workflow.report import trust_tables

KEPT = REPO / "benchmarks" / "results" / "cpu" / "trust"

RESULTS_PAGE = REPO / "docs" / "trust.md"
METHOD = {"gradcam": "Grad-CAM", "rollout": "rollout", "occlusion": "occlusion"}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return trust_tables.collect(sorted(KEPT.glob("*/*/trust.json")))


def test_the_kept_records_cover_every_kept_run_of_the_cpu_comparison(records: list[dict]):
    runs = {p.parent.relative_to(REPO / "benchmarks" / "results" / "cpu" / "runs").as_posix() for p in (REPO / "benchmarks" / "results" / "cpu" / "runs").glob("*/*/seed*/metrics.json")}
    scored = {f"{r['dataset']}/{r['model']}/seed{r['seed']}" for r in records}
    assert scored == runs and all(r["profile"] == "cpu" for r in records)
    assert max(r["rescored_max_abs_diff"] for r in records) < 1e-4  # the kept checkpoints are those of the kept runs


def test_the_explanation_table_of_the_docs_is_the_kept_records(records: list[dict]):
    summary = trust_tables.explanation_summary(trust_tables.explanations(records), 0.5, trust_tables.cascade(records))
    text = RESULTS_PAGE.read_text()
    for row in summary.itertuples(index=False):
        # family, method, deletion (random), insertion (random), rho, mean |rho|, of magnitudes, undefined, check, cascade
        line = f"| {row.family} | {METHOD[row.method]} | {row[4]} ({row[5]}) | {row[6]} ({row[7]}) | {' | '.join(map(str, row[8:]))} |"
        assert line in text, line


def test_calibration_and_robustness_cells_of_the_docs_are_the_kept_records(records: list[dict]):
    frame = trust_tables.runs(records)
    text = RESULTS_PAGE.read_text()
    for table in (trust_tables.calibration_summary(frame), trust_tables.robustness_summary(frame)):
        for row in table.itertuples(index=False):
            assert "| " + " | ".join(map(str, row)) + " |" in text
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(records)


def test_the_kept_records_come_from_the_corrected_checks(records: list[dict]):
    """Every run calibrated with an unbounded temperature and ECE intervals beside its noise
    floor, every network's maps checked against every weight drawn again, in both forms."""
    for r in records:
        c = r["calibration"]
        assert c["resamples"] == 1000 and c["ece_change_low"] <= c["ece_change_high"]
        for part in ("before", "after"):
            # a percentile interval of a biased statistic need not hold the point estimate
            assert c[part]["ece_low"] <= c[part]["ece_high"] and 0 < c[part]["noise_floor_mean"] <= c[part]["noise_floor_p95"]
        assert c["degenerate"] is not None or 0.01 <= c["temperature"] <= 100
        for method, m in r["saliency"]["methods"].items():
            if method != "random":
                assert len(m["randomisation_rho"]) == len(m["randomisation_rho_abs"]) == len(m["deletion_auc"]) and m["cascade"]

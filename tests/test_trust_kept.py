"""The trust numbers that docs/trust.md quotes for the CPU comparison against
the kept trust records (benchmarks/results/cpu/trust), computed from the kept runs."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import REPO
from workflow.report import trust_tables
from workflow.trust import kept

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


def test_the_kept_records_hold_no_calibration_or_randomisation_from_the_corrected_checks(records: list[dict]):
    assert not any("calibration" in r for r in records) and all(r["calibration_withdrawn"] == kept.WITHDRAWN["calibration"] for r in records)
    for r in records:
        if "saliency" in r:
            assert r["saliency"]["randomisation_withdrawn"] == kept.WITHDRAWN["randomisation"]
            assert not any(k.startswith("randomisation") for m in r["saliency"]["methods"].values() for k in m)
    text = trust_tables.markdown(records, "cpu")
    assert f"## Calibration\n\nWithdrawn: {kept.WITHDRAWN['calibration']}. Profile: cpu." in text
    assert f"Randomisation correlations withdrawn: {kept.WITHDRAWN['randomisation']}." in text


def test_withdrawing_keeps_every_other_measurement_and_is_idempotent():
    record = {
        "dataset": "d", "model": "m", "seed": 0, "calibration": {"temperature": 54.6},
        "saliency": {"methods": {"occlusion": {"deletion_auc": [0.3], "insertion_auc": [0.8], "randomisation_rho": [0.1], "curves": []}}, "fraction": [0, 1]},
        "robustness": {"be": 1.0}, "latency": {"latency_ms_median": 2.0},
    }
    once = kept.withdraw(record)
    assert once == {
        "dataset": "d", "model": "m", "seed": 0, "calibration_withdrawn": kept.WITHDRAWN["calibration"],
        "saliency": {"methods": {"occlusion": {"deletion_auc": [0.3], "insertion_auc": [0.8], "curves": []}}, "fraction": [0, 1],
                     "randomisation_withdrawn": kept.WITHDRAWN["randomisation"]},
        "robustness": {"be": 1.0}, "latency": {"latency_ms_median": 2.0},
    }
    assert kept.withdraw(once) == once
    assert trust_tables.withdrawn([once]) == {"calibration": kept.WITHDRAWN["calibration"], "randomisation": kept.WITHDRAWN["randomisation"]}
    assert trust_tables.withdrawn([record]) == {}

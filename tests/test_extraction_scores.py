"""Scoring the extractor against hand labels, and drawing the stratified samples to label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workflow.literature import extraction_sample, extraction_scores


def counts(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    """Per-record (found, matched, labelled); every record with a right headline."""
    frame = pd.DataFrame(rows, columns=["found", "matched", "labelled"])
    return frame.assign(roles=frame["matched"], headlines=1, headlines_right=1)


def test_weighted_scores_are_the_hand_computed_ratios():
    c = counts([(2, 1, 1), (1, 1, 3)])
    assert extraction_scores.scores(c) == pytest.approx({"precision": 2 / 3, "recall": 2 / 4, "headline": 1.0, "role": 1.0})
    # the second record stands for three: precision (1 + 3) / (2 + 3), recall (1 + 3) / (1 + 9)
    assert extraction_scores.scores(c, [1, 3]) == pytest.approx({"precision": 4 / 5, "recall": 4 / 10, "headline": 1.0, "role": 1.0})


def test_the_bootstrap_interval_agrees_with_scipy_on_one_stratum():
    rng = np.random.default_rng(3)
    found = rng.integers(0, 5, 150)
    matched = rng.binomial(found, 0.8)
    c = counts(list(zip(found, matched, matched + rng.integers(0, 2, 150))))
    low, high = extraction_scores.bootstrap(c, ["all"] * len(c), draws=4000, seed=1)["precision"]
    reference = stats.bootstrap((c["matched"].to_numpy(float), c["found"].to_numpy(float)), lambda m, f: m.sum() / f.sum(),
                                paired=True, vectorized=False, n_resamples=4000, method="percentile", random_state=2).confidence_interval
    assert low == pytest.approx(reference.low, abs=0.01) and high == pytest.approx(reference.high, abs=0.01)
    assert low < extraction_scores.scores(c)["precision"] < high


def test_a_score_without_a_denominator_has_no_interval():
    # nothing extracted in a sample whose one labelled pair is missed: precision undefined, recall 0
    c = counts([(0, 0, 0), (0, 0, 1)])
    interval = extraction_scores.bootstrap(c, ["all"] * 2, draws=100)
    assert np.isnan(interval["precision"]).all() and np.isnan(extraction_scores.scores(c)["precision"])
    assert interval["recall"] == (0.0, 0.0)


def test_resampling_within_strata_keeps_each_stratum_whole():
    # stratum x: every record right; stratum y: every record wrong. Any resample keeps 2 of each,
    # so precision is exactly one half in every draw.
    c = counts([(1, 1, 1), (1, 1, 1), (1, 0, 1), (1, 0, 1)])
    assert extraction_scores.bootstrap(c, ["x", "x", "y", "y"], draws=200)["precision"] == (0.5, 0.5)
    low, high = extraction_scores.bootstrap(c, ["all"] * 4, draws=200)["precision"]
    assert low < 0.5 < high


def test_allocation_gives_each_stratum_its_floor_and_fills_by_weighted_size():
    sizes = pd.Series({"classification × CT": 300, "none × CT": 300, "non-English": 2, "segmentation × MRI": 100})
    take = extraction_sample.allocate(sizes, total=60, floor=3)
    assert take.sum() == 60 and take["non-English"] == 2 and (take >= np.minimum(sizes, 3)).all()
    # the metric-naming stratum is sampled three times as often as the same-sized one that names none
    assert take["classification × CT"] == pytest.approx(3 * take["none × CT"], abs=2)


def test_a_draw_is_reproducible_and_weights_add_up_to_the_population():
    rng = np.random.default_rng(0)
    words = ["The Dice was high.", "AUC and accuracy.", "Nothing measured.", "Background: a study. Results: fine."]
    records = pd.DataFrame({
        "record_id": [f"R{i:04d}" for i in range(400)],
        "abstract": [words[i % 4] + " x" * int(rng.integers(1, 5)) for i in range(400)],
        "modalities": [["CT", "MRI", None, "CT; MRI"][i % 3] for i in range(400)],
    })
    first, again = extraction_sample.draw(records, 50, seed=7), extraction_sample.draw(records, 50, seed=7)
    assert first["record_id"].tolist() == again["record_id"].tolist() and len(first) == 50
    assert first["weight"].sum() == pytest.approx(400)
    assert set(first["stratum"]) == set(extraction_sample.strata(records))


@pytest.mark.parametrize(
    "abstract, stratum",
    [
        ("La continua progresión tecnológica que experimenta la medicina se produce cada vez a mayor velocidad, lo que exige una actualización de los profesionales para que se adapten con el uso de la tecnología y la", "non-English"),
        ("BACKGROUND: Lung nodules. METHODS: A CNN. RESULTS: An AUC of 0.9.", "structured"),
        ("A U-Net reached a Dice of 0.9 on CT.", "segmentation × CT"),
        ("We review deep learning.", "none × none"),
    ],
)
def test_strata(abstract: str, stratum: str):
    modalities = "CT" if "CT" in stratum else None
    assert extraction_sample.strata(pd.DataFrame({"abstract": [abstract], "modalities": [modalities]})).iloc[0] == stratum


def test_the_command_draws_from_one_decision_leaving_out_labelled_records(tmp_path):
    decisions = ["include", "screen", "exclude", "screen"] * 25
    pd.DataFrame({
        "record_id": [f"R{i:04d}" for i in range(100)], "decision": decisions,
        "abstract": ["The Dice was 0.9." if i % 8 else "" for i in range(100)], "title": "t",
    }).to_csv(tmp_path / "screened.csv", index=False)
    pd.DataFrame({"record_id": ["R0000", "R0004"], "modalities": ["CT", "MRI"]}).to_csv(tmp_path / "evidence.csv", index=False)
    pd.DataFrame({"record_id": ["R0001"]}).to_csv(tmp_path / "labelled.csv", index=False)
    out = tmp_path / "sample.csv"
    extraction_sample.main(["--literature", str(tmp_path), "--decision", "screen", "--size", "10", "--seed", "1", "--exclude", str(tmp_path / "labelled.csv"), "--out", str(out)])
    sample = pd.read_csv(out)
    pool = {f"R{i:04d}" for i in range(100) if decisions[i] == "screen" and i % 8} - {"R0001"}
    assert len(sample) == 10 and set(sample["record_id"]) <= pool and sample["weight"].sum() == pytest.approx(len(pool))
    extraction_sample.main(["--literature", str(tmp_path), "--size", "5", "--seed", "1", "--out", str(out)])
    assert set(pd.read_csv(out)["record_id"]) <= {f"R{i:04d}" for i in range(100) if decisions[i] == "include" and i % 8}

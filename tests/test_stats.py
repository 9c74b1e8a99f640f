import numpy as np
import pandas as pd
import pytest

from workflow.report.stats import bootstrap_ci, holm, paired_comparisons


def test_holm_matches_the_textbook_example():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_bootstrap_interval_contains_the_point_estimate():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (300, 1))
    scores = np.clip(labels[:, 0] * 0.3 + rng.random(300) * 0.7, 0, 1)
    scores = np.stack([1 - scores, scores], axis=1)
    low, high = bootstrap_ci("binary-class", labels, scores, resamples=300)
    from sklearn.metrics import roc_auc_score

    point = roc_auc_score(labels[:, 0], scores[:, 1])
    assert low < point < high and high - low < 0.15


def test_paired_comparisons_find_a_consistent_difference():
    runs = pd.DataFrame(
        [{"dataset": d, "seed": s, "model": "a", "auc": 0.8 + 0.01 * s} for d in "xyz" for s in range(4)]
        + [{"dataset": d, "seed": s, "model": "b", "auc": 0.7 + 0.01 * s + 0.001 * i} for i, d in enumerate("xyz") for s in range(4)]
        + [{"dataset": "x", "seed": 0, "model": "c", "auc": 0.5}]
    )
    table = paired_comparisons(runs).set_index(["model_a", "model_b"])
    ab = table.loc[("a", "b")]
    assert ab["pairs"] == 12 and ab["median_difference"] == pytest.approx(0.099) and ab["p"] < 0.001
    assert table.loc[("a", "c"), "pairs"] == 1 and table.loc[("a", "c"), "p"] == 1.0
    assert (table["p_holm"] >= table["p"]).all()

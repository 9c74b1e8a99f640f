import numpy as np
import pandas as pd
import pytest

from workflow.report.stats import bootstrap_ci, holm, mean_ranks, paired_comparisons


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


def test_mean_ranks_friedman_and_critical_difference():
    # Demšar (2006): CD = q_0.05 * sqrt(k (k + 1) / (6 N)), q_0.05 = 2.569 for k = 4 models
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": 0.6 + 0.1 * i + 0.01 * d} for d in range(10) for i, m in enumerate("abcd")]
    ranks, p, cd, datasets = mean_ranks(pd.DataFrame(rows))
    assert ranks.to_dict() == {"d": 1.0, "c": 2.0, "b": 3.0, "a": 4.0} and datasets == 10
    assert cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 60), abs=1e-3)
    assert p < 1e-4  # the same order on every dataset


def test_mean_ranks_only_count_datasets_every_model_ran_on():
    rows = [{"dataset": "d0", "model": "a", "auc_mean": 0.9}, {"dataset": "d0", "model": "b", "auc_mean": 0.8}, {"dataset": "d1", "model": "a", "auc_mean": 0.7}]
    ranks, p, cd, datasets = mean_ranks(pd.DataFrame(rows))
    assert datasets == 1 and ranks.to_dict() == {"a": 1.0, "b": 2.0} and np.isnan(p) and np.isnan(cd)

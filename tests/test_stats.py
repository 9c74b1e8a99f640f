import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from medmnist.evaluator import getAUC

from workflow.report.stats import auc_rows, bootstrap_ci, holm, mean_ranks, paired_comparisons


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


@pytest.mark.parametrize(("task", "classes"), [("binary-class", 2), ("multi-class", 5), ("ordinal-regression", 4), ("multi-label, binary-class", 3)])
def test_vectorised_auc_equals_medmnist_get_auc_on_every_resample(task: str, classes: int):
    rng = np.random.default_rng(1)
    n = 60
    labels = rng.integers(0, 2, (n, classes)) if task.startswith("multi-label") else rng.integers(0, classes, (n, 1))
    scores = np.round(rng.random((n, classes)), 1)  # rounded: many ties, ranked at their average
    index = rng.integers(0, n, (40, n))
    expected = []
    for i in index:
        try:
            expected.append(getAUC(labels[i], scores[i], task))
        except ValueError:  # a resample without one of the classes
            expected.append(np.nan)
    assert np.allclose(auc_rows(task, labels[index], scores[index], chunk=7), expected, equal_nan=True, rtol=0, atol=1e-12)


def test_bootstrap_interval_is_the_percentile_interval_of_get_auc_over_the_same_resamples():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, (50, 1))
    scores = rng.dirichlet(np.ones(3), 50)
    index = np.random.default_rng(7).integers(0, 50, (200, 50))
    values = [getAUC(labels[i], scores[i], "multi-class") for i in index]
    assert bootstrap_ci("multi-class", labels, scores, resamples=200, seed=7) == pytest.approx(tuple(np.percentile(values, [2.5, 97.5])), abs=1e-12)


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
    ranks, p, cd, datasets, left_out = mean_ranks(pd.DataFrame(rows))
    assert ranks.to_dict() == {"d": 1.0, "c": 2.0, "b": 3.0, "a": 4.0} and datasets == 10 and left_out == []
    assert cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 60), abs=1e-3)
    # the same order on every dataset: chi2 = 12 N / (k (k + 1)) * sum(R_j^2) - 3 N (k + 1) = 6 * 30 - 150 = 30, 3 df
    assert p == pytest.approx(chi2.sf(30.0, 3), rel=1e-9)


def test_mean_ranks_leave_out_models_that_ran_on_fewer_datasets():
    # a 2-D-only model (g) and a 3-D-only one (r) beside three that ran everywhere
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": 0.6 + 0.1 * i + 0.01 * d} for d in range(4) for i, m in enumerate("abc")]
    rows += [{"dataset": "d0", "model": "g", "auc_mean": 0.99}, {"dataset": "d3", "model": "r", "auc_mean": 0.1}]
    ranks, p, cd, datasets, left_out = mean_ranks(pd.DataFrame(rows))
    assert left_out == ["g", "r"] and datasets == 4 and ranks.to_dict() == {"c": 1.0, "b": 2.0, "a": 3.0}
    assert p == pytest.approx(chi2.sf(12 * 4 / 12 * 14 - 3 * 4 * 4, 2), rel=1e-9)  # chi2 = 8, 2 df


def test_mean_ranks_need_two_datasets():
    rows = [{"dataset": "d0", "model": "a", "auc_mean": 0.9}, {"dataset": "d0", "model": "b", "auc_mean": 0.8}]
    ranks, p, cd, datasets, left_out = mean_ranks(pd.DataFrame(rows))
    assert datasets == 1 and ranks.to_dict() == {"a": 1.0, "b": 2.0} and np.isnan(p) and np.isnan(cd)

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, friedmanchisquare, wilcoxon
from scipy.stats import f as f_distribution

from medmnist.evaluator import getAUC

from workflow.report.stats import auc_rows, bootstrap_ci, holm, mean_ranks, paired_comparisons


def test_holm_matches_the_textbook_example():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_bootstrap_interval_contains_the_point_estimate():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (300, 1))
    scores = np.clip(labels[:, 0] * 0.3 + rng.random(300) * 0.7, 0, 1)
    scores = np.stack([1 - scores, scores], axis=1)
    low, high, used = bootstrap_ci("binary-class", labels, scores, resamples=300)
    from sklearn.metrics import roc_auc_score

    point = roc_auc_score(labels[:, 0], scores[:, 1])
    assert low < point < high and high - low < 0.15 and used == 300


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
    low, high, used = bootstrap_ci("multi-class", labels, scores, resamples=200, seed=7)
    assert (low, high) == pytest.approx(tuple(np.percentile(values, [2.5, 97.5])), abs=1e-12) and used == 200


def test_bootstrap_leaves_out_resamples_without_a_class_and_counts_the_rest():
    labels = np.array([[0]] * 18 + [[1]] * 2)  # two positives: many resamples have none
    scores = np.stack([np.linspace(1, 0, 20), np.linspace(0, 1, 20)], axis=1)
    index = np.random.default_rng(3).integers(0, 20, (400, 20))
    expected = [i for i in index if labels[i].any() and not labels[i].all()]
    low, high, used = bootstrap_ci("binary-class", labels, scores, resamples=400, seed=3)
    assert used == len(expected) < 400 and np.isfinite([low, high]).all()


def test_paired_comparisons_average_seeds_within_a_dataset():
    # 3 datasets x 4 seeds: a beats b on every dataset; pooled over 12 (dataset, seed) pairs
    # the Wilcoxon p would be 0.0005, over the 3 per-dataset means it is 0.25, its floor
    runs = pd.DataFrame(
        [{"dataset": d, "seed": s, "model": "a", "auc": 0.8 + 0.01 * s} for d in "xyz" for s in range(4)]
        + [{"dataset": d, "seed": s, "model": "b", "auc": 0.7 + 0.01 * s + 0.001 * i} for i, d in enumerate("xyz") for s in range(4)]
        + [{"dataset": "x", "seed": 0, "model": "c", "auc": 0.5}, {"dataset": "w", "seed": 0, "model": "d", "auc": 0.5}]
    )
    table = paired_comparisons(runs).set_index(["model_a", "model_b"])
    assert ("a", "d") not in table.index and ("c", "d") not in table.index  # nothing in common: no test
    ab = table.loc[("a", "b")]
    means = runs.groupby(["dataset", "model"])["auc"].mean().unstack()[["a", "b"]].dropna()
    assert ab["datasets"] == 3 and ab["wins_a"] == 3 and ab["median_difference"] == pytest.approx(0.099)
    assert ab["p"] == pytest.approx(wilcoxon(means["a"], means["b"]).pvalue) == pytest.approx(0.25) and ab["min_p"] == 0.25
    assert table.loc[("a", "c"), "datasets"] == 1 and table.loc[("a", "c"), "p"] == 1.0
    assert (table["p_holm"] >= table["p"]).all()


def test_five_datasets_cannot_reach_significance_and_the_report_says_so():
    from workflow.report.benchmark import comparisons_markdown

    runs = pd.DataFrame([{"dataset": f"d{d}", "seed": 0, "model": m, "auc": 0.7 + 0.1 * (m == "a") + 0.01 * d} for d in range(5) for m in "ab"])
    table = paired_comparisons(runs)
    assert table.loc[0, "p"] == pytest.approx(0.0625) == table.loc[0, "min_p"]  # 2 / 2**5: all five datasets agree
    assert "cannot fall below 0.0625" in comparisons_markdown(table)


def test_mean_ranks_friedman_iman_davenport_and_critical_difference():
    # Demšar (2006): CD = q_0.05 * sqrt(k (k + 1) / (6 N)), q_0.05 = 2.569 for k = 4 models
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": 0.6 + 0.1 * i + 0.01 * d} for d in range(10) for i, m in enumerate("abcd")]
    ranking = mean_ranks(pd.DataFrame(rows))
    assert ranking.ranks.to_dict() == {"d": 1.0, "c": 2.0, "b": 3.0, "a": 4.0} and ranking.datasets == 10 and ranking.left_out == []
    assert ranking.cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 60), abs=1e-3)
    # the same order on every dataset: chi2 = 12 N / (k (k + 1)) * sum(R_j^2) - 3 N (k + 1) = 6 * 30 - 150 = 30, 3 df
    assert ranking.p_friedman == pytest.approx(chi2.sf(30.0, 3), rel=1e-9)
    # Iman-Davenport: F = (N - 1) chi2 / (N (k - 1) - chi2) = 9 * 30 / 0 -> infinite: p = 0
    assert ranking.p_iman_davenport == 0.0


def test_iman_davenport_against_its_formula():
    rng = np.random.default_rng(4)
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": rng.random() + 0.2 * i} for d in range(6) for i, m in enumerate("abc")]
    ranking = mean_ranks(pd.DataFrame(rows))
    wide = pd.DataFrame(rows).pivot(index="dataset", columns="model", values="auc_mean")
    statistic = friedmanchisquare(*(wide[c] for c in wide.columns)).statistic
    f_value = 5 * statistic / (6 * 2 - statistic)
    assert ranking.p_iman_davenport == pytest.approx(f_distribution.sf(f_value, 2, 10), rel=1e-9)


def test_mean_ranks_leave_out_models_that_ran_on_fewer_datasets():
    # a 2-D-only model (g) and a 3-D-only one (r) beside three that ran everywhere
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": 0.6 + 0.1 * i + 0.01 * d} for d in range(4) for i, m in enumerate("abc")]
    rows += [{"dataset": "d0", "model": "g", "auc_mean": 0.99}, {"dataset": "d3", "model": "r", "auc_mean": 0.1}]
    ranking = mean_ranks(pd.DataFrame(rows))
    assert ranking.left_out == ["g", "r"] and ranking.datasets == 4 and ranking.ranks.to_dict() == {"c": 1.0, "b": 2.0, "a": 3.0}
    assert ranking.p_friedman == pytest.approx(chi2.sf(12 * 4 / 12 * 14 - 3 * 4 * 4, 2), rel=1e-9)  # chi2 = 8, 2 df


def test_mean_ranks_need_two_datasets():
    rows = [{"dataset": "d0", "model": "a", "auc_mean": 0.9}, {"dataset": "d0", "model": "b", "auc_mean": 0.8}]
    ranking = mean_ranks(pd.DataFrame(rows))
    assert ranking.datasets == 1 and ranking.ranks.to_dict() == {"a": 1.0, "b": 2.0} and np.isnan(ranking.p_friedman) and np.isnan(ranking.cd)
    assert np.isnan(ranking.p_iman_davenport) and ranking.left_out == []


def test_bootstrap_defaults_and_the_accuracy_interval_over_the_same_resamples():
    from medmnist.evaluator import getACC

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, (40, 1))
    scores = rng.dirichlet(np.ones(3), 40)
    assert bootstrap_ci("multi-class", labels, scores) == bootstrap_ci("multi-class", labels, scores, "auc", 1000, 0.95, 0)
    assert bootstrap_ci("multi-class", labels, scores)[2] == 1000
    index = np.random.default_rng(4).integers(0, 40, (150, 40))
    values = [getACC(labels[i], scores[i], "multi-class") for i in index]
    low, high, used = bootstrap_ci("multi-class", labels, scores, metric="acc", resamples=150, level=0.9, seed=4)
    assert (low, high) == pytest.approx(tuple(np.percentile(values, [5, 95])), abs=1e-12) and used == 150


def test_bootstrap_auc_of_a_multi_label_task_is_get_auc_per_resample():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 2, (60, 3))
    scores = np.clip(labels * 0.3 + rng.random((60, 3)) * 0.7, 0, 1)
    index = np.random.default_rng(2).integers(0, 60, (100, 60))
    values = [getAUC(labels[i], scores[i], "multi-label, binary-class") for i in index]
    low, high, used = bootstrap_ci("multi-label, binary-class", labels, scores, resamples=100, seed=2)
    assert (low, high) == pytest.approx(tuple(np.percentile(values, [2.5, 97.5])), abs=1e-12) and used == 100


def test_auc_needs_one_positive_and_one_negative_and_no_more():
    labels = np.array([[[1], [1], [0]], [[1], [1], [1]], [[0], [0], [0]]])
    scores = np.array([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3]])[None].repeat(3, axis=0)
    assert auc_rows("binary-class", labels, scores).tolist()[0] == 1.0  # one negative suffices
    assert np.isnan(auc_rows("binary-class", labels, scores)[1:]).all()


def test_holm_caps_adjusted_p_values_at_one():
    assert holm([0.6, 0.7]) == [1.0, 1.0]
    assert holm([]) == []


def test_paired_comparisons_of_ties_mixed_signs_and_two_datasets():
    ties = [{"dataset": d, "seed": 0, "model": m, "auc": 0.7} for d in "xyz" for m in "ab"]
    mixed = [{"dataset": d, "seed": 0, "model": m, "auc": v} for d, va, vb in zip("klmno", [0.9, 0.8, 0.6, 0.7, 0.75], [0.7, 0.85, 0.65, 0.6, 0.5]) for m, v in (("c", va), ("d", vb))]
    two = [{"dataset": d, "seed": 0, "model": m, "auc": 0.6 + 0.1 * (m == "e") + 0.01 * i} for i, d in enumerate("pq") for m in "ef"]
    table = paired_comparisons(pd.DataFrame(ties + mixed + two)).set_index(["model_a", "model_b"])
    tie = table.loc[("a", "b")]
    assert (tie["p"], tie["min_p"], tie["wins_a"], tie["median_difference"]) == (1.0, 1.0, 0, 0.0)
    differences = np.array([0.2, -0.05, -0.05, 0.1, 0.25])
    assert table.loc[("c", "d"), "p"] == pytest.approx(wilcoxon(differences).pvalue) and table.loc[("c", "d"), "wins_a"] == 3
    assert table.loc[("e", "f"), "p"] == pytest.approx(0.5) and table.loc[("e", "f"), "min_p"] == 0.5  # two datasets: the exact test's floor
    assert ("a", "c") not in table.index and ("b", "c") not in table.index and (table["metric"] == "auc").all()
    empty = paired_comparisons(pd.DataFrame([{"dataset": "x", "seed": 0, "model": "a", "auc": 0.5}]))
    assert list(empty.columns) == ["model_a", "model_b", "metric", "datasets", "wins_a", "median_difference", "p", "min_p", "p_holm"] and empty.empty


def test_mean_ranks_of_two_models_use_the_wilcoxon_test():
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": v} for d, (va, vb) in enumerate([(0.9, 0.7), (0.8, 0.85), (0.6, 0.5), (0.7, 0.6), (0.75, 0.5)]) for m, v in (("a", va), ("b", vb))]
    ranking = mean_ranks(pd.DataFrame(rows))
    expected = wilcoxon([0.9, 0.8, 0.6, 0.7, 0.75], [0.7, 0.85, 0.5, 0.6, 0.5]).pvalue
    assert ranking.p_friedman == pytest.approx(expected) and ranking.p_iman_davenport == pytest.approx(expected)
    assert ranking.ranks.to_dict() == {"a": 1.2, "b": 1.8} and np.isfinite(ranking.cd)
    same = mean_ranks(pd.DataFrame([{"dataset": f"d{d}", "model": m, "auc_mean": 0.5} for d in range(3) for m in "ab"]))
    assert same.p_friedman == same.p_iman_davenport == 1.0


def test_mean_ranks_of_three_models_on_two_datasets():
    rows = [{"dataset": f"d{d}", "model": m, "auc_mean": 0.6 + 0.1 * i} for d in range(2) for i, m in enumerate("abc")]
    ranking = mean_ranks(pd.DataFrame(rows))
    assert ranking.datasets == 2 and ranking.p_friedman == pytest.approx(chi2.sf(4.0, 2))  # 12 * 2 / 12 * 14 - 3 * 2 * 4 = 4
    assert np.isfinite(ranking.cd)


def test_bootstrap_accuracy_of_a_multi_label_task_is_get_acc_per_resample():
    from medmnist.evaluator import getACC

    rng = np.random.default_rng(8)
    labels = rng.integers(0, 2, (50, 3))
    scores = rng.random((50, 3))
    index = np.random.default_rng(1).integers(0, 50, (80, 50))
    values = [getACC(labels[i], scores[i], "multi-label, binary-class") for i in index]
    low, high, used = bootstrap_ci("multi-label, binary-class", labels, scores, metric="acc", resamples=80, seed=1)
    assert (low, high) == pytest.approx(tuple(np.percentile(values, [2.5, 97.5])), abs=1e-12) and used == 80

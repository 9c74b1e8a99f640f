"""Statistics for comparing models: bootstrap confidence intervals and paired tests.

Confidence intervals resample the test set (percentile bootstrap). Models are compared
over datasets, each dataset once with its mean over seeds (Demšar, JMLR 2006): paired
Wilcoxon signed-rank tests with Holm's correction across all pairs, and mean ranks with
the Friedman test (chi-square and Iman-Davenport forms) and the Nemenyi critical difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from medmnist.evaluator import getACC, getAUC
from scipy.stats import f as f_distribution
from scipy.stats import friedmanchisquare, rankdata, studentized_range, wilcoxon

from ..train.metrics import MULTI_LABEL

METRICS = {"auc": getAUC, "acc": getACC}


def bootstrap_ci(
    task: str, labels: np.ndarray, scores: np.ndarray, metric: str = "auc", resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, int]:
    """Percentile bootstrap interval of test AUC or ACC (MedMNIST's definitions) over resampled
    test images, and the number of resamples it rests on: one that lacks a class has no AUC
    and is left out."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(labels), (resamples, len(labels)))
    if metric == "auc":
        values = auc_rows(task, labels[index], scores[index])
        values = values[~np.isnan(values)]
    else:
        values = np.array([METRICS[metric](labels[i], scores[i], task) for i in index])
    low, high = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high), len(values)


def auc_rows(task: str, labels: np.ndarray, scores: np.ndarray, chunk: int = 100) -> np.ndarray:
    """MedMNIST's AUC (``getAUC``) of each of many label/score sets at once, shapes
    (sets, n, labels) and (sets, n, classes): the Mann-Whitney statistic on average ranks,
    per class one-vs-rest (multi-class), per label (multi-label) or of the last column
    (binary), averaged; NaN for a set where a class or label has no positive or no negative."""
    results = []
    for start in range(0, len(labels), chunk):
        y, s = labels[start : start + chunk], scores[start : start + chunk].astype(np.float64)
        if task == "binary-class":
            results.append(_mann_whitney(y[..., 0] == 1, s[..., -1]))
        elif task == MULTI_LABEL:
            results.append(np.mean([_mann_whitney(y[..., k] == 1, s[..., k]) for k in range(s.shape[-1])], axis=0))
        else:
            results.append(np.mean([_mann_whitney(y[..., 0] == k, s[..., k]) for k in range(s.shape[-1])], axis=0))
    return np.concatenate(results)


def _mann_whitney(positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """ROC AUC of each row: (rank sum of positives - n+(n+ + 1)/2) / (n+ n-), ties at average rank."""
    ranks = rankdata(score, axis=-1)
    n_pos = positive.sum(-1)
    n_neg = positive.shape[-1] - n_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = ((ranks * positive).sum(-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def paired_comparisons(runs: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """Wilcoxon signed-rank tests between every two models over the datasets both ran on
    (pairs with none in common are left out),
    each dataset counted once with its mean over seeds (seeds of one dataset are not
    independent observations: Demšar, JMLR 2006), Holm-corrected across all pairs.

    ``min_p`` is the smallest two-sided p-value the exact test can give with that many
    datasets (``2 / 2**n``): with 5 datasets no pair can reach 0.05.
    """
    wide = runs.groupby(["dataset", "model"])[metric].mean().unstack("model")
    rows = []
    for a, b in combinations(wide.columns, 2):
        pairs = wide[[a, b]].dropna()
        if pairs.empty:
            continue
        differences = pairs[a] - pairs[b]
        nonzero = int((differences != 0).sum())
        p = float(wilcoxon(pairs[a], pairs[b]).pvalue) if nonzero >= 1 and len(pairs) >= 2 else 1.0
        rows.append(
            {
                "model_a": a, "model_b": b, "metric": metric, "datasets": len(pairs), "wins_a": int((differences > 0).sum()),
                "median_difference": float(differences.median()) if len(pairs) else np.nan, "p": p,
                "min_p": min(1.0, 2.0 / 2**nonzero) if nonzero else 1.0,
            }
        )
    table = pd.DataFrame(rows, columns=["model_a", "model_b", "metric", "datasets", "wins_a", "median_difference", "p", "min_p"])
    table["p_holm"] = holm(table["p"].tolist()) if len(table) else []
    return table


@dataclass
class Ranking:
    """Mean ranks of models over datasets and the tests of whether they differ."""

    ranks: pd.Series  # mean rank per model, best (1) first
    p_friedman: float  # chi-square form
    p_iman_davenport: float  # F form (Iman & Davenport 1980), less conservative
    cd: float  # Nemenyi critical difference of mean ranks
    datasets: int
    left_out: list[str]  # models that ran on fewer datasets than the others


def mean_ranks(summary: pd.DataFrame, metric: str = "auc_mean", alpha: float = 0.05) -> Ranking:
    """Mean rank of each model over the datasets (1 = best, seeds averaged first), the
    Friedman test in its chi-square and Iman-Davenport forms and the Nemenyi critical
    difference at ``alpha`` (Demšar, JMLR 2006).

    Ranks need every model on every dataset: models that ran on fewer datasets than the
    most covered ones (a 2-D-only GAN entry, a 3-D-only RNN) are left out of the ranking
    (they stay in the paired tests). With fewer than two models or two datasets there is
    nothing to test: p and CD are NaN. Two models are compared by the Wilcoxon signed-rank
    test instead of Friedman's.
    """
    wide = summary.pivot_table(index="dataset", columns="model", values=metric)
    coverage = wide.notna().sum()
    left_out = sorted(coverage[coverage < coverage.max()].index) if len(coverage) else []
    wide = wide.drop(columns=left_out).dropna()
    ranks = wide.rank(axis=1, ascending=False).mean().sort_values()
    k, n = wide.shape[1], wide.shape[0]
    if k < 2 or n < 2:
        return Ranking(ranks, float("nan"), float("nan"), float("nan"), n, left_out)
    if k > 2:
        chi2, p = friedmanchisquare(*(wide[c] for c in wide.columns))
        statistic = (n - 1) * chi2 / (n * (k - 1) - chi2) if n * (k - 1) > chi2 else np.inf
        p_f = float(f_distribution.sf(statistic, k - 1, (k - 1) * (n - 1)))
    else:  # Friedman needs three groups; for two it reduces to a paired test
        a, b = wide.iloc[:, 0], wide.iloc[:, 1]
        p = p_f = float(wilcoxon(a, b).pvalue) if (a != b).any() else 1.0
    q = studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return Ranking(ranks, float(p), p_f, float(q * np.sqrt(k * (k + 1) / (6 * n))), n, left_out)

"""Statistics for comparing models: bootstrap confidence intervals and paired tests.

Confidence intervals resample the test set (percentile bootstrap). Paired comparisons
use the Wilcoxon signed-rank test over matching (dataset, seed) runs of two models, with
Holm's correction across all pairs, as in MedMNIST+. Rankings across datasets use the
Friedman test and the Nemenyi critical difference (Demšar, JMLR 2006).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from medmnist.evaluator import getACC, getAUC
from scipy.stats import friedmanchisquare, rankdata, studentized_range, wilcoxon

from ..train.metrics import MULTI_LABEL

METRICS = {"auc": getAUC, "acc": getACC}


def bootstrap_ci(task: str, labels: np.ndarray, scores: np.ndarray, metric: str = "auc", resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of test AUC or ACC (MedMNIST's definitions) over resampled
    test images; a resample that lacks a class has no AUC and is left out."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(labels), (resamples, len(labels)))
    if metric == "auc":
        values = auc_rows(task, labels[index], scores[index])
        values = values[~np.isnan(values)]
    else:
        values = np.array([METRICS[metric](labels[i], scores[i], task) for i in index])
    low, high = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


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
    """Wilcoxon signed-rank tests between every two models over their shared (dataset, seed) runs."""
    wide = runs.pivot_table(index=["dataset", "seed"], columns="model", values=metric)
    rows = []
    for a, b in combinations(wide.columns, 2):
        pairs = wide[[a, b]].dropna()
        differences = pairs[a] - pairs[b]
        if len(pairs) < 2 or not differences.any():
            p = 1.0
        else:
            p = float(wilcoxon(pairs[a], pairs[b]).pvalue)
        rows.append({"model_a": a, "model_b": b, "metric": metric, "pairs": len(pairs), "median_difference": float(differences.median()) if len(pairs) else np.nan, "p": p})
    table = pd.DataFrame(rows, columns=["model_a", "model_b", "metric", "pairs", "median_difference", "p"])
    table["p_holm"] = holm(table["p"].tolist()) if len(table) else []
    return table


def mean_ranks(summary: pd.DataFrame, metric: str = "auc_mean", alpha: float = 0.05) -> tuple[pd.Series, float, float, int, list[str]]:
    """Mean rank of each model over the datasets (1 = best), the Friedman p-value, the
    Nemenyi critical difference of mean ranks at ``alpha``, that number of datasets, and the
    models left out.

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
    models, datasets = wide.shape[1], wide.shape[0]
    if models < 2 or datasets < 2:
        return ranks, float("nan"), float("nan"), datasets, left_out
    if models > 2:
        p = float(friedmanchisquare(*(wide[c] for c in wide.columns)).pvalue)
    else:  # Friedman needs three groups; for two it reduces to a paired test
        a, b = wide.iloc[:, 0], wide.iloc[:, 1]
        p = float(wilcoxon(a, b).pvalue) if (a != b).any() else 1.0
    q = studentized_range.ppf(1 - alpha, models, np.inf) / np.sqrt(2)
    return ranks, p, float(q * np.sqrt(models * (models + 1) / (6 * datasets))), datasets, left_out

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
from scipy.stats import friedmanchisquare, studentized_range, wilcoxon
from medmnist.evaluator import getACC, getAUC

METRICS = {"auc": getAUC, "acc": getACC}


def bootstrap_ci(task: str, labels: np.ndarray, scores: np.ndarray, metric: str = "auc", resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of test AUC or ACC (MedMNIST's definitions) over resampled test images."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        index = rng.integers(0, len(labels), len(labels))
        try:
            values.append(METRICS[metric](labels[index], scores[index], task))
        except ValueError:  # a resample without one of the classes has no AUC
            continue
    low, high = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


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


def mean_ranks(summary: pd.DataFrame, metric: str = "auc_mean", alpha: float = 0.05) -> tuple[pd.Series, float, float, int]:
    """Mean rank of each model over the datasets every model ran on (1 = best), the Friedman
    p-value, the Nemenyi critical difference of mean ranks at ``alpha``, and that number of datasets.

    With fewer than two models or two shared datasets there is nothing to test: p and CD are NaN.
    Two models are compared by the Wilcoxon signed-rank test instead of Friedman's.
    """
    wide = summary.pivot_table(index="dataset", columns="model", values=metric).dropna()
    ranks = wide.rank(axis=1, ascending=False).mean().sort_values()
    models, datasets = wide.shape[1], wide.shape[0]
    if models < 2 or datasets < 2:
        return ranks, float("nan"), float("nan"), datasets
    if models > 2:
        p = float(friedmanchisquare(*(wide[c] for c in wide.columns)).pvalue)
    else:  # Friedman needs three groups; for two it reduces to a paired test
        a, b = wide.iloc[:, 0], wide.iloc[:, 1]
        p = float(wilcoxon(a, b).pvalue) if (a != b).any() else 1.0
    q = studentized_range.ppf(1 - alpha, models, np.inf) / np.sqrt(2)
    return ranks, p, float(q * np.sqrt(models * (models + 1) / (6 * datasets))), datasets

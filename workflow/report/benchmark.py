"""The benchmark report's statistics: bootstrap intervals per run, paired tests, mean ranks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..train.metrics import MULTI_LABEL
from . import stats


def predictions(metric_files: list[str | Path], resamples: int = 500) -> pd.DataFrame:
    """Each finished run's test scores and labels, with its AUC and a bootstrap 95% interval
    (and how many resamples had every class, so an AUC)."""
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        if run.get("status", "ok") != "ok":
            continue
        with np.load(Path(path).with_name("predictions.npz")) as npz:
            scores, labels = npz["scores"], npz["labels"]
        low, high, used = stats.bootstrap_ci(run["task"], labels, scores, "auc", resamples=resamples, seed=run["seed"])
        rows.append({"dataset": run["dataset"], "model": run["model"], "seed": run["seed"], "auc": run["test"]["auc"],
                     "auc_low": low, "auc_high": high, "resamples": used, "classes_predicted": classes_predicted(run["task"], scores),
                     "scores": scores, "labels": labels})
    return pd.DataFrame(rows)


def classes_predicted(task: str, scores: np.ndarray) -> int:
    """How many classes a run predicts (argmax) over the test set; 1 means every image gets
    the same class, for example the majority class. Multi-label tasks count labels ever predicted."""
    if task == MULTI_LABEL:
        return int((scores > 0.5).any(axis=0).sum())
    return int(len(np.unique(scores.argmax(axis=1))))


def comparisons_markdown(comparisons: pd.DataFrame) -> str:
    """The paired tests as a Markdown table, with what the number of datasets allows."""
    if comparisons.empty:
        return "Only one model was trained: there is no pair to compare.\n"
    lines = ["| model A | model B | datasets | A better on | median A-B | p | p (Holm) | smallest possible p |", "|---|---|---|---|---|---|---|---|"]
    lines += [
        f"| {r.model_a} | {r.model_b} | {r.datasets} | {r.wins_a} | {r.median_difference:+.3f} | {r.p:.3g} | {r.p_holm:.3g} | {r.min_p:.3g} |"
        for r in comparisons.itertuples()
    ]
    floor = comparisons["min_p"].min()
    note = (
        f"\nWith at most {comparisons['datasets'].max()} datasets a pair's p cannot fall below {floor:.3g}: "
        "no difference between two models can be significant at 0.05 here; read the medians and the counts of datasets."
        if floor >= 0.05 else ""
    )
    return "\n".join(lines) + "\n" + note + ("\n" if note else "")


def statistics_markdown(caption: str, intervals: pd.DataFrame, comparisons: pd.DataFrame, ranking: stats.Ranking) -> str:
    """Intervals, paired Wilcoxon tests (Holm) and mean ranks with the Friedman test, as Markdown."""
    parts = [f"{caption}\n\n### Test AUC with 95% bootstrap intervals (500 resamples of the test set)\n\n",
             "| dataset | model | seed | AUC | 95% CI | resamples with every class |\n|---|---|---|---|---|---|\n"]
    parts += [f"| {r.dataset} | {r.model} | {r.seed} | {r.auc:.3f} | {r.auc_low:.3f}-{r.auc_high:.3f} | {r.resamples} |\n" for r in intervals.itertuples()]
    single = intervals[intervals["classes_predicted"] == 1]
    parts.append(
        f"\nRuns that give every test image the same class ({len(single)} of {len(intervals)}): "
        + (", ".join(f"{r.dataset}/{r.model}/seed{r.seed}" for r in single.itertuples()) if len(single) else "none")
        + ".\n"
    )
    parts.append("\n### Paired comparisons of test AUC (Wilcoxon signed-rank over datasets, seeds averaged, Holm-corrected)\n\n")
    parts.append(comparisons_markdown(comparisons))
    parts.append(f"\n### Mean rank of test AUC over the {ranking.datasets} datasets every ranked model ran on (1 = best)\n\n")
    parts.append("| model | mean rank |\n|---|---|\n")
    parts += [f"| {model} | {rank:.2f} |\n" for model, rank in ranking.ranks.items()]
    if ranking.left_out:
        parts.append(f"\nLeft out of the ranking, as they ran on fewer datasets (see the paired tests): {', '.join(ranking.left_out)}.\n")
    if ranking.p_friedman == ranking.p_friedman:
        parts.append(
            f"\nFriedman p = {ranking.p_friedman:.3g} (chi-square), {ranking.p_iman_davenport:.3g} (Iman-Davenport F); "
            f"Nemenyi critical difference at α = 0.05: {ranking.cd:.2f} ranks.\n"
        )
    else:
        parts.append("\nToo few models or shared datasets for a rank test.\n")
    return "".join(parts)

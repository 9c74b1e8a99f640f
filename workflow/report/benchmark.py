"""The benchmark report's statistics: bootstrap intervals per run, paired tests, mean ranks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import stats


def predictions(metric_files: list[str | Path], resamples: int = 500) -> pd.DataFrame:
    """Each finished run's test scores and labels, with its AUC and a bootstrap 95% interval."""
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        if run.get("status", "ok") != "ok":
            continue
        with np.load(Path(path).with_name("predictions.npz")) as npz:
            scores, labels = npz["scores"], npz["labels"]
        low, high = stats.bootstrap_ci(run["task"], labels, scores, "auc", resamples=resamples, seed=run["seed"])
        rows.append({"dataset": run["dataset"], "model": run["model"], "seed": run["seed"], "auc": run["test"]["auc"],
                     "auc_low": low, "auc_high": high, "scores": scores, "labels": labels})
    return pd.DataFrame(rows)


def statistics_markdown(
    caption: str, intervals: pd.DataFrame, comparisons: pd.DataFrame, ranks: pd.Series, p: float, cd: float, datasets: int, left_out: list[str]
) -> str:
    """Intervals, paired Wilcoxon tests (Holm) and mean ranks with the Friedman test, as Markdown."""
    parts = [f"{caption}\n\n### Test AUC with 95% bootstrap intervals (500 resamples of the test set)\n\n",
             "| dataset | model | seed | AUC | 95% CI |\n|---|---|---|---|---|\n"]
    parts += [f"| {r.dataset} | {r.model} | {r.seed} | {r.auc:.3f} | {r.auc_low:.3f}-{r.auc_high:.3f} |\n" for r in intervals.itertuples()]
    parts.append("\n### Paired comparisons of test AUC (Wilcoxon signed-rank over datasets and seeds, Holm-corrected)\n\n")
    if comparisons.empty:
        parts.append("Only one model was trained: there is no pair to compare.\n")
    else:
        parts.append("| model A | model B | pairs | median A-B | p | p (Holm) |\n|---|---|---|---|---|---|\n")
        parts += [f"| {r.model_a} | {r.model_b} | {r.pairs} | {r.median_difference:+.3f} | {r.p:.3g} | {r.p_holm:.3g} |\n" for r in comparisons.itertuples()]
    parts.append(f"\n### Mean rank of test AUC over the {datasets} datasets every model ran on (1 = best)\n\n")
    parts.append("| model | mean rank |\n|---|---|\n")
    parts += [f"| {model} | {rank:.2f} |\n" for model, rank in ranks.items()]
    if left_out:
        parts.append(f"\nLeft out of the ranking, as they ran on fewer datasets (see the paired tests): {', '.join(left_out)}.\n")
    if p == p:
        parts.append(f"\nFriedman p = {p:.3g}; Nemenyi critical difference at α = 0.05: {cd:.2f} ranks.\n")
    else:
        parts.append("\nToo few models or shared datasets for a rank test.\n")
    return "".join(parts)

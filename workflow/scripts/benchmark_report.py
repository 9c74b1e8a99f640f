"""Snakemake script: all runs → benchmark tables (CSV, Markdown), comparison with the
published baselines, and figures (AUC bars, learning curves, ROC curves)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workflow.logs import log_to
from workflow.report import figures, stats, tables

with log_to(snakemake.log[0]):
    runs = tables.collect(snakemake.input.metrics)
    summary = tables.summarise(runs)
    caption = tables.caption(runs)
    summary.to_csv(snakemake.output.table, index=False)
    with open(snakemake.output.markdown, "w") as handle:
        handle.write(tables.markdown(summary, caption))
    with open(snakemake.output.latex, "w") as handle:
        handle.write(tables.latex(summary, caption))
    tables.family_modality(summary).to_csv(snakemake.output.family_modality, index=False)
    figures.accuracy_vs_cost(summary, snakemake.output.cost)
    published = tables.versus_published(summary)
    published.to_csv(snakemake.output.published, index=False)
    with open(snakemake.output.published_markdown, "w") as handle:
        handle.write(tables.versus_published_markdown(published, caption))
    figures.benchmark_auc(runs, snakemake.output.figure, title=f"Test AUC ({snakemake.params.profile} profile)")
    figures.learning_curves(tables.learning_logs(snakemake.input.metrics), snakemake.output.learning)
    predictions = []
    for path in snakemake.input.metrics:
        run = json.loads(Path(path).read_text())
        with np.load(Path(path).with_name("predictions.npz")) as npz:
            scores, labels = npz["scores"], npz["labels"]
        low, high = stats.bootstrap_ci(run["task"], labels, scores, "auc", resamples=500, seed=run["seed"])
        predictions.append({"dataset": run["dataset"], "model": run["model"], "seed": run["seed"], "auc": run["test"]["auc"],
                            "auc_low": low, "auc_high": high, "scores": scores, "labels": labels})
    predictions = pd.DataFrame(predictions)
    figures.roc_curves(predictions, snakemake.output.roc)
    intervals = predictions.drop(columns=["scores", "labels"])
    comparisons = stats.paired_comparisons(runs, "auc")
    intervals.to_csv(snakemake.output.intervals, index=False)
    comparisons.to_csv(snakemake.output.comparisons, index=False)
    with open(snakemake.output.statistics, "w") as handle:
        handle.write(f"{caption}\n\n### Test AUC with 95% bootstrap intervals (500 resamples of the test set)\n\n")
        handle.write("| dataset | model | seed | AUC | 95% CI |\n|---|---|---|---|---|\n")
        handle.writelines(f"| {r.dataset} | {r.model} | {r.seed} | {r.auc:.3f} | {r.auc_low:.3f}-{r.auc_high:.3f} |\n" for r in intervals.itertuples())
        handle.write("\n### Paired comparisons of test AUC (Wilcoxon signed-rank over datasets and seeds, Holm-corrected)\n\n")
        if comparisons.empty:
            handle.write("Only one model was trained: there is no pair to compare.\n")
        else:
            handle.write("| model A | model B | pairs | median A-B | p | p (Holm) |\n|---|---|---|---|---|---|\n")
            handle.writelines(
                f"| {r.model_a} | {r.model_b} | {r.pairs} | {r.median_difference:+.3f} | {r.p:.3g} | {r.p_holm:.3g} |\n" for r in comparisons.itertuples()
            )

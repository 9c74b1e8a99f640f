"""Snakemake script: all runs → benchmark tables (CSV, Markdown), comparison with the
published baselines, and figures (AUC bars, learning curves, ROC curves)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workflow.logs import log_to
from workflow.report import figures, tables

with log_to(snakemake.log[0]):
    runs = tables.collect(snakemake.input.metrics)
    summary = tables.summarise(runs)
    caption = tables.caption(runs)
    summary.to_csv(snakemake.output.table, index=False)
    with open(snakemake.output.markdown, "w") as handle:
        handle.write(tables.markdown(summary, caption))
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
            predictions.append({"dataset": run["dataset"], "model": run["model"], "seed": run["seed"], "scores": npz["scores"], "labels": npz["labels"]})
    figures.roc_curves(pd.DataFrame(predictions), snakemake.output.roc)

"""Snakemake script: active-learning screening simulated on fully labelled reviews, and where the stopping rules stop."""

from pathlib import Path

import numpy as np
import pandas as pd

from workflow.literature.active_learning import LabelledReview, recall_curve, run_simulation, summarise
from workflow.literature.simulation_report import markdown
from workflow.literature.stopping import StoppingRules, stop_columns
from workflow.logs import log_to
from workflow.report import figures

with log_to(snakemake.log[0]):
    rules = StoppingRules(**snakemake.params.stopping)
    rows, curves = [], []
    for path in snakemake.input:
        review = LabelledReview.read(path, Path(path).stem)
        for model in snakemake.params.models:
            for seed in snakemake.params.seeds:
                row, order = run_simulation(review, model, seed)
                row |= stop_columns(review.labels[order], rules)
                rows.append(row)
                curve = recall_curve(order, review.labels)
                grid = np.linspace(0, 1, 201)
                screened = np.arange(1, len(curve) + 1) / len(curve)
                curves.append(pd.DataFrame({"dataset": review.name, "model": model, "seed": seed, "screened": grid, "recall": np.interp(grid, screened, curve, left=0.0)}))
                print(
                    f"{review.name} {model} seed {seed} (priors {row['priors']}): WSS@95 {row['wss95']:.3f} (insights {row['wss95_insights']:.3f}), "
                    f"RRF@10 {row['rrf10']:.3f}; recall at stop: hypergeometric {row['stop_hypergeometric_recall']:.3f}, "
                    f"{rules.consecutive_irrelevant} irrelevant {row['stop_consecutive_recall']:.3f}"
                )
    runs = pd.DataFrame(rows)
    runs.to_csv(snakemake.output.runs, index=False)
    summary = summarise(runs)
    summary.to_csv(snakemake.output.summary, index=False)
    Path(snakemake.output.markdown).write_text(markdown(summary, rules))
    figures.recall_curves(pd.concat(curves), snakemake.output.figure)

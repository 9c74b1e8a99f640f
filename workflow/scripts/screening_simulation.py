"""Snakemake script: active-learning screening simulated on fully labelled reviews."""

from pathlib import Path

import numpy as np
import pandas as pd

from workflow.literature.active_learning import LabelledReview, run_simulation, summarise
from workflow.logs import log_to
from workflow.report import figures

with log_to(snakemake.log[0]):
    rows, curves = [], []
    for path in snakemake.input:
        review = LabelledReview.read(path, Path(path).stem)
        for model in snakemake.params.models:
            for seed in snakemake.params.seeds:
                row, curve = run_simulation(review, model, seed)
                rows.append(row)
                grid = np.linspace(0, 1, 201)
                screened = np.arange(1, len(curve) + 1) / len(curve)
                curves.append(pd.DataFrame({"dataset": review.name, "model": model, "seed": seed, "screened": grid, "recall": np.interp(grid, screened, curve, left=0.0)}))
                print(f"{review.name} {model} seed {seed} (priors {row['priors']}): WSS@95 {row['wss95']:.3f} (insights {row['wss95_insights']:.3f}), RRF@10 {row['rrf10']:.3f}")
    runs = pd.DataFrame(rows)
    runs.to_csv(snakemake.output.runs, index=False)
    summary = summarise(runs)
    summary.to_csv(snakemake.output.summary, index=False)
    with open(snakemake.output.markdown, "w") as handle:
        handle.write(
            "| review | records | relevant | model | WSS@95 (Cohen) | WSS@95 (insights) | RRF@10 | CPU s |\n|---|---|---|---|---|---|---|---|\n"
        )
        for r in summary.itertuples():
            handle.write(
                f"| {r.dataset} | {r.records} | {r.relevant} | {r.model} | {100 * r.wss95_mean:.1f}% ± {100 * r.wss95_std:.1f} | "
                f"{100 * r.wss95_insights_mean:.1f}% ± {100 * r.wss95_insights_std:.1f} | {100 * r.rrf10_mean:.1f}% ± {100 * r.rrf10_std:.1f} | {r.cpu_s_mean:.2f} |\n"
            )
    figures.recall_curves(pd.concat(curves), snakemake.output.figure)

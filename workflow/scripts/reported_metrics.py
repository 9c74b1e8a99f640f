"""Snakemake script: reported metrics of the included records beside the benchmark's scores
(family_modality.csv, with the ACC of the same runs from benchmark.csv)."""

import pandas as pd

from workflow.literature import evidence, records, reported_comparison
from workflow.logs import log_to
from workflow.report import figures

with log_to(snakemake.log[0]):
    included = records.read(snakemake.input.included)
    included = included[included["abstract"].str.strip() != ""]
    tags = pd.read_csv(snakemake.input.tags, dtype=str, keep_default_na=False)
    measured = reported_comparison.with_accuracy(pd.read_csv(snakemake.input.measured), pd.read_csv(snakemake.input.benchmark))
    pairs = reported_comparison.reported_metrics(included, tags)
    pairs.to_csv(snakemake.output.pairs, index=False)
    review = reported_comparison.for_review(pairs)
    review.to_csv(snakemake.output.review, index=False)
    table = reported_comparison.comparison(pairs, measured)
    table.to_csv(snakemake.output.table, index=False)
    with open(snakemake.output.markdown, "w") as f:
        f.write(reported_comparison.markdown(table, snakemake.config["profile"], len(included), len(review)))
    vocabulary = evidence.load_vocabulary(snakemake.params.vocabulary)
    heads, bench = reported_comparison.figure_data(pairs, measured)
    figures.reported_vs_measured(
        heads, bench, list(reported_comparison.FIGURE_METRICS), snakemake.output.figure, list(vocabulary["families"]), [*vocabulary["modalities"], evidence.UNTAGGED]
    )

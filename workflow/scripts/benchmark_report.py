"""Snakemake script: all runs' metrics → benchmark table (CSV, Markdown) and AUC figure."""

from workflow.logs import log_to
from workflow.report import figures, tables

with log_to(snakemake.log[0]):
    runs = tables.collect(snakemake.input.metrics)
    summary = tables.summarise(runs)
    caption = tables.caption(runs)
    summary.to_csv(snakemake.output.table, index=False)
    with open(snakemake.output.markdown, "w") as handle:
        handle.write(tables.markdown(summary, caption))
    figures.benchmark_auc(runs, snakemake.output.figure, title=f"Test AUC ({snakemake.params.profile} profile)")

"""Snakemake script: segmentation runs → table (CSV, Markdown) and contour overlays."""

from pathlib import Path

from workflow.logs import log_to
from workflow.report import segmentation_figures, segmentation_tables

with log_to(snakemake.log[0]):
    runs = segmentation_tables.collect(snakemake.input.metrics)
    summary = segmentation_tables.summarise(runs)
    summary.to_csv(snakemake.output.table, index=False)
    Path(snakemake.output.markdown).write_text(segmentation_tables.markdown(summary, segmentation_tables.caption(runs)))
    segmentation_figures.overlays(
        segmentation_figures.first_seed_predictions(runs), int(snakemake.params.overlays), snakemake.output.figure, snakemake.output.svg
    )

"""Snakemake script: segmentation runs → table (CSV, Markdown, LaTeX) and contour overlays."""

from pathlib import Path

from workflow.logs import log_to
from workflow.report import segmentation_figures, segmentation_tables, tables

with log_to(snakemake.log[0]):
    runs = segmentation_tables.collect(snakemake.input.metrics)
    summary = segmentation_tables.summarise(runs)
    summary.to_csv(snakemake.output.table, index=False)
    cells, caption = segmentation_tables.cells(summary), segmentation_tables.caption(runs)
    Path(snakemake.output.markdown).write_text(tables.to_markdown(cells, caption))
    Path(snakemake.output.latex).write_text(tables.to_latex(cells, caption, "tab:segmentation"))
    segmentation_figures.overlays(
        segmentation_figures.first_seed_predictions(runs), int(snakemake.params.overlays), snakemake.output.figure, snakemake.output.svg
    )

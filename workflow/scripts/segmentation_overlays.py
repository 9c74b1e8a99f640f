"""Snakemake script: contour overlays of the segmentation runs' test predictions."""

from workflow.logs import log_to
from workflow.report import segmentation_figures, segmentation_tables

with log_to(snakemake.log[0]):
    runs = segmentation_tables.collect(snakemake.input.metrics)
    segmentation_figures.overlays(runs, int(snakemake.params.overlays), snakemake.output.figure, snakemake.output.svg)

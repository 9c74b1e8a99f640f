"""Snakemake script: segmentation runs → table (CSV, Markdown, LaTeX), the comparison with
published results and validation curves."""

import json
from pathlib import Path

from workflow.logs import log_to
from workflow.report import segmentation_figures, segmentation_tables, tables

with log_to(snakemake.log[0]):
    out = snakemake.output
    runs = segmentation_tables.collect(snakemake.input.metrics)
    summary = segmentation_tables.summarise(runs)
    logs = segmentation_figures.learning_logs(runs)
    plateaus = tables.plateaus(logs, "val_dice").groupby(["dataset", "model"], sort=False)["last_quarter_range"].max()
    summary = summary.merge(plateaus.rename("val_dice_last_quarter_range").reset_index(), how="left")
    summary.to_csv(out.table, index=False)
    cells, caption = segmentation_tables.cells(summary), segmentation_tables.caption(runs)
    Path(out.markdown).write_text(tables.to_markdown(cells, caption))
    Path(out.latex).write_text(tables.to_latex(cells, caption, "tab:segmentation"))

    cards = {json.loads(Path(p).read_text()).get("dataset"): json.loads(Path(p).read_text()) for p in snakemake.input.cards}
    published = segmentation_tables.versus_published(runs, cards, segmentation_tables.published())
    published.to_csv(out.published, index=False)
    Path(out.published_markdown).write_text(segmentation_tables.versus_published_markdown(published, segmentation_tables.versus_published_caption(runs)))

    segmentation_figures.curves(logs, out.curves, out.curves_svg)

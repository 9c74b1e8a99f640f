"""Snakemake script: each GAN-augmented entry beside the same classifier on real images only."""

from pathlib import Path

import pandas as pd

from workflow.logs import log_to
from workflow.report import tables
from workflow.report.gan_report import augmentation_caption, augmentation_cells, augmentation_table, gan_distances

with log_to(snakemake.log[0]):
    runs = tables.collect([*snakemake.input.augmented, *snakemake.input.baseline])
    table = augmentation_table(runs, pd.DataFrame(snakemake.params.pairs), gan_distances(snakemake.input.gan))
    table.to_csv(snakemake.output.table, index=False)
    caption = augmentation_caption(snakemake.params.profile)
    Path(snakemake.output.markdown).write_text(tables.to_markdown(augmentation_cells(table), caption))
    Path(snakemake.output.latex).write_text(tables.to_latex(augmentation_cells(table), caption, "tab:gan-augmentation"))

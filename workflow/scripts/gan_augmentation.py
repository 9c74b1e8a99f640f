"""Snakemake script: each GAN-augmented entry beside the same classifier on real images only."""

import pandas as pd

from workflow.logs import log_to
from workflow.report import tables
from workflow.report.gan_report import augmentation_markdown, augmentation_table, gan_distances

with log_to(snakemake.log[0]):
    runs = tables.collect([*snakemake.input.augmented, *snakemake.input.baseline])
    table = augmentation_table(runs, pd.DataFrame(snakemake.params.pairs), gan_distances(snakemake.input.gan))
    table.to_csv(snakemake.output.table, index=False)
    with open(snakemake.output.markdown, "w") as handle:
        handle.write(augmentation_markdown(table, profile=snakemake.params.profile))

"""Snakemake script: real and synthetic images side by side, one pair of rows per class."""

import numpy as np

from workflow.logs import log_to
from workflow.report.gan_report import sample_grid

with log_to(snakemake.log[0]):
    with np.load(snakemake.input.real) as npz:
        real = (npz["images"], npz["labels"])
    with np.load(snakemake.input.samples) as npz:
        synthetic = (npz["images"], npz["labels"])
    sample_grid(
        real,
        synthetic,
        snakemake.params.class_names,
        [snakemake.output.figure, snakemake.output.svg],
        title=f"{snakemake.wildcards.dataset}: real training images and GAN samples (seed {snakemake.params.seed})",
    )

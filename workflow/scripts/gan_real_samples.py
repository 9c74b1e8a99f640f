"""Snakemake script: the real training images a GAN sample grid shows (the first of each
class), kept beside the GAN runs so that the grid is redrawn without the data folder."""

import numpy as np

from workflow.logs import log_to
from workflow.report.gan_report import first_per_class

with log_to(snakemake.log[0]):
    with np.load(snakemake.params.npz) as npz:
        images, labels = first_per_class(npz["train_images"], npz["train_labels"], int(snakemake.params.per_class))
    np.savez_compressed(snakemake.output[0], images=images, labels=labels)

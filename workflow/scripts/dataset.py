"""Snakemake script: find (or download) one MedMNIST file, verify it, write its card."""

import json
from pathlib import Path

from workflow.data.medmnist import Dataset, card, download
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    dataset = Dataset.from_id(snakemake.wildcards.dataset)
    npz = Path(snakemake.params.npz)
    if not npz.exists():
        download(dataset, npz)
    with open(snakemake.output[0], "w") as handle:
        json.dump(card(dataset, npz), handle, indent=2)

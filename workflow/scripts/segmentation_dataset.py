"""Snakemake script: get (HC18, Montgomery: download when missing) and verify one
segmentation dataset's files, prepare its splits as .npz."""

from pathlib import Path

from workflow.data import hc18, montgomery
from workflow.data.segmentation import load, save
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    downloads = {"hc18": hc18.ensure, "montgomery": montgomery.ensure}
    if snakemake.wildcards.segset in downloads:
        downloads[snakemake.wildcards.segset](Path(snakemake.params.root))
    splits = load(snakemake.wildcards.segset, Path(snakemake.params.root), int(snakemake.params.size))
    for name, split in splits.items():
        print(f"{name}: {len(split.images)} images, {len(set(split.groups))} cases, foreground {split.masks.mean():.3f}")
    save(splits, snakemake.output[0])

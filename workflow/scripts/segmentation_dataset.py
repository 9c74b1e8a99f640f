"""Snakemake script: verify one segmentation dataset's files, prepare its splits as .npz."""

from pathlib import Path

from workflow.data.segmentation import load, save
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    splits = load(snakemake.wildcards.segset, Path(snakemake.params.root), int(snakemake.params.size))
    for name, split in splits.items():
        print(f"{name}: {len(split.images)} images, {len(set(split.groups))} cases, foreground {split.masks.mean():.3f}")
    save(splits, snakemake.output[0])

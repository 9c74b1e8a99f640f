"""Snakemake script: get (HC18, Montgomery: download when missing) and verify one
segmentation dataset's files, prepare its splits as .npz and write its card."""

import json
from pathlib import Path

from workflow.data import hc18, montgomery
from workflow.data.segmentation import load, save
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    root = Path(snakemake.params.root)
    getters = {"hc18": (hc18.ensure, lambda folder: hc18.card(root)), "montgomery": (montgomery.ensure, montgomery.card)}
    ensure, card = getters[snakemake.wildcards.segset]
    folder = ensure(root)
    splits = load(snakemake.wildcards.segset, root, int(snakemake.params.size))
    for name, split in splits.items():
        print(f"{name}: {len(split.images)} images, {len(set(split.groups))} cases, foreground {split.masks.mean():.3f}")
    save(splits, snakemake.output.npz)
    Path(snakemake.output.card).write_text(json.dumps(card(folder), indent=1, sort_keys=True) + "\n")

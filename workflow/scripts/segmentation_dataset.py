"""Snakemake script: get (HC18, Montgomery: download when missing; the others: placed by the
user) and verify one 2-D segmentation dataset, prepare its splits on the training grid and
write its card (DRIVE's with its second observer scored against the first)."""

import json
from pathlib import Path

from workflow.data.segmentation_datasets import prepare, save
from workflow.logs import log_to
from workflow.train.segmentation_protocols import drive_second_observer

with log_to(snakemake.log[0]):
    root, name = Path(snakemake.params.root), snakemake.wildcards.segset
    splits, card = prepare(name, root, dict(snakemake.params.settings))
    for split, data in splits.items():
        print(f"{split}: {len(data.images)} images {data.images.shape[1:]}, foreground {float((data.labels > 0).mean()):.3f}")
    for case, reason in card["set_aside"].items():
        print(f"set aside {case}: {reason}")
    if name == "drive":
        card["second_observer"] = drive_second_observer(root, card["cases"])
    save(splits, snakemake.output.npz)
    Path(snakemake.output.card).write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")

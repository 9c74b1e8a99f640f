"""Snakemake script: get (a Decathlon task: download when missing) and check one 3-D
segmentation dataset; write its card and usable cases as JSON."""

import json
from pathlib import Path

from workflow.data.volumes import prepare
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    description = prepare(snakemake.wildcards.volset, Path(snakemake.params.root))
    card = description["card"]
    print(f"{card['dataset']}: {card['n_samples']} usable cases, {len(card['set_aside'])} set aside")
    for name, reason in card["set_aside"].items():
        print(f"set aside {name}: {reason}")
    Path(snakemake.output[0]).write_text(json.dumps(description, indent=1, sort_keys=True) + "\n")

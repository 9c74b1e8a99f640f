"""Snakemake script: rank the records the rules did not exclude (included, and left to the
reviewers) from the reviewers' decisions so far."""

import pandas as pd

from workflow.literature import records
from workflow.literature.active_learning import prioritise
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    decisions = pd.read_csv(snakemake.input.decisions, dtype=str, keep_default_na=False)
    candidates = pd.concat([records.read(snakemake.input.included), records.read(snakemake.input.to_screen)], ignore_index=True)
    ranked = prioritise(candidates, decisions, snakemake.params.model)
    ranked.to_csv(snakemake.output[0], index=False)
    print(f"{ranked['label'].notna().sum()} decisions used; {ranked['priority'].notna().sum()} records ranked")

"""Snakemake script: rank the records the rules did not exclude (included, and left to the
reviewers) from the reviewers' decisions so far, and say whether screening may stop (the
decisions, a CSV or the screening room's review file, in the order they were made)."""

import numpy as np
import pandas as pd

from workflow.literature import records, reviewer_decisions
from workflow.literature.active_learning import prioritise
from workflow.literature.stopping import StoppingRules, advice
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    decisions = reviewer_decisions.read(snakemake.input.decisions)
    candidates = pd.concat([records.read(snakemake.input.included), records.read(snakemake.input.to_screen)], ignore_index=True)
    candidates = candidates.drop_duplicates("record_id", ignore_index=True)  # records the reviewers included are in both
    ranked = prioritise(candidates, decisions, snakemake.params.model)
    ranked.to_csv(snakemake.output.priority, index=False)
    labels = pd.to_numeric(decisions["label"]).astype(int).to_numpy()
    text = advice(labels, len(candidates), StoppingRules(**snakemake.params.stopping))
    with open(snakemake.output.stopping, "w") as handle:
        handle.write(text)
    print(text)
    print(f"{ranked['label'].notna().sum()} decisions used; {ranked['priority'].notna().sum()} records ranked")

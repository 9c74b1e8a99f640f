"""Snakemake script: screen deduplicated records, apply the reviewers' decisions on the records
the rules leave to them (``to_screen.csv`` keeps all of those), and write the PRISMA counts."""

import json

import pandas as pd

from workflow.literature import fulltext, records, reviewer_decisions
from workflow.literature.prisma import counts
from workflow.literature.screen import EXCLUDE, INCLUDE, SCREEN, Criteria, screen
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    by_rules = screen(records.read(snakemake.input.deduplicated), Criteria.from_config(snakemake.params.screening))
    by_rules[by_rules["decision"] == SCREEN].to_csv(snakemake.output.to_screen, index=False)
    screened = reviewer_decisions.apply(by_rules, reviewer_decisions.read(snakemake.input.decisions)) if snakemake.input.decisions else by_rules
    screened.to_csv(snakemake.output.screened, index=False)
    screened[screened["decision"] == INCLUDE].to_csv(snakemake.output.included, index=False)
    assessed = None
    if snakemake.input.fulltext:
        candidates = set(screened.loc[screened["decision"] != EXCLUDE, "record_id"])
        reasons = snakemake.params.screening["fulltext"]["reasons"]
        assessed = fulltext.counts(fulltext.read_decisions(snakemake.input.fulltext, candidates, reasons))
    prisma = counts(
        records.read(snakemake.input.records),
        pd.read_csv(snakemake.input.rejects),
        pd.read_csv(snakemake.input.duplicates),
        screened,
        assessed,
    )
    with open(snakemake.output.prisma, "w") as handle:
        json.dump(prisma, handle, indent=2)
    print(json.dumps(prisma, indent=2))

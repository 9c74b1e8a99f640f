"""Snakemake script: screen deduplicated records and write the PRISMA counts."""

import json

import pandas as pd

from workflow.literature import fulltext, records
from workflow.literature.prisma import counts
from workflow.literature.screen import EXCLUDE, INCLUDE, SCREEN, Criteria, screen
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    screened = screen(records.read(snakemake.input.deduplicated), Criteria.from_config(snakemake.params.screening))
    screened.to_csv(snakemake.output.screened, index=False)
    screened[screened["decision"] == INCLUDE].to_csv(snakemake.output.included, index=False)
    screened[screened["decision"] == SCREEN].to_csv(snakemake.output.to_screen, index=False)
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

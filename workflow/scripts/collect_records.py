"""Snakemake script: PubMed XML (files, or a search manifest) and database exports →
one record table, plus the entries set aside and why."""

import json

import pandas as pd

from workflow.literature import records
from workflow.literature.collect import collect
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    pubmed = list(snakemake.input.pubmed)
    if len(pubmed) == 1 and pubmed[0].endswith(".json"):
        pubmed = json.loads(open(pubmed[0]).read())["files"]
    found, rejected = collect(pubmed, snakemake.params.exports)
    records.write(records.frame(found), snakemake.output.records)
    pd.DataFrame(rejected, columns=records.REJECT_COLUMNS).to_csv(snakemake.output.rejects, index=False)
    print(f"{len(found)} records from {len(pubmed)} PubMed files and {len(snakemake.params.exports)} exports; {len(rejected)} set aside")

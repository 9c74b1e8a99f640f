"""Snakemake script: PubMed snapshot XML (files, or a search manifest) → records and rejects."""

import json

import pandas as pd

from workflow.literature import records
from workflow.literature.pubmed_xml import read_snapshot
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    files = list(snakemake.input)
    if len(files) == 1 and files[0].endswith(".json"):
        files = json.loads(open(files[0]).read())["files"]
    found, rejected = read_snapshot(files)
    records.write(records.frame(found), snakemake.output.records)
    pd.DataFrame(rejected, columns=records.REJECT_COLUMNS).to_csv(snakemake.output.rejects, index=False)
    print(f"{len(found)} records read from {len(files)} files; {len(rejected)} set aside")

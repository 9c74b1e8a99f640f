"""Snakemake script: records.csv → deduplicated.csv and the duplicates audit."""

from workflow.literature import records
from workflow.literature.dedup import deduplicate
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    unique, audit = deduplicate(records.read(snakemake.input[0]))
    records.write(unique, snakemake.output.records)
    audit.to_csv(snakemake.output.audit, index=False)
    print(f"{len(unique)} unique records; {len(audit)} duplicates removed")

"""Snakemake script: run the configured PubMed search into a resumable snapshot."""

from workflow.literature.pubmed_search import Search, run
from workflow.logs import log_to

with log_to(snakemake.log[0]):
    summary = run(Search(**snakemake.params.search), snakemake.params.folder, snakemake.output[0])
    print(f"{summary['fetched']} records fetched for {summary['search']['query']!r}")

"""Snakemake script: tag included records by family and modality; counts and figures."""

from workflow.literature import evidence, records
from workflow.logs import log_to
from workflow.report import figures

with log_to(snakemake.log[0]):
    vocabulary = evidence.load_vocabulary(snakemake.params.vocabulary)
    tags = evidence.tag(records.read(snakemake.input[0]), vocabulary)
    tags.to_csv(snakemake.output.tags, index=False)
    table = evidence.counts(tags, vocabulary)
    table.to_csv(snakemake.output.counts)
    figures.evidence_heatmap(table, snakemake.output.heatmap, title=f"Included records ({len(tags)}) by family and modality")
    figures.evidence_per_year(evidence.per_year(tags), list(vocabulary["families"]), snakemake.output.per_year, title="Included records per year and family")

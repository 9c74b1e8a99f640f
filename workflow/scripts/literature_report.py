"""Snakemake script: PRISMA counts → Markdown table and flow figure."""

import json

from workflow.logs import log_to
from workflow.report import figures

with log_to(snakemake.log[0]):
    with open(snakemake.input.prisma) as handle:
        counts = json.load(handle)
    rows = [
        ("records identified", counts["identified"]),
        ("malformed entries set aside", counts["malformed_set_aside"]),
        ("duplicates removed", counts["duplicates_removed"]),
        ("records screened", counts["screened"]),
        ("records excluded", counts["excluded"]),
        *((f"excluded: {reason}", n) for reason, n in counts["excluded_by_reason"].items()),
        ("studies included", counts["included"]),
    ]
    with open(snakemake.output.markdown, "w") as handle:
        handle.write("| PRISMA stage | n |\n|---|---|\n")
        handle.writelines(f"| {stage} | {n} |\n" for stage, n in rows)
    figures.prisma_flow(counts, snakemake.output.figure)

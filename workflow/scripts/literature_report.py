"""Snakemake script: PRISMA counts → Markdown table, PRISMA2020 template CSV, flow diagram."""

import json

from workflow.literature.prisma import prisma2020_template
from workflow.logs import log_to
from workflow.report import figures

with log_to(snakemake.log[0]):
    with open(snakemake.input.prisma) as handle:
        counts = json.load(handle)
    rows = [
        *((f"records identified: {source}", n) for source, n in counts["identified_by_source"].items()),
        ("records identified", counts["identified"]),
        ("malformed entries set aside", counts["malformed_set_aside"]),
        ("duplicates removed", counts["duplicates_removed"]),
        *((f"marked ineligible by automation: {reason}", n) for reason, n in counts["excluded_automatic_by_reason"].items()),
        ("records screened", counts["screened"]),
        *((f"excluded at screening: {reason}", n) for reason, n in counts["excluded_by_reason"].items()),
        ("left to the reviewers' ranked screening (uncertain to the rules)", counts["to_screen"]),
        ("records included at title/abstract screening", counts["included"]),
    ]
    if counts.get("fulltext"):
        full = counts["fulltext"]
        rows += [
            ("reports sought for retrieval", full["sought"]),
            ("reports not retrieved", full["not_retrieved"]),
            ("reports assessed for eligibility", full["assessed"]),
            *((f"reports excluded: {reason}", n) for reason, n in full["excluded_by_reason"].items()),
            ("studies included in review", full["included"]),
        ]
    with open(snakemake.output.markdown, "w") as handle:
        handle.write("| PRISMA stage | n |\n|---|---|\n")
        handle.writelines(f"| {stage} | {n} |\n" for stage, n in rows)
    prisma2020_template(counts).to_csv(snakemake.output.template, index=False)
    figures.prisma_flow(counts, [snakemake.output.figure, snakemake.output.svg])

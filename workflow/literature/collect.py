"""All sources of a review into one record list, numbered in a stable order."""

from __future__ import annotations

from pathlib import Path

from .exports import read_export
from .pubmed_xml import read_file


def collect(pubmed_files: list[str | Path], exports: list[dict]) -> tuple[list[dict], list[dict]]:
    """Records (with ``record_id``) and rejects: PubMed files first, then each export."""
    records: list[dict] = []
    rejects: list[dict] = []
    for path in pubmed_files:
        found, rejected = read_file(path)
        records.extend(found)
        rejects.extend(rejected)
    for export in exports:
        found, rejected = read_export(export["path"], export["format"], export["source"])
        records.extend(found)
        rejects.extend(rejected)
    for number, record in enumerate(records, start=1):
        record["record_id"] = f"R{number:06d}"
    return records, rejects

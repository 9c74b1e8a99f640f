"""The tidy record table shared by every literature step."""

from __future__ import annotations

import re

import pandas as pd

COLUMNS = [
    "record_id",
    "source",
    "pmid",
    "doi",
    "title",
    "abstract",
    "journal",
    "year",
    "authors",
    "mesh_terms",
    "publication_types",
    "language",
    "notes",
    "source_file",
]
REJECT_COLUMNS = ["source_file", "position", "pmid", "reason"]
LIST_SEPARATOR = "; "

_DOI_PREFIX = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def normalise_doi(doi: str | None) -> str:
    """Lower-case a DOI and strip resolver prefixes; '' when there is none."""
    if not doi or not isinstance(doi, str):
        return ""
    return _DOI_PREFIX.sub("", doi.strip()).strip().lower()


def frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["year"] = table["year"].astype("Int64")
    return table


def read(path: str) -> pd.DataFrame:
    """Read a record table written by :func:`write`, keeping identifiers as text."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["year"] = pd.to_numeric(table["year"], errors="coerce").astype("Int64")
    return table


def write(table: pd.DataFrame, path: str) -> None:
    table.to_csv(path, index=False)

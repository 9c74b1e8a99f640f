"""Record tables read into a review: the literature stage's tables, labelled reviews and ASReview files.

Columns are found under the names these tables use (``record_id``, ``id`` or ``openalex_id``;
``year`` or ``publication_year``; ``journal`` or ``venue``; ``pmid`` or ``pubmedID``);
without an identifier column the records are numbered from 1 in file order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .store import RECORD_FIELDS, ReviewError

ALIASES = {
    "record_id": ("record_id", "id", "openalex_id"),
    "year": ("year", "publication_year"),
    "journal": ("journal", "venue", "secondary_title"),
    "pmid": ("pmid", "pubmedID"),
    "doi": ("doi",),
    "title": ("title", "primary_title"),
    "abstract": ("abstract", "notes_abstract"),
    "authors": ("authors",),
}


def read_records(path: str | Path) -> pd.DataFrame:
    """The records of a CSV file with ``RECORD_FIELDS`` columns (text, '' where missing)."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise ReviewError(f"{path}: not a readable CSV record table ({error})") from None
    return record_table(table, path)


def record_table(table: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """``table``'s columns renamed to ``RECORD_FIELDS`` (see ``ALIASES``)."""
    if "title" not in table.columns:
        raise ReviewError(f"{path}: no title column; a record table needs at least title (and abstract)")
    out = pd.DataFrame(index=table.index)
    for field in RECORD_FIELDS:
        column = next((c for c in ALIASES[field] if c in table.columns), None)
        out[field] = table[column].fillna("").astype(str).str.strip() if column else ""
    if not next((c for c in ALIASES["record_id"] if c in table.columns), None):
        out["record_id"] = [str(i) for i in range(1, len(table) + 1)]
    out["year"] = out["year"].str.replace(r"\.0$", "", regex=True)
    return out.reset_index(drop=True)

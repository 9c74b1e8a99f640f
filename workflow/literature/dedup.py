"""Remove duplicate records across sources, keeping the first occurrence of each study.

Three passes, in order: the same PMID; the same normalised DOI; then, for records that
lack an identifier to tell them apart, the same normalised title and year with a
compatible first author (same surname, or one side has none). Every removed record is
listed in an audit table with the record it duplicates and the key that matched.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from .records import LIST_SEPARATOR, normalise_doi

AUDIT_COLUMNS = ["record_id", "source", "pmid", "doi", "title", "duplicate_of", "matched_on"]


def normalise_title(title: str) -> str:
    """Lower-case ASCII letters and digits only: punctuation, accents and spacing ignored."""
    ascii_text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())


def first_surname(authors: str) -> str:
    first = (authors or "").split(LIST_SEPARATOR)[0].strip()
    return normalise_title(first.split(",")[0].split(" ")[0]) if first else ""


def _distinct(a: pd.Series, b: pd.Series) -> bool:
    """True when identifiers show two records are different works."""
    for key in ("pmid", "doi_key"):
        if a[key] and b[key] and a[key] != b[key]:
            return True
    return False


def deduplicate(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (unique records, audit of removed duplicates)."""
    table = records.copy()
    table["pmid"] = table["pmid"].fillna("").astype(str).str.strip()
    table["doi_key"] = table["doi"].map(normalise_doi)
    table["title_key"] = [
        f"{normalise_title(t)}|{y}" if normalise_title(t) and not pd.isna(y) else ""
        for t, y in zip(table["title"], table["year"])
    ]
    table["surname"] = table["authors"].map(first_surname)
    kept = pd.Series(True, index=table.index)
    audit = []

    def remove(index, original, matched_on: str) -> None:
        kept[index] = False
        row = table.loc[index]
        audit.append({**{c: row[c] for c in AUDIT_COLUMNS[:5]}, "duplicate_of": table.at[original, "record_id"], "matched_on": matched_on})

    for key in ("pmid", "doi_key"):
        first_of: dict[str, int] = {}
        for index in table.index[kept]:
            value = table.at[index, key]
            if not value:
                continue
            if value in first_of:
                remove(index, first_of[value], f"{key.removesuffix('_key')} {value}")
            else:
                first_of[value] = index

    candidates: dict[str, list[int]] = {}
    for index in table.index[kept]:
        row = table.loc[index]
        if not row["title_key"]:
            continue
        for original in candidates.get(row["title_key"], []):
            other = table.loc[original]
            same_author = not row["surname"] or not other["surname"] or row["surname"] == other["surname"]
            if same_author and not _distinct(row, other):
                remove(index, original, f"title+year {row['title_key']}" + (f" + author {row['surname']}" if row["surname"] and other["surname"] else ""))
                break
        else:
            candidates.setdefault(row["title_key"], []).append(index)

    unique = table[kept].drop(columns=["doi_key", "title_key", "surname"]).reset_index(drop=True)
    return unique, pd.DataFrame(audit, columns=AUDIT_COLUMNS)

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


def deduplicate(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (unique records, audit of removed duplicates)."""
    table = records.reset_index(drop=True)
    table = table.assign(
        pmid=table["pmid"].fillna("").astype(str).str.strip(),
        doi_key=table["doi"].map(normalise_doi),
    )
    kept = pd.Series(True, index=table.index)
    audit: list[pd.DataFrame] = []

    def remove(duplicates: pd.Index, originals: pd.Series, matched_on: pd.Series) -> None:
        kept[duplicates] = False
        removed = table.loc[duplicates, AUDIT_COLUMNS[:5]].copy()
        removed["duplicate_of"] = table.loc[originals.loc[duplicates], "record_id"].to_numpy()
        removed["matched_on"] = matched_on.loc[duplicates].to_numpy()
        audit.append(removed)

    for key in ("pmid", "doi_key"):
        candidates = table[kept & (table[key] != "")]
        first = pd.Series(candidates.index, index=candidates.index).groupby(candidates[key], sort=False).transform("first")
        duplicates = candidates.index[candidates[key].duplicated(keep="first")]
        remove(duplicates, first, key.removesuffix("_key") + " " + candidates[key])

    titles = table["title"].map(normalise_title)
    title_key = titles + "|" + table["year"].astype(str)
    shared = kept & (titles != "") & table["year"].notna() & title_key.duplicated(keep=False)
    surnames = table["authors"].map(first_surname)
    identity = {i: (surnames[i], table.at[i, "pmid"], table.at[i, "doi_key"]) for i in table.index[shared]}
    originals, matched = {}, {}
    for _, group in table[shared].groupby(title_key[shared], sort=False):
        firsts: list[int] = []
        for index in group.index:
            match = next((o for o in firsts if _compatible(identity[index], identity[o])), None)
            if match is None:
                firsts.append(index)
                continue
            originals[index] = match
            both = surnames[index] and surnames[match]
            matched[index] = f"title+year {title_key[index]}" + (f" + author {surnames[index]}" if both else "")
    if originals:
        remove(pd.Index(list(originals)), pd.Series(originals), pd.Series(matched))

    unique = table[kept].drop(columns=["doi_key"]).reset_index(drop=True)
    columns = pd.concat(audit, ignore_index=True) if audit else pd.DataFrame(columns=AUDIT_COLUMNS)
    return unique, columns.reindex(columns=AUDIT_COLUMNS)


def _compatible(a: tuple[str, str, str], b: tuple[str, str, str]) -> bool:
    """(surname, pmid, doi) pairs that may be one work: no field set on both sides differs."""
    return not any(x and y and x != y for x, y in zip(a, b))

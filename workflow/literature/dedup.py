"""Remove duplicate records: the same PMID first, then the same normalised DOI.

The first occurrence is kept (snapshot order), and every removed record is listed in an
audit table with the record it duplicates and the key that matched.
"""

from __future__ import annotations

import pandas as pd

from .records import normalise_doi

AUDIT_COLUMNS = ["record_id", "pmid", "doi", "title", "duplicate_of", "matched_on"]


def deduplicate(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (unique records, audit of removed duplicates)."""
    keys = {
        "pmid": records["pmid"].fillna("").astype(str).str.strip(),
        "doi": records["doi"].map(normalise_doi),
    }
    kept_mask = pd.Series(True, index=records.index)
    audit = []
    for key, values in keys.items():
        first_of: dict[str, str] = {}
        for index in records.index[kept_mask]:
            value = values[index]
            if not value:
                continue
            if value in first_of:
                kept_mask[index] = False
                row = records.loc[index]
                audit.append(
                    {
                        "record_id": row["record_id"],
                        "pmid": row["pmid"],
                        "doi": row["doi"],
                        "title": row["title"],
                        "duplicate_of": first_of[value],
                        "matched_on": f"{key} {value}",
                    }
                )
            else:
                first_of[value] = records.at[index, "record_id"]
    return records[kept_mask].reset_index(drop=True), pd.DataFrame(audit, columns=AUDIT_COLUMNS)

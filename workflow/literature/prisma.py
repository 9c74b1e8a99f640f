"""PRISMA 2020 flow counts computed from the literature tables."""

from __future__ import annotations

import pandas as pd


def counts(records: pd.DataFrame, rejects: pd.DataFrame, duplicates: pd.DataFrame, screened: pd.DataFrame) -> dict:
    """Identification → screening → inclusion counts, with exclusion reasons tallied.

    Rejected (malformed) entries are counted apart from records: they never became
    records, so ``identified`` counts what could be read.
    """
    excluded = screened[screened["decision"] == "exclude"]
    result = {
        "identified": int(len(records)),
        "identified_by_source": {k: int(v) for k, v in records["source"].value_counts().items()},
        "malformed_set_aside": int(len(rejects)),
        "duplicates_removed": int(len(duplicates)),
        "screened": int(len(screened)),
        "excluded": int(len(excluded)),
        "excluded_by_reason": {k: int(v) for k, v in excluded["reason"].value_counts().items()},
        "included": int((screened["decision"] == "include").sum()),
    }
    if result["screened"] != result["identified"] - result["duplicates_removed"]:
        raise ValueError(f"PRISMA counts do not add up: {result}")
    if result["screened"] != result["excluded"] + result["included"]:
        raise ValueError(f"PRISMA counts do not add up: {result}")
    return result

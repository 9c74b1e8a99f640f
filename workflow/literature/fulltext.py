"""Reviewers' full-text decisions: the PRISMA 2020 boxes after title/abstract screening.

The decisions file is a CSV with one row per report sought for retrieval: ``record_id``
(a record the rules did not exclude), ``retrieved`` (yes/no), ``included`` (yes/no, for
retrieved reports) and ``reason`` (why a retrieved report was excluded; one of the
configured reasons). Every problem is named with its row: an unknown record, a value
that is not yes/no, a missing or unknown reason, two rows of one record that disagree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError

COLUMNS = ("record_id", "retrieved", "included", "reason")
YES_NO = {"yes": True, "no": False}


class FullTextError(DataError):
    """A full-text decisions file that cannot be counted; the message lists every problem."""


def read_decisions(path: str | Path, candidates: set[str], reasons: list[str]) -> pd.DataFrame:
    """The validated decisions: one row per record, ``retrieved`` and ``included`` as booleans."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise FullTextError(f"{path}: no column {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    table = table[list(COLUMNS)].apply(lambda column: column.str.strip())
    problems = [f"row {i + 2}: {problem}" for i, row in table.iterrows() for problem in _row_problems(row, candidates, reasons)]
    for record, rows in table.groupby("record_id", sort=False):
        if len(rows.drop_duplicates()) > 1:
            problems.append(f"rows {', '.join(str(i + 2) for i in rows.index)}: record {record} has conflicting decisions")
    if problems:
        raise FullTextError(f"{path}: " + "; ".join(problems))
    unique = table.drop_duplicates("record_id").reset_index(drop=True)
    return unique.assign(
        retrieved=unique["retrieved"].str.lower().map(YES_NO),
        included=unique["included"].str.lower().map(YES_NO).fillna(False).astype(bool),
    )


def _row_problems(row: pd.Series, candidates: set[str], reasons: list[str]) -> list[str]:
    problems = []
    if row["record_id"] not in candidates:
        problems.append(f"unknown record {row['record_id']!r} (not among the records the rules did not exclude)")
    retrieved, included = row["retrieved"].lower(), row["included"].lower()
    if retrieved not in YES_NO:
        problems.append(f"retrieved is {row['retrieved']!r}, not yes or no")
    if retrieved == "no" and (included or row["reason"]):
        problems.append("a report not retrieved has no full-text decision")
    if retrieved == "yes" and included not in YES_NO:
        problems.append(f"included is {row['included']!r}, not yes or no")
    if retrieved == "yes" and included == "no" and row["reason"] not in reasons:
        problems.append(f"reason {row['reason']!r} is not one of the configured reasons ({'; '.join(reasons)})")
    if included == "yes" and row["reason"]:
        problems.append("an included report has no exclusion reason")
    return problems


def counts(decisions: pd.DataFrame) -> dict:
    """The full-text boxes of the PRISMA 2020 flow."""
    retrieved = decisions[decisions["retrieved"]]
    excluded = retrieved[~retrieved["included"]]
    return {
        "sought": int(len(decisions)),
        "not_retrieved": int((~decisions["retrieved"]).sum()),
        "assessed": int(len(retrieved)),
        "excluded": int(len(excluded)),
        "excluded_by_reason": {k: int(v) for k, v in excluded["reason"].value_counts().items()},
        "included": int(retrieved["included"].sum()),
    }

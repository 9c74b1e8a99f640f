"""PRISMA 2020 flow counts computed from the literature tables.

Records removed before screening are duplicates and records that automation marked
ineligible on metadata (year, language, publication type); malformed entries that could
not be read at all are counted as removed for other reasons. Title/abstract screening
by the rules then excludes records with a reason each, includes those it is sure of and
leaves the rest to the reviewers' ranked screening ("to screen", counted apart). The
full-text boxes come from the reviewers' decisions (``workflow.literature.fulltext``);
without them they stay empty rather than guessed.
"""

from __future__ import annotations

import pandas as pd

from .screen import AUTOMATION, EXCLUDE, INCLUDE, SCREEN, SCREENING


def _tally(table: pd.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in table["reason"].value_counts().items()}


def counts(records: pd.DataFrame, rejects: pd.DataFrame, duplicates: pd.DataFrame, screened: pd.DataFrame, fulltext: dict | None = None) -> dict:
    """Identification → screening → inclusion counts, with exclusion reasons tallied;
    ``fulltext``: the full-text boxes (:func:`workflow.literature.fulltext.counts`), if assessed."""
    automatic = screened[screened["stage"] == AUTOMATION]
    excluded = screened[(screened["stage"] == SCREENING) & (screened["decision"] == EXCLUDE)]
    result = {
        "identified": int(len(records)),
        "identified_by_source": {k: int(v) for k, v in records["source"].value_counts().items()},
        "malformed_set_aside": int(len(rejects)),
        "duplicates_removed": int(len(duplicates)),
        "excluded_automatic": int(len(automatic)),
        "excluded_automatic_by_reason": _tally(automatic),
        "screened": int(len(screened) - len(automatic)),
        "excluded": int(len(excluded)),
        "excluded_by_reason": _tally(excluded),
        "to_screen": int((screened["decision"] == SCREEN).sum()),
        "included": int((screened["decision"] == INCLUDE).sum()),
        "fulltext": fulltext,
    }
    if len(screened) != result["identified"] - result["duplicates_removed"]:
        raise ValueError(f"PRISMA counts do not add up: {len(screened)} deduplicated records, {result}")
    if result["screened"] != result["excluded"] + result["to_screen"] + result["included"]:
        raise ValueError(f"PRISMA counts do not add up: {result}")
    return result


def _reasons(tally: dict[str, int]) -> str:
    return "; ".join(f"{reason}, {n}" for reason, n in tally.items())


def prisma2020_template(counts: dict) -> pd.DataFrame:
    """The counts in the ``data,n`` rows of the PRISMA2020 package's CSV template.

    Databases and exclusion reasons use the template's ``Name, n; Name, n`` form; the
    full-text boxes are left empty when no full-text decisions were given.
    """
    fulltext = counts.get("fulltext")
    rows = {
        "database_results": _reasons(counts["identified_by_source"]),
        "duplicates": counts["duplicates_removed"],
        "excluded_automatic": counts["excluded_automatic"],
        "excluded_other": counts["malformed_set_aside"],
        "records_screened": counts["screened"],
        "records_excluded": counts["excluded"],
        "dbr_sought_reports": fulltext["sought"] if fulltext else counts["included"],
        "dbr_notretrieved_reports": fulltext["not_retrieved"] if fulltext else "",
        "dbr_assessed": fulltext["assessed"] if fulltext else "",
        "dbr_excluded": _reasons(fulltext["excluded_by_reason"]) if fulltext else "",
        "new_studies": fulltext["included"] if fulltext else "",
        "total_studies": fulltext["included"] if fulltext else "",
    }
    return pd.DataFrame({"data": list(rows), "n": list(rows.values())})

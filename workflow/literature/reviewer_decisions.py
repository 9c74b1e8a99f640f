"""The reviewers' title/abstract decisions, from a screening room review file or a CSV, for the workflow.

``literature.screening.decisions`` names either a review file of the screening room
(``.sqlite``: its final decisions, resolved ones in double screening) or a CSV with a
``label`` (1/0, or relevant/irrelevant/maybe as the room exports them) and a ``record_id``,
``pmid`` or ``doi``, in the order the decisions were made. ``maybe`` is no decision yet.
Applied to the rules' screening, a record the rules left to the reviewers becomes included
or excluded (reason ``reviewers: ...``), so PRISMA counts the reviewers' exclusions by reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workflow.screening_room.agreement import final_decisions
from workflow.screening_room.store import Review

from .active_learning import decision_key
from .screen import EXCLUDE, INCLUDE, SCREEN, SCREENING

WORDS = {"relevant": "1", "irrelevant": "0", "1": "1", "0": "0"}


def read(path: str | Path) -> pd.DataFrame:
    """The decisions with ``label`` 1/0 (maybe and empty labels left out), in the order they were made."""
    if Path(path).suffix in (".sqlite", ".db"):
        review = Review(path)
        table = final_decisions(review).astype(str)
        review.close()
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "label" not in table.columns:
        raise ValueError(f"{path}: screening decisions need a 'label' column")
    unknown = sorted(set(table["label"].str.strip().str.lower()) - {*WORDS, "maybe", ""})
    if unknown:
        raise ValueError(f"{path}: labels {unknown} are none of 1/0 or relevant/irrelevant/maybe")
    labels = table["label"].str.strip().str.lower().map(WORDS)
    return table.assign(label=labels)[labels.notna()].reset_index(drop=True)


def apply(screened: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """``screened`` with the records the rules left to the reviewers (decision ``screen``) decided as the reviewers decided them."""
    column, normalise = decision_key(decisions)
    if column is None:
        raise ValueError("screening decisions need one of the columns record_id, pmid, doi")
    reasons = decisions["reason"] if "reason" in decisions.columns else pd.Series("", index=decisions.index)
    given = {normalise(k): (label, reason) for k, label, reason in zip(decisions[column], decisions["label"], reasons) if normalise(k)}
    out = screened.copy()
    for index, value in out.loc[out["decision"] == SCREEN, column].items():
        found = given.get(normalise(value)) if isinstance(value, str) and value else None
        if found:
            label, reason = found
            out.loc[index, ["decision", "stage", "reason"]] = (INCLUDE, "", "") if label == "1" else (EXCLUDE, SCREENING, f"reviewers: {reason or 'irrelevant'}")
    return out

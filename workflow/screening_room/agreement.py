"""Double screening: agreement between two reviewers, their conflicts, and the review's final decisions.

Agreement is measured on the records both reviewers decided (relevant, irrelevant and maybe
as three categories): raw agreement and Cohen's kappa (scikit-learn's). A record they
decided differently is a conflict until someone records a resolution. The final decision
of a record is its latest resolution; else, in double screening, the label both reviewers
gave; in single screening, its latest decision by any reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from .store import RESOLVE, Decision, Review


@dataclass(frozen=True)
class Agreement:
    reviewers: tuple[str, ...]
    both: int  # records decided by both
    agreement: float | None
    kappa: float | None
    conflicts: list[dict]  # record_id and each reviewer's label, note and reason; unresolved ones


def agreement(review: Review) -> Agreement:
    """Kappa, raw agreement and the unresolved conflicts of the review's first two reviewers (by name)."""
    reviewers = tuple(review.reviewers()[:2])
    if len(reviewers) < 2:
        return Agreement(reviewers, 0, None, None, [])
    first, second = ({d.record_id: d for d in review.current(name)} for name in reviewers)
    both = [r for r in first if r in second]
    resolved = {d.record_id for d in review.current(role=RESOLVE)}
    a, b = [first[r].label for r in both], [second[r].label for r in both]
    conflicts = [
        {"record_id": r, **{name: {"label": d.label, "note": d.note, "reason": d.reason} for name, d in ((reviewers[0], first[r]), (reviewers[1], second[r]))}}
        for r in both if first[r].label != second[r].label and r not in resolved
    ]
    if not both:
        return Agreement(reviewers, 0, None, None, conflicts)
    kappa = float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else 1.0  # one label throughout: perfect agreement
    return Agreement(reviewers, len(both), sum(x == y for x, y in zip(a, b)) / len(both), kappa, conflicts)


def final_decisions(review: Review) -> pd.DataFrame:
    """record_id, label, reason, note and reviewer of every record with a final decision, in the
    order those were made (two agreeing reviewers: both names, their reasons and notes joined)."""
    final: dict[str, dict] = {}
    if review.double:
        screened: dict[str, list[Decision]] = {}
        for decision in review.current():
            screened.setdefault(decision.record_id, []).append(decision)
        for record, decisions in screened.items():
            if len(decisions) >= 2 and len({d.label for d in decisions}) == 1:
                final[record] = {"id": max(d.id for d in decisions), "record_id": record, "label": decisions[0].label,
                                 **{field: "; ".join(dict.fromkeys(getattr(d, field) for d in decisions if getattr(d, field))) for field in ("reason", "note", "reviewer")}}
    else:
        final = {d.record_id: d.__dict__ for d in review.current()}
    for decision in review.current(role=RESOLVE):
        final[decision.record_id] = decision.__dict__
    columns = ["record_id", "label", "reason", "note", "reviewer"]
    return pd.DataFrame(sorted(final.values(), key=lambda d: d["id"]), columns=["id", *columns])[columns]

"""When reviewers may stop screening a ranked list: a statistical rule and a heuristic.

The statistical rule is the hypergeometric test of Callaghan & Müller-Hansen (2020,
Systematic Reviews 9:273) in its ranked form: the records screened since some earlier point
``i`` are taken as a sample of the records that were still unscreened at ``i``. If fewer
than the recall target had been found, at least ``K = floor(r / target - r) + 1`` relevant
records (``r`` found so far) would remain, ``k`` of them among the ``r - r_i`` found since
``i``; the chance of finding that few in ``n`` draws from the ``N`` records unscreened at
``i`` is the hypergeometric ``P(X <= k_i)`` with ``K + (r - r_i)`` relevant in the urn. The
rule stops when that chance falls below ``1 - confidence`` for some ``i``. A ranking puts
relevant records first, so the sample holds more of them than a random one would: the
rule errs on the side of screening longer. The heuristic stops after a run of
consecutive irrelevant records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom


@dataclass(frozen=True)
class StoppingRules:
    recall: float = 0.95  # recall target
    confidence: float = 0.95
    consecutive_irrelevant: int = 50  # the heuristic's run length
    starts: int = 50  # earlier points i tried per check, spread evenly


def hypergeometric_p(labels: np.ndarray, total: int, rules: StoppingRules) -> float:
    """The smallest p over earlier points ``i`` that the recall target was missed, after
    screening ``labels`` (1 relevant, 0 not, in screening order) of ``total`` records."""
    screened = len(labels)
    found = int(labels.sum())
    if screened == total:
        return 0.0
    missing = math.floor(found / rules.recall - found) + 1  # fewest relevant left if recall < target
    starts = np.unique(np.linspace(0, screened - 1, min(rules.starts, screened)).astype(int))
    before = np.concatenate([[0], np.cumsum(labels)])[starts]
    drawn = screened - starts
    seen_since = found - before
    urn = total - starts
    p = hypergeom.cdf(seen_since, urn, missing + seen_since, drawn)
    return float(p.min())


def statistical_stop(labels: np.ndarray, total: int, rules: StoppingRules, every: int = 1) -> int | None:
    """How many records had been screened when the hypergeometric rule first says stop
    (checked every ``every`` records), or None if it never does before the end."""
    for screened in range(every, len(labels) + 1, every):
        if labels[:screened].sum() and hypergeometric_p(labels[:screened], total, rules) < 1 - rules.confidence:
            return screened
    return None


def heuristic_stop(labels: np.ndarray, rules: StoppingRules) -> int | None:
    """How many records had been screened when ``consecutive_irrelevant`` irrelevant records
    in a row (after the first relevant one) were first seen, or None."""
    run = 0
    for position, label in enumerate(labels, start=1):
        run = 0 if label else run + 1
        if run >= rules.consecutive_irrelevant and labels[:position].any():
            return position
    return None


def at_stop(labels: np.ndarray, stop: int | None) -> dict[str, float]:
    """Recall reached and share of the records left unscreened when screening stops at
    ``stop`` (None: everything screened)."""
    screened = len(labels) if stop is None else stop
    return {"screened": screened, "recall": float(labels[:screened].sum() / labels.sum()), "work_saved": 1 - screened / len(labels)}


RULES = ("hypergeometric", "consecutive")


def rule_stops(labels: np.ndarray, rules: StoppingRules) -> dict[str, dict[str, float]]:
    """Where each rule says stop on a fully screened order (``labels`` in screening order):
    ``at_stop`` per rule in ``RULES``; the hypergeometric rule is checked after every 1/200
    of the records, the heuristic after every record."""
    every = max(1, len(labels) // 200)
    stops = {"hypergeometric": statistical_stop(labels, len(labels), rules, every), "consecutive": heuristic_stop(labels, rules)}
    return {rule: at_stop(labels, stops[rule]) for rule in RULES}


def stop_columns(labels: np.ndarray, rules: StoppingRules) -> dict[str, float]:
    """``rule_stops`` as flat columns: ``stop_{rule}_recall``, ``stop_{rule}_reached`` (1 when
    the recall at the stop reaches the target) and ``stop_{rule}_work_saved``."""
    columns = {}
    for rule, stop in rule_stops(labels, rules).items():
        columns |= {f"stop_{rule}_recall": stop["recall"], f"stop_{rule}_reached": float(stop["recall"] >= rules.recall), f"stop_{rule}_work_saved": stop["work_saved"]}
    return columns


def more_to_screen(labels: np.ndarray, total: int, rules: StoppingRules) -> int:
    """How many more records, all irrelevant, must be screened before the hypergeometric
    rule says stop (0: it says stop now); adding irrelevant records only lowers ``p``."""
    low, high = 0, total - len(labels)

    def stops(more: int) -> bool:
        return hypergeometric_p(np.concatenate([labels, np.zeros(more, dtype=labels.dtype)]), total, rules) < 1 - rules.confidence

    if not labels.any():
        return high
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if stops(middle) else (middle + 1, high)
    return low


def advice(labels: np.ndarray, total: int, rules: StoppingRules) -> str:
    """What the two rules say after screening ``labels`` (in screening order) of ``total`` records."""
    more = more_to_screen(labels, total, rules)
    run = len(labels) - (int(np.flatnonzero(labels)[-1]) + 1 if labels.any() else 0)
    statistical = (
        f"the {rules.recall:.0%} recall target is reached with {rules.confidence:.0%} confidence: screening may stop"
        if more == 0 else f"screen at least {more} more records (if none of them is relevant) before stopping"
    )
    heuristic = f"{run} irrelevant records in a row since the last relevant one (the heuristic stops at {rules.consecutive_irrelevant})"
    return (
        f"Screened {len(labels)} of {total} records, {int(labels.sum())} relevant.\n\n"
        f"- Hypergeometric rule (Callaghan & Müller-Hansen 2020): {statistical}.\n- Heuristic: {heuristic}.\n"
    )

"""Stopping rules for ranked screening, against hand-computed cases and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from workflow.literature.stopping import StoppingRules, advice, at_stop, heuristic_stop, hypergeometric_p, more_to_screen, statistical_stop

RULES = StoppingRules(recall=0.95, confidence=0.95, consecutive_irrelevant=3, starts=10_000)  # every earlier point


def test_p_value_is_the_hypergeometric_tail_of_the_best_starting_point():
    """10 relevant found first among 1,000 records, then 210 irrelevant: from the point
    after the 10th record, 210 draws from 990 records holding at least 1 relevant
    (floor(10 / 0.95 - 10) + 1) found none, the least likely of all starting points."""
    labels = np.array([1] * 10 + [0] * 10 + [0] * 200)
    p = hypergeometric_p(labels, 1000, RULES)
    by_hand = min(hypergeom.cdf(int(labels[i:].sum()), 1000 - i, 1 + int(labels[i:].sum()), len(labels) - i) for i in range(len(labels)))
    assert p == pytest.approx(by_hand)
    assert p == pytest.approx(hypergeom.pmf(0, 990, 1, 210)) == pytest.approx(780 / 990)


def test_the_rule_stops_once_enough_irrelevant_records_follow_the_relevant_ones():
    total = 2000
    labels = np.array([1] * 40 + [0] * (total - 40))
    stop = statistical_stop(labels, total, RULES, every=10)
    # with 40 found, 3 would remain (floor(40 / 0.95 - 40) + 1); P(0 of 3 in n draws from 1,960) < 0.05
    needed = next(n for n in range(1, 1960) if hypergeom.pmf(0, 1960, 3, n) < 0.05)
    assert stop == 10 * math.ceil((40 + needed) / 10)
    assert at_stop(labels, stop)["recall"] == 1.0


def test_the_rule_does_not_stop_while_relevant_records_keep_coming():
    rng = np.random.default_rng(0)
    labels = (rng.random(3000) < 0.05).astype(int)  # a random order: relevant records to the end
    stop = statistical_stop(labels, 3000, StoppingRules(starts=50), every=25)
    assert stop is None or at_stop(labels, stop)["recall"] >= 0.9


def test_heuristic_counts_a_run_of_irrelevant_records_after_the_first_relevant_one():
    labels = np.array([0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1])
    assert heuristic_stop(labels, RULES) == 11
    assert heuristic_stop(np.array([1, 0, 0, 1]), RULES) is None
    assert at_stop(labels, 11) == {"screened": 11, "recall": pytest.approx(2 / 3), "work_saved": pytest.approx(1 / 12)}


def test_more_to_screen_is_the_first_count_at_which_the_rule_stops():
    labels = np.array([1] * 40 + [0] * 100)
    more = more_to_screen(labels, 2000, RULES)
    needed = next(n for n in range(1, 1960) if hypergeom.pmf(0, 1960, 3, n) < 0.05)  # draws after the 40th record
    assert more == needed - 100
    assert more_to_screen(np.array([1] * 40 + [0] * needed), 2000, RULES) == 0
    text = advice(labels, 2000, RULES)
    assert f"screen at least {more} more records" in text and "100 irrelevant records in a row" in text

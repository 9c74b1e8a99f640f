"""Stopping rules for ranked screening, against hand-computed cases and scipy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from workflow.literature.active_learning import summarise
from workflow.literature.simulation_report import markdown
from workflow.literature.stopping import StoppingRules, advice, at_stop, heuristic_stop, hypergeometric_p, more_to_screen, rule_stops, statistical_stop, stop_columns

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


def test_rule_stops_gives_each_rules_stop_on_a_full_order():
    labels = np.array([1] * 40 + [0] * 1960)  # every relevant record first, then 1,960 irrelevant
    stops = rule_stops(labels, RULES)
    needed = next(n for n in range(1, 1960) if hypergeom.pmf(0, 1960, 3, n) < 0.05)  # checked every 10 (2000 // 200)
    assert stops["hypergeometric"] == at_stop(labels, 10 * math.ceil((40 + needed) / 10))
    assert stops["consecutive"] == {"screened": 43, "recall": 1.0, "work_saved": pytest.approx(1 - 43 / 2000)}
    missed = np.array([1, 0, 0, 0, 1, 1])  # the run of 3 irrelevant stops before two of the three relevant records
    assert rule_stops(missed, RULES)["consecutive"]["recall"] == pytest.approx(1 / 3)
    columns = stop_columns(missed, RULES)
    assert columns["stop_consecutive_recall"] == pytest.approx(1 / 3) and columns["stop_consecutive_reached"] == 0.0


def test_simulation_report_tables_the_stops_per_review_and_model():
    rows = []
    for seed, (recall, saved) in enumerate([(1.0, 0.30), (0.9, 0.50)]):
        rows.append({"dataset": "ace", "model": "svm", "seed": seed, "records": 2235, "relevant": 41, "wss95": 0.7, "wss95_insights": 0.7,
                     "rrf10": 0.8, "cpu_s": 1.0, "stop_hypergeometric_recall": 1.0, "stop_hypergeometric_reached": 1.0,
                     "stop_hypergeometric_work_saved": 0.2, "stop_consecutive_recall": recall,
                     "stop_consecutive_reached": float(recall >= 0.95), "stop_consecutive_work_saved": saved})
    text = markdown(summarise(pd.DataFrame(rows)), StoppingRules(consecutive_irrelevant=50))
    assert "| ace | 2235 | 41 | svm | 70.0% ± 0.0 |" in text
    assert "| ace | svm | 2 | 1.00 | 1.000 | 20.0% | 0.50 | 0.950 | 40.0% |" in text
    assert "50 irrelevant in a row: reached" in text


def test_readme_states_the_kept_stopping_measurements():
    """The README's counts are those of the kept run file of benchmarks/stopping_rules.py."""
    repo = Path(__file__).resolve().parents[1]
    runs = pd.read_csv(repo / "benchmarks/results/stopping_rules.csv")
    reached = (runs["recall"] >= 0.95).groupby(runs["rule"]).agg(["sum", "size"])
    readme = " ".join((repo / "README.md").read_text().split())
    hypergeometric, consecutive = reached.loc["hypergeometric"], reached.loc["consecutive"]
    assert f"95 % recall in {hypergeometric['sum']} of {hypergeometric['size']} simulations" in readme
    assert f"reached 95 % recall in only {consecutive['sum']} of {consecutive['size']}" in readme

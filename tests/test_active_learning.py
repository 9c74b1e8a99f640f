from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workflow.literature.active_learning import LabelledReview, features, recall_curve, rrf, run_simulation, simulate, summarise, wss


def test_metrics_on_a_known_order():
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0] * 2)  # 4 relevant in 20
    perfect = np.r_[np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)]
    assert recall_curve(perfect, labels)[:4].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert wss(perfect, labels) == pytest.approx((20 - 4) / 20 - 0.05)
    assert rrf(perfect, labels) == 0.5  # 2 of 20 screened, 2 of 4 found
    worst = perfect[::-1]
    assert wss(worst, labels) == pytest.approx(-0.05)


@pytest.fixture(scope="module")
def kwok(data_root: Path) -> LabelledReview:
    table = pd.read_csv(data_root / "screening/asreview_test_fixtures/Kwok_2020.csv", dtype=str, keep_default_na=False)
    return LabelledReview("kwok", (table["title"] + " " + table["abstract"]).tolist(), table["debug_label"].astype(int).to_numpy())


@pytest.mark.parametrize("model", ["nb", "logistic", "svm"])
def test_simulation_screens_every_record_once_and_beats_random(kwok: LabelledReview, model: str):
    order = simulate(features(kwok.texts), kwok.labels, model, seed=0)
    assert sorted(order.tolist()) == list(range(len(kwok.labels)))
    assert kwok.labels[order[0]] == 1 and kwok.labels[order[1]] == 0  # the prior knowledge
    assert wss(order, kwok.labels) > 0.2


def test_simulation_is_reproducible_per_seed(kwok: LabelledReview):
    first, _ = run_simulation(kwok, "nb", 3)
    second, _ = run_simulation(kwok, "nb", 3)
    assert first == second


def test_real_benchmark_review_is_read_with_its_label_column(data_root: Path):
    review = LabelledReview.read(data_root / "screening/asreview_benchmark_sim/wilson.csv", "wilson")
    assert len(review.labels) == 2333 and review.labels.sum() == 23
    ace = LabelledReview.read(data_root / "screening/asreview_benchmark_sim/ace.csv", "ace")
    assert len(ace.labels) == 2235 and ace.labels.sum() == 41


def test_missing_label_column_is_named(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text("title,abstract\na,b\n")
    with pytest.raises(ValueError, match="no label column"):
        LabelledReview.read(path, "r")


def test_summary_sits_beside_the_published_numbers():
    runs = pd.DataFrame([
        {"dataset": "ace", "model": "nb", "seed": s, "records": 2235, "relevant": 41, "wss95": w, "rrf10": 0.8} for s, w in enumerate([0.7, 0.8])
    ])
    row = summarise(runs).iloc[0]
    assert row["wss95_mean"] == pytest.approx(0.75) and row["asreview_wss95"] == 0.829 and row["seeds"] == 2


def test_prioritise_ranks_unscreened_records_from_decisions(kwok: LabelledReview):
    from workflow.literature.active_learning import prioritise

    table = pd.DataFrame({"record_id": [f"R{i}" for i in range(len(kwok.texts))], "title": kwok.texts, "abstract": ""})
    relevant = np.flatnonzero(kwok.labels == 1)
    decisions = pd.DataFrame({"record_id": [f"R{relevant[0]}", "R0" if kwok.labels[0] == 0 else "R1"], "label": [1, 0]})
    ranked = prioritise(table, decisions)
    assert ranked["label"].notna().sum() == 2 and ranked["priority"].max() == len(table) - 2
    top = ranked.head(10)["record_id"].str[1:].astype(int)
    assert kwok.labels[top].sum() >= 2  # other relevant records come early (6 relevant of 99)
    with pytest.raises(ValueError, match="at least one relevant and one irrelevant"):
        prioritise(table, decisions.head(1))

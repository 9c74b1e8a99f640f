from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from workflow.literature.active_learning import (
    MODELS, LabelledReview, balanced_weights, features, prior_records, recall_curve, rrf, run_simulation, simulate, summarise, wss, wss_insights,
)


def test_metrics_on_a_tiny_ranking_by_hand():
    # Two priors, then 10 records with relevant ones at positions 1, 2, 5 and 9 (R = 4).
    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0])
    order = np.arange(12)
    # Cohen: ceil(0.95 * 4) = 4 found after 9 of 10 records; ceil(0.5 * 4) = 2 after 2.
    assert wss(order, labels) == pytest.approx(1 / 10 - 0.05)
    assert wss(order, labels, recall=0.5) == pytest.approx(8 / 10 - 0.5)
    # insights: largest k with k/4 <= 0.95 is 3, found at index 4; the random curve
    # round(linspace(0, 4, 10)) = 0 0 1 1 2 2 3 3 4 4 reaches 3 at index 6. At 0.5: k = 2, 1 against 4.
    assert wss_insights(order, labels) == pytest.approx((6 - 4) / 10)
    assert wss_insights(order, labels, recall=0.5) == pytest.approx((4 - 1) / 10)
    assert rrf(order, labels) == 0.25  # floor(0.1 * 10) = 1 record screened, 1 of 4 found
    assert rrf(order, labels, share=0.5) == 0.75  # 5 screened, 3 found
    assert recall_curve(order, labels)[:4].tolist() == [0.2, 0.2, 0.4, 0.6]  # the priors counted


def test_metrics_of_the_best_and_worst_order_after_the_priors():
    labels = np.array([1, 0] + [1, 0, 0, 0, 0] * 4)  # 4 relevant in the 20 after the priors
    best = np.r_[0, 1, 2 + np.argsort(-labels[2:], kind="stable")]
    worst = np.r_[0, 1, 2 + np.argsort(labels[2:], kind="stable")]
    assert wss(best, labels) == pytest.approx(16 / 20 - 0.05) and rrf(best, labels) == 0.5
    assert wss(worst, labels) == pytest.approx(-0.05) and rrf(worst, labels) == 0.0
    # k = 3: round(linspace(0, 4, 20)) reaches 3 at index 12; the 3rd relevant record is at index 2 (best), 18 (worst)
    assert wss_insights(best, labels) == pytest.approx((12 - 2) / 20)
    assert wss_insights(worst, labels) == pytest.approx((12 - 18) / 20)


def test_balanced_weights_give_the_relevant_records_ratio_times_the_weight():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    weights = balanced_weights(y, 9.8)
    assert weights.sum() == pytest.approx(len(y))
    assert weights[y == 1].sum() == pytest.approx(9.8 * weights[y == 0].sum())


def test_priors_are_the_records_asreview_draws(data_root: Path):
    # ASReview 3.0.8 (`asreview simulate --n-prior-included 1 --n-prior-excluded 1 --prior-seed s`)
    # started from these rows of wilson.csv, as benchmarks/screening_vs_asreview.py recorded.
    review = LabelledReview.read(data_root / "screening/asreview_benchmark_sim/wilson.csv", "wilson")
    assert [prior_records(review.labels, seed) for seed in range(3)] == [[11, 147], [20, 1696], [20, 121]]


@pytest.fixture(scope="module")
def kwok(data_root: Path) -> LabelledReview:
    table = pd.read_csv(data_root / "screening/asreview_test_fixtures/Kwok_2020.csv", dtype=str, keep_default_na=False)
    return LabelledReview("kwok", (table["title"] + " " + table["abstract"]).tolist(), table["debug_label"].astype(int).to_numpy())


# WSS@95 (Cohen, after the priors) of seed 0 on Kwok (99 records, 6 relevant), measured
# with this code; so few relevant records make it noisy, so only the value itself is tested.
KWOK_WSS95 = {"svm": 0.3314, "nb": 0.2799, "logistic": 0.3211}


@pytest.mark.parametrize("model", MODELS)
def test_simulation_screens_every_record_once_with_the_seeded_wss(kwok: LabelledReview, model: str):
    order = simulate(features(kwok.texts), kwok.labels, model, seed=0)
    assert sorted(order.tolist()) == list(range(len(kwok.labels)))
    assert kwok.labels[order[0]] == 1 and kwok.labels[order[1]] == 0  # the prior knowledge
    assert wss(order, kwok.labels) == pytest.approx(KWOK_WSS95[model], abs=0.005)


def test_a_review_whose_only_relevant_record_is_the_prior_is_still_ranked_in_full():
    texts = ["deep learning for MRI", "a cat and a dog", "CNN on MRI scans", "the weather", "stock markets"]
    order = simulate(features(texts), np.array([1, 0, 0, 0, 0]), seed=0)
    assert sorted(order.tolist()) == [0, 1, 2, 3, 4] and order[0] == 0


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_gives_the_same_order_and_another_seed_another(kwok: LabelledReview, model: str):
    x = features(kwok.texts)
    first, again, other = (simulate(x, kwok.labels, model, seed) for seed in (0, 0, 1))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


# WSS@95 (Cohen, after the priors) per seed 0-4 of the models other than the default,
# measured with this code: the project rows of benchmarks/results/screening_vs_asreview (and
# runs of `snakemake results/report/screening_simulation.md --configfile config/full.yaml`).
# A model that gets worse by more than half a point on any seed fails here.
SEEDED_WSS95 = {
    ("ace", "nb"): [0.7964, 0.7785, 0.7964, 0.7682, 0.7736],
    ("ace", "logistic"): [0.7650, 0.7597, 0.7646, 0.7677, 0.7650],
    ("nudging", "nb"): [0.7159, 0.6991, 0.6925, 0.7034, 0.7056],
    ("nudging", "logistic"): [0.7077, 0.6996, 0.7110, 0.6936, 0.7012],
    ("virus", "nb"): [0.7015, 0.7020, 0.6876, 0.7146, 0.7020],
    ("virus", "logistic"): [0.6976, 0.6963, 0.6941, 0.7024, 0.7024],
    ("wilson", "nb"): [0.8226, 0.8243, 0.8252, 0.8693, 0.8741],
    ("wilson", "logistic"): [0.8011, 0.7990, 0.8016, 0.8646, 0.8663],
}


@pytest.mark.parametrize(("dataset", "model"), list(SEEDED_WSS95))
def test_benchmark_simulation_reproduces_the_documented_wss_per_seed(data_root: Path, dataset: str, model: str):
    review = LabelledReview.read(data_root / f"screening/asreview_benchmark_sim/{dataset}.csv", dataset)
    with threadpool_limits(1):  # as Snakemake runs it; BLAS threads slow logistic regression 5x on 2 cores
        measured = [run_simulation(review, model, seed)[0]["wss95"] for seed in range(5)]
    assert measured == pytest.approx(SEEDED_WSS95[(dataset, model)], abs=0.005)  # within 0.5 points


ASREVIEW_RUNS = Path(__file__).resolve().parents[1] / "benchmarks/results/screening_vs_asreview/screening_vs_asreview_runs.csv"
# virus, seed 3: near-ties (scores within TIE) ordered by naive Bayes instead of liblinear's
# tolerance put a relevant record sooner than ASReview does: WSS@95 70.85 (Cohen) / 70.37 (insights).
BETTER = {("virus", 3): (0.7085, 0.7037)}


@pytest.mark.parametrize("dataset", ["ace", "nudging", "virus", "wilson"])
def test_default_svm_screens_in_asreviews_order(data_root: Path, dataset: str):
    """ASReview 3.0.8's own simulations (ELAS u4, seeds 0-4; kept by benchmarks/screening_vs_asreview.py) score the same, or less (BETTER)."""
    runs = pd.read_csv(ASREVIEW_RUNS)
    asreview = runs[(runs["dataset"] == dataset) & runs["system"].str.startswith("ASReview")].set_index("seed")
    review = LabelledReview.read(data_root / f"screening/asreview_benchmark_sim/{dataset}.csv", dataset)
    x = features(review.texts)
    with threadpool_limits(1):
        for seed in range(5):
            order = simulate(x, review.labels, "svm", seed)
            expected = BETTER.get((dataset, seed), (asreview.loc[seed, "wss95"], asreview.loc[seed, "wss95_insights"]))
            assert (wss(order, review.labels), wss_insights(order, review.labels)) == pytest.approx(expected, abs=1e-4), f"seed {seed}"


def test_the_docs_quote_the_kept_comparison_with_asreview():
    repo = Path(__file__).resolve().parents[1]
    kept = (repo / "benchmarks/results/screening_vs_asreview/screening_vs_asreview.md").read_text().split("\n\n")[1]
    assert kept.startswith("| review |") and kept in (repo / "docs" / "literature.md").read_text()


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


def test_summary_gives_mean_and_std_of_each_metric():
    runs = pd.DataFrame([
        {"dataset": "ace", "model": "svm", "seed": s, "records": 2235, "relevant": 41, "wss95": w, "wss95_insights": w - 0.1, "rrf10": 0.8, "cpu_s": 1.0}
        for s, w in enumerate([0.7, 0.8])
    ])
    row = summarise(runs).iloc[0]
    assert row["seeds"] == 2 and row["wss95_mean"] == pytest.approx(0.75) and row["wss95_insights_mean"] == pytest.approx(0.65)
    assert row["wss95_std"] == pytest.approx(np.std([0.7, 0.8], ddof=1)) and row["rrf10_std"] == 0.0 and row["cpu_s_mean"] == 1.0


def test_prioritise_ranks_unscreened_records_from_decisions(kwok: LabelledReview):
    from workflow.literature.active_learning import prioritise

    table = pd.DataFrame({"record_id": [f"R{i}" for i in range(len(kwok.texts))], "title": kwok.texts, "abstract": ""})
    relevant = np.flatnonzero(kwok.labels == 1)
    decisions = pd.DataFrame({"record_id": [f"R{relevant[0]}", "R0" if kwok.labels[0] == 0 else "R1"], "label": [1, 0]})
    ranked = prioritise(table, decisions)
    assert ranked["label"].notna().sum() == 2 and ranked["priority"].max() == len(table) - 2
    top = ranked.head(2)["record_id"].str[1:].astype(int)
    assert kwok.labels[top].sum() >= 1  # another relevant record comes first or second (5 left of 97; 10% by chance)
    with pytest.raises(ValueError, match="at least one relevant and one irrelevant"):
        prioritise(table, decisions.head(1))

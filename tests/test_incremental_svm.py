"""The screening features and the SVM refitted after every label, against scikit-learn."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from workflow.literature.active_learning import RATIO, SVM_C, balanced_weights, features
from workflow.literature.incremental_svm import IncrementalSVM


def asreview_features(texts: list[str]):
    """ASReview's ELAS u4 features, as scikit-learn computes them."""
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95).fit_transform(texts)


def assert_same_up_to_column_order(ours, theirs):
    assert ours.shape == theirs.shape
    assert np.allclose((ours @ ours.T).toarray(), (theirs @ theirs.T).toarray(), atol=1e-12)
    assert np.allclose(np.sort(ours.toarray(), axis=1), np.sort(theirs.toarray(), axis=1), atol=1e-12)


@pytest.fixture(scope="module")
def kwok(data_root: Path) -> tuple[list[str], np.ndarray]:
    table = pd.read_csv(data_root / "screening/asreview_test_fixtures/Kwok_2020.csv", dtype=str, keep_default_na=False)
    return (table["title"] + " " + table["abstract"]).tolist(), table["debug_label"].astype(int).to_numpy()


def test_features_are_asreviews_tfidf_on_a_real_review(kwok):
    texts, _ = kwok
    assert_same_up_to_column_order(features(texts), asreview_features(texts))


WORDS = st.sampled_from(["mri", "ct", "deep", "learning", "u-net", "a", "x", "été", "niño", "2020", "cnn's", "the", "of"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(WORDS, max_size=12).map(" ".join), min_size=2, max_size=12).filter(lambda texts: any(len(w) > 1 for t in texts for w in t.split())))
def test_features_match_scikit_learn_on_any_texts(texts: list[str]):
    try:
        expected = asreview_features(texts)
    except ValueError:  # every term in over 95% of the texts: no feature left
        with pytest.raises(ValueError):
            features(texts)
    else:
        assert_same_up_to_column_order(features(texts), expected)


def fitted(x, order: list[int], labels: np.ndarray, c: float = SVM_C) -> IncrementalSVM:
    svm = IncrementalSVM(x, c, lambda y: balanced_weights(y, RATIO["svm"]))
    for index in order:
        svm.add(index, labels[index])
        if labels[order[: len(svm.labelled)]].min() == 0 and labels[order[: len(svm.labelled)]].max() == 1:
            svm.fit()  # warm starts, as in the simulation
    return svm


def test_scores_of_unlabelled_records_are_linearsvcs(kwok):
    texts, labels = kwok
    x = features(texts)
    order = [int(np.flatnonzero(labels == 1)[0]), int(np.flatnonzero(labels == 0)[0]), *range(40)]
    order = list(dict.fromkeys(order))  # each record once
    svm = fitted(x, order, labels)
    exact = LinearSVC(C=SVM_C, tol=1e-8, max_iter=100_000).fit(x[order], labels[order], sample_weight=balanced_weights(labels[order], RATIO["svm"]))
    scores = svm.scores()
    unlabelled = np.setdiff1d(np.arange(len(labels)), order)
    assert np.allclose(scores[unlabelled], exact.decision_function(x[unlabelled]), rtol=0, atol=1e-5)
    assert np.isneginf(scores[order]).all()
    assert np.array_equal(np.argsort(-scores[unlabelled], kind="stable")[:10], np.argsort(-exact.decision_function(x[unlabelled]), kind="stable")[:10])


def test_a_record_outside_the_margin_falls_back_to_liblinear():
    # Two features, two overlapping clouds: many records lie beyond the margin, so the
    # closed form (every record inside it) does not hold and liblinear's solution is used.
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(15, dtype=int), np.zeros(25, dtype=int)]
    x = sparse.csr_matrix(np.abs(rng.normal(np.where(labels[:, None] == 1, [2.0, 0.5], [0.5, 2.0]), 0.6)))
    labelled = list(range(0, 40, 2))
    svm = fitted(x, labelled, labels, c=1.0)
    liblinear = LinearSVC(C=1.0, random_state=0).fit(x[labelled], labels[labelled], sample_weight=balanced_weights(labels[labelled], RATIO["svm"]))
    margins = (2 * labels[labelled] - 1) * liblinear.decision_function(x[labelled])
    assert (margins > 1).any()
    assert np.allclose(svm.scores()[1::2], liblinear.decision_function(x[1::2]), rtol=0, atol=1e-12)


def test_near_ties_go_to_the_record_naive_bayes_prefers():
    from workflow.literature.active_learning import TIE, _top

    texts = ["deep learning mri", "cat dog", "deep learning mri segmentation", "weather report", "deep learning ct", "stock market"]
    labels = np.array([1, 0, 0, 0, 0, 0])
    x = features(texts)
    labelled = np.array([0, 1])
    # records 3 and 2 within TIE of each other: naive Bayes, trained on the two labels, prefers 2 (it shares the relevant words)
    scores = np.array([-np.inf, -np.inf, 0.5 - TIE / 2, 0.5, 0.1, 0.0])
    assert _top(scores, x, labelled, labels, seed=0) == 2
    scores[2] = 0.5 - 2 * TIE  # no longer a tie: the top score wins
    assert _top(scores, x, labelled, labels, seed=0) == 3

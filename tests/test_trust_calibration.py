import json

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.metrics import brier_score_loss, log_loss

from workflow.train.metrics import MULTI_LABEL
from workflow.trust.calibration import (
    brier, calibration_summary, confidences, ece, fit_temperature, nll, probabilities, reliability,
)


def binary_probs(p_top: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-class probabilities whose top label (class 1, p >= 0.5) has confidence p_top, and
    labels that are right where `correct` holds."""
    return np.c_[1 - p_top, p_top], correct.astype(int).reshape(-1, 1)


def test_ece_of_calibrated_and_over_confident_scores():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, 200_000)
    probs, labels = binary_probs(p, rng.random(p.size) < p)
    assert ece(probs, labels, "binary-class") < 0.01
    probs, labels = binary_probs(p, rng.random(p.size) < p - 0.2)
    assert ece(probs, labels, "binary-class") == pytest.approx(0.2, abs=0.01)


def test_ece_and_reliability_with_equal_mass_bins_by_hand():
    # Top-label confidences 0.9, 0.6, 0.8, 0.7; right, wrong, wrong, right.
    probs, labels = binary_probs(np.array([0.9, 0.6, 0.8, 0.7]), np.array([1, 0, 0, 1]))
    # Sorted: 0.6 (0), 0.7 (1) | 0.8 (0), 0.9 (1): |0.5 - 0.65| / 2 + |0.5 - 0.85| / 2.
    assert ece(probs, labels, "binary-class", bins=2) == pytest.approx(0.25)
    table = reliability(probs, labels, "binary-class", bins=2)
    assert list(table.columns) == ["confidence", "accuracy", "count"]
    assert table["confidence"].tolist() == pytest.approx([0.65, 0.85])
    assert table["accuracy"].tolist() == [0.5, 0.5] and table["count"].tolist() == [2, 2]
    # More bins than samples: one sample a bin, (0.6 + 0.3 + 0.8 + 0.1) / 4.
    assert ece(probs, labels, "binary-class") == pytest.approx(0.45)
    assert len(reliability(probs, labels, "binary-class")) == 4
    # 5 pairs in 2 bins: array_split gives 3 then 2.
    probs5, labels5 = binary_probs(np.array([0.55, 0.65, 0.75, 0.85, 0.95]), np.array([0, 1, 1, 1, 1]))
    assert reliability(probs5, labels5, "binary-class", bins=2)["count"].tolist() == [3, 2]
    assert ece(probs5, labels5, "binary-class", bins=2) == pytest.approx(0.6 * abs(2 / 3 - 0.65) + 0.4 * abs(1 - 0.9))


def test_confidences_of_multi_class_and_ordinal_tasks():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    labels = np.array([[0], [1], [1]])
    for task in ("multi-class", "ordinal-regression"):
        confidence, correct = confidences(probs, labels, task)
        assert confidence.tolist() == [0.7, 0.6, 0.5] and correct.tolist() == [1, 0, 1]


def test_brier_against_scikit_learn():
    rng = np.random.default_rng(1)
    p1 = rng.random(50)
    y = (rng.random(50) < 0.4).astype(int)
    probs = np.c_[1 - p1, p1]
    # The two-class sum counts the error twice, once per class.
    assert brier(probs, y.reshape(-1, 1), "binary-class") == pytest.approx(2 * brier_score_loss(y, p1))
    # By hand, three classes: (0.3^2 + 0.2^2 + 0.1^2 + 0.1^2 + 0.7^2 + 0.6^2) / 2.
    probs3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    assert brier(probs3, np.array([[0], [1]]), "multi-class") == pytest.approx((0.14 + 0.86) / 2)


def test_nll_against_scikit_learn_with_log_probabilities_and_temperature():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(40, 4)) * 2
    labels = rng.integers(0, 4, size=(40, 1))
    probs = softmax(logits, axis=1)
    assert nll(np.log(probs), labels, "multi-class") == pytest.approx(log_loss(labels[:, 0], probs, labels=range(4)))
    assert nll(logits, labels, "multi-class") == pytest.approx(log_loss(labels[:, 0], probs, labels=range(4)))
    scaled = softmax(logits / 2.5, axis=1)
    assert np.allclose(probabilities(logits, "multi-class", 2.5), scaled)
    assert nll(logits, labels, "multi-class", 2.5) == pytest.approx(log_loss(labels[:, 0], scaled, labels=range(4)))
    # Softmax of log-probabilities gives the probabilities back (a scikit-learn model's scores).
    assert np.allclose(probabilities(np.log(probs), "multi-class"), probs)


def test_nll_is_stable_for_extreme_logits():
    assert nll(np.array([[1000.0, 0.0]]), np.array([[1]]), "binary-class") == pytest.approx(1000.0)
    assert nll(np.array([[1000.0, 0.0]]), np.array([[0]]), "binary-class") == pytest.approx(0.0)
    assert nll(np.array([[-1000.0, 1000.0]]), np.array([[1, 0]]), MULTI_LABEL) == pytest.approx(2000.0 / 2)


def test_multi_label_by_hand():
    probs = np.array([[0.9, 0.2], [0.6, 0.4], [0.3, 0.8]])
    labels = np.array([[1, 0], [0, 1], [1, 1]])
    confidence, correct = confidences(probs, labels, MULTI_LABEL)
    assert confidence.shape == correct.shape == (6,)
    assert confidence.tolist() == [0.9, 0.2, 0.6, 0.4, 0.3, 0.8] and correct.tolist() == [1, 0, 0, 1, 1, 1]
    # Squared errors 0.01, 0.04, 0.36, 0.36, 0.49, 0.04.
    assert brier(probs, labels, MULTI_LABEL) == pytest.approx(1.30 / 6)
    # Sorted pairs 0.2 (0), 0.3 (1), 0.4 (1) | 0.6 (0), 0.8 (1), 0.9 (1).
    assert ece(probs, labels, MULTI_LABEL, bins=2) == pytest.approx(0.5 * abs(2 / 3 - 0.3) + 0.5 * abs(2 / 3 - 2.3 / 3))
    logits = np.log(probs / (1 - probs))
    assert np.allclose(probabilities(logits, MULTI_LABEL), probs)
    assert probabilities(logits, MULTI_LABEL, 2.0) == pytest.approx(expit(logits / 2))
    assert nll(logits, labels, MULTI_LABEL) == pytest.approx(log_loss(labels.ravel(), probs.ravel()))


def calibrated_logits(rng: np.random.Generator, n: int, classes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    true_logits = rng.normal(size=(n, classes)) * 1.5
    cumulative = np.cumsum(softmax(true_logits, axis=1), axis=1)
    labels = (rng.random((n, 1)) > cumulative).sum(axis=1, keepdims=True)
    return true_logits, np.minimum(labels, classes - 1)


def test_temperature_scaling_recovers_a_known_temperature():
    rng = np.random.default_rng(3)
    true_logits, labels = calibrated_logits(rng, 6000)
    logits = true_logits * 3
    temperature = fit_temperature(logits, labels, "multi-class")
    assert temperature == pytest.approx(3.0, rel=0.1)
    before = ece(probabilities(logits, "multi-class"), labels, "multi-class")
    after = ece(probabilities(logits, "multi-class", temperature), labels, "multi-class")
    assert after < before
    # Calibrated log-probabilities need no scaling.
    log_probs = np.log(softmax(true_logits, axis=1))
    assert fit_temperature(log_probs, labels, "multi-class") == pytest.approx(1.0, rel=0.1)


def test_temperature_of_a_multi_label_task():
    rng = np.random.default_rng(4)
    true_logits = rng.normal(size=(3000, 4)) * 2
    labels = (rng.random(true_logits.shape) < expit(true_logits)).astype(int)
    assert fit_temperature(true_logits / 2, labels, MULTI_LABEL) == pytest.approx(0.5, rel=0.1)


def test_calibration_summary_fits_on_validation_and_measures_on_test():
    rng = np.random.default_rng(5)
    val_logits, val_labels = calibrated_logits(rng, 4000)
    test_logits, test_labels = calibrated_logits(rng, 2000)
    summary = calibration_summary(val_logits * 2, val_labels, test_logits * 2, test_labels, "multi-class", bins=10)
    assert json.loads(json.dumps(summary)) == summary
    assert summary["temperature"] == pytest.approx(2.0, rel=0.1) and summary["bins"] == 10
    assert summary["before"]["ece"] == pytest.approx(ece(probabilities(test_logits * 2, "multi-class"), test_labels, "multi-class", 10))
    assert summary["before"]["nll"] == pytest.approx(nll(test_logits * 2, test_labels, "multi-class"))
    for metric in ("ece", "brier", "nll"):
        assert summary["after"][metric] < summary["before"][metric]
    for key in ("reliability_before", "reliability_after"):
        rows = summary[key]
        assert len(rows) == 10 and sum(row["count"] for row in rows) == 2000
        assert set(rows[0]) == {"confidence", "accuracy", "count"}
        assert [row["confidence"] for row in rows] == sorted(row["confidence"] for row in rows)


def test_empty_input_is_an_error():
    with pytest.raises(ValueError):
        ece(np.zeros((0, 2)), np.zeros((0, 1), dtype=int), "binary-class")

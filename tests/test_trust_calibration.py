import json

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.metrics import brier_score_loss, log_loss

from workflow.train.metrics import MULTI_LABEL
from workflow.trust.calibration import (
    TEMPERATURE_LIMIT, accuracy_and_chance, bootstrap_ece, brier, calibration_summary, confidences, degenerate, ece,
    fit_temperature, nll, noise_floor, probabilities, reliability,
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


@pytest.mark.parametrize("known", [0.3, 3.0, 60.0, 200.0])  # 60 and 200 lie beyond the old search's bound, e^4 = 54.6
def test_temperature_scaling_recovers_a_known_temperature(known: float):
    rng = np.random.default_rng(3)
    true_logits, labels = calibrated_logits(rng, 6000)
    logits = true_logits * known
    temperature = fit_temperature(logits, labels, "multi-class")
    assert temperature == pytest.approx(known, rel=0.1)
    # the NLL's minimum: no temperature nearby does better
    assert nll(logits, labels, "multi-class", temperature) <= min(nll(logits, labels, "multi-class", temperature * f) for f in (0.99, 1.01))
    before = ece(probabilities(logits, "multi-class"), labels, "multi-class")
    after = ece(probabilities(logits, "multi-class", temperature), labels, "multi-class")
    assert after < before


def test_calibrated_scores_need_no_scaling_and_binary_scores_scale_too():
    rng = np.random.default_rng(3)
    true_logits, labels = calibrated_logits(rng, 6000)
    assert fit_temperature(np.log(softmax(true_logits, axis=1)), labels, "multi-class") == pytest.approx(1.0, rel=0.1)
    two, labels2 = calibrated_logits(rng, 6000, classes=2)
    assert fit_temperature(two / 4, labels2, "binary-class") == pytest.approx(0.25, rel=0.1)


def test_temperature_of_a_multi_label_task():
    rng = np.random.default_rng(4)
    true_logits = rng.normal(size=(3000, 4)) * 2
    labels = (rng.random(true_logits.shape) < expit(true_logits)).astype(int)
    assert fit_temperature(true_logits / 2, labels, MULTI_LABEL) == pytest.approx(0.5, rel=0.1)
    assert fit_temperature(true_logits * 80, labels, MULTI_LABEL) == pytest.approx(80, rel=0.1)


def test_scores_that_point_away_from_the_labels_get_an_infinite_temperature_and_are_degenerate():
    rng = np.random.default_rng(6)
    true_logits, labels = calibrated_logits(rng, 3000)
    temperature = fit_temperature(-true_logits, labels, "multi-class")  # worse than uniform at every finite T
    assert temperature == np.inf
    assert np.allclose(probabilities(-true_logits, "multi-class", temperature), 0.2)
    accuracy, chance = accuracy_and_chance(-true_logits, labels, "multi-class")
    assert accuracy < chance and "no better than the majority class" in degenerate(temperature, accuracy, chance)
    multi = rng.normal(size=(500, 3))
    assert fit_temperature(-multi, (rng.random(multi.shape) < expit(multi)).astype(int), MULTI_LABEL) == np.inf


def test_perfectly_separated_labels_drive_the_temperature_to_zero_and_are_flagged():
    logits = np.array([[2.0, -2.0], [-1.0, 1.0], [3.0, 0.0], [0.0, 0.5]])
    labels = np.array([[0], [1], [0], [1]])
    temperature = fit_temperature(logits, labels, "binary-class")
    assert 0 < temperature < 1e-3  # the slope of the NLL vanishes in floating point long before T reaches 0
    accuracy, chance = accuracy_and_chance(logits, labels, "binary-class")
    assert (accuracy, chance) == (1.0, 0.5) and "beyond [0.01, 100]" in degenerate(temperature, accuracy, chance)


def test_degenerate_fits_by_accuracy_and_by_temperature():
    assert degenerate(1.0, 0.8, 0.6) is None
    assert degenerate(TEMPERATURE_LIMIT, 0.8, 0.6) is None and degenerate(1 / TEMPERATURE_LIMIT, 0.8, 0.6) is None
    assert degenerate(TEMPERATURE_LIMIT * 1.01, 0.8, 0.6) == "T = 101 is beyond [0.01, 100]"
    assert degenerate(0.0099, 0.8, 0.6) == "T = 0.0099 is beyond [0.01, 100]"
    assert degenerate(1.0, 0.6, 0.6) == "validation accuracy 0.600 is no better than the majority class's 0.600"
    # majority class per task: the largest class share; per label for multi-label tasks
    assert accuracy_and_chance(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), np.array([[0], [0], [1]]), "binary-class") == pytest.approx((2 / 3, 2 / 3))
    logits = np.array([[2.0, -1.0], [0.5, 3.0], [-2.0, 0.0], [3.0, -3.0]])  # a logit of 0 is P = 0.5: not predicted
    labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    # pairs right: 2 + 2 + 1 + 1; each label is 1 in half the images
    assert accuracy_and_chance(logits, labels, MULTI_LABEL) == pytest.approx((6 / 8, 0.5))
    skewed = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])  # label rates 3/4 and 1/4: each label's majority is right 3 times in 4
    assert accuracy_and_chance(logits, skewed, MULTI_LABEL)[1] == pytest.approx(0.75)


def test_constant_scores_get_an_infinite_temperature():
    labels = np.array([[0], [1], [1], [0]])
    assert fit_temperature(np.zeros((4, 2)), labels, "binary-class") == np.inf  # the slope at 1/T = 0 is 0: no T helps
    assert fit_temperature(np.zeros((4, 2)), labels.reshape(-1, 1).repeat(2, axis=1), MULTI_LABEL) == np.inf


def test_defaults_are_fifteen_bins_and_a_thousand_seeded_resamples():
    rng = np.random.default_rng(9)
    probs, labels = binary_probs(rng.uniform(0.5, 1, 60), rng.random(60) < 0.8)
    assert ece(probs, labels, "binary-class") == ece(probs, labels, "binary-class", 15)
    assert len(reliability(probs, labels, "binary-class")) == 15
    assert np.array_equal(bootstrap_ece(probs, labels, "binary-class"), bootstrap_ece(probs, labels, "binary-class", 15, 1000, 0))
    assert np.array_equal(noise_floor(probs, "binary-class"), noise_floor(probs, "binary-class", 15, 1000, 0))
    logits = np.log(probs)
    assert calibration_summary(logits, labels, logits, labels, "binary-class") == calibration_summary(logits, labels, logits, labels, "binary-class", 15, 1000, 0)


def test_bins_of_one_sample_one_bin_and_tied_confidences():
    probs, labels = binary_probs(np.array([0.8]), np.array([0]))
    assert ece(probs, labels, "binary-class") == pytest.approx(0.8)
    probs, labels = binary_probs(np.array([0.6, 0.9, 0.7]), np.array([1, 1, 0]))
    assert ece(probs, labels, "binary-class", bins=1) == pytest.approx(abs(2 / 3 - 2.2 / 3))
    with pytest.raises(ValueError, match="^bins must be at least 1, not 0$"):
        ece(probs, labels, "binary-class", bins=0)
    # 30 tied confidences among 30 others: ties keep their order (a stable sort), which decides the bins they fall in
    rng = np.random.default_rng(0)
    confidence = np.r_[np.full(30, 0.7), np.linspace(0.55, 1, 30)]
    rng.shuffle(confidence)
    correct = rng.random(60) < 0.7
    order = sorted(range(60), key=lambda i: (confidence[i], i))
    expected = sum(len(part) / 60 * abs(correct[part].mean() - confidence[part].mean()) for part in np.array_split(np.array(order), 7))
    probs, labels = binary_probs(confidence, correct)
    assert ece(probs, labels, "binary-class", bins=7) == pytest.approx(expected)


def test_calibration_summary_of_a_multi_label_task():
    rng = np.random.default_rng(10)
    true_logits = rng.normal(size=(400, 3)) * 2
    labels = (rng.random(true_logits.shape) < expit(true_logits)).astype(int)
    summary = calibration_summary(true_logits * 3, labels, true_logits * 3, labels, MULTI_LABEL, bins=8, resamples=60, seed=2)
    temperature = fit_temperature(true_logits * 3, labels, MULTI_LABEL)
    assert summary["temperature"] == pytest.approx(temperature) and summary["degenerate"] is None
    assert (summary["val_accuracy"], summary["val_chance"]) == pytest.approx(accuracy_and_chance(true_logits * 3, labels, MULTI_LABEL))
    for when, t in (("before", 1.0), ("after", temperature)):
        probs = probabilities(true_logits * 3, MULTI_LABEL, t)
        assert summary[when]["ece"] == pytest.approx(ece(probs, labels, MULTI_LABEL, 8))
        assert summary[when]["brier"] == pytest.approx(brier(probs, labels, MULTI_LABEL))
        assert summary[when]["nll"] == pytest.approx(nll(true_logits * 3, labels, MULTI_LABEL, t))
        assert summary[when]["ece_low"] == pytest.approx(np.percentile(bootstrap_ece(probs, labels, MULTI_LABEL, 8, 60, 2), 2.5))
        assert summary[when]["noise_floor_mean"] == pytest.approx(noise_floor(probs, MULTI_LABEL, 8, 60, 2).mean())
        assert sum(row["count"] for row in summary[f"reliability_{when}"]) == 1200  # every (image, label) pair
        assert [row["accuracy"] for row in summary[f"reliability_{when}"]] == pytest.approx(reliability(probs, labels, MULTI_LABEL, 8)["accuracy"].tolist())


def test_calibration_summary_fits_on_validation_and_measures_on_test():
    rng = np.random.default_rng(5)
    val_logits, val_labels = calibrated_logits(rng, 4000)
    test_logits, test_labels = calibrated_logits(rng, 2000)
    # validation over-confident by 2, test by 4: a fit on the test split would find 4
    summary = calibration_summary(val_logits * 2, val_labels, test_logits * 4, test_labels, "multi-class", bins=10, resamples=200, seed=1)
    assert json.loads(json.dumps(summary)) == summary
    assert summary["temperature"] == pytest.approx(fit_temperature(val_logits * 2, val_labels, "multi-class"))
    assert summary["temperature"] == pytest.approx(2.0, rel=0.1) and summary["bins"] == 10 and summary["resamples"] == 200
    assert summary["degenerate"] is None and summary["val_accuracy"] > summary["val_chance"]
    test_probs = probabilities(test_logits * 4, "multi-class")
    assert summary["before"]["ece"] == pytest.approx(ece(test_probs, test_labels, "multi-class", 10))
    assert summary["before"]["nll"] == pytest.approx(nll(test_logits * 4, test_labels, "multi-class"))
    scaled = probabilities(test_logits * 4, "multi-class", summary["temperature"])
    assert summary["after"]["ece"] == pytest.approx(ece(scaled, test_labels, "multi-class", 10))
    assert summary["after"]["brier"] == pytest.approx(brier(scaled, test_labels, "multi-class"))
    assert summary["after"]["nll"] == pytest.approx(nll(test_logits * 4, test_labels, "multi-class", summary["temperature"]))
    for metric in ("ece", "brier", "nll"):
        assert summary["after"][metric] < summary["before"][metric]
    for when, probs in (("before", test_probs), ("after", scaled)):
        resampled = bootstrap_ece(probs, test_labels, "multi-class", 10, 200, seed=1)
        assert (summary[when]["ece_low"], summary[when]["ece_high"]) == pytest.approx(tuple(np.percentile(resampled, [2.5, 97.5])))
        floor = noise_floor(probs, "multi-class", 10, 200, seed=1)
        assert (summary[when]["noise_floor_mean"], summary[when]["noise_floor_p95"]) == pytest.approx((floor.mean(), np.percentile(floor, 95)))
    change = bootstrap_ece(scaled, test_labels, "multi-class", 10, 200, seed=1) - bootstrap_ece(test_probs, test_labels, "multi-class", 10, 200, seed=1)
    assert (summary["ece_change_low"], summary["ece_change_high"]) == pytest.approx(tuple(np.percentile(change, [2.5, 97.5])))
    assert summary["ece_change_high"] < 0  # scaling by 2 of an over-confidence of 4 lowers ECE beyond the noise
    for key, probs in (("reliability_before", test_probs), ("reliability_after", scaled)):
        rows = summary[key]
        assert len(rows) == 10 and sum(row["count"] for row in rows) == 2000
        assert set(rows[0]) == {"confidence", "accuracy", "count"}
        assert [row["confidence"] for row in rows] == pytest.approx(reliability(probs, test_labels, "multi-class", 10)["confidence"].tolist())


def test_bootstrap_resamples_images_with_the_seed():
    rng = np.random.default_rng(7)
    probs, labels = binary_probs(rng.uniform(0.5, 1, 80), rng.random(80) < 0.7)
    draws = np.random.default_rng(3)
    expected = [ece(probs[i], labels[i], "binary-class", 5) for i in (draws.integers(0, 80, 80) for _ in range(30))]
    assert bootstrap_ece(probs, labels, "binary-class", 5, 30, seed=3) == pytest.approx(expected)
    # multi-label: an image is resampled with every one of its labels
    multi, multi_labels = rng.random((20, 3)), rng.integers(0, 2, (20, 3))
    draws = np.random.default_rng(0)
    expected = [ece(multi[i], multi_labels[i], MULTI_LABEL, 4) for i in (draws.integers(0, 20, 20) for _ in range(5))]
    assert bootstrap_ece(multi, multi_labels, MULTI_LABEL, 4, 5, seed=0) == pytest.approx(expected)


def test_noise_floor_is_the_ece_of_a_perfectly_calibrated_model_and_shrinks_with_the_test_size():
    rng = np.random.default_rng(8)
    p = rng.uniform(0.5, 1.0, 156)
    probs = np.c_[1 - p, p]
    floor = noise_floor(probs, "binary-class", bins=15, draws=2000, seed=0)
    assert floor.shape == (2000,) and (floor > 0).all()
    # the same quantity by brute force: outcomes drawn with the model's own confidence, ECE as the stage computes it
    simulated = [ece(probs, (rng.random(156) < p).astype(int).reshape(-1, 1), "binary-class", 15) for _ in range(2000)]
    assert floor.mean() == pytest.approx(np.mean(simulated), abs=0.005)
    assert np.percentile(floor, 95) == pytest.approx(np.percentile(simulated, 95), abs=0.01)
    assert 0.07 < floor.mean() < 0.12  # about 0.10 at 156 test images, 15 bins
    four_times = np.c_[1 - np.tile(p, 4), np.tile(p, 4)]
    assert noise_floor(four_times, "binary-class", 15, 2000, seed=0).mean() == pytest.approx(floor.mean() / 2, rel=0.2)
    assert np.array_equal(noise_floor(probs, "binary-class", 15, 250, seed=4), noise_floor(probs, "binary-class", 15, 250, seed=4))
    assert noise_floor(probs, "binary-class", 15, 250, seed=4).shape == (250,)  # draws in chunks of 100: the last one of 50
    multi = rng.random((60, 3))  # every (image, label) pair is an outcome of its own
    multi_floor = noise_floor(multi, MULTI_LABEL, 10, 500, seed=0)
    simulated = [ece(multi, (rng.random(multi.shape) < multi).astype(int), MULTI_LABEL, 10) for _ in range(500)]
    assert multi_floor.shape == (500,) and multi_floor.mean() == pytest.approx(np.mean(simulated), abs=0.01)


def test_empty_input_is_an_error():
    with pytest.raises(ValueError, match="^no predictions to assess$"):
        ece(np.zeros((0, 2)), np.zeros((0, 1), dtype=int), "binary-class")

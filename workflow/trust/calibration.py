"""Calibration of class probabilities: ECE with bootstrap intervals and its noise floor,
reliability tables, Brier score, NLL and temperature scaling (Guo et al., ICML 2017).

Tasks are MedMNIST's task strings. Single-label tasks ("binary-class", "multi-class" and
"ordinal-regression", the last trained with softmax like multi-class) take logits of shape
(N, K) and integer labels of shape (N, 1); calibration is that of the top-label confidence.
Multi-label tasks take logits and 0/1 labels of shape (N, L); every (sample, label) pair's
P(y = 1) is assessed. Logits may be log-probabilities (softmax of log p is p); for a
multi-label model they must be log-odds, log(p / (1 - p)), since the sigmoid is applied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, log_expit, log_softmax, softmax

from ..train.metrics import MULTI_LABEL

TEMPERATURE_LIMIT = 100.0  # a fitted T outside [1 / limit, limit] is flagged degenerate


def _single_labels(labels: np.ndarray) -> np.ndarray:
    return np.asarray(labels).reshape(-1).astype(int)


def probabilities(logits: np.ndarray, task: str, temperature: float = 1.0) -> np.ndarray:
    """Softmax of logits / T over each row, or the elementwise sigmoid for multi-label tasks."""
    scaled = np.asarray(logits, dtype=float) / temperature
    if task == MULTI_LABEL:
        return expit(scaled)
    return softmax(scaled, axis=1)


def _confidence(probs: np.ndarray, task: str) -> np.ndarray:
    """The top-label probability per sample, or every (sample, label) pair's probability."""
    probs = np.asarray(probs, dtype=float)
    return probs.reshape(-1) if task == MULTI_LABEL else probs.max(axis=1)


def confidences(probs: np.ndarray, labels: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """The (confidence, correct) pairs calibration is measured on, as two flat float arrays.

    Single-label: the top-label probability and whether the argmax is the label.
    Multi-label: each (sample, label) pair's probability and its 0/1 outcome.
    """
    if task == MULTI_LABEL:
        return _confidence(probs, task), np.asarray(labels, dtype=float).reshape(-1)
    correct = np.argmax(probs, axis=1) == _single_labels(labels)
    return _confidence(probs, task), correct.astype(float)


def _parts(confidence: np.ndarray, bins: int) -> list[np.ndarray]:
    """Indices of min(bins, n) equal-mass bins of the confidences, by rising confidence."""
    if confidence.size == 0:
        raise ValueError("no predictions to assess")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    return np.array_split(np.argsort(confidence, kind="stable"), min(bins, confidence.size))


def _equal_mass_bins(probs: np.ndarray, labels: np.ndarray, task: str, bins: int) -> list[tuple[np.ndarray, np.ndarray]]:
    confidence, correct = confidences(probs, labels, task)
    return [(confidence[part], correct[part]) for part in _parts(confidence, bins)]


def ece(probs: np.ndarray, labels: np.ndarray, task: str, bins: int = 15) -> float:
    """Expected calibration error over min(bins, n) equal-mass bins of the confidence-sorted
    pairs: the count-weighted mean of |accuracy - mean confidence| per bin."""
    parts = _equal_mass_bins(probs, labels, task, bins)
    total = sum(conf.size for conf, _ in parts)
    return float(sum(conf.size / total * abs(correct.mean() - conf.mean()) for conf, correct in parts))


def reliability(probs: np.ndarray, labels: np.ndarray, task: str, bins: int = 15) -> pd.DataFrame:
    """One row per equal-mass bin, by rising confidence: mean confidence, accuracy (mean
    correct) and count."""
    parts = _equal_mass_bins(probs, labels, task, bins)
    return pd.DataFrame(
        {
            "confidence": [float(conf.mean()) for conf, _ in parts],
            "accuracy": [float(correct.mean()) for _, correct in parts],
            "count": [int(conf.size) for conf, _ in parts],
        }
    )


def brier(probs: np.ndarray, labels: np.ndarray, task: str) -> float:
    """Brier score. Single-label: mean over samples of the summed squared error against the
    one-hot label (so twice scikit-learn's binary value for two classes). Multi-label: mean
    squared error over all (sample, label) pairs."""
    probs = np.asarray(probs, dtype=float)
    if task == MULTI_LABEL:
        return float(np.mean((probs - np.asarray(labels, dtype=float)) ** 2))
    onehot = np.eye(probs.shape[1])[_single_labels(labels)]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def nll(logits: np.ndarray, labels: np.ndarray, task: str, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the labels under logits / T, from log-softmax (per
    sample) or log-sigmoid (per (sample, label) pair for multi-label tasks)."""
    scaled = np.asarray(logits, dtype=float) / temperature
    if task == MULTI_LABEL:
        y = np.asarray(labels, dtype=float)
        return float(-np.mean(y * log_expit(scaled) + (1 - y) * log_expit(-scaled)))
    log_p = log_softmax(scaled, axis=1)
    return float(-np.mean(log_p[np.arange(len(log_p)), _single_labels(labels)]))


def _nll_slope(logits: np.ndarray, labels: np.ndarray, task: str, beta: float) -> float:
    """d NLL / d beta of logits · beta (beta = 1 / T); it rises with beta (the NLL is convex in beta)."""
    if task == MULTI_LABEL:
        return float(np.mean((expit(beta * logits) - np.asarray(labels, dtype=float)) * logits))
    p = softmax(beta * logits, axis=1)
    return float(np.mean((p * logits).sum(axis=1) - logits[np.arange(len(logits)), _single_labels(labels)]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, task: str) -> float:
    """The temperature T minimising the NLL of (validation) logits / T, without bounds: the
    NLL is convex in beta = 1 / T, so beta is the root of its slope (Brent's method on
    log beta, the bracket widened until it holds the root). Infinite when the slope at
    beta = 0 is not negative (no scaling beats uniform probabilities); near 0 for perfectly
    separated labels, whose slope stays negative until it vanishes in floating point."""
    logits = np.asarray(logits, dtype=float)
    slope = lambda log_beta: _nll_slope(logits, labels, task, float(np.exp(log_beta)))  # noqa: E731
    if _nll_slope(logits, labels, task, 0.0) >= 0:
        return float("inf")
    reach = 1.0
    while slope(reach) < 0:
        reach *= 2
    low = -reach
    while slope(low) > 0:
        low *= 2
    return float(np.exp(-brentq(slope, low, reach, xtol=1e-12)))


def accuracy_and_chance(logits: np.ndarray, labels: np.ndarray, task: str) -> tuple[float, float]:
    """Accuracy of the scores (top label; per (sample, label) pair at 0.5 for multi-label
    tasks) and that of always answering the majority class (per label)."""
    logits = np.asarray(logits, dtype=float)
    if task == MULTI_LABEL:
        y = np.asarray(labels, dtype=float)
        rate = y.mean(axis=0)
        return float(np.mean((logits > 0) == (y > 0.5))), float(np.mean(np.maximum(rate, 1 - rate)))
    y = _single_labels(labels)
    return float(np.mean(logits.argmax(axis=1) == y)), float(np.bincount(y).max() / len(y))


def degenerate(temperature: float, accuracy: float, chance: float) -> str | None:
    """Why a temperature fit says little about calibration, or None: a model no better than
    the majority class on validation, or a T beyond [1 / TEMPERATURE_LIMIT, TEMPERATURE_LIMIT]."""
    if accuracy <= chance:
        return f"validation accuracy {accuracy:.3f} is no better than the majority class's {chance:.3f}"
    if not 1 / TEMPERATURE_LIMIT <= temperature <= TEMPERATURE_LIMIT:
        return f"T = {temperature:.3g} is beyond [{1 / TEMPERATURE_LIMIT:g}, {TEMPERATURE_LIMIT:g}]"
    return None


def bootstrap_ece(
    probs: np.ndarray, labels: np.ndarray, task: str, bins: int = 15, resamples: int = 1000, seed: int = 0
) -> np.ndarray:
    """ECE of each of ``resamples`` seeded bootstrap resamples of the samples (images; a
    multi-label image keeps all its labels)."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    rng = np.random.default_rng(seed)
    return np.array([ece(probs[i], labels[i], task, bins) for i in (rng.integers(0, len(probs), len(probs)) for _ in range(resamples))])


def noise_floor(probs: np.ndarray, task: str, bins: int = 15, draws: int = 1000, seed: int = 0) -> np.ndarray:
    """ECE of a perfectly calibrated model with these confidences at this sample size: each
    draw's outcomes come true with the confidence itself (Bernoulli); one ECE per draw."""
    confidence = _confidence(probs, task)
    parts = _parts(confidence, bins)
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, draws, 100):  # 100 draws at a time bound the memory
        outcomes = rng.random((min(100, draws - start), confidence.size)) < confidence
        gaps = [part.size * np.abs(outcomes[:, part].mean(axis=1) - confidence[part].mean()) for part in parts]
        values.append(np.sum(gaps, axis=0) / confidence.size)
    return np.concatenate(values)


def _scores(logits: np.ndarray, labels: np.ndarray, task: str, temperature: float, bins: int, resampled: np.ndarray, floor: np.ndarray) -> dict[str, float]:
    probs = probabilities(logits, task, temperature)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return {
        "ece": ece(probs, labels, task, bins),
        "ece_low": float(low),
        "ece_high": float(high),
        "noise_floor_mean": float(floor.mean()),
        "noise_floor_p95": float(np.percentile(floor, 95)),
        "brier": brier(probs, labels, task),
        "nll": nll(logits, labels, task, temperature),
    }


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"confidence": float(confidence), "accuracy": float(accuracy), "count": int(count)}
        for confidence, accuracy, count in zip(table["confidence"], table["accuracy"], table["count"])
    ]


def calibration_summary(
    val_logits: np.ndarray,
    val_labels: np.ndarray,
    test_logits: np.ndarray,
    test_labels: np.ndarray,
    task: str,
    bins: int = 15,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Temperature fitted on validation (``degenerate``: why the fit says little, or None);
    ECE with its 95 % bootstrap interval over ``resamples`` resamples of the test images and
    the noise floor (mean and 95th percentile of a perfectly calibrated model's ECE at the
    same confidences), Brier and NLL on test before (T = 1) and after scaling; the paired
    bootstrap interval of the change in ECE; both reliability tables as lists of rows.
    JSON-serialisable (an infinite T as JSON's Infinity)."""
    temperature = fit_temperature(val_logits, val_labels, task)
    accuracy, chance = accuracy_and_chance(val_logits, val_labels, task)
    before, after = probabilities(test_logits, task), probabilities(test_logits, task, temperature)
    resampled = {when: bootstrap_ece(p, test_labels, task, bins, resamples, seed) for when, p in (("before", before), ("after", after))}
    floor = {when: noise_floor(p, task, bins, resamples, seed) for when, p in (("before", before), ("after", after))}
    change = resampled["after"] - resampled["before"]  # the same resamples: a paired interval
    return {
        "temperature": temperature,
        "val_accuracy": accuracy,
        "val_chance": chance,
        "degenerate": degenerate(temperature, accuracy, chance),
        "bins": int(bins),
        "resamples": int(resamples),
        "before": _scores(test_logits, test_labels, task, 1.0, bins, resampled["before"], floor["before"]),
        "after": _scores(test_logits, test_labels, task, temperature, bins, resampled["after"], floor["after"]),
        "ece_change_low": float(np.percentile(change, 2.5)),
        "ece_change_high": float(np.percentile(change, 97.5)),
        "reliability_before": _rows(reliability(before, test_labels, task, bins)),
        "reliability_after": _rows(reliability(after, test_labels, task, bins)),
    }

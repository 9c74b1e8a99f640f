"""Calibration of class probabilities: ECE, reliability tables, Brier score, NLL and
temperature scaling (Guo et al., ICML 2017).

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
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_expit, log_softmax, softmax

from ..train.metrics import MULTI_LABEL

LOG_TEMPERATURE_BOUNDS = (-4.0, 4.0)


def _single_labels(labels: np.ndarray) -> np.ndarray:
    return np.asarray(labels).reshape(-1).astype(int)


def probabilities(logits: np.ndarray, task: str, temperature: float = 1.0) -> np.ndarray:
    """Softmax of logits / T over each row, or the elementwise sigmoid for multi-label tasks."""
    scaled = np.asarray(logits, dtype=float) / temperature
    if task == MULTI_LABEL:
        return expit(scaled)
    return softmax(scaled, axis=1)


def confidences(probs: np.ndarray, labels: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """The (confidence, correct) pairs calibration is measured on, as two flat float arrays.

    Single-label: the top-label probability and whether the argmax is the label.
    Multi-label: each (sample, label) pair's probability and its 0/1 outcome.
    """
    probs = np.asarray(probs, dtype=float)
    if task == MULTI_LABEL:
        return probs.reshape(-1), np.asarray(labels, dtype=float).reshape(-1)
    correct = np.argmax(probs, axis=1) == _single_labels(labels)
    return probs.max(axis=1), correct.astype(float)


def _equal_mass_bins(probs: np.ndarray, labels: np.ndarray, task: str, bins: int) -> list[tuple[np.ndarray, np.ndarray]]:
    confidence, correct = confidences(probs, labels, task)
    if confidence.size == 0:
        raise ValueError("no predictions to assess")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    order = np.argsort(confidence, kind="stable")
    parts = np.array_split(order, min(bins, confidence.size))
    return [(confidence[part], correct[part]) for part in parts]


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


def fit_temperature(logits: np.ndarray, labels: np.ndarray, task: str) -> float:
    """The temperature T > 0 minimising the NLL of (validation) logits / T, searched over
    log T in [-4, 4] (bounded Brent)."""
    logits = np.asarray(logits, dtype=float)
    result = minimize_scalar(
        lambda log_t: nll(logits, labels, task, float(np.exp(log_t))),
        bounds=LOG_TEMPERATURE_BOUNDS,
        method="bounded",
        options={"xatol": 1e-5},
    )
    return float(np.exp(result.x))


def _scores(logits: np.ndarray, labels: np.ndarray, task: str, temperature: float, bins: int) -> dict[str, float]:
    probs = probabilities(logits, task, temperature)
    return {
        "ece": ece(probs, labels, task, bins),
        "brier": brier(probs, labels, task),
        "nll": nll(logits, labels, task, temperature),
    }


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"confidence": float(confidence), "accuracy": float(accuracy), "count": int(count)}
        for confidence, accuracy, count in zip(table["confidence"], table["accuracy"], table["count"])
    ]


def calibration_summary(
    val_logits: np.ndarray, val_labels: np.ndarray, test_logits: np.ndarray, test_labels: np.ndarray, task: str, bins: int = 15
) -> dict[str, Any]:
    """Temperature fitted on validation; ECE, Brier and NLL on test before (T = 1) and after
    scaling, with both reliability tables as lists of rows. JSON-serialisable."""
    temperature = fit_temperature(val_logits, val_labels, task)
    return {
        "temperature": temperature,
        "bins": int(bins),
        "before": _scores(test_logits, test_labels, task, 1.0, bins),
        "after": _scores(test_logits, test_labels, task, temperature, bins),
        "reliability_before": _rows(reliability(probabilities(test_logits, task), test_labels, task, bins)),
        "reliability_after": _rows(reliability(probabilities(test_logits, task, temperature), test_labels, task, bins)),
    }

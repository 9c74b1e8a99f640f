"""Fit a scikit-learn baseline (``framework="sklearn"`` in the registry) on flattened pixels.

Pixels are scaled to [0, 1] as the 3-D networks see them. Every combination of the
entry's list-valued params (a grid) is fitted on the training split and scored on the
validation split with MedMNIST's AUC, as a network's best epoch is chosen; the best is
scored on validation and test. Multi-label tasks fit one estimator per label.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import ParameterGrid
from sklearn.multioutput import MultiOutputClassifier

from ..models import create
from .metrics import MULTI_LABEL, evaluate


@dataclass
class ClassicalResult:
    history: list[dict]  # one row per grid candidate: its params, validation ACC/AUC, seconds
    selected: dict  # the params of the candidate kept
    metrics: dict[str, dict[str, float]]
    test_scores: np.ndarray
    val_scores: np.ndarray
    train_seconds: float
    parameters: int
    flops_per_image: int
    estimator: object  # the fitted estimator (a pipeline, or one per label)


def features(images: np.ndarray) -> np.ndarray:
    """MedMNIST images (N, *spatial[, C]) as rows of pixels in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def grid(params: dict) -> list[dict]:
    """Every combination of the list-valued params, the others fixed."""
    return list(ParameterGrid({k: v if isinstance(v, list) else [v] for k, v in params.items()}))


def _scores(estimator, x: np.ndarray, task: str) -> np.ndarray:
    """Class scores in the engine's layout: softmax-like rows, or one column per label."""
    if task == MULTI_LABEL:
        return np.stack([p[:, 1] for p in estimator.predict_proba(x)], axis=1)
    return estimator.predict_proba(x)


def _linear_size(estimator) -> tuple[int | None, int | None]:
    """Parameters and forward FLOPs per image (2 per multiply-add and per standardised input)
    of a fitted pipeline ending in a linear model, or of several, one per label; None for
    other estimators."""
    estimators = estimator.estimators_ if hasattr(estimator, "estimators_") else [estimator]
    parameters = flops = 0
    for pipeline in estimators:
        linear = pipeline[-1]
        if not hasattr(linear, "coef_"):
            return None, None
        parameters += linear.coef_.size + linear.intercept_.size
        flops += 2 * linear.coef_.size + 2 * linear.n_features_in_
    return parameters, flops


def fit_classical(arch: str, params: dict, arrays: dict, task: str, spatial_dims: int, n_classes: int) -> ClassicalResult:
    """Search the grid on validation AUC, then score the chosen estimator."""
    x = {split: features(images) for split, (images, _) in arrays.items()}
    y = {split: np.asarray(labels).reshape(len(labels), -1) for split, (_, labels) in arrays.items()}
    target = y["train"] if task == MULTI_LABEL else y["train"][:, 0]
    images = arrays["train"][0]
    in_channels = images.shape[-1] if images.ndim == spatial_dims + 2 else 1
    history, best = [], None
    began = time.perf_counter()
    for candidate in grid(params):
        started = time.perf_counter()
        estimator = create(arch, spatial_dims=spatial_dims, in_channels=in_channels, out_channels=n_classes, **candidate)
        if task == MULTI_LABEL:
            estimator = MultiOutputClassifier(estimator)
        estimator.fit(x["train"], target)
        val = evaluate(task, y["val"], _scores(estimator, x["val"], task))
        history.append({**candidate, "val_acc": val["acc"], "val_auc": val["auc"], "seconds": time.perf_counter() - started})
        if best is None or val["auc"] > best[0]:
            best = (val["auc"], candidate, estimator)
    _, selected, estimator = best
    train_seconds = time.perf_counter() - began
    metrics, scores = {}, {}
    for split in ("val", "test"):
        scores[split] = _scores(estimator, x[split], task)
        metrics[split] = evaluate(task, y[split], scores[split])
    parameters, flops = _linear_size(estimator)
    return ClassicalResult(history, selected, metrics, scores["test"], scores["val"], train_seconds, parameters, flops, estimator)

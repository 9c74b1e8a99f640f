"""Test metrics with MedMNIST's own semantics, plus balanced accuracy and macro F1.

ACC and AUC call ``medmnist.evaluator.getACC``/``getAUC``, so the numbers are exactly
those of the official ``Evaluator`` (binary tasks score the last column at 0.5; ordinal
RetinaMNIST is scored as multi-class; multi-label averages per-label scores). Balanced
accuracy and macro F1 use the same predictions: argmax of the class scores, or each
label's score above 0.5 for multi-label tasks (averaged over labels).
"""

from __future__ import annotations

import numpy as np
from medmnist.evaluator import getACC, getAUC
from sklearn.metrics import balanced_accuracy_score, f1_score

MULTI_LABEL = "multi-label, binary-class"


def evaluate(task: str, y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """ACC, AUC, balanced accuracy and macro F1 of class scores against integer labels."""
    y_true = np.asarray(y_true)
    if task == MULTI_LABEL:
        predicted = (y_score > 0.5).astype(int)
        balanced = np.mean([balanced_accuracy_score(y_true[:, i], predicted[:, i]) for i in range(y_true.shape[1])])
        f1 = f1_score(y_true, predicted, average="macro", zero_division=0)
    else:
        labels, predicted = y_true.reshape(-1), np.argmax(y_score, axis=1)
        balanced = balanced_accuracy_score(labels, predicted)
        f1 = f1_score(labels, predicted, average="macro", labels=np.arange(y_score.shape[1]), zero_division=0)
    return {
        "acc": float(getACC(y_true, y_score, task)),
        "auc": float(getAUC(y_true, y_score, task)),
        "balanced_acc": float(balanced),
        "f1": float(f1),
    }

"""Test metrics with MedMNIST's own semantics.

ACC and AUC call ``medmnist.evaluator.getACC``/``getAUC``, so the numbers are exactly
those of the official ``Evaluator`` (binary tasks score the last column at 0.5; ordinal
RetinaMNIST is scored as multi-class; multi-label averages per-label scores).
"""

from __future__ import annotations

import numpy as np
from medmnist.evaluator import getACC, getAUC


def evaluate(task: str, y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """ACC and AUC of scores (softmax or sigmoid outputs) against integer labels."""
    return {"acc": float(getACC(y_true, y_score, task)), "auc": float(getAUC(y_true, y_score, task))}

"""Overlap and boundary metrics of a case, per class, on the case's own grid (MONAI).

For each class of a case (one 2-D image or one volume): Dice, Jaccard, sensitivity,
specificity and accuracy (counted over the region a dataset's protocol scores, such as
DRIVE's field of view, else over the whole grid), the 95% Hausdorff distance (HD95) and
surface Dice at a tolerance (Nikolov et al. 2021: the share of both boundaries within the
tolerance of the other). Distances are in mm where the grid's spacing is known, in pixels
(voxels) otherwise. HD95 and surface Dice come from one call of MONAI's
``get_edge_surface_distance`` per class: HD95 as ``compute_hausdorff_distance`` computes
it (the larger of the two directed 95th percentiles), surface Dice as
``compute_surface_dice`` does.

No case leaves the Dice mean: an empty prediction of a non-empty class scores Dice 0 and
surface Dice 0, and so does a prediction where the class is absent (a false positive);
nothing predicted where there is nothing scores 1. HD95 is undefined unless both masks
hold the class: it is left empty (NaN) there, each case's ``status`` says why, and
summaries give the count of empty predictions beside the median and mean HD95 of the
cases where it is defined.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch
from monai.metrics.utils import get_edge_surface_distance

STATUS = ("ok", "empty prediction", "false positive", "absent")  # absent: neither mask holds the class
SCORES = ("dice", "jaccard", "sensitivity", "specificity", "accuracy", "surface_dice", "hd95")


def boundary(pred: np.ndarray, true: np.ndarray, spacing: Sequence[float] | None, tolerance: float) -> tuple[float, float]:
    """HD95 and surface Dice at ``tolerance`` of two non-empty boolean masks (in the unit of ``spacing``; pixels when None)."""
    with warnings.catch_warnings():  # MONAI 1.6 warns about an argument of its own internal call
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy", category=FutureWarning)
        _, (to_true, to_pred), _ = get_edge_surface_distance(
            torch.from_numpy(pred), torch.from_numpy(true), spacing=None if spacing is None else [float(s) for s in spacing], symmetric=True
        )
    hd95 = max(float(torch.quantile(to_true.float(), 0.95)), float(torch.quantile(to_pred.float(), 0.95)))
    surface = float((to_true <= tolerance).sum() + (to_pred <= tolerance).sum()) / (len(to_true) + len(to_pred))
    return hd95, surface


def class_scores(pred: np.ndarray, true: np.ndarray, spacing: Sequence[float] | None, tolerance: float, region: np.ndarray | None = None) -> dict:
    """The scores of one class of one case: boolean masks on one grid (``region``: the only
    pixels counted, of both masks; DRIVE's field of view)."""
    if region is not None:  # both masks inside the region alone, as the dataset's protocol counts them
        pred, true = pred & region, true & region
    inside = region if region is not None else np.ones_like(true, dtype=bool)
    tp = int((pred & true).sum())
    fp = int((pred & ~true).sum())
    fn = int((~pred & true).sum())
    tn = int(inside.sum()) - tp - fp - fn
    counts = {"true_pixels": tp + fn, "predicted_pixels": tp + fp}
    rates = {
        "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),
        "specificity": tn / (tn + fp) if tn + fp else float("nan"),
        "accuracy": (tp + tn) / (tp + tn + fp + fn),
    }
    if tp + fn == 0 and tp + fp == 0:
        return {**counts, "status": "absent", "dice": 1.0, "jaccard": 1.0, "surface_dice": 1.0, "hd95": float("nan"), **rates}
    if tp + fp == 0 or tp + fn == 0:
        status = "empty prediction" if tp + fp == 0 else "false positive"
        return {**counts, "status": status, "dice": 0.0, "jaccard": 0.0, "surface_dice": 0.0, "hd95": float("nan"), **rates}
    hd95, surface = boundary(pred, true, spacing, tolerance)
    return {
        **counts,
        "status": "ok",
        "dice": 2 * tp / (2 * tp + fp + fn),
        "jaccard": tp / (tp + fp + fn),
        "surface_dice": surface,
        "hd95": hd95,
        **rates,
    }


def case_rows(
    pred: np.ndarray, true: np.ndarray, names: Sequence[str], spacing: Sequence[float] | None, tolerance: float, region: np.ndarray | None = None
) -> list[dict]:
    """One row per class of a case: ``pred`` and ``true`` are (K, ...) boolean stacks, one mask per named class."""
    return [{"class": name, **class_scores(p, t, spacing, tolerance, region)} for name, p, t in zip(names, pred, true)]


def summary(cases: pd.DataFrame, derived: Sequence[str] = ()) -> dict:
    """Test summary of ``cases.csv`` rows (one per case and class): per class the mean and sd
    over cases of every score (sensitivity and specificity over the cases where they are
    defined), HD95 as median and mean over the cases where it is defined with the count of
    empty predictions; overall, the mean over the classes of Dice, Jaccard and surface Dice
    (``derived`` classes, unions of others, left out), the sd over cases of each case's mean
    Dice, and HD95's median and mean over every case and class where it is defined."""
    classes = {}
    for name, rows in cases.groupby("class", sort=False):
        hd = rows["hd95"].dropna()
        classes[name] = {
            **{f"{s}": float(rows[s].mean()) for s in SCORES if s != "hd95"},
            **{f"{s}_sd": float(rows[s].std(ddof=1)) if len(rows) > 1 else float("nan") for s in SCORES if s != "hd95"},
            "hd95_median": float(hd.median()) if len(hd) else float("nan"),
            "hd95_mean": float(hd.mean()) if len(hd) else float("nan"),
            "hd95_cases": len(hd),
            "empty_predictions": int((rows["status"] == "empty prediction").sum()),
            "false_positives": int((rows["status"] == "false positive").sum()),
            "cases": len(rows),
        }
    scored = cases[~cases["class"].isin(derived)]
    per_case = scored.groupby("case", sort=False)["dice"].mean()
    own = [c for c in classes if c not in derived]
    hd = scored["hd95"].dropna()
    return {
        "dice": float(np.mean([classes[c]["dice"] for c in own])),
        "dice_sd": float(per_case.std(ddof=1)) if len(per_case) > 1 else float("nan"),
        "jaccard": float(np.mean([classes[c]["jaccard"] for c in own])),
        "surface_dice": float(np.mean([classes[c]["surface_dice"] for c in own])),
        "hd95_median": float(hd.median()) if len(hd) else float("nan"),
        "hd95_mean": float(hd.mean()) if len(hd) else float("nan"),
        "empty_predictions": int((scored["status"] == "empty prediction").sum()),
        "cases": len(per_case),
        "classes": classes,
    }


def pooled_dice(cases: Iterable[tuple[torch.Tensor, torch.Tensor]], classes: Sequence[int], multilabel: bool) -> float:
    """Mean over the foreground classes of Dice pooled over ``cases`` (prediction, truth) on
    the training grid: 2 Σ|P ∩ T| / (Σ|P| + Σ|T|) per class, a class absent from every case
    counting 1 (model selection). Pooled, a few validation cases without a structure do not
    swing the score between 0 and 1 as a mean of per-case Dice does. ``pred`` and ``true``
    are class maps (1, ...) or multi-label stacks (K, ...)."""
    overlap, total = np.zeros(len(classes)), np.zeros(len(classes))
    for pred, true in cases:
        for index, value in enumerate(classes):
            p, t = (pred[index], true[index]) if multilabel else (pred[0] == value, true[0] == value)
            p, t = p.bool(), t.bool()
            overlap[index] += int((p & t).sum())
            total[index] += int(p.sum() + t.sum())
    return float(np.mean(np.where(total > 0, 2 * overlap / np.maximum(total, 1), 1.0)))

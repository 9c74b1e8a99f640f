"""Overlap and boundary metrics of binary masks (MONAI): Dice, 95% Hausdorff distance and
surface Dice (Nikolov et al. 2021: the share of both boundaries lying within a tolerance
in mm of the other).

Metrics are computed per case: one 2-D image, or one volume (per foreground class). No
case is left out of a mean: an empty prediction of a non-empty mask, and a non-empty
prediction of an empty mask (a false positive), score Dice 0, surface Dice 0 and, as
HD95, the case's diagonal (the largest distance possible in its grid); an empty
prediction of an empty mask is perfect, Dice 1, surface Dice 1 and HD95 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance, compute_surface_dice


def _case_metrics(pred: np.ndarray, true: np.ndarray, spacing_mm: tuple[float, ...], tolerance_mm: float) -> dict[str, float]:
    """Dice, HD95 (grid units and mm) and surface Dice at ``tolerance_mm`` of one 2-D or 3-D binary mask pair."""
    p = torch.from_numpy(pred.astype(bool))[None, None]
    t = torch.from_numpy(true.astype(bool))[None, None]
    if not t.any() and not p.any():
        return {"dice": 1.0, "hd95_px": 0.0, "hd95_mm": 0.0, "surface_dice": 1.0}
    if not t.any() or not p.any():
        diagonal_px = float(np.linalg.norm(true.shape))
        diagonal_mm = float(np.linalg.norm(np.asarray(true.shape) * np.asarray(spacing_mm)))
        return {"dice": 0.0, "hd95_px": diagonal_px, "hd95_mm": diagonal_mm, "surface_dice": 0.0}
    dice = float(compute_dice(p, t, include_background=True, ignore_empty=False))
    spacing = [float(s) for s in spacing_mm]
    with warnings.catch_warnings():  # MONAI 1.6 warns about an argument of its own internal call
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy", category=FutureWarning)
        hd_px = compute_hausdorff_distance(p, t, include_background=True, percentile=95)
        hd_mm = compute_hausdorff_distance(p, t, include_background=True, percentile=95, spacing=spacing)
        surface = compute_surface_dice(p, t, [float(tolerance_mm)], include_background=True, spacing=spacing)
    return {"dice": dice, "hd95_px": float(hd_px), "hd95_mm": float(hd_mm), "surface_dice": float(surface)}


def case_metrics(pred: np.ndarray, true: np.ndarray, spacing: np.ndarray, groups: np.ndarray, tolerance_mm: float) -> pd.DataFrame:
    """One row per case of masks shaped (N, 1, H, W): slices sharing a group form a volume.

    ``spacing`` is (N, 3) mm between slices, rows and columns; a single-slice case is
    scored in 2-D with the last two.
    """
    rows = []
    for group in dict.fromkeys(groups.tolist()):
        index = np.flatnonzero(groups == group)
        if len(index) == 1:
            scores = _case_metrics(pred[index[0], 0], true[index[0], 0], tuple(spacing[index[0], 1:]), tolerance_mm)
        else:
            scores = _case_metrics(pred[index, 0], true[index, 0], tuple(spacing[index[0]]), tolerance_mm)
        pixels = {"true_pixels": int(true[index].sum()), "predicted_pixels": int(pred[index].sum())}
        rows.append({"case": group, "slices": len(index), **pixels, **scores})
    return pd.DataFrame(rows)


def volume_metrics(pred: np.ndarray, true: np.ndarray, spacing_mm: tuple[float, float, float], classes: dict[int, str], tolerance_mm: float) -> list[dict]:
    """One row per foreground class of a labelled volume pair (integer label maps on one grid)."""
    rows = []
    for value, name in classes.items():
        pixels = {"true_pixels": int((true == value).sum()), "predicted_pixels": int((pred == value).sum())}
        rows.append({"class": name, **pixels, **_case_metrics(pred == value, true == value, spacing_mm, tolerance_mm)})
    return rows


def mean_dice(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Mean per-image foreground Dice of (N, 1, H, W) binary tensors; images where both
    masks are empty count as 1 (used for model selection on the validation split)."""
    p, t = pred.flatten(1).float(), true.flatten(1).float()
    overlap, total = (p * t).sum(1), p.sum(1) + t.sum(1)
    dice = torch.where(total > 0, 2 * overlap / total.clamp_min(1), torch.ones_like(total))
    return float(dice.mean())

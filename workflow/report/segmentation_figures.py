"""Segmentation figure: test images with the ground-truth and predicted mask contours."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .figures import STYLE, _save

TRUE_COLOUR, PREDICTED_COLOUR = "#2ecc71", "#e74c3c"


def first_seed_predictions(runs: pd.DataFrame) -> pd.DataFrame:
    """For each dataset and model, the run with the lowest seed (its predictions file)."""
    first = runs.sort_values("seed").groupby(["dataset", "model"], sort=True).head(1)
    return first.assign(predictions=first["run"].map(lambda run: str(Path(run) / "predictions.npz"))).sort_values(["dataset", "model"])


def _chosen(masks: np.ndarray, count: int) -> np.ndarray:
    """``count`` slices with a non-empty ground truth, evenly spaced through the test split."""
    labelled = np.flatnonzero(masks.reshape(len(masks), -1).any(1))
    return labelled[np.unique(np.linspace(0, len(labelled) - 1, min(count, len(labelled))).round().astype(int))]


def _dice(pred: np.ndarray, true: np.ndarray) -> float:
    total = pred.sum() + true.sum()
    return float(2 * (pred & true).sum() / total) if total else 1.0


def overlays(runs: pd.DataFrame, count: int, *paths: str | Path) -> None:
    """One row per (dataset, model), ``count`` test slices each; contours green (truth) and red (prediction)."""
    sns.set_theme(**STYLE)
    fig, axes = plt.subplots(len(runs), count, figsize=(2.2 * count, 2.3 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs.itertuples()):
        with np.load(run.predictions) as npz:
            images, masks, predicted, names = npz["images"], npz["masks"].astype(bool), npz["predicted"].astype(bool), npz["names"]
        index = _chosen(masks, count)
        for ax, i in zip(row, index):
            ax.imshow(images[i, 0], cmap="gray")
            ax.contour(masks[i, 0], levels=[0.5], colors=TRUE_COLOUR, linewidths=1.2)
            if predicted[i, 0].any():
                ax.contour(predicted[i, 0], levels=[0.5], colors=PREDICTED_COLOUR, linewidths=1.2)
            ax.set_title(f"{names[i]}\nDice {_dice(predicted[i, 0], masks[i, 0]):.2f}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        row[0].set_ylabel(f"{run.dataset}\n{run.model}", fontsize=8)
        for ax in row[len(index):]:
            ax.set_axis_off()
    fig.suptitle("Test images: ground truth (green) and prediction (red)", fontsize=9)
    _save(fig, *paths)

"""Segmentation figure: test images (2-D) or the axial slice through the centre of each test
volume's ground truth (3-D) with the ground-truth and predicted contours."""

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
    """Foreground Dice of label maps (any non-zero class counts as foreground)."""
    pred, true = pred > 0, true > 0
    total = pred.sum() + true.sum()
    return float(2 * (pred & true).sum() / total) if total else 1.0


def panels(predictions: str | Path, count: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    """Up to ``count`` (image, truth, prediction, name) slices of a run's ``predictions.npz``:
    2-D runs' labelled test images, evenly spaced; 3-D runs' centre slices of evenly spaced
    test volumes, turned so that anterior is up."""
    with np.load(predictions) as npz:
        names = npz["names"]
        if "images" in npz.files:
            images, masks, predicted = npz["images"][:, 0], npz["masks"][:, 0], npz["predicted"][:, 0]
            return [(images[i], masks[i], predicted[i], str(names[i])) for i in _chosen(masks, count)]
        chosen = np.unique(np.linspace(0, len(names) - 1, min(count, len(names))).round().astype(int))
        return [tuple(np.rot90(npz[f"{kind}_{i}"]) for kind in ("image", "mask", "predicted")) + (f"{names[i]} (axial)",) for i in chosen]


def overlays(runs: pd.DataFrame, count: int, *paths: str | Path) -> None:
    """One row per (dataset, model), ``count`` test slices each; contours green (truth) and red (prediction)."""
    sns.set_theme(**STYLE)
    fig, axes = plt.subplots(len(runs), count, figsize=(2.2 * count, 2.3 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs.itertuples()):
        shown = panels(run.predictions, count)
        for ax, (image, mask, predicted, name) in zip(row, shown):
            ax.imshow(image, cmap="gray")
            levels = np.arange(0.5, max(int(mask.max()), int(predicted.max()), 1))
            if mask.any():
                ax.contour(mask, levels=levels, colors=TRUE_COLOUR, linewidths=1.2)
            if predicted.any():
                ax.contour(predicted, levels=levels, colors=PREDICTED_COLOUR, linewidths=1.2)
            ax.set_title(f"{name}\nDice {_dice(predicted, mask):.2f}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        row[0].set_ylabel(f"{run.dataset}\n{run.model}", fontsize=8)
        for ax in row[len(shown):]:
            ax.set_axis_off()
    fig.suptitle("Test images and volume slices: ground truth (green) and prediction (red)", fontsize=9)
    _save(fig, *paths)

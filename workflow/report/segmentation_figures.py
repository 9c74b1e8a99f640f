"""Segmentation figures: contours of ground truth and prediction on test images and on the
centre slices of test volumes, a row per dataset; validation Dice per epoch per dataset."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .figures import STYLE, _save, epoch_curves


def best_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, the lowest seed's run of the model with the best mean test Dice."""
    means = runs.groupby(["dataset", "model"], sort=False)["dice"].mean().reset_index()
    best = means.loc[means.groupby("dataset", sort=False)["dice"].idxmax(), ["dataset", "model"]]
    chosen = runs.merge(best).sort_values("seed").groupby("dataset", sort=False).head(1)
    order = list(dict.fromkeys(runs["dataset"]))
    return chosen.set_index("dataset").loc[order].reset_index()


def panels(predictions: str | Path, count: int) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]]:
    """The class names and up to ``count`` evenly spaced (image, truth, prediction, name)
    panels of a run's ``predictions.npz`` (truth and prediction: one mask per class)."""
    with np.load(predictions) as npz:
        kept = sum(key.startswith("image_") for key in npz.files)
        chosen = np.unique(np.linspace(0, kept - 1, min(count, kept)).round().astype(int)) if kept else []
        shown = [(npz[f"image_{i}"], npz[f"truth_{i}"], npz[f"predicted_{i}"], str(npz[f"name_{i}"])) for i in chosen]
        return [str(c) for c in npz["classes"]], shown


def _dice(pred: np.ndarray, true: np.ndarray) -> float:
    """Dice of the union of the classes (any structure counts as foreground)."""
    pred, true = pred.any(0), true.any(0)
    total = pred.sum() + true.sum()
    return float(2 * (pred & true).sum() / total) if total else 1.0


OVERLAY_DPI = 90  # images and contours, rasterized in the SVG too: the kept figure stays under 1 MiB


def overlays(runs: pd.DataFrame, count: int, *paths: str | Path) -> None:
    """A row per dataset (its best model, first seed), ``count`` test images or volume slices:
    ground truth solid, prediction dashed, one colour per class."""
    sns.set_theme(**STYLE)
    chosen = best_runs(runs)
    fig, axes = plt.subplots(len(chosen), count, figsize=(2.2 * count, 2.4 * len(chosen)), squeeze=False)
    colours = sns.color_palette("bright", 10)
    for row, run in zip(axes, chosen.itertuples()):
        classes, shown = panels(Path(run.run) / "predictions.npz", count)
        for ax, (image, truth, predicted, name) in zip(row, shown):
            ax.imshow(image, cmap=None if image.ndim == 3 else "gray", rasterized=True)
            for k, colour in zip(range(len(classes)), colours):
                if truth[k].any():
                    ax.contour(truth[k], levels=[0.5], colors=[colour], linewidths=1.1).set_rasterized(True)
                if predicted[k].any():
                    ax.contour(predicted[k], levels=[0.5], colors=[colour], linewidths=1.1, linestyles="--").set_rasterized(True)
            ax.set_title(f"{name}\nDice {_dice(predicted, truth):.2f}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        legend = ", ".join(classes)
        row[0].set_ylabel(f"{run.dataset} ({run.modality})\n{run.model}\n{legend}", fontsize=7)
        for ax in row[len(shown):]:
            ax.set_axis_off()
    fig.suptitle("Test images and volume slices: ground truth (solid) and prediction (dashed), one colour per class", fontsize=9)
    _save(fig, *paths, dpi=OVERLAY_DPI)


def learning_logs(runs: pd.DataFrame) -> pd.DataFrame:
    """Every run's validation Dice per validated epoch (its ``log.csv``)."""
    frames = [
        pd.read_csv(Path(run.run) / "log.csv").dropna(subset=["val_dice"]).assign(dataset=run.dataset, model=run.model, seed=run.seed)
        for run in runs.itertuples()
    ]
    return pd.concat(frames, ignore_index=True)[["dataset", "model", "seed", "epoch", "val_dice"]]


def curves(logs: pd.DataFrame, *paths: str | Path) -> None:
    """Validation Dice per epoch, a panel per dataset, a line per model (mean over seeds, band ±1 sd)."""
    grid = epoch_curves(logs, "val_dice", "validation Dice", list(dict.fromkeys(logs["dataset"])))
    _save(grid.figure, *paths)

"""Segmentation results: one row per run, then mean ± sd over seeds per dataset and model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

METRICS = ("dice", "hd95_px", "hd95_mm")


def collect(paths: list[str | Path]) -> pd.DataFrame:
    """One row per run's metrics.json, with the path of its folder."""
    rows = []
    for path in paths:
        run = json.loads(Path(path).read_text())
        rows.append(
            {
                **{k: run[k] for k in ("dataset", "model", "arch", "family", "seed", "size", "epochs", "profile", "parameters", "train_seconds")},
                "modality": run.get("modality"),
                **{k: run["test"][k] for k in (*METRICS, "cases", "empty_predictions")},
                "run": str(Path(path).parent),
            }
        )
    return pd.DataFrame(rows).sort_values(["dataset", "model", "seed"], ignore_index=True)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample sd over seeds of each test metric, per dataset and model."""
    grouped = runs.groupby(["dataset", "model"], sort=True)
    summary = grouped.agg(
        arch=("arch", "first"),
        family=("family", "first"),
        modality=("modality", "first"),
        seeds=("seed", "nunique"),
        epochs=("epochs", "first"),
        size=("size", "first"),
        test_cases=("cases", "first"),
        empty_predictions=("empty_predictions", "sum"),
        parameters=("parameters", "first"),
        train_seconds=("train_seconds", "mean"),
        **{f"{m}_{stat}": (m, stat) for m in METRICS for stat in ("mean", "std")},
    )
    return summary.reset_index()


def caption(runs: pd.DataFrame) -> str:
    profiles = ", ".join(sorted(runs["profile"].astype(str).unique()))
    sizes = ", ".join(f"{s}×{s}" for s in sorted(runs["size"].unique()))
    epochs = ", ".join(str(e) for e in sorted(runs["epochs"].unique()))
    seeds = ", ".join(str(s) for s in sorted(runs["seed"].unique()))
    return (
        f"Test Dice and 95% Hausdorff distance (HD95, in pixels of the resized grid and in mm) per dataset and "
        f"model; profile {profiles}, images resized to {sizes} px, {epochs} epochs, seeds {seeds}. Each seed's "
        "value is the mean over test cases; shown is the mean ± sample sd over seeds (the mean alone for one seed)."
    )


def _cell(mean: float, sd: float, digits: int) -> str:
    return f"{mean:.{digits}f}" if np.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def cells(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as display strings: ``mean ± sd`` cells (the mean alone for one seed)."""
    return pd.DataFrame(
        {
            "dataset": summary["dataset"],
            "model": summary["model"],
            "family": summary["family"],
            "parameters": summary["parameters"].map("{:,}".format),
            "test cases": summary["test_cases"].astype(str),
            "Dice": [_cell(m, s, 3) for m, s in zip(summary["dice_mean"], summary["dice_std"])],
            "HD95 (px)": [_cell(m, s, 1) for m, s in zip(summary["hd95_px_mean"], summary["hd95_px_std"])],
            "HD95 (mm)": [_cell(m, s, 1) for m, s in zip(summary["hd95_mm_mean"], summary["hd95_mm_std"])],
        }
    )

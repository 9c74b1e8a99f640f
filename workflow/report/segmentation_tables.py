"""Segmentation results: one row per run, then mean ± sd over seeds per dataset and model,
grouped by modality; 2-D and 3-D datasets in one table, each row stating its input
(image size, or patch and voxel spacing), epochs and surface-Dice tolerance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

METRICS = ("dice", "hd95_px", "hd95_mm", "surface_dice")
MODALITY_ORDER = ("X-ray", "CT", "MRI", "ultrasound")  # the order of the classification tables


def collect(paths: list[str | Path]) -> pd.DataFrame:
    """One row per run's metrics.json, with the path of its folder."""
    rows = []
    for path in paths:
        run = json.loads(Path(path).read_text())
        rows.append(
            {
                **{k: run[k] for k in ("dataset", "modality", "dims", "input", "tolerance_mm", "model", "arch", "family", "seed", "epochs", "profile", "parameters", "train_seconds")},
                "train_dice": run.get("train_dice", float("nan")),  # 3-D runs: the training volumes segmented whole
                "demonstration": bool(run.get("demonstration", False)),
                **{k: run["test"][k] for k in (*METRICS, "cases", "empty_predictions")},
                "run": str(Path(path).parent),
            }
        )
    runs = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(MODALITY_ORDER)}
    return runs.sort_values(["modality", "dataset", "model", "seed"], key=lambda c: c.map(order) if c.name == "modality" else c, ignore_index=True)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample sd over seeds of each test metric, per dataset and model (modality order kept)."""
    grouped = runs.groupby(["dataset", "model"], sort=False)
    summary = grouped.agg(
        arch=("arch", "first"),
        family=("family", "first"),
        modality=("modality", "first"),
        dims=("dims", "first"),
        input=("input", "first"),
        tolerance_mm=("tolerance_mm", "first"),
        profile=("profile", "first"),
        demonstration=("demonstration", "first"),
        seeds=("seed", "nunique"),
        epochs=("epochs", "first"),
        test_cases=("cases", "first"),
        empty_predictions=("empty_predictions", "sum"),
        parameters=("parameters", "first"),
        train_seconds=("train_seconds", "mean"),
        train_dice_mean=("train_dice", "mean"),
        **{f"{m}_{stat}": (m, stat) for m in METRICS for stat in ("mean", "std")},
    )
    return summary.reset_index()


def caption(runs: pd.DataFrame) -> str:
    profiles = ", ".join(sorted(runs["profile"].astype(str).unique()))
    seeds = ", ".join(str(s) for s in sorted(runs["seed"].unique()))
    return (
        f"Test Dice, 95% Hausdorff distance (HD95, in pixels of the resized image or voxels of the volume, and in mm) and surface "
        f"Dice at the stated tolerance per modality, dataset and model; profile {profiles}, seeds {seeds}. The input "
        "column gives the image size (2-D) or the training patch and voxel spacing (3-D: whole volumes segmented by "
        "sliding window, scored per foreground class on the volume's own grid). Each seed's value is the mean over test cases; shown is the "
        "mean ± sample sd over seeds (the mean alone for one seed). Train Dice: 3-D runs' training volumes segmented "
        "whole by the selected weights."
    )


def _cell(mean: float, sd: float, digits: int) -> str:
    if np.isnan(mean):
        return "–"
    return f"{mean:.{digits}f}" if np.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def cells(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as display strings: ``mean ± sd`` cells (the mean alone for one seed)."""
    return pd.DataFrame(
        {
            "modality": summary["modality"],
            "dataset": summary["dataset"],
            "model": summary["model"],
            "family": summary["family"],
            "input": summary["input"],
            "epochs": summary["epochs"].astype(str),
            "parameters": summary["parameters"].map("{:,}".format),
            "test cases": summary["test_cases"].astype(str),
            "Dice": [_cell(m, s, 3) for m, s in zip(summary["dice_mean"], summary["dice_std"])],
            "HD95 (px)": [_cell(m, s, 1) for m, s in zip(summary["hd95_px_mean"], summary["hd95_px_std"])],
            "HD95 (mm)": [_cell(m, s, 1) for m, s in zip(summary["hd95_mm_mean"], summary["hd95_mm_std"])],
            "surface Dice": [
                f"{_cell(m, s, 3)} at {t:g} mm" for m, s, t in zip(summary["surface_dice_mean"], summary["surface_dice_std"], summary["tolerance_mm"])
            ],
            "train Dice": [_cell(m, float("nan"), 3) for m in summary["train_dice_mean"]],
        }
    )

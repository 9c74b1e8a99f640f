"""Segmentation results: one row per run, then mean ± sd over seeds per dataset and model,
grouped by modality (2-D and 3-D datasets in one table, each row stating its input, epochs
and surface-Dice tolerance), and the comparison with published results on each dataset's
own protocol (``published_segmentation.csv``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

METRICS = ("dice", "jaccard", "surface_dice", "hd95_median", "hd95_mean")
MODALITY_ORDER = ("X-ray", "CT", "MRI", "ultrasound", "fundus")  # the classification tables' order, then fundus
PUBLISHED = Path(__file__).with_name("published_segmentation.csv")


def collect(paths: list[str | Path]) -> pd.DataFrame:
    """One row per run's metrics.json, with its protocol's numbers (``protocol`` column, a
    dict) and the path of its folder."""
    rows = []
    for path in paths:
        run = json.loads(Path(path).read_text())
        rows.append(
            {
                **{k: run[k] for k in ("dataset", "modality", "dims", "input", "tolerance", "distance_unit", "model", "arch", "family", "seed", "epochs", "best_epoch", "profile", "parameters", "train_seconds", "train_dice")},
                **{k: run["test"][k] for k in (*METRICS, "cases", "empty_predictions")},
                "classes": run["test"]["classes"],
                "protocol": run["protocol"],
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
        tolerance=("tolerance", "first"),
        distance_unit=("distance_unit", "first"),
        profile=("profile", "first"),
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
        f"Test Dice, Jaccard, 95% Hausdorff distance (HD95) and surface Dice at the stated tolerance per modality, dataset and "
        f"model; profile {profiles}, seeds {seeds}. Every image or volume is scored on its own label grid (2-D: the "
        "prediction's probabilities resized to it; 3-D: the prediction taken back through the preprocessing), per class; "
        "a seed's value is the mean over test cases and classes, shown as mean ± sample sd over seeds. Distances are in mm, "
        "or in pixels where a dataset has no pixel size. HD95 is the median over the cases where both masks hold the class; "
        "empty: test cases × classes predicted empty where the label is not, over all seeds. Train Dice: the first 8 "
        "training cases scored the same way by the selected weights. Val Dice range, last ¼: how far the validation Dice "
        "still moved over the last quarter of a run's validations (the largest over seeds): a run that has levelled off moves little."
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
            "Jaccard": [_cell(m, s, 3) for m, s in zip(summary["jaccard_mean"], summary["jaccard_std"])],
            "HD95": [f"{_cell(m, s, 1)} {u}" for m, s, u in zip(summary["hd95_median_mean"], summary["hd95_median_std"], summary["distance_unit"])],
            "empty": summary["empty_predictions"].astype(str),
            "surface Dice": [
                f"{_cell(m, s, 3)} at {t:g} {u}"
                for m, s, t, u in zip(summary["surface_dice_mean"], summary["surface_dice_std"], summary["tolerance"], summary["distance_unit"])
            ],
            "train Dice": [_cell(m, float("nan"), 3) for m in summary["train_dice_mean"]],
            **({"val Dice range, last ¼": summary["val_dice_last_quarter_range"].map("{:.3f}".format)} if "val_dice_last_quarter_range" in summary else {}),
        }
    )


def published(path: str | Path = PUBLISHED) -> pd.DataFrame:
    """The published results the report stands beside (``published_segmentation.csv``)."""
    return pd.read_csv(path, dtype={"value": float, "sd": float}, keep_default_na=False, na_values={"value": [""], "sd": [""]})


def versus_published(runs: pd.DataFrame, cards: dict[str, dict], reference: pd.DataFrame) -> pd.DataFrame:
    """For each dataset and metric that a published result gives: every measured model's
    mean ± sd over seeds on the dataset's own protocol, then the published results (and a
    reference computed here, such as DRIVE's second observer), each with its source, split
    and protocol marks. Datasets that were not run are left out."""
    rows = []
    for (dataset, metric), group in reference.groupby(["dataset", "metric"], sort=False):
        measured = runs[runs["dataset"] == dataset]
        if measured.empty:
            continue
        for model, seeds in measured.groupby("model", sort=False):
            values = np.array([run.get(metric, np.nan) for run in seeds["protocol"]], dtype=float)
            rows.append({
                "dataset": dataset, "metric": metric, "kind": "measured", "method": model, "seeds": len(values),
                "value": float(np.nanmean(values)) if np.isfinite(values).any() else np.nan,
                "sd": float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() > 1 else np.nan,
                "split": "", "protocol": "", "source": "this suite", "compares_with": "",
            })
        for entry in group.itertuples():
            value, sd = entry.value, entry.sd
            if entry.kind == "computed":  # from the dataset card (e.g. DRIVE's second observer)
                value = float(cards[dataset]["second_observer"][metric])
            rows.append({
                "dataset": dataset, "metric": metric, "kind": entry.kind, "method": entry.method, "seeds": np.nan,
                "value": value, "sd": sd, "split": entry.split, "protocol": entry.protocol, "source": entry.source,
                "compares_with": entry.compares_with,
            })
    return pd.DataFrame(rows, columns=["dataset", "metric", "kind", "method", "seeds", "value", "sd", "split", "protocol", "source", "compares_with"])


def versus_published_markdown(table: pd.DataFrame, caption: str) -> str:
    """The comparison as Markdown: a block per dataset and metric, measured rows first."""
    lines = [caption, "", "| dataset | metric | method | value | split | protocol | source |", "|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        digits = 2 if "mm" in row.metric else 3
        value = _cell(row.value, row.sd, digits)
        method = f"**{row.method}** (measured, {int(row.seeds)} seeds)" if row.kind == "measured" else f"{row.method} ({row.kind})"
        lines.append(f"| {row.dataset} | {row.metric} | {method} | {value} | {row.split or '–'} | {row.protocol or '–'} | {row.source} |")
    return "\n".join(lines) + "\n"


def versus_published_caption(runs: pd.DataFrame) -> str:
    profiles = ", ".join(sorted(runs["profile"].astype(str).unique()))
    return (
        f"Measured (profile {profiles}; mean ± sample sd over seeds) beside published results on each dataset's own metric "
        "definition (DRIVE: pooled over the field-of-view pixels of the 20 test images, threshold 0.5; HC18: ellipse fitted "
        "to the predicted head, mm; JSRT/SCR: per-structure overlap, mean over test images; MedSeg: Inf-Net's Dice, "
        "sensitivity and specificity averaged over 256 thresholds and the test slices; hippocampus: Dice per structure, mean "
        "over test volumes). 'split' and 'protocol' say whether the published number was measured on the same test images "
        "and by the same definition; where either differs the numbers are context, not a comparison."
    )

"""Benchmark tables: one row per run, then mean ± std over seeds per dataset and model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

RUN_COLUMNS = ["dataset", "modality", "model", "family", "seed", "acc", "auc", "epochs", "best_epoch", "parameters", "train_seconds", "device", "profile"]
KEYS = ["dataset", "modality", "model", "family"]


def collect(metric_files: list[str | Path]) -> pd.DataFrame:
    """One row per run from its metrics.json."""
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        rows.append({**{k: run.get(k) for k in RUN_COLUMNS}, "acc": run["test"]["acc"], "auc": run["test"]["auc"]})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation of test ACC and AUC over seeds."""
    grouped = runs.groupby(KEYS, sort=False)
    summary = grouped.agg(
        acc_mean=("acc", "mean"),
        acc_std=("acc", "std"),
        auc_mean=("auc", "mean"),
        auc_std=("auc", "std"),
        seeds=("seed", "count"),
        epochs=("epochs", "first"),
        train_seconds=("train_seconds", "mean"),
    ).reset_index()
    return summary.fillna({"acc_std": 0.0, "auc_std": 0.0})


def markdown(summary: pd.DataFrame, caption: str) -> str:
    """A Markdown table with ``mean ± std`` cells, under a caption line."""
    header = "| dataset | modality | model | ACC | AUC | seeds | epochs |\n|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {r.dataset} | {r.modality} | {r.model} | {r.acc_mean:.3f} ± {r.acc_std:.3f} | "
        f"{r.auc_mean:.3f} ± {r.auc_std:.3f} | {r.seeds} | {r.epochs} |"
        for r in summary.itertuples()
    ]
    return f"{caption}\n\n{header}" + "\n".join(lines) + "\n"


def caption(runs: pd.DataFrame) -> str:
    profiles = ", ".join(sorted(set(runs["profile"].dropna().astype(str)))) or "unnamed"
    epochs = ", ".join(str(e) for e in sorted(set(runs["epochs"])))
    return (
        f"Test ACC and AUC (mean ± sample std over seeds), profile: {profiles}, "
        f"epochs: {epochs}, {len(runs)} runs. Metrics follow medmnist.Evaluator."
    )

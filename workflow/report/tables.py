"""Benchmark tables: one row per run, then mean ± std over seeds per dataset and model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

METRICS = ["acc", "auc", "balanced_acc", "f1"]
RUN_COLUMNS = ["dataset", "modality", "model", "family", "seed", *METRICS, "epochs", "best_epoch", "parameters", "flops_per_image", "train_seconds", "device", "profile"]
KEYS = ["dataset", "modality", "model", "family"]


def collect(metric_files: list[str | Path]) -> pd.DataFrame:
    """One row per run from its metrics.json."""
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        rows.append({**{k: run.get(k) for k in RUN_COLUMNS}, **{m: run["test"].get(m) for m in METRICS}})
    table = pd.DataFrame(rows, columns=RUN_COLUMNS)
    numeric = [*METRICS, "epochs", "best_epoch", "parameters", "flops_per_image", "train_seconds"]
    table[numeric] = table[numeric].apply(pd.to_numeric)  # absent in older run files: NaN
    return table


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation of each test metric over seeds, with model cost."""
    grouped = runs.groupby(KEYS, sort=False)
    statistics = {f"{m}_{s}": (m, s) for m in METRICS for s in ("mean", "std")}
    summary = grouped.agg(
        **statistics,
        seeds=("seed", "count"),
        epochs=("epochs", "first"),
        parameters=("parameters", "first"),
        flops_per_image=("flops_per_image", "first"),
        train_seconds=("train_seconds", "mean"),
    ).reset_index()
    return summary.fillna({f"{m}_std": 0.0 for m in METRICS})


def markdown(summary: pd.DataFrame, caption: str) -> str:
    """A Markdown table with ``mean ± std`` cells, under a caption line."""
    header = (
        "| dataset | modality | model | ACC | AUC | balanced ACC | macro F1 | seeds | epochs | parameters | GFLOPs/image | train s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r.dataset} | {r.modality} | {r.model} | {r.acc_mean:.3f} ± {r.acc_std:.3f} | "
        f"{r.auc_mean:.3f} ± {r.auc_std:.3f} | {r.balanced_acc_mean:.3f} ± {r.balanced_acc_std:.3f} | "
        f"{r.f1_mean:.3f} ± {r.f1_std:.3f} | {r.seeds} | {r.epochs} | {r.parameters:,.0f} | "
        f"{r.flops_per_image / 1e9:.3f} | {r.train_seconds:.0f} |"
        for r in summary.itertuples()
    ]
    return f"{caption}\n\n{header}" + "\n".join(lines) + "\n"


def caption(runs: pd.DataFrame) -> str:
    profiles = ", ".join(sorted(set(runs["profile"].dropna().astype(str)))) or "unnamed"
    epochs = ", ".join(str(e) for e in sorted(set(runs["epochs"])))
    return (
        f"Test metrics (mean ± sample std over seeds), profile: {profiles}, epochs: {epochs}, "
        f"{len(runs)} runs. ACC and AUC follow medmnist.Evaluator; cost is per model."
    )


PUBLISHED = Path(__file__).with_name("published.csv")


def versus_published(summary: pd.DataFrame) -> pd.DataFrame:
    """Our mean test ACC/AUC beside the published MedMNIST v2 ResNet-18 numbers, with differences."""
    published = pd.read_csv(PUBLISHED).rename(columns={"model": "published_model", "acc": "published_acc", "auc": "published_auc"})
    table = summary[["dataset", "model", "epochs", "acc_mean", "auc_mean"]].merge(published, on="dataset", how="inner")
    return table.assign(acc_difference=table["acc_mean"] - table["published_acc"], auc_difference=table["auc_mean"] - table["published_auc"])


def versus_published_markdown(table: pd.DataFrame, caption: str) -> str:
    header = "| dataset | model | epochs | ACC | AUC | published | ACC | AUC | ΔACC | ΔAUC |\n|---|---|---|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {r.dataset} | {r.model} | {r.epochs} | {r.acc_mean:.3f} | {r.auc_mean:.3f} | {r.published_model} | "
        f"{r.published_acc:.3f} | {r.published_auc:.3f} | {r.acc_difference:+.3f} | {r.auc_difference:+.3f} |"
        for r in table.itertuples()
    ]
    sources = "; ".join(sorted(set(table["source"])))
    return f"{caption}\n\n{header}" + "\n".join(lines) + f"\n\nPublished values: {sources}.\n"


def learning_logs(metric_files: list[str | Path]) -> pd.DataFrame:
    """Every run's per-epoch log (beside its metrics.json), labelled with dataset, model, seed."""
    frames = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        log = pd.read_csv(Path(path).with_name("log.csv"))
        frames.append(log.assign(dataset=run["dataset"], model=run["model"], seed=run["seed"]))
    return pd.concat(frames, ignore_index=True)


def family_modality(summary: pd.DataFrame) -> pd.DataFrame:
    """Best and mean test AUC per architecture family × imaging modality (means over seeds)."""
    table = summary.groupby(["family", "modality"])["auc_mean"].agg(best="max", mean="mean").reset_index()
    return table.sort_values(["family", "modality"]).reset_index(drop=True)


def latex(summary: pd.DataFrame, caption: str, label: str = "tab:benchmark") -> str:
    """The benchmark table as a LaTeX ``table`` (booktabs), ``mean $\\pm$ std`` cells."""
    escape = lambda text: str(text).replace("_", r"\_").replace("%", r"\%").replace("±", r"$\pm$")  # noqa: E731
    rows = [
        f"{escape(r.dataset)} & {escape(r.modality)} & {escape(r.model)} & "
        f"{r.acc_mean:.3f} $\\pm$ {r.acc_std:.3f} & {r.auc_mean:.3f} $\\pm$ {r.auc_std:.3f} & {r.seeds} \\\\"
        for r in summary.itertuples()
    ]
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            rf"\caption{{{escape(caption)}}}",
            rf"\label{{{label}}}",
            r"\begin{tabular}{lllccc}",
            r"\toprule",
            r"Dataset & Modality & Model & ACC & AUC & Seeds \\",
            r"\midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{table}",
            "",
        ]
    )

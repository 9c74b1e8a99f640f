"""Benchmark tables: one row per run, then mean ± std over seeds per dataset and model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..data.medmnist import modality_table
from ..models.registry import FAMILIES

METRICS = ["acc", "auc", "balanced_acc", "f1"]
RUN_COLUMNS = [
    "dataset", "modality", "model", "family", "seed", "status", "reason", *METRICS,
    "epochs", "best_epoch", "parameters", "flops_per_image", "train_seconds", "device", "profile",
]
KEYS = ["dataset", "modality", "model", "family"]
METRIC_TITLES = {"acc": "ACC", "auc": "AUC", "balanced_acc": "balanced ACC", "f1": "macro F1"}


def collect(metric_files: list[str | Path]) -> pd.DataFrame:
    """One row per run from its metrics.json; ``status`` is ``ok``, or ``failed`` with a ``reason``.
    The modality is the group ``modalities.csv`` gives the run's MedMNIST flag now (the one
    the run recorded stays in its metrics.json), so runs made before a regrouping sit with
    the new ones."""
    groups = modality_table()
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        row = {k: run.get(k) for k in RUN_COLUMNS}
        if run.get("flag") in groups:
            row["modality"] = groups[run["flag"]]["modality"]
        rows.append({**row, "status": row["status"] or "ok", **{m: run.get("test", {}).get(m) for m in METRICS}})
    table = pd.DataFrame(rows, columns=RUN_COLUMNS)
    numeric = [*METRICS, "epochs", "best_epoch", "parameters", "flops_per_image", "train_seconds"]
    table[numeric] = table[numeric].apply(pd.to_numeric)  # absent in older run files: NaN
    return table


def completed(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"]


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation of each test metric over the seeds that finished, with model cost."""
    grouped = completed(runs).groupby(KEYS, sort=False)
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


def _mean_std(summary: pd.DataFrame, metric: str) -> list[str]:
    """``mean ± std`` per row, the mean alone where one seed gave it."""
    values = zip(summary[f"{metric}_mean"], summary[f"{metric}_std"], summary["seeds"])
    return [f"{m:.3f}" if n == 1 else f"{m:.3f} ± {s:.3f}" for m, s, n in values]


def benchmark_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """The benchmark table as display strings: ``mean ± std`` metrics (the mean alone for one
    seed), then cost."""
    cells = summary[["dataset", "modality", "model"]].copy()
    for metric, title in METRIC_TITLES.items():
        cells[title] = _mean_std(summary, metric)
    cells["seeds"] = summary["seeds"].astype(str)
    cells["epochs"] = [_count(e) for e in summary["epochs"]]
    cells["parameters"] = [f"{p:,.0f}" if p == p else "–" for p in summary["parameters"]]
    cells["MFLOPs/image"] = [_number(f / 1e6, "{:.3g}") for f in summary["flops_per_image"]]
    cells["train s"] = [f"{t:.0f}" for t in summary["train_seconds"]]
    return cells


def _count(value: float) -> str:
    """An integer count for display; ``–`` where there is none (a grid-searched baseline's epochs)."""
    return "–" if value is None or value != value else str(int(value))


def _number(value: float, form: str) -> str:
    """``value`` formatted, ``–`` where it is missing."""
    return "–" if value != value else form.format(value)


def to_markdown(cells: pd.DataFrame, caption: str) -> str:
    """A Markdown table of display strings under a caption line."""
    header = "| " + " | ".join(cells.columns) + " |\n|" + "---|" * len(cells.columns) + "\n"
    lines = ["| " + " | ".join(str(v) for v in row) + " |" for row in cells.itertuples(index=False)]
    return f"{caption}\n\n{header}" + "\n".join(lines) + "\n"


def _tex(text: object) -> str:
    return str(text).replace("_", r"\_").replace("%", r"\%").replace("±", r"$\pm$").replace("×", r"$\times$").replace("Δ", r"$\Delta$")


def to_latex(cells: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs LaTeX ``table`` of display strings: text columns left, numbers centred."""
    align = "".join("l" if cells[c].map(lambda v: any(ch.isalpha() for ch in str(v))).any() else "c" for c in cells.columns)
    rows = [" & ".join(_tex(v) for v in row) + r" \\" for row in cells.itertuples(index=False)]
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            rf"\caption{{{_tex(caption)}}}",
            rf"\label{{{label}}}",
            rf"\begin{{tabular}}{{{align}}}",
            r"\toprule",
            " & ".join(_tex(c) for c in cells.columns) + r" \\",
            r"\midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{table}",
            "",
        ]
    )


def markdown(summary: pd.DataFrame, caption: str) -> str:
    return to_markdown(benchmark_cells(summary), caption)


def latex(summary: pd.DataFrame, caption: str, label: str = "tab:benchmark") -> str:
    return to_latex(benchmark_cells(summary), caption, label)


def caption(runs: pd.DataFrame) -> str:
    profiles = ", ".join(sorted(set(runs["profile"].dropna().astype(str)))) or "unnamed"
    epochs = ", ".join(str(int(e)) for e in sorted(set(runs["epochs"].dropna()))) or "none"
    return (
        f"Test metrics (mean ± sample std over seeds), profile: {profiles}, epochs: {epochs}, "
        f"{len(runs)} runs. ACC and AUC follow medmnist.Evaluator; cost is per model."
    )


PUBLISHED = Path(__file__).with_name("published.csv")


def versus_published(summary: pd.DataFrame) -> pd.DataFrame:
    """Our mean (and std) test ACC/AUC beside the published MedMNIST v2 ResNet-18 numbers, with the differences of the means."""
    published = pd.read_csv(PUBLISHED).rename(columns={"model": "published_model", "acc": "published_acc", "auc": "published_auc"})
    columns = ["dataset", "model", "seeds", "epochs", "acc_mean", "acc_std", "auc_mean", "auc_std"]
    table = summary[columns].merge(published, on="dataset", how="inner")
    return table.assign(acc_difference=table["acc_mean"] - table["published_acc"], auc_difference=table["auc_mean"] - table["published_auc"])


def versus_published_cells(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": table["dataset"],
            "model": table["model"],
            "seeds": table["seeds"].astype(str),
            "epochs": [_count(e) for e in table["epochs"]],
            "ACC": _mean_std(table, "acc"),
            "AUC": _mean_std(table, "auc"),
            "published": table["published_model"],
            "published ACC": table["published_acc"].map("{:.3f}".format),
            "published AUC": table["published_auc"].map("{:.3f}".format),
            "ΔACC": table["acc_difference"].map("{:+.3f}".format),
            "ΔAUC": table["auc_difference"].map("{:+.3f}".format),
        }
    )


def versus_published_markdown(table: pd.DataFrame, caption: str) -> str:
    sources = "; ".join(sorted(set(table["source"])))
    return to_markdown(versus_published_cells(table), caption) + f"\nPublished values: {sources}.\n"


def learning_logs(metric_files: list[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every network's per-epoch log (beside its metrics.json), labelled with dataset, model,
    seed; and the validation AUC of runs without epochs (grid-searched classical baselines)."""
    frames, floors = [], []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        try:
            log = pd.read_csv(Path(path).with_name("log.csv"))
        except pd.errors.EmptyDataError:  # a run that failed in its first epoch
            continue
        if "epoch" in log.columns:
            frames.append(log.assign(dataset=run["dataset"], model=run["model"], seed=run["seed"]))
        elif run.get("status", "ok") == "ok":
            floors.append({"dataset": run["dataset"], "model": run["model"], "seed": run["seed"], "val_auc": run["val"]["auc"]})
    curves = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset", "model", "seed", "epoch", "val_auc"])
    return curves, pd.DataFrame(floors, columns=["dataset", "model", "seed", "val_auc"])


def plateaus(logs: pd.DataFrame, score: str = "val_auc") -> pd.DataFrame:
    """Per run, how far the validation ``score`` still moved over the last quarter of its
    validated epochs (max - min, the epoch at 75 % included) and how far the last is below
    the best: a run that has levelled off moves little."""
    rows = []
    for (dataset, model, seed), log in logs.dropna(subset=[score]).groupby(["dataset", "model", "seed"], sort=False):
        log = log.sort_values("epoch")
        tail = log[score].iloc[max(0, round(0.75 * len(log)) - 1) :]
        rows.append({"dataset": dataset, "model": model, "seed": seed, "epochs": int(log["epoch"].max()),
                     "last_quarter_range": tail.max() - tail.min(), "best_minus_last": log[score].max() - log[score].iloc[-1]})
    return pd.DataFrame(rows, columns=["dataset", "model", "seed", "epochs", "last_quarter_range", "best_minus_last"])


def family_modality(summary: pd.DataFrame, runs: pd.DataFrame, skipped: list[dict], segmentation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Best and mean test score per architecture family × imaging modality (means over seeds):
    AUC for classification, Dice for segmentation (``segmentation``: its summary). Every family
    and modality of the run gets a cell; one without a result says why (``reason``): the DAG
    skipped the pair (why), its runs failed, or no dataset of that modality was configured."""
    measured = [summary.assign(task="classification", metric="AUC", score=summary["auc_mean"])]
    if segmentation is not None and not segmentation.empty:
        measured.append(segmentation.assign(task="segmentation", metric="Dice", score=segmentation["dice_mean"]))
    scores = pd.concat(measured, ignore_index=True)
    table = scores.groupby(["task", "metric", "family", "modality"])["score"].agg(best="max", mean="mean").reset_index()
    reasons: dict[tuple[str, str], list[str]] = {}
    for row in skipped:
        reasons.setdefault((row["family"], row["modality"]), []).append(row.get("why") or row["reason"])
    for row in runs[runs["status"] != "ok"].itertuples():
        reasons.setdefault((row.family, row.modality), []).append("failed")
    classification = sorted({*summary["family"], *(f for f, _ in reasons)}, key=_family_order)
    modalities = sorted({*scores["modality"], *runs["modality"], *(m for _, m in reasons)})
    cells = [("classification", "AUC", f, m) for f in classification for m in modalities]
    if segmentation is not None and not segmentation.empty:
        cells += [("segmentation", "Dice", f, m) for f in sorted(set(segmentation["family"]), key=_family_order) for m in modalities]
    full = pd.DataFrame(cells, columns=["task", "metric", "family", "modality"]).merge(table, how="left")
    full["reason"] = [
        "" if best == best else "; ".join(dict.fromkeys(reasons.get((f, m), []))) or f"no {m} dataset run for {task}"
        for task, f, m, best in zip(full["task"], full["family"], full["modality"], full["best"])
    ]
    return full


def _family_order(family: str) -> int:
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


def family_label(task: str, family: str) -> str:
    return family if task == "classification" else f"{family} (segmentation, Dice)"


def family_modality_cells(table: pd.DataFrame) -> pd.DataFrame:
    """Families as rows, modalities as columns: ``best (mean)`` per cell, ``n/a: why`` where
    nothing was measured."""
    text = table.assign(
        row=[family_label(t, f) for t, f in zip(table["task"], table["family"])],
        cell=[f"{b:.3f} ({m:.3f})" if b == b else f"n/a: {r}" for b, m, r in zip(table["best"], table["mean"], table["reason"])],
    )
    wide = text.pivot(index="row", columns="modality", values="cell").reindex(list(dict.fromkeys(text["row"])))
    return wide.reset_index().rename(columns={"row": "family"}).rename_axis(columns=None)


def cost(summary: pd.DataFrame, train_images: dict[str, int]) -> pd.DataFrame:
    """Accuracy beside cost: parameters, forward FLOPs per image, training time and throughput
    (training images × epochs / training seconds, per-epoch validation included)."""
    table = summary[["dataset", "model", "family", "auc_mean", "parameters", "flops_per_image", "epochs", "train_seconds"]].copy()
    images = table["dataset"].map(train_images)
    table["images_per_second"] = images * table["epochs"] / table["train_seconds"]
    return table


def cost_cells(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": table["dataset"],
            "model": table["model"],
            "AUC": table["auc_mean"].map("{:.3f}".format),
            "parameters (M)": (table["parameters"] / 1e6).map(lambda v: _number(v, "{:.2f}")),
            "MFLOPs/image": (table["flops_per_image"] / 1e6).map(lambda v: _number(v, "{:.3g}")),
            "train s": table["train_seconds"].map("{:.0f}".format),
            "images/s": table["images_per_second"].map(lambda v: _number(v, "{:,.0f}")),
        }
    )


def not_made(runs: pd.DataFrame, skipped: list[dict]) -> pd.DataFrame:
    """Runs that gave no result: skipped when the DAG was built, or failed while training."""
    columns = ["dataset", "model", "seed", "status", "reason"]
    failed = runs.loc[runs["status"] != "ok", columns].assign(seed=lambda t: t["seed"].map(str))
    rows = pd.DataFrame(skipped, columns=columns).assign(seed="all")
    return pd.concat([rows, failed], ignore_index=True)

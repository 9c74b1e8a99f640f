"""Figures for the report, drawn with seaborn/matplotlib in one style."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

STYLE = {"context": "paper", "style": "whitegrid", "font_scale": 1.1}


def benchmark_auc(runs: pd.DataFrame, path: str | Path, title: str) -> None:
    """Test AUC per dataset and model: bars at the seed mean, ±1 sd, one dot per seed."""
    sns.set_theme(**STYLE)
    data = runs.assign(label=runs["dataset"] + "\n(" + runs["modality"] + ")")
    width = max(4.0, 1.3 * data["label"].nunique() + 1.5)
    fig, ax = plt.subplots(figsize=(width, 3.6))
    sns.barplot(data=data, x="label", y="auc", hue="model", errorbar="sd", capsize=0.15, alpha=0.8, ax=ax)
    sns.stripplot(data=data, x="label", y="auc", hue="model", dodge=True, palette="dark:black", size=3, legend=False, ax=ax)
    ax.set(xlabel="", ylabel="test AUC", ylim=(0.0, 1.0), title=title)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.legend(title="model", loc="lower right", frameon=True)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def prisma_flow(counts: dict, path: str | Path) -> None:
    """A PRISMA-style flow from identification to inclusion, drawn from computed counts."""
    sns.set_theme(**STYLE)
    identified = ", ".join(f"{k}: {v}" for k, v in counts["identified_by_source"].items())
    reasons = "\n".join(f"{reason}: {n}" for reason, n in counts["excluded_by_reason"].items())
    main = [
        ("Identification", f"Records identified\n(n = {counts['identified']}; {identified})"),
        ("Screening", f"Records screened\n(n = {counts['screened']})"),
        ("Included", f"Studies included\n(n = {counts['included']})"),
    ]
    side = [
        f"Duplicates removed (n = {counts['duplicates_removed']})\n"
        f"Malformed entries set aside (n = {counts['malformed_set_aside']})",
        f"Records excluded (n = {counts['excluded']})\n{reasons}",
    ]
    fig, ax = plt.subplots(figsize=(8, 4.2 + 0.16 * len(counts["excluded_by_reason"])))
    ax.set_axis_off()
    ax.set(xlim=(0, 10), ylim=(0, 10))
    ys = [8.8, 5.0, 1.2]
    box = {"boxstyle": "round,pad=0.5", "facecolor": "white", "edgecolor": "black"}
    arrow = {"arrowstyle": "-|>", "color": "black", "linewidth": 1.2}
    for (stage, text), y in zip(main, ys):
        ax.text(0.2, y, stage, rotation=90, va="center", ha="center", fontsize=10, weight="bold")
        ax.text(2.8, y, text, va="center", ha="center", fontsize=9, bbox=box)
    for text, y in zip(side, ys[:2]):
        ax.text(7.3, y, text, va="center", ha="center", fontsize=8, bbox=box)
        ax.annotate("", xy=(5.0, y), xytext=(4.3, y), arrowprops=arrow)
    for upper, lower in zip(ys, ys[1:]):
        ax.annotate("", xy=(2.8, lower + 0.8), xytext=(2.8, upper - 0.8), arrowprops=arrow)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def evidence_heatmap(table: pd.DataFrame, path: str | Path, title: str) -> None:
    """Records per architecture family × imaging modality."""
    sns.set_theme(**STYLE)
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.5 * table.shape[0] + 1.5))
    sns.heatmap(table, annot=True, fmt="d", cmap="Blues", cbar_kws={"label": "records"}, linewidths=0.5, ax=ax)
    ax.set(xlabel="imaging modality", ylabel="architecture family", title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def evidence_per_year(data: pd.DataFrame, families: list[str], path: str | Path, title: str) -> None:
    """Included records per publication year, one line per architecture family."""
    sns.set_theme(**STYLE)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.lineplot(data=data, x="year", y="records", hue="family", hue_order=families, marker="o", ax=ax)
    ax.set(xlabel="publication year", ylabel="records", title=title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(title="family", ncol=2, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)

"""Figures for the report, drawn with seaborn/matplotlib in one style."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "dlmia"  # fixed element ids in SVGs
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

if TYPE_CHECKING:
    from .stats import Ranking

STYLE = {"context": "paper", "style": "whitegrid", "font_scale": 1.1}


def _save(fig: plt.Figure, *paths: str | Path, dpi: int = 150) -> None:
    """Write the figure to ``paths``, with an SVG beside the PNG unless one is named (``dpi``
    also sets the resolution of the parts drawn rasterized into an SVG)."""
    paths = [Path(p) for p in paths]
    if not any(p.suffix == ".svg" for p in paths):
        paths += [p.with_suffix(".svg") for p in paths if p.suffix == ".png"]
    fig.tight_layout()
    for path in paths:
        # legends placed outside the axes included; no date in SVGs: the same results give the same bytes
        fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)


def benchmark_auc(runs: pd.DataFrame, path: str | Path, title: str) -> None:
    """Test AUC per dataset and model: bars at the seed mean, ±1 sd, one dot per seed."""
    sns.set_theme(**STYLE)
    data = runs.assign(label=runs["dataset"] + "\n(" + runs["modality"] + ")")
    width = max(4.0, 1.3 * data["label"].nunique() + 1.5)
    fig, ax = plt.subplots(figsize=(width, 3.6))
    sns.barplot(data=data, x="label", y="auc", hue="model", errorbar="sd", capsize=0.15, alpha=0.8, ax=ax)
    np.random.seed(0)  # seaborn jitters the dots with NumPy's global generator: the same figure every time
    sns.stripplot(data=data, x="label", y="auc", hue="model", dodge=True, palette="dark:black", size=3, legend=False, ax=ax)
    ax.set(xlabel="", ylabel="test AUC", ylim=(0.0, 1.0), title=title)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.legend(title="model", loc="lower right", frameon=True)
    _save(fig, path)


def _lines(tally: dict[str, int], indent: str = "  ") -> str:
    return "\n".join(f"{indent}{reason} (n = {n})" for reason, n in tally.items())


def prisma_flow(counts: dict, paths: list[str | Path]) -> None:
    """The PRISMA 2020 flow diagram (databases arm) drawn from computed counts."""
    sns.set_theme(**STYLE)
    sources = _lines(counts["identified_by_source"])
    fulltext = counts.get("fulltext")
    if fulltext:
        sought = f"Reports sought for retrieval\n(n = {fulltext['sought']})"
        assessed = f"Reports assessed for eligibility\n(n = {fulltext['assessed']})"
        included = f"Studies included in review\n(n = {fulltext['included']})"
        not_retrieved = f"Reports not retrieved\n(n = {fulltext['not_retrieved']})"
        excluded = f"Reports excluded (n = {fulltext['excluded']}):\n{_lines(fulltext['excluded_by_reason'])}"
    else:
        sought = f"Reports sought for retrieval\n(n = {counts['included']})"
        assessed = "Reports assessed for eligibility\n(full text: not assessed)"
        included = ("Studies included in review:\nawaiting full-text assessment;\n"
                    f"the evidence map uses the {counts['included']} records\nincluded at title/abstract screening")
        not_retrieved, excluded = "Reports not retrieved\n(not assessed)", "Reports excluded\n(not assessed)"
    left = [
        (9.0, f"Records identified from databases\n(n = {counts['identified']}):\n{sources}"),
        (6.4, f"Records screened\n(n = {counts['screened']})"),
        (4.6, sought),
        (2.9, assessed),
        (1.0, included),
    ]
    right = [
        (9.0, "Records removed before screening:\n"
              f"  Duplicate records (n = {counts['duplicates_removed']})\n"
              f"  Marked ineligible by automation tools (n = {counts['excluded_automatic']}):\n"
              f"{_lines(counts['excluded_automatic_by_reason'], '    ')}\n"
              f"  Removed for other reasons: malformed (n = {counts['malformed_set_aside']})"),
        (6.4, f"Records excluded by the rules (n = {counts['excluded']}):\n{_lines(counts['excluded_by_reason'])}\n"
              f"Records left to the reviewers' ranked screening\n(uncertain to the rules; n = {counts['to_screen']})"),
        (4.6, not_retrieved),
        (2.9, excluded),
    ]
    fig, ax = plt.subplots(figsize=(9, 9.5))
    ax.set_axis_off()
    ax.set(xlim=(0, 10), ylim=(0, 10.4))
    box = {"boxstyle": "round,pad=0.45", "facecolor": "white", "edgecolor": "black"}
    arrow = {"arrowstyle": "-|>", "color": "black", "linewidth": 1.1}
    ax.text(5.0, 10.25, "Identification of studies via databases and registers", ha="center", va="center",
            fontsize=10, weight="bold", bbox={**box, "facecolor": "#f4d03f"})
    for label, (low, high) in {"Identification": (7.9, 10.0), "Screening": (2.2, 7.8), "Included": (0.2, 2.1)}.items():
        ax.add_patch(plt.Rectangle((0.05, low), 0.4, high - low, facecolor="#aed6f1", edgecolor="black"))
        ax.text(0.25, (low + high) / 2, label, rotation=90, ha="center", va="center", fontsize=10, weight="bold")
    for y, text in left:
        ax.text(2.75, y, text, ha="center", va="center", fontsize=8, bbox=box)
    for y, text in right:
        ax.text(7.35, y, text, ha="center", va="center", fontsize=7.5, bbox=box)
        ax.annotate("", xy=(5.2, y), xytext=(4.7, y), arrowprops=arrow)
    for (upper, _), (lower, _) in zip(left, left[1:]):
        ax.annotate("", xy=(2.75, lower + 0.55), xytext=(2.75, upper - 0.75), arrowprops=arrow)
    _save(fig, *paths)


def evidence_heatmap(table: pd.DataFrame, path: str | Path, title: str) -> None:
    """Records per architecture family × imaging modality."""
    sns.set_theme(**STYLE)
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.5 * table.shape[0] + 1.5))
    sns.heatmap(table, annot=True, fmt="d", cmap="Blues", cbar_kws={"label": "records"}, linewidths=0.5, ax=ax)
    ax.set(xlabel="imaging modality", ylabel="architecture family", title=title)
    ax.grid(False)
    ax.tick_params(axis="y", rotation=0)
    _save(fig, path)


def evidence_per_year(data: pd.DataFrame, families: list[str], path: str | Path, title: str) -> None:
    """Included records per publication year, one line per architecture family."""
    sns.set_theme(**STYLE)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.lineplot(data=data, x="year", y="records", hue="family", hue_order=families, marker="o", ax=ax)
    ax.set(xlabel="publication year", ylabel="records", title=title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(title="family", ncol=2, fontsize=8)
    _save(fig, path)


def recall_curves(curves: pd.DataFrame, path: str | Path) -> None:
    """Recall against share of records screened, per review, one line per model (mean over seeds)."""
    sns.set_theme(**STYLE)
    datasets = list(dict.fromkeys(curves["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3.4), sharey=True, squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        data = curves[curves["dataset"] == dataset]
        sns.lineplot(data=data, x="screened", y="recall", hue="model", errorbar=None, ax=ax, linewidth=1.2)
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="random")
        ax.axhline(0.95, color="grey", linewidth=0.6)
        ax.set(title=dataset, xlabel="share screened", ylabel="recall", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)


def epoch_curves(logs: pd.DataFrame, metric: str, label: str, datasets: list[str]) -> sns.FacetGrid:
    """A validation metric per epoch, a panel per dataset, a line per model (mean over seeds, band ±1 sd)."""
    sns.set_theme(**STYLE)
    grid = sns.relplot(
        data=logs, x="epoch", y=metric, hue="model", col="dataset", col_order=datasets, col_wrap=min(len(datasets), 5),
        kind="line", errorbar="sd", marker="o", markersize=3, height=2.6, aspect=1.0, facet_kws={"sharey": False, "sharex": False},
    )
    sns.move_legend(grid, "upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)
    grid.set_axis_labels("epoch", label)
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.xaxis.get_major_locator().set_params(integer=True)
    return grid


def learning_curves(logs: pd.DataFrame, floors: pd.DataFrame, path: str | Path) -> None:
    """Validation AUC per epoch, per dataset, one line per model (mean over seeds, band ±1 sd);
    ``floors`` (models fitted without epochs: the classical baselines) as dashed lines at
    their mean validation AUC."""
    datasets = list(dict.fromkeys([*logs["dataset"], *floors["dataset"]]))
    grid = epoch_curves(logs, "val_auc", "validation AUC", datasets)
    for dataset, ax in zip(datasets, grid.axes.flat):
        for model, values in floors[floors["dataset"] == dataset].groupby("model"):
            ax.axhline(values["val_auc"].mean(), color="black", linestyle="--", linewidth=1)
            ax.annotate(model, (0.02, values["val_auc"].mean()), xycoords=("axes fraction", "data"), fontsize=6, va="bottom")
    _save(grid.figure, path)


def roc_curves(predictions: pd.DataFrame, path: str | Path) -> None:
    """Test ROC per dataset, one line per model (first seed); multi-class tasks micro-averaged."""
    from sklearn.metrics import roc_curve
    from sklearn.preprocessing import label_binarize

    sns.set_theme(**STYLE)
    datasets = list(dict.fromkeys(predictions["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.0 * len(datasets), 3.2), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        runs = predictions[predictions["dataset"] == dataset].sort_values("seed").drop_duplicates("model")
        for run in runs.itertuples():
            scores, labels = run.scores, run.labels
            if scores.shape[1] == 2:
                truth, score = labels.reshape(-1), scores[:, 1]
            elif labels.shape[1] > 1:
                truth, score = labels.ravel(), scores.ravel()
            else:
                truth = label_binarize(labels.reshape(-1), classes=range(scores.shape[1])).ravel()
                score = scores.ravel()
            fpr, tpr, _ = roc_curve(truth, score)
            ax.plot(fpr, tpr, label=run.model, linewidth=1.2)
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(title=dataset, xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
        ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)


def accuracy_vs_cost(summary: pd.DataFrame, path: str | Path) -> None:
    """Mean test AUC against forward MFLOPs per image; per dataset, a dashed Pareto front
    joins the models that no cheaper model beats (where a dataset has several models)."""
    from matplotlib.ticker import NullFormatter

    sns.set_theme(**STYLE)
    data = summary.assign(mflops=summary["flops_per_image"] / 1e6)
    datasets = list(dict.fromkeys(data["dataset"]))
    palette = dict(zip(datasets, sns.color_palette(n_colors=len(datasets))))
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sns.scatterplot(data=data, x="mflops", y="auc_mean", hue="dataset", palette=palette, style="model", s=60, ax=ax)
    for dataset, group in data.groupby("dataset", sort=False):
        front = group.sort_values(["mflops", "auc_mean"], ascending=[True, False])
        front = front[front["auc_mean"] >= front["auc_mean"].cummax()]
        if len(front) > 1:
            ax.plot(front["mflops"], front["auc_mean"], color=palette[dataset], linestyle="--", linewidth=1)
    ax.set(xscale="log", xlabel="MFLOPs per image (forward)", ylabel="test AUC (mean over seeds)")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    _save(fig, path)


def family_modality_heatmap(table: pd.DataFrame, path: str | Path, title: str) -> None:
    """Best test score per architecture family × imaging modality (``tables.family_modality``):
    a panel of classification AUC and, when segmentation ran, one of segmentation Dice, on
    the same modality columns; a cell without a result names why in grey."""
    sns.set_theme(**STYLE)
    tasks = [(task, metric) for task, metric in (("classification", "AUC"), ("segmentation", "Dice")) if (table["task"] == task).any()]
    modalities = sorted(table["modality"].unique())
    heights = [table.loc[table["task"] == task, "family"].nunique() for task, _ in tasks]
    fig, axes = plt.subplots(len(tasks), 1, figsize=(1.5 * len(modalities) + 2.4, 0.55 * sum(heights) + 1.6 * len(tasks)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (task, metric) in zip(axes[:, 0], tasks):
        rows = table[table["task"] == task]
        order = list(dict.fromkeys(rows["family"]))
        wide = rows.pivot(index="family", columns="modality", values="best").reindex(index=order, columns=modalities).astype(float)
        why = rows.pivot(index="family", columns="modality", values="reason").reindex(index=order, columns=modalities)
        floor = 0.5 if metric == "AUC" else 0.0
        sns.heatmap(wide, annot=True, fmt=".3f", vmin=floor, vmax=1.0, cmap="viridis", linewidths=0.5, cbar_kws={"label": f"best test {metric}"}, ax=ax)
        for i, family in enumerate(wide.index):
            for j, modality in enumerate(wide.columns):
                if wide.loc[family, modality] != wide.loc[family, modality]:
                    ax.text(j + 0.5, i + 0.5, "n/a\n" + str(why.loc[family, modality]), ha="center", va="center", fontsize=6, color="grey")
        ax.set(xlabel="imaging modality", ylabel=f"family ({task})")
        ax.grid(False)
        ax.tick_params(axis="y", rotation=0)
    axes[0, 0].set_title(title)
    _save(fig, path)


def critical_difference(ranking: "Ranking", path: str | Path) -> None:
    """Mean rank per model on one axis (1 = best), the Nemenyi critical difference drawn as a
    bar, and bars joining models whose ranks differ by less than it (not significantly);
    models left out of the ranking are named under it."""
    sns.set_theme(**STYLE)
    ranks, cd, p = ranking.ranks, ranking.cd, ranking.p_friedman
    models = list(ranks.index)
    fig, ax = plt.subplots(figsize=(6, 1.2 + 0.3 * len(models)))
    low, high = 1, max(len(models), 2)
    ax.set(xlim=(high + 0.2, low - 0.2), ylim=(-len(models) - 1, 1.6), yticks=[])
    ax.xaxis.set_ticks(range(low, high + 1))
    ax.xaxis.tick_top()
    ax.grid(False)
    for spine in ("left", "right", "bottom"):
        ax.spines[spine].set_visible(False)
    for level, (model, rank) in enumerate(ranks.items(), start=1):
        ax.plot([rank, rank], [0, -level], color="black", linewidth=0.8)
        ax.text(rank, -level - 0.1, f"{model} ({rank:.2f})", ha="center", va="top", fontsize=8)
    if cd == cd:  # NaN when there was nothing to test
        ax.plot([low, low + cd], [1.0, 1.0], color="black", linewidth=2)
        ax.text(low + cd / 2, 1.15, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
        values = ranks.to_numpy()
        reach = [max(k for k in range(len(values)) if values[k] - values[i] < cd) for i in range(len(values))]
        bars = [(i, j) for i, j in enumerate(reach) if j > i and (i == 0 or j > reach[i - 1])]  # maximal groups only
        for height, (i, j) in enumerate(bars):
            ax.plot([values[i], values[j]], [0.45 - 0.3 * height] * 2, color="tab:red", linewidth=3, alpha=0.7)
    verdict = f"Friedman p = {p:.3g} (Iman-Davenport {ranking.p_iman_davenport:.3g})" if p == p else "too few models or datasets to test"
    ax.set_title(f"Mean rank of test AUC over {ranking.datasets} datasets; {verdict}", fontsize=9, pad=30)
    if ranking.left_out:
        ax.text(0.5, 0.0, f"not ranked (run on fewer datasets): {', '.join(ranking.left_out)}", transform=ax.transAxes, ha="center", va="top", fontsize=7, color="grey")
    _save(fig, path)


def reported_vs_measured(heads: pd.DataFrame, bench: pd.DataFrame, metrics: list[str], path: str | Path, families: list[str], modalities: list[str]) -> None:
    """Headline values the included studies report per family (boxes and points), one row per
    metric and one column per modality, with the benchmark's best score for the cell as a
    cross (``workflow.literature.reported_comparison.figure_data``)."""
    sns.set_theme(**STYLE)
    columns = [m for m in modalities if m in set(heads["modality"])] or modalities
    grid = sns.catplot(
        data=heads, x="family", y="value", col="modality", row="metric", kind="box", order=families, col_order=columns,
        row_order=metrics, color="0.85", fliersize=0, height=2.6, aspect=1.1, sharey=False,
    )
    np.random.seed(0)  # the points' jitter: the same figure every time
    for (metric, modality), ax in grid.axes_dict.items():
        cell = heads[(heads["metric"] == metric) & (heads["modality"] == modality)]
        sns.stripplot(data=cell, x="family", y="value", order=families, ax=ax, size=3, color="tab:blue", jitter=0.2)
        mark = bench[(bench["metric"] == metric) & (bench["modality"] == modality) & bench["best"].notna() & bench["family"].isin(families)]
        ax.scatter([families.index(f) for f in mark["family"]], mark["best"], marker="x", color="tab:red", zorder=5, label="benchmark best")
        ax.set_xlabel("")
        ax.set_ylabel(metric)
        ax.tick_params(axis="x", rotation=45)
    grid.set_titles("{col_name}")
    grid.figure.suptitle("Headline values reported by included studies (points) and the benchmark's best (×)", y=1.02)
    _save(grid.figure, path)

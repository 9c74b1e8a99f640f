"""Figures of the trust stage, in the report's style (``workflow.report.figures``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .figures import STYLE, _save


PANEL_IMAGES = 3  # explained images drawn per dataset (all are scored)


def _method_of(available: list[str]) -> str:
    """The map shown for a model: its family's own method, else occlusion."""
    for method in ("gradcam", "rollout", "occlusion"):
        if method in available:
            return method
    return available[0]


def _slice(volume: np.ndarray) -> np.ndarray:
    """A 2-D view: the image itself, or a volume's middle axial slice."""
    array = np.asarray(volume)
    view = array[array.shape[0] // 2] if array.ndim == 3 and array.shape[-1] != 3 else array
    return view / 255.0 if array.dtype == np.uint8 else view.astype(np.float32)


def saliency_panel(maps: dict[str, dict[str, np.ndarray]], path: str | Path, title: str) -> None:
    """Per dataset, rows of (up to ``PANEL_IMAGES``) explained test images: the input, then one map per model (its
    family's method: Grad-CAM, attention rollout, else occlusion), seed of the lowest number;
    volumes show their middle slice."""
    sns.set_theme(**STYLE)
    rows = []  # (dataset, image index, image, [(model, method, map)])
    for dataset, arrays in maps.items():
        keys = [k for k in arrays if k.count("/") == 2]
        models = sorted({k.split("/")[0] for k in keys})
        for i in range(min(len(arrays["images"]), PANEL_IMAGES)):
            cells = []
            for model in models:
                seeds = sorted({k.split("/")[1] for k in keys if k.startswith(model + "/")}, key=lambda s: int(s[4:]))
                methods = [k.split("/")[2] for k in keys if k.startswith(f"{model}/{seeds[0]}/")]
                method = _method_of(methods)
                cells.append((model, method, arrays[f"{model}/{seeds[0]}/{method}"][i]))
            rows.append((dataset, i, arrays["images"][i], cells))
    if not rows:
        return
    columns = 1 + max(len(cells) for *_, cells in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.5 * columns, 1.6 * len(rows)), squeeze=False)
    for r, (dataset, i, image, cells) in enumerate(rows):
        axes[r, 0].imshow(_slice(image), cmap="gray" if np.ndim(image) != 3 or np.shape(image)[-1] != 3 else None)
        axes[r, 0].set_ylabel(f"{dataset}\n#{i}", fontsize=7)
        for c, (model, method, saliency) in enumerate(cells, start=1):
            axes[r, c].imshow(_slice(saliency), cmap="magma")
            axes[r, c].set_title(f"{model}\n{method}", fontsize=6)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes[r, 1 + len(cells) :]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9, y=1.0 + 0.25 / len(rows))
    _save(fig, path)


def faithfulness(frame: pd.DataFrame, path: str | Path, title: str) -> None:
    """Deletion (lower is better) and insertion (higher is better) areas per family and method,
    the random map as the reference."""
    sns.set_theme(**STYLE)
    data = frame.melt(id_vars=["family", "method"], value_vars=["deletion_auc", "insertion_auc"], var_name="curve", value_name="area")
    data["curve"] = data["curve"].map({"deletion_auc": "deletion (↓)", "insertion_auc": "insertion (↑)"})
    grid = sns.catplot(data=data, x="family", y="area", hue="method", col="curve", kind="bar", errorbar="se", height=3.2, aspect=1.4, alpha=0.85)
    grid.set(ylim=(0, 1), xlabel="", ylabel="area under the curve")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=30)
    grid.figure.suptitle(title, y=1.03)
    _save(grid.figure, path)


def sanity(frame: pd.DataFrame, steps: pd.DataFrame, threshold: float, path: str | Path, title: str) -> None:
    """The model-randomisation check: left, the mean rank correlation between the trained
    and the fully randomised model's maps, family × method, over the images where it is
    defined (cells where it is defined on no image say so); right, the cascading form, mean |ρ| against the share of blocks re-drawn from
    the output down, one line per family and method. ``threshold``: this project's."""
    sns.set_theme(**STYLE)
    table = frame[frame["method"] != "random"].groupby(["family", "method"])["randomisation_rho"].mean().unstack()
    fig, (left, right) = plt.subplots(1, 2, figsize=(4.0 + 1.3 * max(1, table.shape[1]), 1.2 + 0.45 * max(4, table.shape[0])))
    sns.heatmap(table, annot=True, fmt=".2f", vmin=-1, vmax=1, center=0, cmap="vlag", cbar_kws={"label": "Spearman ρ"}, ax=left)
    for (row, column), value in np.ndenumerate(table.to_numpy()):
        if np.isnan(value) and table.index[row] in set(frame.loc[frame["method"] == table.columns[column], "family"]):
            left.text(column + 0.5, row + 0.5, "undefined", ha="center", va="center", fontsize=7)  # every map constant
    left.set(title=f"independent (passes where mean |ρ| < {threshold})", xlabel="", ylabel="")
    if len(steps):
        data = steps.assign(magnitude=steps["rho"].abs(), curve=steps["family"] + " " + steps["method"])
        sns.lineplot(data=data, x="share", y="magnitude", hue="curve", marker="o", errorbar=None, ax=right)
        right.legend(fontsize=6, loc="upper right")
    right.axhline(threshold, color="grey", linestyle=":", linewidth=1)
    right.set(title="cascading, output block first", xlabel="share of blocks re-drawn", ylabel="mean |ρ|", xlim=(0, 1.05), ylim=(0, 1))
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def reliability(frame: pd.DataFrame, path: str | Path, title: str) -> None:
    """Reliability diagrams per dataset (rows) and family (columns), seeds pooled: accuracy
    against confidence per equal-mass bin, before and after temperature scaling."""
    sns.set_theme(**STYLE)
    datasets, families = sorted(frame["dataset"].unique()), sorted(frame["family"].unique())
    fig, axes = plt.subplots(len(datasets), len(families), figsize=(1.8 * len(families), 1.8 * len(datasets)), sharex=True, sharey=True, squeeze=False)
    for (dataset, family), group in frame.groupby(["dataset", "family"]):
        ax = axes[datasets.index(dataset), families.index(family)]
        for scaling, style in (("before", "o-"), ("after", "s--")):
            bins = group[group["scaling"] == scaling].groupby("confidence", as_index=False)["accuracy"].mean()
            ax.plot(bins["confidence"], bins["accuracy"], style, markersize=3, linewidth=1, label=scaling)
    for r, dataset in enumerate(datasets):
        axes[r, 0].set_ylabel(f"{dataset}\naccuracy", fontsize=7)
    for c, family in enumerate(families):
        axes[0, c].set_title(family, fontsize=8)
        axes[-1, c].set_xlabel("confidence", fontsize=7)
    for ax in axes.flat:
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(xlim=(0, 1), ylim=(0, 1))
        ax.tick_params(labelsize=6)
    axes[0, -1].legend(fontsize=6, loc="lower right")
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def calibration(frame: pd.DataFrame, path: str | Path, title: str) -> None:
    """ECE per family before and after temperature scaling, one panel per modality, with the
    noise floor (mean 95th percentile of a perfectly calibrated model's ECE) before scaling
    as a grey mark."""
    sns.set_theme(**STYLE)
    data = frame.melt(id_vars=["family", "modality"], value_vars=["ece_before", "ece_after"], var_name="scaling", value_name="ECE")
    data["scaling"] = data["scaling"].str.removeprefix("ece_")
    grid = sns.catplot(data=data, x="family", y="ECE", hue="scaling", col="modality", kind="bar", errorbar=None, height=2.8, aspect=1.1, col_wrap=3)
    floors = frame.groupby(["modality", "family"])["noise_floor_p95_before"].mean()
    for modality, ax in grid.axes_dict.items():
        labels = [t.get_text() for t in ax.get_xticklabels()]
        ax.scatter(range(len(labels)), [floors.get((modality, f), float("nan")) for f in labels], marker="_", s=300, color="grey", zorder=3)
        ax.tick_params(axis="x", rotation=45)
    grid.set(xlabel="")
    grid.figure.suptitle(title, y=1.03)
    _save(grid.figure, path)


def robustness(frame: pd.DataFrame, path: str | Path, title: str) -> None:
    """Balanced accuracy against severity (0: clean), mean over corruptions and seeds, per
    family, one panel per dataset."""
    sns.set_theme(**STYLE)
    data = frame.groupby(["dataset", "family", "model", "severity"], as_index=False)["balanced_acc"].mean()
    grid = sns.relplot(data=data, x="severity", y="balanced_acc", hue="family", style="family", col="dataset", kind="line", marker="o", height=2.8, aspect=1.0, col_wrap=3, errorbar=None)
    grid.set(ylabel="balanced accuracy", xticks=range(6))
    if data["dataset"].nunique() % 3:  # the legend in the empty cell of the last row
        sns.move_legend(grid, "center", bbox_to_anchor=(0.83, 0.25))
    grid.figure.suptitle(title, y=1.03)
    _save(grid.figure, path)


def latency(frame: pd.DataFrame, path: str | Path, title: str) -> None:
    """Test AUC against batch-1 latency (log scale), one point per run."""
    sns.set_theme(**STYLE)
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    sns.scatterplot(data=frame, x="latency_ms_median", y="test_auc", hue="family", style="modality", s=60, ax=ax)
    ax.set(xscale="log", xlabel="batch-1 latency, ms (median)", ylabel="test AUC", title=title)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    _save(fig, path)

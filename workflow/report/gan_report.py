"""GAN augmentation in the report: a grid of real vs synthetic images, and a table of the same
classifier trained on real images and on real + synthetic images."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import _save

COMPARED = ("auc", "acc")


def first_per_class(images: np.ndarray, labels: np.ndarray, count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` images of each class, in their order: what a sample grid shows."""
    keep = np.concatenate([np.flatnonzero(labels[:, 0] == c)[:count] for c in np.unique(labels[:, 0])])
    keep.sort()
    return images[keep], labels[keep]


def sample_grid(
    real: tuple[np.ndarray, np.ndarray],
    synthetic: tuple[np.ndarray, np.ndarray],
    class_names: dict[str, str],
    paths: list[str | Path],
    title: str,
    per_row: int = 8,
) -> None:
    """Per class, a row of real images above a row of synthetic ones (the first of each)."""
    classes = sorted(class_names, key=int)
    fig, axes = plt.subplots(2 * len(classes), per_row, figsize=(0.9 * per_row + 2.2, 1.0 * 2 * len(classes) + 0.6), squeeze=False)
    rows = [(label, source, data) for label in classes for source, data in (("real", real), ("GAN", synthetic))]
    for row, (label, source, (images, labels)) in enumerate(rows):
        chosen = images[labels[:, 0] == int(label)][:per_row]
        for column, ax in enumerate(axes[row]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if column < len(chosen):
                ax.imshow(chosen[column], cmap="gray", vmin=0, vmax=255)
        axes[row, 0].set_ylabel(f"{source}\n{class_names[label][:18]}", rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=9)
    _save(fig, *paths)


def gan_distances(metric_files: list[str | Path]) -> pd.DataFrame:
    """One row per GAN step: dataset, seed, KID of its images and of real validation images to the test split."""
    rows = []
    for path in metric_files:
        gan = json.loads(Path(path).read_text())
        rows.append({"dataset": gan["dataset"], "seed": gan["seed"], "kid_synthetic": gan["distance"]["synthetic"], "kid_real_val": gan["distance"]["real_val"]})
    return pd.DataFrame(rows, columns=["dataset", "seed", "kid_synthetic", "kid_real_val"])


def augmentation_table(runs: pd.DataFrame, pairs: pd.DataFrame, distances: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, augmented entry): test metrics without and with synthetic images (mean and
    sample std over seeds) and their difference, paired by seed; KID means over the GAN seeds."""
    runs = runs.drop_duplicates(["dataset", "model", "seed"]).set_index(["dataset", "model", "seed"])
    rows = []
    for pair in pairs.itertuples():
        real, augmented = runs.loc[(pair.dataset, pair.baseline)], runs.loc[(pair.dataset, pair.model)]
        seeds = real.index.intersection(augmented.index)
        kid = distances[distances["dataset"] == pair.dataset]
        row = {"dataset": pair.dataset, "model": pair.model, "baseline": pair.baseline, "ratio": pair.ratio, "seeds": len(seeds)}
        for metric in COMPARED:
            difference = augmented.loc[seeds, metric] - real.loc[seeds, metric]
            for name, values in (("real", real.loc[seeds, metric]), ("augmented", augmented.loc[seeds, metric]), ("difference", difference)):
                row[f"{metric}_{name}_mean"] = values.mean()
                row[f"{metric}_{name}_std"] = values.std() if len(values) > 1 else 0.0
        row["kid_synthetic"], row["kid_real_val"] = kid["kid_synthetic"].mean(), kid["kid_real_val"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


def augmentation_caption(profile: str) -> str:
    return (
        f"Test metrics of each classifier trained on the real training split and on real + GAN images "
        f"(mean ± sample std over seeds; Δ = augmented − real, paired by seed), profile: {profile}. "
        "KID: to the real test split, for the GAN images and, as the floor, for the real validation images."
    )


def augmentation_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The table as display strings: ``mean ± std`` cells, signed differences."""

    def cell(row, metric: str, name: str) -> str:
        sign = "+" if name == "difference" else ""
        return f"{row[f'{metric}_{name}_mean']:{sign}.3f} ± {row[f'{metric}_{name}_std']:.3f}"

    titles = {"real": "{} real", "augmented": "{} real + GAN", "difference": "Δ{}"}
    rows = []
    for _, r in table.iterrows():
        row = {"dataset": r["dataset"], "model": r["model"], "real-only baseline": r["baseline"], "synthetic per real": f"{r['ratio']:g}", "seeds": str(r["seeds"])}
        row.update({titles[n].format(m.upper()): cell(r, m, n) for m in COMPARED for n in ("real", "augmented", "difference")})
        row.update({"KID GAN": f"{r['kid_synthetic']:.3f}", "KID real val": f"{r['kid_real_val']:.3f}"})
        rows.append(row)
    return pd.DataFrame(rows)

"""What the included studies report beside what the benchmark measures, per family × modality.

Each included record's pairs (``reported_metrics.extract``) carry the record's evidence-map
tags: a record tagged with two families counts in both cells, an untagged one under
``none``. Per cell and metric: the studies reporting a value of their own method, and the
median and interquartile range of their headline values (Hausdorff distance and MAE only in
mm). Beside them the benchmark's best and mean score of the same family × modality cell
for the same metric (``results/report/family_modality.csv``: AUC for classifiers, Dice for
segmenters), or why there is none. Reported accuracy is set beside the measured ACC of the
same runs (``results/report/benchmark.csv``, ``with_accuracy``): the ACC of the run whose
AUC is the cell's best, and the mean ACC of the runs whose AUC the cell averages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .evidence import UNTAGGED
from .records import LIST_SEPARATOR
from .reported_metrics import PRIORITY, extract_records

# Evidence-map family names → the benchmark's; its modality names are the same.
BENCHMARK_FAMILY = {"CNN": "cnn", "ViT": "vit", "autoencoder": "autoencoder", "GAN": "gan", "RNN": "rnn", "hybrid": "hybrid", "U-Net": "unet"}
BENCHMARK_METRIC = {"auc": "AUC", "accuracy": "ACC", "dice": "Dice"}
FIGURE_METRICS = ("auc", "accuracy", "dice")


def with_accuracy(measured: pd.DataFrame, benchmark: pd.DataFrame) -> pd.DataFrame:
    """``measured`` (family_modality.csv) with an ``ACC`` row beside each ``AUC`` cell and the
    column ``run`` (``dataset/model`` of the cell's best AUC; empty for Dice).

    The AUC cell's best is the highest ``auc_mean`` of the cell's (dataset, model) rows of
    ``benchmark`` (benchmark.csv) and its mean their mean; the ACC row's ``best`` is the
    ``acc_mean`` of that best run (the first in benchmark.csv order on a tie), its ``mean`` the
    mean ``acc_mean`` of the same rows, so it is not the cell's best accuracy. A cell without
    an AUC keeps its reason. A cell whose AUC the rows do not reproduce raises ``ValueError``
    (the two files come from different runs of the benchmark)."""
    rows = []
    for cell in measured.itertuples(index=False):
        if cell.metric != "AUC":
            continue
        runs = benchmark[(benchmark["family"] == cell.family) & (benchmark["modality"] == cell.modality)]
        if cell.best != cell.best:
            if len(runs):
                raise ValueError(f"benchmark.csv has {cell.family} × {cell.modality} runs that family_modality.csv does not score")
            rows.append({**cell._asdict(), "metric": "ACC", "run": ""})
            continue
        top = runs[np.isclose(runs["auc_mean"], cell.best, rtol=0, atol=1e-9)]
        if top.empty or not np.isclose(runs["auc_mean"].max(), cell.best, rtol=0, atol=1e-9) or not np.isclose(runs["auc_mean"].mean(), cell.mean, rtol=0, atol=1e-9):
            raise ValueError(f"benchmark.csv does not reproduce the AUC of {cell.family} × {cell.modality} in family_modality.csv")
        run = f"{top['dataset'].iloc[0]}/{top['model'].iloc[0]}"
        rows.append({**cell._asdict(), "metric": "AUC", "run": run})
        rows.append({**cell._asdict(), "metric": "ACC", "best": float(top["acc_mean"].iloc[0]), "mean": float(runs["acc_mean"].mean()), "run": run})
    accuracy = pd.DataFrame(rows, columns=[*measured.columns, "run"])
    table = measured.merge(accuracy.loc[accuracy["metric"] == "AUC", ["family", "modality", "metric", "run"]], how="left", on=["family", "modality", "metric"])
    table["run"] = table["run"].fillna("")
    return pd.concat([table, accuracy[accuracy["metric"] == "ACC"]], ignore_index=True)


def reported_metrics(included: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    """Every extracted pair with its record's identifiers and evidence tags (``family``,
    ``modality``: the tags joined by '; ')."""
    pairs = extract_records(included)
    tagged = tags.set_index("record_id")[["families", "modalities"]].fillna("").rename(columns={"families": "family", "modalities": "modality"})
    table = pairs.join(tagged, on="record_id")
    return table[["record_id", "pmid", "doi", "family", "modality", *pairs.columns.drop(["record_id", "pmid", "doi"])]]


def _cells(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per pair and family × modality cell it falls in."""
    def split(tags: object) -> list[str]:
        return tags.split(LIST_SEPARATOR) if isinstance(tags, str) and tags else [UNTAGGED]
    return pairs.assign(family=pairs["family"].map(split), modality=pairs["modality"].map(split)).explode("family").explode("modality").reset_index(drop=True)


# Values a study can plausibly report as its result (the project's bounds, not a standard):
# an accuracy or AUC below 0.3 is worse than guessing the other way, an overlap or rate
# below 0.05 is a failure no paper headlines, and every ratio is at most 1. Pairs outside
# are listed for review (an extraction error or a typo in the abstract), not summarised.
PLAUSIBLE = {"accuracy": (0.3, 1.0), "auc": (0.3, 1.0), **{m: (0.05, 1.0) for m in ("dice", "iou", "sensitivity", "specificity", "precision", "f1")}}


def implausible(pairs: pd.DataFrame) -> pd.Series:
    """Whether each pair's value (both ends of a range) lies outside its metric's PLAUSIBLE range."""
    low = pairs["metric"].map(lambda m: PLAUSIBLE.get(m, (0.0, float("inf")))[0])
    high = pairs["metric"].map(lambda m: PLAUSIBLE.get(m, (0.0, float("inf")))[1])
    ends = pairs["value_high"].fillna(pairs["value"])
    distance = pairs["metric"].isin(["hd95", "mae"])
    return ((pairs["value"] < low) | (ends > high) | (distance & (pairs["value"] <= 0))) & (pairs["unit"] != "other")


def for_review(pairs: pd.DataFrame) -> pd.DataFrame:
    """The implausible pairs with the range they fall outside, for a person to check."""
    flagged = pairs[implausible(pairs)]
    reason = [f"{m} {v:g} outside the plausible range {PLAUSIBLE[m]}" if m in PLAUSIBLE else f"{m} {v:g} is not positive" for m, v in zip(flagged["metric"], flagged["value"])]
    return flagged.assign(reason=reason)


def _comparable(pairs: pd.DataFrame) -> pd.DataFrame:
    """The study's own plausible values on one scale per metric: fractions, or mm for distances."""
    return pairs[(pairs["role"] == "proposed") & pairs["unit"].isin(["fraction", "mm"]) & ~implausible(pairs)]


def comparison(pairs: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """Per family × modality × metric: studies reporting it, median [Q1, Q3] of their headline
    values, and the benchmark's score for the cell where it measures that metric."""
    own = _cells(_comparable(pairs))
    reporting = own.groupby(["family", "modality", "metric"])["record_id"].nunique().rename("studies")
    headlines = own[own["headline"]].groupby(["family", "modality", "metric"])["value"]
    table = pd.concat(
        [reporting, headlines.size().rename("headlines"), headlines.median().rename("median"), headlines.quantile(0.25).rename("q1"), headlines.quantile(0.75).rename("q3")],
        axis=1,
    ).reset_index()
    table["headlines"] = table["headlines"].fillna(0).astype(int)
    if "run" not in measured:
        measured = measured.assign(run="")
    bench = measured.rename(columns={"metric": "bench_metric"})[["family", "modality", "bench_metric", "best", "mean", "run", "reason"]]
    table["bench_family"] = table["family"].map(BENCHMARK_FAMILY)
    table["bench_metric"] = table["metric"].map(BENCHMARK_METRIC)
    table = table.merge(
        bench.rename(columns={"family": "bench_family", "best": "benchmark_best", "mean": "benchmark_mean", "run": "benchmark_run"}), how="left", on=["bench_family", "modality", "bench_metric"]
    )
    table["benchmark_run"] = table["benchmark_run"].fillna("")
    table["benchmark"] = [
        _coverage(f, m, metric, bf, bm, best, reason, measured)
        for f, m, metric, bf, bm, best, reason in zip(table["family"], table["modality"], table["metric"], table["bench_family"], table["bench_metric"], table["benchmark_best"], table["reason"])
    ]
    order = {name: i for i, name in enumerate(PRIORITY)}
    table = table.sort_values(["family", "modality", "metric"], key=lambda c: c.map(order) if c.name == "metric" else c)
    return table[["family", "modality", "metric", "studies", "headlines", "median", "q1", "q3", "benchmark_best", "benchmark_mean", "benchmark_run", "benchmark"]].reset_index(drop=True)


def _coverage(family: str, modality: str, metric: str, bench_family: object, bench_metric: object, best: float, reason: object, measured: pd.DataFrame) -> str:
    """'measured' where the benchmark has a score for the cell, otherwise why not."""
    if best == best:
        return "measured"
    if UNTAGGED in (family, modality):
        return "not covered: the record has no family or no modality tag"
    if not isinstance(bench_family, str) or bench_family not in set(measured["family"]):
        return f"not covered: the benchmark trains no {family} family"
    if modality not in set(measured["modality"]):
        return f"not covered: no {modality} dataset in the benchmark"
    if not isinstance(bench_metric, str) or not ((measured["family"] == bench_family) & (measured["metric"] == bench_metric)).any():
        return f"not covered: the benchmark reports no {metric} for {family}"
    return f"not covered: {reason}" if isinstance(reason, str) and reason else "not covered"


def markdown(table: pd.DataFrame, profile: str, records: int, set_aside: int = 0) -> str:
    def number(v: float) -> str:
        return "" if v != v else f"{v:.3f}"
    cells = pd.DataFrame({
        "family": table["family"], "modality": table["modality"], "metric": table["metric"],
        "studies": table["studies"], "headline median [IQR]": [f"{number(m)} [{number(a)}, {number(b)}]" if m == m else "" for m, a, b in zip(table["median"], table["q1"], table["q3"])],
        "headlines": table["headlines"], "benchmark best (mean)": [f"{number(b)} ({number(m)})" if b == b else "" for b, m in zip(table["benchmark_best"], table["benchmark_mean"])],
        "best run": table["benchmark_run"], "benchmark": table["benchmark"],
    })
    caption = (
        f"Reported by the {records} included records with an abstract beside the benchmark ({profile} profile): studies reporting "
        "each metric for their own method, the median and interquartile range of their headline values, and the benchmark's "
        "score for the same family × modality cell (for accuracy: the ACC of the run with the cell's best AUC, and the mean "
        "ACC of the cell's runs)."
        + (f" {set_aside} extracted values outside their metric's plausible range are left out and listed for review "
           "(reported_for_review.csv)." if set_aside else "")
    )
    header = "| " + " | ".join(cells.columns) + " |\n|" + "---|" * len(cells.columns) + "\n"
    return f"{caption}\n\n{header}" + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in cells.itertuples(index=False)) + "\n"


def figure_data(pairs: pd.DataFrame, measured: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the reported-versus-measured figure draws: the studies' own headline values of the
    figure's metrics per family × modality cell, and the benchmark's scores for the cells
    in the evidence map's names (``workflow.report.figures.reported_vs_measured``)."""
    own = _cells(_comparable(pairs))
    heads = own[own["headline"] & own["metric"].isin(FIGURE_METRICS)]
    bench = measured.assign(
        metric=measured["metric"].map({v: k for k, v in BENCHMARK_METRIC.items()}), family=measured["family"].map({v: k for k, v in BENCHMARK_FAMILY.items()})
    )
    return heads, bench

"""The reported-metric extractor scored against hand labels, with bootstrap intervals.

A labelled pair and an extracted one match when the metric is the same and the value is
within ``CLOSE`` (both ends for a range), one to one within a record. Precision is the
share of extracted pairs that match a label, recall the share of labelled pairs matched,
``headline`` the share of records with a labelled headline whose extracted headline
matches it, ``role`` the agreement on role over matched pairs. Each record may carry a
weight (the population records it stands for in a stratified sample): weighted scores
estimate the corpus, unweighted ones describe the sample. Intervals: percentile bootstrap
over records, resampled within their strata.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from .reported_metrics import ReportedValue

CLOSE = 0.0005
COUNTS = ["found", "matched", "labelled", "roles", "headlines", "headlines_right"]
SCORES = {"precision": ("matched", "found"), "recall": ("matched", "labelled"), "headline": ("headlines_right", "headlines"), "role": ("roles", "matched")}


def _high(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def matches(a: tuple[str, float, float | None], b: tuple[str, float, float | None]) -> bool:
    """Same metric, value within CLOSE, and both ends within CLOSE for a range."""
    (metric_a, low_a, high_a), (metric_b, low_b, high_b) = a, b
    ends = (high_a is None) == (high_b is None) and (high_a is None or abs(high_a - high_b) <= CLOSE)
    return metric_a == metric_b and abs(low_a - low_b) <= CLOSE and ends


def record_counts(labels: pd.DataFrame, extracted: list[ReportedValue]) -> dict[str, int]:
    """The counts of one record: its label rows (an empty ``metric`` for no pair) and what
    the extractor found in it."""
    stated = labels.dropna(subset=["metric"])
    truth = [(m, float(v), _high(h)) for m, v, h in zip(stated["metric"], stated["value"], stated["value_high"])]
    unused = list(range(len(truth)))
    matched = roles = 0
    for value in extracted:
        hit = next((j for j in unused if matches((value.metric, value.value, value.value_high), truth[j])), None)
        if hit is not None:
            unused.remove(hit)
            matched += 1
            roles += value.role == stated["role"].iloc[hit]
    headline = stated[stated["headline"] == 1]
    right = 0
    if len(headline):
        mine = [(v.metric, v.value, v.value_high) for v in extracted if v.headline]
        row = headline.iloc[0]
        right = int(bool(mine) and matches(mine[0], (row["metric"], float(row["value"]), _high(row["value_high"]))))
    return {"found": len(extracted), "matched": matched, "labelled": len(truth), "roles": roles, "headlines": int(len(headline) > 0), "headlines_right": right}


def per_record(labels: pd.DataFrame, extract: Callable[[str], list[ReportedValue]]) -> pd.DataFrame:
    """One row of counts per labelled record; ``extract`` maps a record id to its pairs."""
    rows = [{"record_id": rid, **record_counts(group, extract(rid))} for rid, group in labels.groupby("record_id", sort=False)]
    return pd.DataFrame(rows, columns=["record_id", *COUNTS])


def scores(counts: pd.DataFrame, weights: Iterable[float] | None = None) -> dict[str, float]:
    """Precision, recall, headline and role from per-record counts, weighted when given."""
    w = np.ones(len(counts)) if weights is None else np.asarray(list(weights), dtype=float)
    out = {}
    for name, (top, bottom) in SCORES.items():
        denominator = float(w @ counts[bottom].to_numpy(float))
        out[name] = float(w @ counts[top].to_numpy(float)) / denominator if denominator else float("nan")
    return out


def bootstrap(counts: pd.DataFrame, strata: Iterable[str], weights: Iterable[float] | None = None, draws: int = 2000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of :func:`scores`, records resampled within their strata; NaN
    where no draw has the score's denominator (precision when nothing was extracted)."""
    rng = np.random.default_rng(seed)
    strata = np.asarray(list(strata))
    w = np.ones(len(counts)) if weights is None else np.asarray(list(weights), dtype=float)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    values = np.asarray(counts[COUNTS].to_numpy(float))
    column = {name: i for i, name in enumerate(COUNTS)}
    samples = {name: [] for name in SCORES}
    for _ in range(draws):
        rows = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        totals = w[rows] @ values[rows]
        for name, (top, bottom) in SCORES.items():
            denominator = totals[column[bottom]]
            if denominator:
                samples[name].append(totals[column[top]] / denominator)
    nan = (float("nan"), float("nan"))  # a score with no denominator in any draw (nothing extracted)
    return {name: (float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))) if s else nan for name, s in samples.items()}


def table(labels: pd.DataFrame, records: pd.DataFrame, extract: Callable[[str, str], list[ReportedValue]], draws: int = 2000) -> pd.DataFrame:
    """Per sample of ``labels``: counts, scores and 95 % intervals; a stratified sample also
    gets its weighted (corpus) scores. ``records`` (indexed by record_id) holds title and abstract."""
    def pairs_of(record_id: str) -> list[ReportedValue]:
        title, abstract = records.loc[record_id, "title"], records.loc[record_id, "abstract"]
        return extract(title if isinstance(title, str) else "", abstract if isinstance(abstract, str) else "")

    rows = []
    for name, sample in labels.groupby("sample", sort=False):
        counts = per_record(sample, pairs_of)
        first = sample.groupby("record_id", sort=False).first().loc[counts["record_id"]]
        strata = first["stratum"].fillna("all") if "stratum" in first else pd.Series("all", index=first.index)
        weights = first["weight"].astype(float).to_numpy() if "weight" in first and first["weight"].notna().all() else None
        point, interval = scores(counts), bootstrap(counts, strata, draws=draws)
        row = {"sample": name, "records": len(counts), "with pairs": int((counts["labelled"] > 0).sum()), **counts[COUNTS].sum().astype(int).to_dict()}
        for key in SCORES:
            row[key], row[f"{key} low"], row[f"{key} high"] = point[key], *interval[key]
        if weights is not None:
            row.update({f"{key} weighted": value for key, value in scores(counts, weights).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    """Score the extractor on every labelled sample against a finished literature stage."""
    import argparse

    from .reported_metrics import extract

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--labels", default="tests/data/reported_metrics_sample.csv")
    parser.add_argument("--literature", default="results/literature", help="the stage's output folder (screened.csv: every record, any decision)")
    args = parser.parse_args(argv)
    labels = pd.read_csv(args.labels, dtype={"pmid": str})
    records = pd.read_csv(f"{args.literature}/screened.csv", dtype=str).set_index("record_id")
    result = table(labels, records, extract)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(result.round(3).to_string(index=False))


if __name__ == "__main__":
    main()

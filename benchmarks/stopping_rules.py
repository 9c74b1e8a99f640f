"""Stopping rules measured on simulated screening: the recall each rule has reached, and
the work it saves, when it says stop.

    DLMIA_DATA=/path/to/data .venv/bin/python benchmarks/stopping_rules.py [--model M] [--seeds 0 1 2 3 4] [CSV ...]

Each labelled review (default: ASReview's four benchmark reviews and the SYNERGY reviews
in the data folder) is screened in the order the active-learning simulation gives
(``workflow.literature.active_learning.simulate``); ``rule_stops`` says where each rule stops.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from workflow.literature.active_learning import LabelledReview, features, simulate
from workflow.literature.stopping import StoppingRules, rule_stops


def reviews(root: Path) -> list[Path]:
    screening = root / "screening"
    synergy = sorted(folder / f"{folder.name}.csv" for folder in (screening / "synergy_v1").iterdir() if folder.is_dir())
    return sorted((screening / "asreview_benchmark_sim").glob("*.csv")) + synergy


def measure(path: Path, model: str, seeds: list[int], rules: StoppingRules) -> list[dict]:
    review = LabelledReview.read(path, path.stem)
    x = features(review.texts)
    rows = []
    for seed in seeds:
        labels = review.labels[simulate(x, review.labels, model, seed)]
        for rule, stop in rule_stops(labels, rules).items():
            rows.append({"review": review.name, "records": len(labels), "relevant": int(labels.sum()), "seed": seed, "rule": rule, **stop})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="*", type=Path)
    parser.add_argument("--model", default="svm")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/stopping_rules.csv"))
    args = parser.parse_args()
    rules = StoppingRules()
    paths = args.csv or reviews(Path(os.environ["DLMIA_DATA"]))
    runs = pd.DataFrame([row for path in paths for row in measure(path, args.model, args.seeds, rules)])
    runs.to_csv(args.out, index=False)
    runs["reached"] = runs["recall"] >= rules.recall
    table = runs.groupby(["review", "records", "relevant", "rule"], sort=False).agg(
        reached=("reached", "mean"), recall=("recall", "mean"), work_saved=("work_saved", "mean")
    ).unstack("rule")
    print(table.round(3).to_markdown())
    overall = runs.groupby("rule")["reached"].agg(["mean", "size"])
    print(f"\nsimulations reaching {rules.recall:.0%} recall at stop (confidence {rules.confidence:.0%}, "
          f"run of {rules.consecutive_irrelevant} irrelevant):\n{overall.to_markdown()}")


if __name__ == "__main__":
    main()

"""Where a DAG's time went: the benchmark files its jobs wrote (`benchmark:` directives,
under `<results>/logs/benchmarks/`), summed per rule, with each training job's start-up
(its wall time less the training and scoring its metrics.json records).

    .venv/bin/python benchmarks/dag_times.py results            # after `make run`
    .venv/bin/python benchmarks/dag_times.py results --markdown

Prints one row per rule: jobs, wall seconds (sum, mean, max), CPU seconds (sum), and for
training rules the seconds spent outside the epochs (imports, data, scoring, writing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def job_times(results: Path) -> pd.DataFrame:
    """One row per job: rule (the benchmark file's first folder), its path, wall and CPU seconds, peak RSS."""
    rows = []
    root = results / "logs" / "benchmarks"
    for path in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t")
        relative = path.relative_to(root)
        rows.append({"rule": _rule(relative), "job": relative.with_suffix("").as_posix(), "wall_s": float(table["s"].iloc[0]),
                     "cpu_s": float(table["cpu_time"].iloc[0]), "max_rss_mb": float(table["max_rss"].iloc[0])})
    return pd.DataFrame(rows, columns=["rule", "job", "wall_s", "cpu_s", "max_rss_mb"])


def _rule(relative: Path) -> str:
    """The rule a benchmark file belongs to, from the layout of rules/*.smk."""
    first = relative.parts[0]
    if first == "runs":
        return "train"
    if first == "segmentation":
        return {"data": "segmentation data", "runs": "segmentation train"}[relative.parts[1]]
    return {"data": "dataset", "report": "report", "literature": "literature"}.get(first, first)


def outside_epochs(results: Path, jobs: pd.DataFrame) -> pd.Series:
    """Per training job, its wall seconds less the seconds its metrics.json gives to training."""
    spent = {}
    for job in jobs.itertuples():
        if job.rule not in ("train", "segmentation train"):
            continue
        parts = Path(job.job).parts
        folder = results / ("runs" if job.rule == "train" else "segmentation/runs") / Path(*parts[1 if job.rule == "train" else 2 :])
        metrics = folder / "metrics.json"
        if metrics.is_file():
            run = json.loads(metrics.read_text())
            spent[job.job] = job.wall_s - float(run.get("train_seconds", 0.0)) - float(run.get("pretrain", {}).get("seconds", 0.0))
    return pd.Series(spent, dtype=float)


def summary(results: Path) -> pd.DataFrame:
    jobs = job_times(results)
    outside = outside_epochs(results, jobs)
    jobs["outside_s"] = jobs["job"].map(outside)
    table = jobs.groupby("rule").agg(jobs=("job", "count"), wall_s=("wall_s", "sum"), mean_s=("wall_s", "mean"), max_s=("wall_s", "max"),
                                     cpu_s=("cpu_s", "sum"), outside_epochs_s=("outside_s", "sum"))
    table["share"] = table["wall_s"] / table["wall_s"].sum()
    return table.sort_values("wall_s", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a run's results folder (results/ by default)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    table = summary(args.results).round({"wall_s": 1, "mean_s": 1, "max_s": 1, "cpu_s": 1, "outside_epochs_s": 1, "share": 3})
    if args.markdown:
        print("| rule | " + " | ".join(table.columns) + " |\n|---|" + "---|" * len(table.columns))
        print("\n".join(f"| {rule} | " + " | ".join(str(v) for v in row) + " |" for rule, row in table.iterrows()))
    else:
        print(table.to_string())
    print(f"\n{table['jobs'].sum()} jobs, {table['wall_s'].sum():.0f} s of job wall time, {table['cpu_s'].sum():.0f} s of CPU time")


if __name__ == "__main__":
    main()

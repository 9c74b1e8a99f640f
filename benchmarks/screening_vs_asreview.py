"""Active-learning screening side by side with ASReview 3.0.8, on the same reviews, priors and seeds.

ASReview runs in its own virtual environment (made here on first use, so that its pins
leave the project's alone) through ``benchmarks/asreview_simulate.py``; the project's
models run in this process. Both start from the priors ``--prior-seed s`` draws (checked
equal), one thread each, and both are scored by the project's metric functions on the
records after the priors: WSS@95 by Cohen's definition and by asreview-insights', and
RRF@10. CPU seconds are process time for feature extraction plus the loop.

    DLMIA_DATA=/path/to/data .venv/bin/python benchmarks/screening_vs_asreview.py [--seeds 0 1 2 3 4]

Writes ``screening_vs_asreview_runs.csv`` (one row per system, review and seed, with
the prior record indices and, for the project's, whether the order was ASReview's up to
its last relevant record) and ``screening_vs_asreview.md`` (ASReview against the default,
then every system) under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SINGLE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
os.environ.update(SINGLE_THREAD)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from workflow.literature.active_learning import DEFAULT_MODEL, MODELS, LabelledReview, rrf, run_simulation, wss, wss_insights  # noqa: E402

ASREVIEW = "asreview==3.0.8"
VENV = REPO / "benchmarks" / ".venv-asreview"
RUNNER = REPO / "benchmarks" / "asreview_simulate.py"
BENCHMARK_REVIEWS = ("ace", "nudging", "virus", "wilson")


def asreview_python() -> Path:
    """The ASReview environment's interpreter, created with ``ASREVIEW`` installed if missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", ASREVIEW], check=True)
    return python


def reviews(data: Path) -> dict[str, Path]:
    """ASReview's four benchmark reviews and every labelled SYNERGY review in the data folder."""
    found = {name: data / "screening" / "asreview_benchmark_sim" / f"{name}.csv" for name in BENCHMARK_REVIEWS}
    found.update({d.name: d / f"{d.name}.csv" for d in sorted((data / "screening" / "synergy_v1").glob("*")) if (d / f"{d.name}.csv").exists()})
    return {name: path for name, path in found.items() if path.exists()}


def asreview_runs(python: Path, path: Path, seeds: list[int]) -> list[dict]:
    """ASReview's simulations of one review, one dict per seed (run in a scratch folder: it writes a cache file)."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [str(python), str(RUNNER), str(path), *map(str, seeds)],
            cwd=scratch, env=os.environ | SINGLE_THREAD, capture_output=True, text=True, check=True,
        )
    return [json.loads(line) for line in done.stdout.splitlines()]


def asreview_row(review: LabelledReview, run: dict) -> dict:
    """Metrics of ASReview's order; records it left unscreened after the last relevant one follow in any order."""
    order = np.r_[run["order"], np.setdiff1d(np.arange(len(review.labels)), run["order"])]
    return {
        "dataset": review.name, "system": "ASReview ELAS u4", "seed": run["seed"], "records": len(review.labels),
        "relevant": int(review.labels.sum()), "priors": " ".join(map(str, run["priors"])),
        "wss95": wss(order, review.labels), "wss95_insights": wss_insights(order, review.labels),
        "rrf10": rrf(order, review.labels), "cpu_s": run["cpu_s"],
    }


def project_rows(review: LabelledReview, models: list[str], seeds: list[int], asreview: dict[int, dict]) -> list[dict]:
    """The project's simulations, each with ``same_order``: whether it screened ASReview's records
    in ASReview's order up to ASReview's last relevant record (``asreview``: its runs by seed)."""
    rows = []
    for model in models:
        for seed in seeds:
            row, order = run_simulation(review, model, seed)
            if row["priors"] != " ".join(map(str, asreview[seed]["priors"])):
                raise RuntimeError(f"{review.name} seed {seed}: priors {row['priors']} differ from ASReview's {asreview[seed]['priors']}")
            same = np.array_equal(order[: len(asreview[seed]["order"])], asreview[seed]["order"])
            rows.append({**{k: v for k, v in row.items() if k != "model"}, "system": f"project {model}", "same_order": same})
    return rows


def table(runs: pd.DataFrame) -> str:
    """Markdown: per review and system, mean over seeds, and ASReview's CPU time over the system's."""
    summary = runs.groupby(["dataset", "system"], sort=False).agg(
        records=("records", "first"), relevant=("relevant", "first"), seeds=("seed", "count"),
        wss95=("wss95", "mean"), wss95_insights=("wss95_insights", "mean"), rrf10=("rrf10", "mean"), cpu_s=("cpu_s", "mean"),
    ).reset_index()
    asreview_cpu = summary[summary["system"].str.startswith("ASReview")].set_index("dataset")["cpu_s"]
    lines = [
        "| review | records | relevant | seeds | system | WSS@95 (Cohen) | WSS@95 (insights) | RRF@10 | CPU s / simulation | ASReview CPU ÷ this |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        lines.append(
            f"| {r.dataset} | {r.records} | {r.relevant} | {r.seeds} | {r.system} | {100 * r.wss95:.1f} | {100 * r.wss95_insights:.1f} | "
            f"{100 * r.rrf10:.1f} | {r.cpu_s:.2f} | {asreview_cpu[r.dataset] / r.cpu_s:.1f} |"
        )
    return "\n".join(lines) + "\n"


def versus(runs: pd.DataFrame, system: str = f"project {DEFAULT_MODEL}") -> str:
    """Markdown: per review, ASReview / ``system`` (means over seeds) of each metric and of the
    CPU seconds, the ratio of those, and in how many seeds ``system`` screened in ASReview's order."""
    lines = [
        "| review | records | relevant | WSS@95 Cohen | WSS@95 insights | RRF@10 | ASReview's order | CPU s | cheaper |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, review in runs.groupby("dataset", sort=False):
        asreview, ours = review[review["system"].str.startswith("ASReview")], review[review["system"] == system]

        def pair(column: str, scale: float = 100, digits: int = 1) -> str:
            return f"{scale * asreview[column].mean():.{digits}f} / {scale * ours[column].mean():.{digits}f}"

        lines.append(
            f"| {name} | {review['records'].iloc[0]} | {review['relevant'].iloc[0]} | {pair('wss95')} | {pair('wss95_insights')} | {pair('rrf10')} | "
            f"{int(ours['same_order'].sum())} of {len(ours)} seeds | {pair('cpu_s', 1, 2)} | {asreview['cpu_s'].mean() / ours['cpu_s'].mean():.1f}× |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("DLMIA_DATA"), help="data folder (default $DLMIA_DATA)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--models", nargs="+", default=[DEFAULT_MODEL, *(m for m in MODELS if m != DEFAULT_MODEL)], choices=MODELS)
    parser.add_argument("--reviews", nargs="+", help="review names (default all found)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "screening_vs_asreview")
    args = parser.parse_args()
    if args.data is None:
        parser.error("give the data folder with --data or $DLMIA_DATA")
    python = asreview_python()
    rows = []
    for name, path in reviews(args.data).items():
        if args.reviews and name not in args.reviews:
            continue
        review = LabelledReview.read(path, name)
        runs = {run["seed"]: run for run in asreview_runs(python, path, args.seeds)}
        simulated = [asreview_row(review, run) for run in runs.values()]
        with threadpool_limits(1):
            simulated += project_rows(review, args.models, args.seeds, runs)
        rows += simulated
        for row in simulated:
            print(f"{name} {row['system']} seed {row['seed']} priors {row['priors']}: WSS@95 {100 * row['wss95']:.1f}, "
                  f"insights {100 * row['wss95_insights']:.1f}, RRF@10 {100 * row['rrf10']:.1f}, {row['cpu_s']:.2f} CPU s", flush=True)
    runs = pd.DataFrame(rows)[["dataset", "system", "seed", "records", "relevant", "priors", "wss95", "wss95_insights", "rrf10", "cpu_s", "same_order"]]
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "screening_vs_asreview_runs.csv", index=False, float_format="%.4f")
    markdown = f"ASReview / this suite's default, mean of the seeds:\n\n{versus(runs)}\nEvery system:\n\n{table(runs)}"
    (args.out / "screening_vs_asreview.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()

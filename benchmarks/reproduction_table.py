"""MedMNIST v2 reproduction: the run files kept in the repository beside the published numbers.

Reads every ``*_metrics.json`` of a folder (default ``benchmarks/results/reproduce``, runs of
``config/reproduce.yaml``) and prints, through the report's own table code, one row per run,
then mean ± sample std over seeds, then the means beside MedMNIST v2's ResNet-18 (28) rows.

    .venv/bin/python benchmarks/reproduction_table.py [FOLDER]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workflow.report.tables import caption, collect, markdown, summarise, versus_published, versus_published_markdown  # noqa: E402


def run_rows(files: list[Path]) -> str:
    lines = ["| dataset | seed | test ACC | test AUC | best epoch | wall minutes | device |", "|---|---|---|---|---|---|---|"]
    for path in files:
        run = json.loads(path.read_text())
        lines.append(
            f"| {run['dataset']} | {run['seed']} | {run['test']['acc']:.3f} | {run['test']['auc']:.3f} | {run['best_epoch']} "
            f"| {run['wall_seconds'] / 60:.0f} | {run['device']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the three tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=REPO / "benchmarks" / "results" / "reproduce")
    folder = parser.parse_args(argv).folder
    files = sorted(folder.glob("*_metrics.json"))
    if not files:
        sys.exit(f"no *_metrics.json in {folder}")
    runs = collect(files)
    summary = summarise(runs)
    print(run_rows(files))
    print(markdown(summary, caption(runs)))
    print(versus_published_markdown(versus_published(summary), "Mean test metrics beside MedMNIST v2"))


if __name__ == "__main__":
    main()

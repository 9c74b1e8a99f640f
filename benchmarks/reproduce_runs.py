"""MedMNIST v2 reproduction runs without Snakemake, several at a time on one device.

For a machine that has PyTorch but not the workflow's tools, such as a lent GPU: each run is
``workflow.train.run.execute`` with the model entry and recipe of ``config/reproduce.yaml``
(ResNet-18 at full width, the published recipe, float32), in a process of its own,
``--parallel`` at once; its datasets and seeds are the defaults. Finished runs are copied to ``--out`` under the names of ``benchmarks/results/
reproduce`` (``{flag}_resnet18_seed{seed}_metrics.json`` and ``_log.csv``); runs already
there or in ``--have`` are not made again, and none starts once ``--budget`` seconds have
passed, so a time-limited session keeps what finished.

    DLMIA_DATA=/path/to/data python benchmarks/reproduce_runs.py --device cuda --parallel 4 \\
        --datasets pneumoniamnist,breastmnist,retinamnist,adrenalmnist3d,vesselmnist3d --seeds 0,1,2 \\
        --out OUT [--have benchmarks/results/reproduce] [--budget 420] [--epochs 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workflow.data.medmnist import Dataset  # noqa: E402
from workflow.train.recipe import Recipe  # noqa: E402

REPRODUCE = yaml.safe_load((REPO / "config" / "reproduce.yaml").read_text())["benchmark"]


def stem(flag: str, seed: int) -> str:
    return f"{flag}_resnet18_seed{seed}"


def one_run(flag: str, seed: int, epochs: int, device: str, threads: int, out: Path, deadline: float) -> str:
    """Make one run in a temporary folder (its checkpoints stay there); a line saying how it went."""
    if time.time() > deadline:
        return f"{stem(flag, seed)}: not started, budget spent"
    from workflow.train.run import RunSpec, execute

    dataset = Dataset(flag)
    entry = REPRODUCE["models"]["resnet18"]
    recipe = replace(Recipe.from_dict(REPRODUCE["recipe"], dataset.spatial_dims), epochs=epochs)
    spec = RunSpec(flag, "resnet18", entry["arch"], entry["params"], recipe, seed=seed, profile="reproduce")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        metrics = execute(spec, dataset.path(os.environ["DLMIA_DATA"]), run / "metrics.json", run / "log.csv", run / "predictions.npz", threads=threads, device=device)
        shutil.copy(run / "log.csv", out / f"{stem(flag, seed)}_log.csv")
        shutil.copy(run / "metrics.json", out / f"{stem(flag, seed)}_metrics.json")
    if metrics["status"] != "ok":
        return f"{stem(flag, seed)}: {metrics['status']}, {metrics['reason']}"
    return f"{stem(flag, seed)}: test ACC {metrics['test']['acc']:.3f}, AUC {metrics['test']['auc']:.3f}, {metrics['wall_seconds']:.0f} s"


def main(argv: list[str] | None = None) -> None:
    """Make the runs that are missing, report each, then print the reproduction tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=lambda s: s.split(","), default=REPRODUCE["datasets"])
    parser.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=REPRODUCE["seeds"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--parallel", type=int, default=1, help="runs at once on the device")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1) // 4), help="CPU threads per run")
    parser.add_argument("--epochs", type=int, default=REPRODUCE["recipe"]["epochs"], help="the published 100; fewer only to try the script")
    parser.add_argument("--budget", type=float, default=float("inf"), help="seconds after which no run starts")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--have", type=Path, default=REPO / "benchmarks" / "results" / "reproduce", help="folder of runs already made")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    made = {p.name for folder in (args.have, args.out) for p in folder.glob("*_metrics.json")}
    todo = [(flag, seed) for flag in args.datasets for seed in args.seeds if f"{stem(flag, seed)}_metrics.json" not in made]
    print(f"{len(todo)} runs to make, {args.parallel} at a time: " + ", ".join(stem(f, s) for f, s in todo), flush=True)
    deadline = time.time() + args.budget
    with ProcessPoolExecutor(args.parallel, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(one_run, flag, seed, args.epochs, args.device, args.threads, args.out, deadline) for flag, seed in todo]
        for (flag, seed), future in zip(todo, futures):
            try:
                print(future.result(), flush=True)
            except Exception as error:  # one broken run does not stop the others
                print(f"{stem(flag, seed)}: error, {error!r}", flush=True)

    from benchmarks.reproduction_table import main as tables

    if any(args.out.glob("*_metrics.json")):
        tables([str(args.out)])


if __name__ == "__main__":
    main()

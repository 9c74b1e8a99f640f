"""ASReview's own simulation of one labelled review, run inside ASReview's virtual environment.

Follows ``asreview simulate DATA.csv --n-prior-included 1 --n-prior-excluded 1
--prior-seed s --seed s`` (ASReview 3.0.8, default model ELAS u4) through the Python API,
so that each simulation's process CPU time can be measured on its own. Prints one JSON
line per seed: the prior record indices, the screening order (priors first, stopping at
the last relevant record, as ASReview does) and the CPU seconds of feature extraction
plus the active-learning loop.

    benchmarks/.venv-asreview/bin/python benchmarks/asreview_simulate.py REVIEW.csv 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from asreview import load_dataset
from asreview.learner import ActiveLearningCycle
from asreview.models.models import get_ai_config
from asreview.models.queriers import TopDown
from asreview.models.stoppers import IsFittable, LastRelevant
from asreview.simulation.simulate import Simulate
from sklearn.utils import check_random_state


def prior(labels: np.ndarray, label: int, seed: int) -> int:
    """The prior record of one class that ``--prior-seed seed`` draws."""
    return int(check_random_state(seed).choice(np.flatnonzero(labels == label), 1, replace=False)[0])


def simulate(path: str, seed: int, ai: str) -> dict:
    np.random.seed(seed)  # what --seed does: the SVM's coordinate descent draws from it
    db = load_dataset(path, dataset_id=path)
    labels = db.input["included"].to_numpy(dtype=int)
    cycles = [
        ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
        ActiveLearningCycle.from_meta(get_ai_config(ai)["value"]),
    ]
    simulation = Simulate(db.input.get_df(), labels, cycles, stopper=LastRelevant(), print_progress=False)
    priors = [prior(labels, 1, seed), prior(labels, 0, seed)]
    simulation.label(priors)
    began = time.process_time()
    simulation.review()
    cpu = time.process_time() - began
    order = simulation._results["record_id"].astype(int).tolist()
    return {"seed": seed, "priors": priors, "order": order, "records": len(labels), "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("review")
    parser.add_argument("seeds", type=int, nargs="+")
    parser.add_argument("--ai", default="elas_u4")
    args = parser.parse_args()
    for seed in args.seeds:
        print(json.dumps(simulate(args.review, seed, args.ai)), flush=True)


if __name__ == "__main__":
    main()

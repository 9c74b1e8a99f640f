"""Opt-in: the DAG through a real one-node SLURM cluster (`pytest -m slurm`, root, Debian).

tests/slurm/cluster.sh installs and starts the cluster; this runs a small DAG (literature
steps and a one-epoch training job) with --profile profiles/slurm, checks that the jobs
went through SLURM, and that the results equal a local run's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.slurm
CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
STATE = Path("/tmp/dlmia-slurm")
TINY = {
    "profile": "slurm-test",
    "literature": {
        "snapshot": ["pubmed/efetch_sets/*/*.xml"],
        "exports": [],
        "simulation": {"reviews": []},
        "screening": {"years": [2012, 2025], "required_terms": {"method": ["neural network", "deep learning"]}},
    },
    "benchmark": {
        "datasets": ["breastmnist"],
        "seeds": [0],
        "threads": 1,
        "model_files": [str(REPO / "tests" / "plugins" / "tiny_cnn.py")],
        "recipe": {"epochs": 1},
        "models": {"tiny": {"arch": "tiny_cnn", "params": {"width": 4}}},
    },
}


@pytest.fixture(scope="module")
def cluster():
    if shutil.which("slurmctld") is None:
        subprocess.run([str(CLUSTER), "install"], check=True)
    subprocess.run([str(CLUSTER), "start"], check=True)
    yield STATE
    subprocess.run([str(CLUSTER), "stop"], check=True)


def _run(workdir: Path, data_root: Path, *args: str) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    env = {**os.environ, "DLMIA_CONFIG": str(config), "DLMIA_DATA": str(data_root)}
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=1500)


def test_dag_runs_through_slurm_and_matches_a_local_run(cluster: Path, data_root: Path, tmp_path: Path):
    local = _run(tmp_path / "local", data_root, "--cores", "2")
    assert local.returncode == 0, local.stderr[-3000:]
    remote = _run(
        tmp_path / "slurm", data_root, "--profile", str(REPO / "profiles" / "slurm"),
        "--set-resources", "train:gpu=0", "train:mem_mb=2000", "train:cpus_per_task=1", "--set-threads", "train=1",
        "--default-resources", "mem_mb=1000", "runtime=10", "cpus_per_task=1",
    )
    assert remote.returncode == 0, remote.stderr[-3000:]
    submitted = dict(re.findall(r"rule_(\w+)/(?:[\w.]+/)?(\d+)\.log", remote.stderr))
    assert {"collect_records", "deduplicate", "screen", "train", "benchmark_report"} <= set(submitted)
    completed = set(re.findall(r"JobId=(\d+) .*JobState=COMPLETED", (cluster / "log" / "jobcomp.txt").read_text()))
    assert set(submitted.values()) <= completed

    def results(run: str, name: str) -> dict:
        return json.loads((tmp_path / run / "results" / name).read_text())

    assert results("slurm", "literature/prisma.json") == results("local", "literature/prisma.json")
    metrics = "runs/breastmnist/tiny/seed0/metrics.json"
    assert results("slurm", metrics)["test"] == results("local", metrics)["test"]

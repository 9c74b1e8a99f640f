"""Faults injected into real runs: a killed training job, a corrupt dataset file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from conftest import REPO

METRICS = "results/runs/pneumoniamnist/tiny/seed0/metrics.json"
CONFIG = {
    "profile": "faults",
    "literature": {"snapshot": ["pubmed/efetch_sets/qi29_main_finding_recognition/*.xml"]},
    "benchmark": {
        "datasets": ["pneumoniamnist"],
        "seeds": [0],
        "threads": 1,
        "model_files": [str(REPO / "tests" / "plugins" / "tiny_cnn.py")],
        "recipe": {"epochs": 4},
        "models": {"tiny": {"arch": "tiny_cnn", "params": {"width": 8, "dropout": 0.5}}},  # dropout: resume restores the RNGs
    },
}


def _command(workdir: Path, data_root: Path, target: str) -> tuple[list[str], dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    env = {**os.environ, "DLMIA_CONFIG": str(workdir / "config.yaml"), "DLMIA_DATA": str(data_root)}
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "1", target], env


def _run(workdir: Path, data_root: Path, target: str = METRICS) -> subprocess.CompletedProcess:
    command, env = _command(workdir, data_root, target)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def test_training_killed_mid_run_resumes_to_the_same_metrics(tmp_path: Path, data_root: Path):
    reference = _run(tmp_path / "reference", data_root)
    assert reference.returncode == 0, reference.stderr[-3000:]

    workdir = tmp_path / "killed"
    command, env = _command(workdir, data_root, METRICS)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    checkpoint = workdir / METRICS.replace("metrics.json", "checkpoint.pt")
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # snakemake and the training job, mid-way through epoch 2
    process.wait()
    assert checkpoint.exists() and not (workdir / METRICS).exists()

    assert _run(workdir, data_root, "--unlock").returncode == 0  # the killed Snakemake left its lock
    resumed = _run(workdir, data_root)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    first = json.loads((tmp_path / "reference" / METRICS).read_text())
    second = json.loads((workdir / METRICS).read_text())
    assert second["resumed_from_epoch"] >= 1 and first["resumed_from_epoch"] == 0
    assert second["test"] == first["test"] and second["val"] == first["val"] and second["best_epoch"] == first["best_epoch"]


def test_corrupt_dataset_fails_by_name_and_writes_no_card(tmp_path: Path, data_root: Path):
    corrupt = tmp_path / "data"
    shutil.copytree(data_root / "pubmed", corrupt / "pubmed")
    (corrupt / "medmnist").mkdir()
    good = (data_root / "medmnist" / "pneumoniamnist.npz").read_bytes()
    (corrupt / "medmnist" / "pneumoniamnist.npz").write_bytes(good[: len(good) // 2])
    result = _run(tmp_path / "run", corrupt, "results/data/pneumoniamnist.json")
    assert result.returncode != 0
    log = (tmp_path / "run" / "results" / "logs" / "data" / "pneumoniamnist.log").read_text()
    assert "pneumoniamnist.npz: md5" in log and "does not match the official 28209eda62fecd6e6a2d98b1501bb15f" in log
    assert not (tmp_path / "run" / "results" / "data" / "pneumoniamnist.json").exists()


SITECUSTOMIZE = '''
import os
if os.environ.get("TEST_EUTILS_URL"):
    import sys
    sys.path.insert(0, os.environ["TEST_REPLAY_DIR"])
    from Bio import Entrez
    from replay import local_urlopen
    Entrez.urlopen = local_urlopen(os.environ["TEST_EUTILS_URL"])
'''


def test_api_key_appears_in_nothing_a_run_writes(tmp_path: Path, data_root: Path, pubmed: Path):
    """A whole DAG with a live search (replayed on 127.0.0.1), then every file it wrote is read."""
    from replay import EUtils, articles, serve

    secret = "ncbi-key-do-not-leak-4242"
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)  # points Bio.Entrez at the replay server in every job
    config = {
        **CONFIG,
        "literature": {"pubmed": {"query": "deep learning", "email": "test@example.org", "batch_size": 40}, "snapshot": []},
        "benchmark": {**CONFIG["benchmark"], "datasets": ["breastmnist"], "recipe": {"epochs": 1}},
    }
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    EUtils.articles = articles(pubmed / "efetch_sets/kchemorion_BioCurator/pubmed_articles.xml")
    EUtils.count, EUtils.faults, EUtils.requests, EUtils.esearch_body = 100, [], [], None
    with serve(EUtils) as base:
        env = {
            **os.environ, "DLMIA_CONFIG": str(workdir / "config.yaml"), "DLMIA_DATA": str(data_root), "NCBI_API_KEY": secret,
            "TEST_EUTILS_URL": base, "TEST_REPLAY_DIR": str(REPO / "tests"),
            "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]),
        }
        snakemake = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2"]
        run = subprocess.run(snakemake, capture_output=True, text=True, env=env, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        report = subprocess.run([*snakemake, "--report", "report.html"], capture_output=True, text=True, env=env, timeout=600)
        assert report.returncode == 0, report.stderr[-3000:]
    assert EUtils.requests and all(r.get("api_key") == secret for r in EUtils.requests)
    assert json.loads((workdir / "results/literature/prisma.json").read_text())["identified"] == 100
    written = [p for p in workdir.rglob("*") if p.is_file()]
    assert len(written) > 30
    leaks = [str(p) for p in written if secret.encode() in p.read_bytes()]
    assert leaks == [] and secret not in run.stdout + run.stderr + report.stdout + report.stderr

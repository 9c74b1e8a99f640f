"""benchmarks/reproduce_runs.py makes the missing reproduction runs and keeps what finished."""

import json
from pathlib import Path

from benchmarks.reproduce_runs import main


def test_missing_runs_are_made_once_and_none_starts_after_the_budget(tmp_path: Path, data_root: Path, capsys):
    out, have = tmp_path / "out", tmp_path / "have"
    have.mkdir()
    (have / "breastmnist_resnet18_seed0_metrics.json").write_text("{}")  # made earlier: skipped
    main(["--datasets", "breastmnist", "--seeds", "0,7", "--epochs", "1", "--device", "cpu", "--threads", "2", "--out", str(out), "--have", str(have)])
    printed = capsys.readouterr().out
    assert "1 runs to make, 1 at a time: breastmnist_resnet18_seed7" in printed
    metrics = json.loads((out / "breastmnist_resnet18_seed7_metrics.json").read_text())
    assert metrics["status"] == "ok" and metrics["seed"] == 7 and metrics["precision"] == "fp32"
    assert metrics["config"]["params"] == {"widen_factor": 1.0, "stem_stride": 1} and metrics["config"]["recipe"]["batch_size"] == 128
    assert (out / "breastmnist_resnet18_seed7_log.csv").exists() and "| breastmnist | 7 |" in printed

    main(["--datasets", "breastmnist", "--seeds", "7,8", "--budget", "0", "--out", str(out), "--have", str(have)])
    printed = capsys.readouterr().out
    assert "1 runs to make" in printed and "breastmnist_resnet18_seed8: not started, budget spent" in printed
    assert not (out / "breastmnist_resnet18_seed8_metrics.json").exists()

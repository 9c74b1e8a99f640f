"""`make figures` on the kept CPU comparison, as in a fresh clone without a data folder: every
kept table and figure is made again from the kept run files alone, byte for byte; the
overlays, whose predictions of DRIVE, JSRT/SCR and MedSeg are not in the repository (their
terms forbid copying the images), are kept as they are with the missing files named; no
kept file is deleted."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import time
from pathlib import Path

from conftest import REPO

KEPT = REPO / "benchmarks" / "results" / "cpu"


def _clone_of_the_kept_runs(root: Path) -> Path:
    """The kept CPU comparison as a clone holds it: the tracked files only."""
    tracked = subprocess.run(["git", "ls-files", "-z", str(KEPT.relative_to(REPO))], capture_output=True, text=True, cwd=REPO, check=True)
    for name in filter(None, tracked.stdout.split("\0")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    return root / KEPT.relative_to(REPO)


def test_make_figures_remakes_the_kept_report_without_data(tmp_path: Path):
    results = _clone_of_the_kept_runs(tmp_path)
    before = sorted(p.relative_to(results) for p in results.rglob("*") if p.is_file())
    arguments = f"--directory {tmp_path} --configfile {REPO / 'config' / 'cpu.yaml'}"
    start = time.time()
    command = ["make", "-C", str(REPO), "figures", f"ARGS={arguments}", f"REPORT={tmp_path / 'report.html'}"]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "DLMIA_DATA": str(tmp_path / "no-data")}, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "make figures: segmentation_overlays not remade, its outputs kept as they are; it needs:" in result.stdout
    assert "segmentation/runs/drive/unet/seed0/predictions.npz" in result.stdout
    after = sorted(p.relative_to(results) for p in results.rglob("*") if p.is_file() and "logs" not in p.parts)
    assert set(before) <= set(after)  # nothing kept was deleted
    report = [p for p in after if p.parts[0] == "report"]
    remade = {p.name for p in report if (results / p).stat().st_mtime >= start}
    assert len(remade) > 60 and not remade & {"segmentation_overlays.png", "segmentation_overlays.svg"}
    different = [str(p) for p in report if not filecmp.cmp(results / p, KEPT / p, shallow=False)]
    assert different == []
    assert (tmp_path / "report.html").stat().st_size > 1_000_000

#!/usr/bin/env bash
# GPU check, under 5 minutes on one H100: the training-throughput benchmark on CUDA
# (official loop against the engine in fp32, bf16 and bf16 + torch.compile, plus a short
# training of both paths), bf16 against fp32 per architecture, then one run of the full published recipe (ResNet-18, full
# width, PneumoniaMNIST, 100 epochs) through workflow.train.run.execute. Everything goes
# under $OUT; a compact table is printed last.
#
#   DLMIA_DATA=/path/to/data OUT=/path/to/out benchmarks/gpu_check.sh [--smoke]
#
# --smoke runs the same steps on the CPU, shortened (one step per timing, one epoch on
# BreastMNIST), to check the script end to end. PYTHON names the interpreter (default
# .venv/bin/python, else python3); it needs the packages of requirements.txt and
# requirements-nodeps.txt. DLMIA_DATA needs medmnist/{pneumoniamnist,breastmnist,
# adrenalmnist3d}.npz.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DLMIA_DATA:?set DLMIA_DATA to the folder holding medmnist/*.npz}" "${OUT:?set OUT to the output folder}"
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export PYTHONUNBUFFERED=1 DLMIA_DATA OUT
mkdir -p "$OUT"

if [ "${1:-}" = "--smoke" ]; then
    bench=(--device cpu --threads 2 --steps 1 --repeats 1 --warmup 0 --variants fp32 --check-dataset breastmnist --check-epochs 1)
    precision=(--device cpu --threads 2 --repeats 1 --only conv_autoencoder)
    export CHECK_DEVICE=cpu CHECK_DATASET=breastmnist CHECK_EPOCHS=1
else
    bench=(--device cuda --steps 40 --repeats 5 --warmup 5 --variants bf16,fp32,bf16+compile --check-dataset pneumoniamnist --check-epochs 5 --check-seeds 0,1)
    precision=(--device cuda --repeats 5)
    export CHECK_DEVICE=cuda CHECK_DATASET=pneumoniamnist CHECK_EPOCHS=100
fi

"$PYTHON" -c "import monai, medmnist, sklearn, pandas, torch; print('python', __import__('sys').version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$PYTHON" benchmarks/training_throughput.py "${bench[@]}" --out "$OUT/throughput.json" 2>&1 | tee "$OUT/throughput.log"
"$PYTHON" benchmarks/precision_by_architecture.py "${precision[@]}" 2>&1 | tee "$OUT/precision.log"

"$PYTHON" - <<'EOF' 2>&1 | tee "$OUT/reproduction.log"
"""One run of the published recipe; its metrics and per-epoch log copied to $OUT."""
import csv
import os
import shutil
import tempfile
from pathlib import Path

from workflow.data.medmnist import Dataset
from workflow.train.recipe import Recipe
from workflow.train.run import RunSpec, execute

out, flag = Path(os.environ["OUT"]), os.environ["CHECK_DATASET"]
spec = RunSpec(flag, "resnet18", "resnet18", {"widen_factor": 1.0}, Recipe(epochs=int(os.environ["CHECK_EPOCHS"])), seed=0, profile="gpu_check")
with tempfile.TemporaryDirectory() as tmp:  # the checkpoint stays out of $OUT
    run = Path(tmp)
    dataset = Dataset(flag)
    metrics = execute(spec, dataset.path(os.environ["DLMIA_DATA"]), run / "metrics.json", run / "log.csv", run / "predictions.npz", threads=2, device=os.environ["CHECK_DEVICE"])
    shutil.copy(run / "metrics.json", out / "reproduction_metrics.json")
    shutil.copy(run / "log.csv", out / "reproduction_log.csv")
published = next(r for r in csv.DictReader(open("workflow/report/published.csv")) if r["dataset"] == flag)
images = metrics["epochs"] * dataset.info["n_samples"]["train"]
print(f"\nreproduction: ResNet-18 (28), {flag}, {metrics['epochs']} epochs, seed 0, {metrics['device']}")
print(f"{'':<12}{'test AUC':>10}{'test ACC':>10}")
print(f"{'ours':<12}{metrics['test']['auc']:>10.3f}{metrics['test']['acc']:>10.3f}   best epoch {metrics['best_epoch']}")
print(f"{'published':<12}{float(published['auc']):>10.3f}{float(published['acc']):>10.3f}")
print(f"train {metrics['train_seconds']:.1f} s ({metrics['train_seconds'] / metrics['epochs']:.2f} s/epoch with validation, "
      f"{images / metrics['train_seconds']:.0f} training images/s), wall {metrics['wall_seconds']:.1f} s")
EOF
echo "results in $OUT"

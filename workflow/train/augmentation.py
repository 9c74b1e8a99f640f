"""Random geometric augmentation of whole uint8 batches, on the training device.

Each image of a batch gets its own draw (flips, a multiple of 90° in the image plane, a
shift with zero fill, as torchvision's ``RandomCrop(size, padding)`` does), computed for
the batch at once by indexing, with no per-sample Python and no host synchronisation. The
draws come from a generator the caller seeds, so runs repeat exactly.
"""

from __future__ import annotations

import torch

from .recipe import AXES, Augmentation


def augment(batch: torch.Tensor, augmentation: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """``batch`` (N, C, *spatial) transformed image by image; the input is left unchanged."""
    spatial = batch.ndim - 2
    for name in augmentation.flips:
        if -AXES[name] > spatial:
            raise ValueError(f"cannot flip {name}: the images have {spatial} spatial axes")
        batch = _where(_coin(batch, generator), batch.flip(AXES[name]), batch)
    if augmentation.rotate90:
        batch = _rotate90(batch, generator)
    if augmentation.translate:
        batch = _translate(batch, augmentation.translate, generator)
    return batch


def _coin(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(len(batch), generator=generator, device=batch.device) < 0.5


def _where(chosen: torch.Tensor, changed: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """Per image: ``changed`` where ``chosen`` (N booleans), else ``kept``."""
    return torch.where(chosen.view(-1, *[1] * (kept.ndim - 1)), changed, kept)


def _rotate90(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    if batch.shape[-1] != batch.shape[-2]:
        raise ValueError(f"rotate90 needs square images, got {tuple(batch.shape[-2:])}")
    quarter = torch.randint(0, 4, (len(batch),), generator=generator, device=batch.device)
    out = batch
    for k in (1, 2, 3):
        out = _where(quarter == k, torch.rot90(batch, k, dims=(-2, -1)), out)
    return out


def _translate(batch: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad every spatial axis by ``pixels`` and crop each image at a random offset."""
    n, spatial = len(batch), batch.shape[2:]
    padded = torch.nn.functional.pad(batch, [pixels] * (2 * len(spatial)))
    offsets = torch.randint(0, 2 * pixels + 1, (len(spatial), n), generator=generator, device=batch.device)
    dims = 2 + len(spatial)
    index = [torch.arange(n, device=batch.device).view(-1, *[1] * (dims - 1)), torch.arange(batch.shape[1], device=batch.device).view(1, -1, *[1] * (dims - 2))]
    for axis, size in enumerate(spatial):
        shape = [n] + [1] * (dims - 1)
        shape[2 + axis] = size
        index.append((torch.arange(size, device=batch.device).view(1, -1) + offsets[axis].view(-1, 1)).view(shape))
    return padded[tuple(index)]

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
    n, ndim, device = len(batch), batch.ndim, batch.device
    padded = torch.nn.functional.pad(batch, [pixels] * (2 * (ndim - 2)))
    offsets = torch.randint(0, 2 * pixels + 1, (ndim - 2, n), generator=generator, device=device)

    def along(index: torch.Tensor, *axes: int) -> torch.Tensor:
        """``index`` shaped to broadcast over the batch's axes, its own dimensions on ``axes``."""
        shape = [1] * ndim
        for axis, size in zip(axes, index.shape):
            shape[axis] = size
        return index.view(shape)

    index = [along(torch.arange(n, device=device), 0), along(torch.arange(batch.shape[1], device=device), 1)]
    for axis in range(2, ndim):
        positions = torch.arange(batch.shape[axis], device=device) + offsets[axis - 2, :, None]  # (N, size)
        index.append(along(positions, 0, axis))
    return padded[tuple(index)]

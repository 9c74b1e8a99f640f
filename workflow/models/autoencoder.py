"""Convolutional autoencoder: reconstruction pretraining, then its encoder as a classifier.

The encoder (three 3×3 convolutions, the last two with stride 2: 28 px → 7 px) is first
trained with a mirrored decoder to reconstruct the training images (mean squared error on
the classifier's input scale). The decoder is then dropped and a global-average-pool
plus linear head on the encoder is trained with the benchmark recipe: the autoencoder as a
feature extractor. ``freeze_encoder`` keeps the pretrained encoder fixed (its batch-norm
statistics included); by default it is fine-tuned with the head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn


def pretrain(
    model: "nn.Module",
    images: "torch.Tensor",
    seed: int,
    pretrain_epochs: int = 10,
    pretrain_lr: float = 1e-3,
    pretrain_batch_size: int = 128,
) -> dict:
    """Train the encoder in place with a fresh decoder to reconstruct ``images`` (uint8)."""
    from .autoencoder_network import pretrain as reconstruct

    return reconstruct(model, images, seed, pretrain_epochs, pretrain_lr, pretrain_batch_size)


@register("conv_autoencoder", family="autoencoder", spatial_dims=(2, 3), pretrain=pretrain)
def conv_autoencoder(spatial_dims: int, in_channels: int, out_channels: int, width: int = 16, freeze_encoder: bool = False) -> "nn.Module":
    from .autoencoder_network import EncoderClassifier

    return EncoderClassifier(spatial_dims, in_channels, out_channels, width, freeze_encoder)

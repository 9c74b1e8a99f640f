"""The convolutional autoencoder's layers and its reconstruction pretraining (imports torch)."""

from __future__ import annotations

import time

import torch
from torch import nn

from ..train.engine import _normalise


def _layers(spatial_dims: int) -> tuple[type[nn.Module], type[nn.Module], type[nn.Module], type[nn.Module]]:
    if spatial_dims == 2:
        return nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.AdaptiveAvgPool2d
    return nn.Conv3d, nn.ConvTranspose3d, nn.BatchNorm3d, nn.AdaptiveAvgPool3d


def _block(conv: type[nn.Module], norm: type[nn.Module], cin: int, cout: int, stride: int, kernel_size: int = 3) -> list[nn.Module]:
    return [conv(cin, cout, kernel_size, stride, 1, bias=False), norm(cout), nn.ReLU(inplace=True)]


class EncoderClassifier(nn.Module):
    """The autoencoder's encoder with a classification head."""

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, width: int, freeze_encoder: bool):
        super().__init__()
        conv, _, norm, pool = _layers(spatial_dims)
        self.spatial_dims, self.in_channels, self.width = spatial_dims, in_channels, width
        self.freeze_encoder = freeze_encoder
        self.encoder = nn.Sequential(
            *_block(conv, norm, in_channels, width, 1),
            *_block(conv, norm, width, 2 * width, 2),
            *_block(conv, norm, 2 * width, 4 * width, 2),
        )
        self.head = nn.Sequential(pool(1), nn.Flatten(), nn.Linear(4 * width, out_channels))
        self.encoder.requires_grad_(not freeze_encoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))

    def train(self, mode: bool = True) -> "EncoderClassifier":
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()
        return self


def decoder(spatial_dims: int, out_channels: int, width: int) -> nn.Module:
    """The encoder mirrored: two 2× transposed convolutions back to the input size, tanh output."""
    conv, transposed, norm, _ = _layers(spatial_dims)
    return nn.Sequential(
        *_block(transposed, norm, 4 * width, 2 * width, 2, kernel_size=4),
        *_block(transposed, norm, 2 * width, width, 2, kernel_size=4),
        conv(width, out_channels, 3, 1, 1),
        nn.Tanh(),
    )


LOSS_IMAGES = 512  # the reconstruction loss is reported on the first of the training images


@torch.no_grad()
def reconstruction_loss(autoencoder: nn.Module, images: torch.Tensor, batch_size: int = 256) -> float:
    """Mean squared reconstruction error over uint8 ``images`` (N, C, *spatial), in eval mode."""
    autoencoder.eval()
    images = images[:LOSS_IMAGES]
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = _normalise(images[start : start + batch_size])
        total += float(nn.functional.mse_loss(autoencoder(x), x, reduction="sum"))
    return total / images.numel()


def pretrain(
    model: EncoderClassifier,
    images: torch.Tensor,
    seed: int,
    pretrain_epochs: int = 10,
    pretrain_lr: float = 1e-3,
    pretrain_batch_size: int = 128,
) -> dict:
    """Train ``model.encoder`` in place with a fresh decoder to reconstruct ``images`` (uint8)."""
    if any(s % 4 for s in images.shape[2:]):
        raise ValueError(f"conv_autoencoder needs image sides divisible by 4, not {tuple(images.shape[2:])}")
    began = time.perf_counter()
    torch.manual_seed(seed)
    autoencoder = nn.Sequential(model.encoder, decoder(model.spatial_dims, model.in_channels, model.width)).to(images.device)
    autoencoder.requires_grad_(True)
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=pretrain_lr)
    generator = torch.Generator().manual_seed(seed)
    initial = reconstruction_loss(autoencoder, images, pretrain_batch_size)
    losses = []
    for _ in range(pretrain_epochs):
        autoencoder.train()
        total = torch.zeros((), device=images.device)
        for index in torch.randperm(len(images), generator=generator).to(images.device).split(pretrain_batch_size):
            x = _normalise(images[index])
            loss = nn.functional.mse_loss(autoencoder(x), x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(index)
        losses.append(float(total) / len(images))
    model.encoder.requires_grad_(not model.freeze_encoder)
    return {
        "epochs": pretrain_epochs,
        "initial_loss": initial,
        "final_loss": reconstruction_loss(autoencoder, images, pretrain_batch_size),
        "train_losses": losses,
        "seconds": round(time.perf_counter() - began, 3),
    }

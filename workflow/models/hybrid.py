"""Hybrid CNN-transformer classifiers: a convolutional stem, then transformer blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import register

if TYPE_CHECKING:
    from torch import nn


@register("cnn_transformer", family="hybrid", spatial_dims=(2, 3))
def cnn_transformer(
    spatial_dims: int, in_channels: int, out_channels: int, width: int = 64, depth: int = 2, heads: int = 4, stem_stride: int = 1
) -> "nn.Module":
    """Three conv blocks (the last two stride 2: 28 px → 7×7 tokens) feed a transformer
    encoder with learned positions; tokens are averaged for the class head. ``stem_stride``
    2 moves the first stride to the first block (strides 2, 2, 1: the same tokens for an
    eighth of the first block's compute in 3-D)."""
    import torch
    from torch import nn

    conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
    norm = nn.BatchNorm2d if spatial_dims == 2 else nn.BatchNorm3d

    def block(cin: int, cout: int, stride: int) -> nn.Sequential:
        return nn.Sequential(conv(cin, cout, 3, stride=stride, padding=1, bias=False), norm(cout), nn.ReLU(inplace=True))

    class CNNTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            strides = (1, 2, 2) if stem_stride == 1 else (stem_stride, 2, 1)
            self.stem = nn.Sequential(
                block(in_channels, width // 2, strides[0]), block(width // 2, width, strides[1]), block(width, width, strides[2])
            )
            layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.position = nn.Parameter(torch.zeros(1, 7**spatial_dims, width))
            self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, out_channels))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            tokens = self.stem(x).flatten(2).transpose(1, 2)
            if tokens.shape[1] == self.position.shape[1]:
                tokens = tokens + self.position
            return self.head(self.encoder(tokens).mean(dim=1))

    return CNNTransformer()

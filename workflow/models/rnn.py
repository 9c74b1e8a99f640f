"""Recurrent networks over the slices of a volume: a 2-D CNN encodes each slice, a GRU or
LSTM reads the slice sequence (the sequential analysis the review describes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import register

if TYPE_CHECKING:
    from torch import nn


@register("slice_rnn", family="rnn", spatial_dims=(3,))
def slice_rnn(
    spatial_dims: int, in_channels: int, out_channels: int, width: int = 32, hidden: int = 64, cell: str = "gru"
) -> "nn.Module":
    import torch
    from torch import nn

    if cell not in ("gru", "lstm"):
        raise ValueError(f"slice_rnn: cell must be 'gru' or 'lstm', not {cell!r}")

    class SliceRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            )
            self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(width, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, out_channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            batch, channels, depth = x.shape[:3]
            slices = x.transpose(1, 2).reshape(batch * depth, channels, *x.shape[3:])
            features = self.encoder(slices.contiguous()).reshape(batch, depth, -1)
            output, _ = self.rnn(features)
            return self.head(output.mean(dim=1))

    return SliceRNN()

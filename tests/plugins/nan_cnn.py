"""A model whose loss is NaN from the first step, for the failed-run path."""

import torch
from torch import nn

from workflow.models import register


class _NaN(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.linear = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(2).mean(2)) * float("nan")


@register("nan_cnn", family="cnn", spatial_dims=(2, 3))
def nan_cnn(spatial_dims: int, in_channels: int, out_channels: int) -> nn.Module:
    return _NaN(in_channels, out_channels)

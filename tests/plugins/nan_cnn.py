"""A model whose loss turns NaN after a number of finite training steps, for the failed-run path."""

import torch
from torch import nn

from workflow.models import register


class _NaN(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, finite_steps: int):
        super().__init__()
        self.linear = nn.Linear(in_channels, out_channels)
        self.finite_steps, self.steps = finite_steps, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x.flatten(2).mean(2))
        if self.training:
            self.steps += 1
            if self.steps > self.finite_steps:
                return out * float("nan")
        return out


@register("nan_cnn", family="cnn", spatial_dims=(2, 3))
def nan_cnn(spatial_dims: int, in_channels: int, out_channels: int, finite_steps: int = 0) -> nn.Module:
    return _NaN(in_channels, out_channels, finite_steps)

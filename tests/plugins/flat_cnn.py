"""A model that declares 2-D inputs only, for the skipping rule."""

from torch import nn

from workflow.models import register


@register("flat_cnn", family="cnn", spatial_dims=(2,))
def flat_cnn(spatial_dims: int, in_channels: int, out_channels: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(in_channels, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, out_channels))

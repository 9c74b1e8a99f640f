"""A model added the way users add one: this file plus one config entry, no core edits."""

from torch import nn

from workflow.models import register


@register("tiny_cnn", family="cnn", spatial_dims=(2, 3))
def tiny_cnn(spatial_dims: int, in_channels: int, out_channels: int, width: int = 8, dropout: float = 0.0) -> nn.Module:
    conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
    pool = nn.AdaptiveAvgPool2d if spatial_dims == 2 else nn.AdaptiveAvgPool3d
    return nn.Sequential(
        conv(in_channels, width, 3, padding=1),
        nn.ReLU(),
        conv(width, width, 3, stride=2, padding=1),
        nn.ReLU(),
        pool(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(width, out_channels),
    )

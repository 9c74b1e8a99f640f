"""Convolutional networks: ResNets and DenseNet-121 with the 28-px stem of the MedMNIST experiments.

MedMNIST v2 adapts ResNet to small images by replacing the 7×7 stride-2 stem and the
max-pool with a 3×3 stride-1 convolution; the same change serves 28³ volumes in 3-D.
``widen_factor`` scales every stage's width (1.0 is the published network); ``stem_stride``
2 halves the resolution in the stem (a quarter of the compute in 2-D, an eighth in 3-D).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import register

if TYPE_CHECKING:
    from torch import nn

_STAGE_WIDTHS = [64, 128, 256, 512]


def _resnet(
    block: str, layers: list[int], spatial_dims: int, in_channels: int, out_channels: int, widen_factor: float, stem_stride: int
) -> "nn.Module":
    from monai.networks.nets import ResNet

    return ResNet(
        block=block,
        layers=layers,
        block_inplanes=_STAGE_WIDTHS,
        spatial_dims=spatial_dims,
        n_input_channels=in_channels,
        conv1_t_size=3,
        conv1_t_stride=stem_stride,
        no_max_pool=True,
        widen_factor=widen_factor,
        num_classes=out_channels,
    )


@register("resnet18", family="cnn", spatial_dims=(2, 3))
def resnet18(spatial_dims: int, in_channels: int, out_channels: int, widen_factor: float = 1.0, stem_stride: int = 1) -> "nn.Module":
    return _resnet("basic", [2, 2, 2, 2], spatial_dims, in_channels, out_channels, widen_factor, stem_stride)


@register("resnet50", family="cnn", spatial_dims=(2, 3))
def resnet50(spatial_dims: int, in_channels: int, out_channels: int, widen_factor: float = 1.0, stem_stride: int = 1) -> "nn.Module":
    return _resnet("bottleneck", [3, 4, 6, 3], spatial_dims, in_channels, out_channels, widen_factor, stem_stride)


@register("densenet121", family="cnn", spatial_dims=(2, 3))
def densenet121(
    spatial_dims: int, in_channels: int, out_channels: int, growth_rate: int = 32, dropout: float = 0.0, stem_stride: int = 1
) -> "nn.Module":
    """DenseNet-121 with the same small-image stem: its three transitions then take 28 px to 3 px."""
    from monai.networks.layers.factories import Conv
    from monai.networks.nets import DenseNet121
    from torch import nn

    model = DenseNet121(
        spatial_dims=spatial_dims,
        in_channels=in_channels,
        out_channels=out_channels,
        growth_rate=growth_rate,
        dropout_prob=dropout,
    )
    stem = model.features.conv0
    model.features.conv0 = Conv[Conv.CONV, spatial_dims](in_channels, stem.out_channels, kernel_size=3, stride=stem_stride, padding=1, bias=False)
    model.features.pool0 = nn.Identity()
    return model

"""Segmentation networks (MONAI): U-Net, Attention U-Net and the transformer encoders UNETR
and SwinUNETR, in 2-D or 3-D.

Each returns per-voxel logits with ``out_channels`` classes at the input's resolution.
The default widths suit 64–256 px images; inputs must be divisible by 2**len(strides)
(U-Nets), by 16 (UNETR's patch size) or by 32 (SwinUNETR's five halvings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .registry import register

if TYPE_CHECKING:
    from torch import nn


@register("unet", family="unet", spatial_dims=(2, 3), task="segmentation")
def unet(
    spatial_dims: int,
    in_channels: int,
    out_channels: int,
    channels: Sequence[int] = (16, 32, 64, 128),
    strides: Sequence[int] = (2, 2, 2),
    num_res_units: int = 2,
) -> "nn.Module":
    """MONAI's residual U-Net (Kerfoot et al. 2018): one stride-2 level per entry of ``strides``."""
    from monai.networks.nets import UNet

    return UNet(spatial_dims, in_channels, out_channels, channels=tuple(channels), strides=tuple(strides), num_res_units=num_res_units)


@register("attention_unet", family="unet", spatial_dims=(2, 3), task="segmentation")
def attention_unet(
    spatial_dims: int,
    in_channels: int,
    out_channels: int,
    channels: Sequence[int] = (16, 32, 64, 128),
    strides: Sequence[int] = (2, 2, 2),
) -> "nn.Module":
    """Attention U-Net (Oktay et al. 2018): skip connections gated by the coarser level."""
    from monai.networks.nets import AttentionUnet

    return AttentionUnet(spatial_dims, in_channels, out_channels, channels=tuple(channels), strides=tuple(strides))


@register("unetr", family="hybrid", spatial_dims=(2, 3), task="segmentation")
def unetr(
    spatial_dims: int,
    in_channels: int,
    out_channels: int,
    img_size: Sequence[int],
    feature_size: int = 16,
    hidden_size: int = 768,
    mlp_dim: int = 3072,
    num_heads: int = 12,
) -> "nn.Module":
    """UNETR (Hatamizadeh et al. 2022): a 12-layer ViT on 16-px patches, with a convolutional
    decoder fed from layers 3, 6, 9 and 12. The defaults are the published sizes."""
    from monai.networks.nets import UNETR

    return UNETR(
        in_channels=in_channels,
        out_channels=out_channels,
        img_size=tuple(img_size),
        feature_size=feature_size,
        hidden_size=hidden_size,
        mlp_dim=mlp_dim,
        num_heads=num_heads,
        spatial_dims=spatial_dims,
    )


@register("swin_unetr", family="hybrid", spatial_dims=(2, 3), task="segmentation")
def swin_unetr(
    spatial_dims: int,
    in_channels: int,
    out_channels: int,
    img_size: Sequence[int],
    feature_size: int = 48,
    depths: Sequence[int] = (2, 2, 2, 2),
    num_heads: Sequence[int] = (3, 6, 12, 24),
) -> "nn.Module":
    """SwinUNETR (Hatamizadeh et al. 2022): a shifted-window transformer encoder over four
    stages with a convolutional decoder. The defaults are the published sizes
    (``feature_size`` a multiple of 12). ``img_size`` (the patch) is checked: every side a
    multiple of 32, and not 32 on every side (the deepest stage would hold one voxel, which
    instance normalisation cannot train on)."""
    from monai.networks.nets import SwinUNETR

    if any(side % 32 for side in img_size) or all(side == 32 for side in img_size):
        raise ValueError(f"swin_unetr needs a patch with every side a multiple of 32 and one side at least 64, not {list(img_size)}")

    return SwinUNETR(
        in_channels=in_channels,
        out_channels=out_channels,
        feature_size=feature_size,
        depths=tuple(depths),
        num_heads=tuple(num_heads),
        spatial_dims=spatial_dims,
    )

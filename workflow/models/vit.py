"""Vision transformers sized for MedMNIST's small images (MONAI ``ViT``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .registry import register

if TYPE_CHECKING:
    from torch import nn


@register("vit", family="vit", spatial_dims=(2, 3))
def vit(
    spatial_dims: int,
    in_channels: int,
    out_channels: int,
    img_size: Sequence[int],
    patch_size: int | None = None,
    hidden_size: int = 192,
    mlp_dim: int = 384,
    num_layers: int = 6,
    num_heads: int = 3,
) -> "nn.Module":
    """A small ViT: 4-px patches in 2-D (7×7 tokens at 28 px), 7-voxel patches in 3-D (4³ tokens).

    MONAI's ViT defaults to 3-D and ends its head with tanh; here the dimensionality comes
    from the data and the head returns plain logits.
    """
    from monai.networks.nets import ViT
    from torch import nn

    class Logits(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vit = ViT(
                in_channels=in_channels,
                img_size=tuple(img_size),
                patch_size=patch_size or (4 if spatial_dims == 2 else 7),
                hidden_size=hidden_size,
                mlp_dim=mlp_dim,
                num_layers=num_layers,
                num_heads=num_heads,
                classification=True,
                num_classes=out_channels,
                spatial_dims=spatial_dims,
                post_activation=None,
            )

        def forward(self, x):
            return self.vit(x)[0]

    return Logits()

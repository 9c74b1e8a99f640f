"""Saliency maps for a trained model: Grad-CAM, attention rollout and occlusion.

- ``gradcam`` (Captum's ``LayerGradCam``) on the last feature map of more than one pixel a
  convolutional or hybrid network computes: the input of its last global pooling, or else
  the output of its last such convolution, upsampled to the image
  (``LayerAttribution.interpolate``).
- ``rollout`` (Abnar & Zuidema, 2020) for vision transformers: the class token's attention
  to each patch, multiplied through the layers with the residual path (MONAI's
  self-attention blocks keep their attention matrices with ``save_attn``).
- ``occlusion`` (Captum's ``Occlusion``) for every model: the drop of the class logit when a
  window of pixels or voxels is set to black, the common, model-agnostic method.

A method that does not apply to a model returns the reason from :func:`not_applicable`.
Maps have the images' spatial shape, one per image; volumes give slice-wise maps.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import LayerAttribution, LayerGradCam, Occlusion
from torch import nn

from .trained import TrainedModel

METHODS = ("gradcam", "rollout", "occlusion")
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_POOL = (nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d, nn.AvgPool2d, nn.AvgPool3d)


def _attention_blocks(module: nn.Module) -> list[nn.Module]:
    from monai.networks.blocks.selfattention import SABlock

    return [m for m in module.modules() if isinstance(m, SABlock)]


def gradcam_layer(model: TrainedModel, x: torch.Tensor) -> tuple[nn.Module, bool] | str:
    """The layer Grad-CAM reads and whether its input (not its output) is the feature map;
    or why there is none. ``x``: one batch of the model's images."""
    if model.module is None:
        return "a scikit-learn model has no feature maps"
    if _attention_blocks(model.module):
        return "a vision transformer's only convolution embeds the patches; attention rollout explains it"
    seen: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, i[0], o))) for m in model.module.modules() if isinstance(m, _CONV + _POOL)]
    try:
        with torch.no_grad():
            model.logits(x[:1])
    finally:
        for hook in hooks:
            hook.remove()
    if not any(isinstance(m, _CONV) for m, _, _ in seen):
        return "the network has no convolutions"
    ndim = x.ndim
    for layer, inputs, output in reversed(seen):
        if isinstance(layer, _POOL) and output.shape[2:].numel() == 1 and inputs.ndim == ndim and inputs.shape[0] == 1 and inputs.shape[2:].numel() > 1:
            return layer, True
        if isinstance(layer, _CONV):
            if output.ndim != ndim or output.shape[0] != 1:
                return "its convolutions run on single slices, not on the volume: their feature maps are not the input's"
            if output.shape[2:].numel() > 1:  # a single-pixel map (a deep network on small images) locates nothing
                return layer, False
    return "no convolutional feature map of more than one pixel reaches the classifier"


def not_applicable(model: TrainedModel, method: str, x: torch.Tensor) -> str | None:
    """Why ``method`` cannot explain ``model`` (None when it can)."""
    if method == "gradcam":
        found = gradcam_layer(model, x)
        return found if isinstance(found, str) else None
    if method == "rollout":
        if model.module is None or not _attention_blocks(model.module):
            return "attention rollout needs a vision transformer's self-attention blocks"
        return None
    if method == "occlusion":
        return None
    raise ValueError(f"unknown saliency method {method!r}; known: {', '.join(METHODS)}")


def saliency(model: TrainedModel, method: str, x: torch.Tensor, targets: torch.Tensor, window: int = 4, stride: int = 2) -> np.ndarray:
    """Maps ``(N, *spatial)`` of ``method`` for images ``x`` in [0, 1] and their target
    classes; ``window`` and ``stride``: occlusion's cube side and step, in pixels or voxels."""
    reason = not_applicable(model, method, x)
    if reason:
        raise ValueError(f"{method} does not apply to {model.name}: {reason}")
    spatial = tuple(x.shape[2:])
    if method == "gradcam":
        layer, layer_input = gradcam_layer(model, x)
        cam = LayerGradCam(model.logits, layer)
        maps = cam.attribute(x, target=targets, attribute_to_layer_input=layer_input, relu_attributions=True)
        mode = "bilinear" if len(spatial) == 2 else "trilinear"
        maps = LayerAttribution.interpolate(maps.detach(), spatial, interpolate_mode=mode)
        return maps[:, 0].numpy()
    if method == "rollout":
        return _rollout(model, x, spatial)
    channels = x.shape[1]
    with torch.no_grad():
        maps = Occlusion(model.logits).attribute(
            x,
            sliding_window_shapes=(channels, *(window,) * len(spatial)),
            strides=(channels, *(stride,) * len(spatial)),
            baselines=0.0,
            target=targets,
            perturbations_per_eval=32,
        )
    return maps.sum(dim=1).numpy()


@torch.no_grad()
def _rollout(model: TrainedModel, x: torch.Tensor, spatial: tuple[int, ...]) -> np.ndarray:
    blocks = _attention_blocks(model.module)
    saved = [b.save_attn for b in blocks]
    for block in blocks:
        block.save_attn = True
    try:
        model.logits(x)
        attentions = [b.att_mat.mean(dim=1) for b in blocks]  # (N, tokens, tokens), heads averaged
    finally:
        for block, flag in zip(blocks, saved):
            block.save_attn = flag
    tokens = attentions[0].shape[-1]
    identity = torch.eye(tokens)
    rollout = identity.expand(len(x), tokens, tokens)
    for attention in attentions:
        mixed = 0.5 * attention + 0.5 * identity
        rollout = (mixed / mixed.sum(dim=-1, keepdim=True)) @ rollout
    grid_side = round((tokens - 1) ** (1 / len(spatial)))
    grid = rollout[:, 0, 1:].reshape(len(x), 1, *(grid_side,) * len(spatial))
    mode = "bilinear" if len(spatial) == 2 else "trilinear"
    return F.interpolate(grid, size=spatial, mode=mode, align_corners=False)[:, 0].numpy()

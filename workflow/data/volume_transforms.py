"""MONAI transforms for labelled volumes, as 3-D segmentation papers and MONAI's tutorials use them.

Every volume is read with its affine, reoriented to RAS, resampled to the dataset's voxel
spacing (images bilinear, labels nearest) and normalised per modality: a CT window in
Hounsfield units scaled to [0, 1] and clipped; MRI z-scored over its non-zero voxels, per
channel. Volumes smaller than the patch are padded to it. A prediction goes back to the
volume's own grid by MONAI's inverse of these transforms, so metrics are computed where
the ground truth was drawn.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from monai import transforms as mt
from monai.data import MetaTensor

KEYS = ("image", "label")


def preprocessing(modality: str, spacing: Sequence[float], patch: Sequence[int], window: Sequence[float] | None = None) -> mt.Compose:
    """The deterministic part: load, orient, resample, normalise, pad to at least ``patch``."""
    if modality == "CT":
        if window is None:
            raise ValueError("a CT dataset needs an intensity window in Hounsfield units (window: [low, high])")
        intensity = mt.ScaleIntensityRanged("image", a_min=window[0], a_max=window[1], b_min=0.0, b_max=1.0, clip=True)
    elif modality == "MRI":
        intensity = mt.NormalizeIntensityd("image", nonzero=True, channel_wise=True)
    else:
        raise ValueError(f"no intensity normalisation for modality {modality!r}: CT or MRI")
    return mt.Compose(
        [
            mt.LoadImaged(KEYS, image_only=False),
            mt.EnsureChannelFirstd(KEYS),
            mt.Orientationd(KEYS, axcodes="RAS", labels=None),
            mt.Spacingd(KEYS, pixdim=tuple(spacing), mode=("bilinear", "nearest")),
            intensity,
            mt.SpatialPadd(KEYS, spatial_size=tuple(patch)),
        ]
    )


def to_native_grid(predicted: torch.Tensor, label: MetaTensor, transform: mt.Compose) -> np.ndarray:
    """A label map predicted on the preprocessed grid of ``label`` (a preprocessed label that
    carries its applied transforms), taken back to the volume's own grid and orientation by
    inverting ``transform`` with nearest-neighbour resampling."""
    moved = MetaTensor(predicted[None].float(), meta=label.meta)
    inverted = mt.Invertd("predicted", transform, orig_keys="label", nearest_interp=True)({"predicted": moved, "label": label})
    return np.asarray(inverted["predicted"][0]).round().astype(np.uint8)


def native_label(path: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A label file as stored (integer array) and its voxel spacing in mm."""
    label = mt.LoadImage(image_only=True, ensure_channel_first=True)(path)
    return np.asarray(label[0]).round().astype(np.uint8), tuple(float(s) for s in label.pixdim[:3])

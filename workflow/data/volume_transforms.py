"""MONAI transforms for labelled volumes, as 3-D segmentation papers and MONAI's tutorials use them.

Every volume is read with its affine, reoriented to RAS, resampled to the dataset's voxel
spacing (images bilinear, labels nearest) and normalised per modality: a CT window in
Hounsfield units scaled to [0, 1] and clipped; MRI z-scored over its non-zero voxels, per
channel. Volumes smaller than the patch are padded to it. Training draws random patches,
as many centred on foreground as on background (``RandCropByPosNegLabeld``).
"""

from __future__ import annotations

from typing import Sequence

from monai import transforms as mt

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
            mt.EnsureTyped(KEYS, track_meta=False),
        ]
    )


def patch_sampler(patch: Sequence[int], samples: int) -> mt.RandCropByPosNegLabeld:
    """``samples`` random patches per volume, half centred on a foreground voxel and half on
    any other voxel (no intensity threshold: z-scored MRI tissue can be negative)."""
    return mt.RandCropByPosNegLabeld(KEYS, label_key="label", spatial_size=tuple(patch), pos=1, neg=1, num_samples=samples)

"""Random augmentation of segmentation training samples (MONAI dictionary transforms).

Configured per dataset in the profile (``augment``), so that each modality gets what its
anatomy allows: flips only along axes where a mirrored image is still a plausible one (not
left-right on a chest radiograph, not along the hippocampus's anterior-posterior axis,
whose two labels it would swap), a random rotation and zoom (image bilinear, label
nearest), and intensity changes of the image alone (scale, shift, Gaussian noise, gamma).
Each transform fires with its own probability; the draws are seeded per epoch by the
caller, so runs repeat and resume exactly.
"""

from __future__ import annotations

import math

from monai import transforms as mt

KEYS = ("image", "label")


def augmentation(settings: dict | None, spatial_dims: int) -> mt.Compose | None:
    """The transforms ``settings`` describes (None when it asks for none):

    ``flip_axes`` (spatial axes flipped with probability 0.5 each), ``rotate_deg`` (uniform
    in ±, about every axis in 3-D), ``scale`` (zoom uniform in 1 ± scale), ``probability``
    (of the rotation and zoom, default 0.5), ``intensity``: ``scale`` and ``shift`` (of the
    z-scored image), ``noise_std``, ``gamma`` ([low, high]), each with probability 0.5.
    """
    if not settings:
        return None
    steps: list = [mt.RandFlipd(KEYS, prob=0.5, spatial_axis=axis) for axis in settings.get("flip_axes", [])]
    rotate, scale = math.radians(settings.get("rotate_deg", 0)), settings.get("scale", 0.0)
    if rotate or scale:
        steps.append(
            mt.RandAffined(
                KEYS,
                prob=settings.get("probability", 0.5),
                rotate_range=rotate if spatial_dims == 2 else (rotate,) * 3,
                scale_range=(scale,) * spatial_dims,
                mode=("bilinear", "nearest"),
                padding_mode="zeros",
            )
        )
    intensity = settings.get("intensity", {})
    if intensity.get("scale"):
        steps.append(mt.RandScaleIntensityd("image", factors=intensity["scale"], prob=0.5))
    if intensity.get("shift"):
        steps.append(mt.RandShiftIntensityd("image", offsets=intensity["shift"], prob=0.5))
    if intensity.get("noise_std"):
        steps.append(mt.RandGaussianNoised("image", std=intensity["noise_std"], prob=0.5))
    if intensity.get("gamma"):
        steps.append(mt.RandAdjustContrastd("image", gamma=tuple(intensity["gamma"]), prob=0.5))
    return mt.Compose(steps) if steps else None

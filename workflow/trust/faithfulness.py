"""How far a saliency map can be believed: deletion and insertion curves, and the
model-randomisation sanity check.

- Deletion (Petsiuk et al., 2018): the most salient pixels (voxels) are set to black in
  ``steps`` equal portions; the curve is the target class's probability against the
  fraction removed, and its area (lower is better) says how quickly the map finds what
  the model relies on. Insertion starts from a blurred copy and puts the original pixels
  back in the same order (area: higher is better). A random map's areas are the reference.
- Model randomisation (Adebayo et al., 2018): Spearman's rank correlation between a
  method's maps for the trained model and for the same architecture with its weights
  drawn again, on the pixels where either map is non-zero, of the signed maps and of their
  magnitudes. A method whose maps do not change (high correlation) does not depend on
  what the model learned; a constant map has no rank correlation (undefined, never a pass).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter
from scipy.stats import spearmanr


def salience_order(saliency: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices from most to least salient; ties in a seeded random order."""
    flat = np.asarray(saliency, dtype=np.float64).ravel()
    ties = np.random.default_rng(seed).random(flat.size)
    return np.lexsort((ties, -flat))


def blurred(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """``image`` (C, *spatial) smoothed per channel over its spatial axes (insertion's start)."""
    array = image.numpy()
    return torch.from_numpy(np.stack([gaussian_filter(channel, sigma) for channel in array]).astype(array.dtype))


def curves(
    probability: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    saliency: np.ndarray,
    steps: int,
    seed: int = 0,
    blur_sigma: float | None = None,
) -> dict[str, np.ndarray]:
    """Deletion and insertion curves (``steps + 1`` points each, from 0 to all pixels).

    ``probability`` maps a batch of images to the target class's probability per image;
    ``image`` is one (C, *spatial) image in [0, 1]; ``saliency`` has its spatial shape.
    """
    spatial = image.shape[1:]
    if tuple(saliency.shape) != tuple(spatial):
        raise ValueError(f"saliency of shape {tuple(saliency.shape)} for an image of spatial shape {tuple(spatial)}")
    order = torch.from_numpy(salience_order(saliency, seed))
    n = order.numel()
    counts = np.linspace(0, n, steps + 1).round().astype(int)
    start = blurred(image, blur_sigma if blur_sigma is not None else max(spatial) / 14)
    flat_image, flat_start = image.reshape(image.shape[0], -1), start.reshape(image.shape[0], -1)
    deleted, inserted = [], []
    for count in counts:
        chosen = order[:count]
        removed = flat_image.clone()
        removed[:, chosen] = 0.0
        added = flat_start.clone()
        added[:, chosen] = flat_image[:, chosen]
        deleted.append(removed.reshape(image.shape))
        inserted.append(added.reshape(image.shape))
    with torch.no_grad():
        scores = probability(torch.stack(deleted + inserted)).numpy()
    fractions = counts / n
    return {"fraction": fractions, "deletion": scores[: len(counts)], "insertion": scores[len(counts) :]}


def area(fractions: np.ndarray, values: np.ndarray) -> float:
    """Area under a curve sampled at ``fractions`` of [0, 1] (trapezoids)."""
    return float(np.trapezoid(values, fractions))


def rank_correlation(first: np.ndarray, second: np.ndarray, absolute: bool = False) -> float:
    """Spearman's rho between two maps of one image on its informative pixels (voxels):
    those where either map is non-zero (a black background that no occlusion window or
    rectified Grad-CAM can score is the same zero for every model, and would count as
    agreement). ``absolute``: of the maps' magnitudes. NaN (undefined, not a pass) when
    either map is constant there."""
    a, b = np.ravel(first).astype(np.float64), np.ravel(second).astype(np.float64)
    if absolute:
        a, b = np.abs(a), np.abs(b)
    informative = (a != 0) | (b != 0)
    a, b = a[informative], b[informative]
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)

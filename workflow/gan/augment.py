"""Extend a training split with synthetic images; validation and test stay real."""

from __future__ import annotations

import os

import numpy as np

Arrays = dict[str, tuple[np.ndarray, np.ndarray]]


def with_synthetic(splits: Arrays, synthetic_npz: str | os.PathLike, ratio: float) -> tuple[Arrays, int]:
    """``splits`` with the first ``round(ratio × n_train)`` synthetic images appended to train."""
    images, labels = splits["train"]
    wanted = round(ratio * len(images))
    with np.load(synthetic_npz) as npz:
        fake_images, fake_labels = npz["images"], npz["labels"]
    if len(fake_images) < wanted:
        raise ValueError(f"{synthetic_npz} holds {len(fake_images)} synthetic images; ratio {ratio} needs {wanted}")
    if fake_images.shape[1:] != images.shape[1:] or fake_labels.shape[1:] != labels.shape[1:]:
        raise ValueError(f"{synthetic_npz}: images {fake_images.shape[1:]} / labels {fake_labels.shape[1:]} do not match the training split's")
    train = (
        np.concatenate([images, fake_images[:wanted].astype(images.dtype)]),
        np.concatenate([labels, fake_labels[:wanted].astype(labels.dtype)]),
    )
    return {**splits, "train": train}, wanted

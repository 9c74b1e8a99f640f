"""What every 2-D segmentation dataset shares: its cases, a sample read at its own
resolution, checksums, splits, and resizing to the training grid.

A dataset module (``hc18``, ``montgomery``, ``drive``, ``jsrt_scr``, ``medseg_covid``;
registered in ``workflow.data.segmentation_datasets``) lists its :class:`Case`s with the
files each reads and reads one as a :class:`Sample`: the image and the label at their
original resolution, the label grid's pixel size where the dataset states one, and the
region a dataset's protocol scores (DRIVE: the field of view). Training uses the samples
resized to a fixed grid; test metrics are computed on the original label grid.

Every file read is checked first against ``segmentation/MD5SUMS`` or the ``MD5SUMS`` that a
download writes into the dataset's folder, or else against the manifest this package keeps
of a dataset distributed only after registration (``manifests/``: the MD5s of the copy the
kept results were made with; the files themselves are never part of the repository).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DataError
from .download import md5sum

MANIFESTS = Path(__file__).with_name("manifests")
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}


class SegmentationDataError(DataError):
    """A file is missing, does not match its recorded MD5, or the folder is not the dataset's."""


@dataclass(frozen=True)
class Case:
    """One scored case: an image with its label."""

    name: str
    split: str  # train, val or test
    files: tuple[str, ...]  # relative to the data root's segmentation folder, checked against MD5SUMS
    group: str = ""  # the patient, where known (cases of one patient share a split)


@dataclass
class Sample:
    """A case read at its own resolution."""

    image: np.ndarray  # uint8, (H, W) or (H, W, C)
    label: np.ndarray  # uint8 on the label grid: (H0, W0) class indices, or (K, H0, W0) {0, 1} per structure
    spacing: tuple[float, float] | None  # mm per row and column of the label grid; None where unknown
    region: np.ndarray | None = None  # bool (H0, W0): where the dataset's protocol scores (DRIVE: field of view)
    reference: dict[str, float] = field(default_factory=dict)  # per-case values a protocol compares with


def read_md5sums(root: Path) -> dict[str, str]:
    """``root/MD5SUMS`` and the ``MD5SUMS`` of its folders (written by a download) as
    {path relative to ``root``: md5}."""
    sums = {}
    for listing in [root / "MD5SUMS", *sorted(root.glob("*/MD5SUMS"))]:
        if listing.is_file():
            sums |= {str((listing.parent / name).relative_to(root)): digest for digest, name in _entries(listing)}
    return sums


def _entries(listing: Path) -> list[tuple[str, str]]:
    """(md5, name) per line of an ``md5sum`` listing (blank lines skipped; a binary-mode ``*``
    before the name dropped)."""
    entries = []
    for line in listing.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries.append((digest, name.strip().removeprefix("*")))
    return entries


def checksums(root: Path) -> dict[str, str]:
    """The MD5 each file under ``root`` must have: the package's manifests, overridden by the
    ``MD5SUMS`` files of the data root (a copy that comes with its own checksums)."""
    sums = {name: digest for manifest in sorted(MANIFESTS.glob("*.md5")) for digest, name in _entries(manifest)}
    return sums | read_md5sums(root)


def verify(root: Path, files: list[str], sums: dict[str, str] | None = None) -> None:
    """Check each file (relative to ``root``) against its MD5 (:func:`checksums`); raise naming
    the first bad one."""
    sums = checksums(root) if sums is None else sums
    for name in files:
        path = root / name
        if not path.is_file():
            raise SegmentationDataError(f"{path} not found: the copy under {root} is incomplete; restore the file from the dataset's source")
        if name not in sums:
            raise SegmentationDataError(f"{path} has no entry in {root / 'MD5SUMS'}, {root}/*/MD5SUMS or {MANIFESTS}/*.md5")
        actual = md5sum(path)
        if actual != sums[name]:
            raise SegmentationDataError(
                f"{path}: md5 {actual} does not match {sums[name]}, the checksum recorded for it (an MD5SUMS under {root}, "
                f"or {MANIFESTS}); the file is corrupt or from another release. Restore it, or, for a copy you trust, list "
                f"its checksums in {root / 'MD5SUMS'}"
            )


def split_of(case: str) -> str:
    """A case's split, from a hash of its id: stable when cases are added or removed."""
    position = int(hashlib.sha256(case.encode()).hexdigest()[:8], 16) / 0x1_0000_0000
    if position < SPLIT_FRACTIONS["train"]:
        return "train"
    return "val" if position < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"] else "test"


def held_out(names: list[str], count: int) -> set[str]:
    """``count`` names evenly spaced through ``names`` sorted: a validation subset of an official
    training split that has none, fixed and easy to state."""
    ordered = sorted(names)
    if count <= 0 or not ordered:
        return set()
    return {ordered[i] for i in np.unique(np.linspace(0, len(ordered) - 1, min(count, len(ordered))).round().astype(int))}


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An 8-bit image (H, W) or (H, W, C) resized to ``size`` (rows, columns), bilinear."""
    mode = "RGB" if image.ndim == 3 else "L"
    return np.asarray(Image.fromarray(image, mode=mode).resize((size[1], size[0]), Image.BILINEAR))


def resize_label(label: np.ndarray, size: tuple[int, int], multilabel: bool) -> np.ndarray:
    """A label resized to ``size`` by the area each class covers (Pillow's antialiased bilinear
    filter on its indicator): per structure ≥ 0.5 for a multi-label stack (K, H, W), the class
    covering most of each new pixel for a class map (H, W)."""

    def fraction(mask: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(mask.astype(np.float32), mode="F").resize((size[1], size[0]), Image.BILINEAR))

    if multilabel:
        return np.stack([fraction(channel) >= 0.5 for channel in label]).astype(np.uint8)
    values = np.unique(label)
    if len(values) == 1:
        return np.full(size, values[0], dtype=np.uint8)
    cover = np.stack([fraction(label == value) for value in values])
    return values[cover.argmax(0)].astype(np.uint8)


def normalise(image: np.ndarray) -> np.ndarray:
    """(C, H, W) float32 z-scored per channel over the image (a flat channel becomes 0)."""
    image = image.astype(np.float32)
    mean = image.mean(axis=(1, 2), keepdims=True)
    std = image.std(axis=(1, 2), keepdims=True)
    return (image - mean) / np.where(std > 0, std, 1.0)


def channels_first(image: np.ndarray) -> np.ndarray:
    """(H, W) → (1, H, W); (H, W, C) → (C, H, W)."""
    return image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)


def label_stack(label: np.ndarray, classes: dict[int, str], multilabel: bool) -> np.ndarray:
    """A label as one binary mask per foreground class, (K, H, W) bool."""
    if multilabel:
        return label.astype(bool)
    return np.stack([label == value for value in classes])

"""Segmentation data under ``$DLMIA_DATA/segmentation``, prepared as 2-D image/mask arrays.

Two datasets (volumes are in ``workflow.data.volumes``):

* ``hc18``: HC18 fetal-head ultrasound. Each expert annotation is an ellipse, filled into
  a binary mask (an outline is filled; an already filled ellipse is kept), and its
  circumference must match the CSV's head circumference within 5%. Images and
  masks are resized to ``size``×``size``; the spacing of the resized grid (mm per row and
  per column) comes from the pixel-size CSV. Cases are split 70/15/15 by a hash of the
  case number, so repeat scans (``NNN_2HC``, ``NNN_3HC``…) stay with their case.
* ``montgomery``: the Montgomery County chest X-ray set (``workflow.data.montgomery``,
  downloaded when missing): the left and right lung masks joined, images resized to
  ``size``×``size``, split 70/15/15 by a hash of the patient number.

Every file read is checked against ``segmentation/MD5SUMS`` (or the ``MD5SUMS`` that a download writes into
the dataset's folder, ``workflow.data.hc18``) first.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage

from ..errors import DataError
from .download import md5sum

DATASETS = ("hc18", "montgomery")
MODALITIES = {"hc18": "ultrasound", "montgomery": "X-ray"}  # the groups of modalities.csv
SPLITS = ("train", "val", "test")
HC18 = "hc18_fetal_head_us"
HC18_CSV = f"{HC18}/training_set_pixel_size_and_HC.csv"
SPLIT_FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}
HC_TOLERANCE = 0.05  # a filled mask's ellipse circumference vs the CSV's head circumference


class SegmentationDataError(DataError):
    """A file is missing or does not match its recorded MD5."""


@dataclass
class SegmentationSplit:
    images: np.ndarray  # uint8, (N, 1, size, size)
    masks: np.ndarray  # uint8 {0, 1}, (N, 1, size, size)
    spacing: np.ndarray  # float, (N, 3): mm between slices (0 for single images), rows, columns
    groups: np.ndarray  # str, (N,): what is scored as one case (an image)
    names: np.ndarray  # str, (N,): source file (and slice)


def read_md5sums(root: Path) -> dict[str, str]:
    """``root/MD5SUMS`` and the ``MD5SUMS`` of its folders (written by a download) as
    {path relative to ``root``: md5}."""
    sums = {}
    for listing in [root / "MD5SUMS", *sorted(root.glob("*/MD5SUMS"))]:
        if not listing.is_file():
            continue
        for line in listing.read_text().splitlines():
            digest, name = line.split(maxsplit=1)
            sums[str((listing.parent / name.strip()).relative_to(root))] = digest
    return sums


def verify(root: Path, files: list[str]) -> None:
    """Check each file (relative to ``root``) against ``MD5SUMS``; raise naming the first bad one."""
    sums = read_md5sums(root)
    for name in files:
        path = root / name
        if not path.is_file():
            raise SegmentationDataError(
                f"{path} not found: the copy under {root} is incomplete. Restore the file, or (HC18) delete "
                f"{root / HC18} to download the official release on the next run"
            )
        if name not in sums:
            raise SegmentationDataError(f"{path} has no entry in {root / 'MD5SUMS'} or {root}/*/MD5SUMS")
        actual = md5sum(path)
        if actual != sums[name]:
            raise SegmentationDataError(f"{path}: md5 {actual} does not match {sums[name]} recorded in an MD5SUMS under {root}")


def fill_outline(annotation: np.ndarray) -> np.ndarray:
    """A drawn outline (any non-zero pixel, any channel) filled into a boolean mask."""
    drawn = annotation.any(axis=-1) if annotation.ndim == 3 else annotation > 0
    return ndimage.binary_fill_holes(drawn)


def ellipse_circumference(mask: np.ndarray, row_mm: float, col_mm: float) -> float:
    """Circumference (mm) of the ellipse with the mask's second moments (Ramanujan's formula)."""
    rows, cols = np.nonzero(mask)
    points = np.stack([rows * row_mm, cols * col_mm])
    variances = np.linalg.eigvalsh(np.cov(points))
    a, b = 2.0 * np.sqrt(variances[::-1])  # semi-axes of a uniform ellipse
    h = ((a - b) / (a + b)) ** 2
    return float(math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h))))


def case_of(filename: str) -> str:
    """``010_2HC.png`` → ``010``: the case a (repeat) HC18 image belongs to."""
    match = re.match(r"(\d+)_\d*HC\.png$", filename)
    if not match:
        raise ValueError(f"{filename} is not an HC18 image name (NNN_HC.png, NNN_2HC.png…)")
    return match.group(1)


def split_of(case: str) -> str:
    """A case's split, from a hash of its id: stable when cases are added or removed."""
    position = int(hashlib.sha256(case.encode()).hexdigest()[:8], 16) / 0x1_0000_0000
    if position < SPLIT_FRACTIONS["train"]:
        return "train"
    return "val" if position < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"] else "test"


def resize_pair(image: np.ndarray, mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Image (bilinear) and mask (area-weighted, then ≥ 0.5) resized to ``size``×``size``."""
    small = np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))
    fraction = np.asarray(Image.fromarray(mask.astype(np.float32)).resize((size, size), Image.BILINEAR))
    return small, (fraction >= 0.5).astype(np.uint8)


def _stack(rows: list[tuple]) -> SegmentationSplit:
    images, masks, spacing, groups, names = zip(*rows)
    return SegmentationSplit(
        images=np.stack(images)[:, None],
        masks=np.stack(masks)[:, None],
        spacing=np.asarray(spacing, dtype=np.float64),
        groups=np.asarray(groups),
        names=np.asarray(names),
    )


def hc18_table(root: Path) -> pd.DataFrame:
    """The pixel-size CSV with each image's annotation file, case and split."""
    table = pd.read_csv(root / HC18_CSV).rename(columns={"pixel size(mm)": "pixel_mm", "head circumference (mm)": "hc_mm"})
    table["annotation"] = table["filename"].str.replace(".png", "_Annotation.png", regex=False)
    table["case"] = table["filename"].map(case_of)
    table["split"] = table["case"].map(split_of)
    return table


def load_hc18(root: Path, size: int) -> dict[str, SegmentationSplit]:
    table = hc18_table(root)
    folder = f"{HC18}/training_set"
    verify(root, [HC18_CSV] + [f"{folder}/{n}" for pair in zip(table["filename"], table["annotation"]) for n in pair])
    rows: dict[str, list[tuple]] = {name: [] for name in SPLITS}
    for row in table.itertuples():
        image = np.asarray(Image.open(root / folder / row.filename).convert("L"))
        mask = fill_outline(np.asarray(Image.open(root / folder / row.annotation)))
        if image.shape != mask.shape:
            raise SegmentationDataError(f"{row.filename}: image {image.shape} and annotation {mask.shape} differ in size")
        circumference = ellipse_circumference(mask, row.pixel_mm, row.pixel_mm)
        if abs(circumference / row.hc_mm - 1) > HC_TOLERANCE:
            raise SegmentationDataError(
                f"{row.annotation}: the filled mask's circumference {circumference:.1f} mm is not within "
                f"{HC_TOLERANCE:.0%} of the {row.hc_mm} mm in {HC18_CSV}; is the outline closed?"
            )
        height, width = image.shape
        small, small_mask = resize_pair(image, mask, size)
        spacing = (0.0, row.pixel_mm * height / size, row.pixel_mm * width / size)
        rows[row.split].append((small, small_mask, spacing, row.filename, row.filename))
    return {name: _stack(found) for name, found in rows.items()}


def load_montgomery(root: Path, size: int) -> dict[str, SegmentationSplit]:
    """Montgomery chest X-rays with their left and right lung masks joined into one, resized to
    ``size``×``size`` and split by patient; images without both masks of their size are left
    out (``workflow.data.montgomery.cases`` says why; the dataset card lists them)."""
    from .montgomery import FOLDER, MASKS, PIXEL_MM, cases

    folder = root / FOLDER
    usable, _ = cases(folder)
    if not usable:
        raise SegmentationDataError(f"Montgomery County CXR set: no image with both lung masks under {folder}")
    verify(root, [f"{FOLDER}/{part}/{case.name}.png" for case in usable for part in ("CXR_png", *(f"ManualMask/{m}" for m in MASKS))])
    rows: dict[str, list[tuple]] = {split: [] for split in SPLITS}
    for case in usable:
        image = np.asarray(Image.open(folder / "CXR_png" / f"{case.name}.png").convert("L"))
        lungs = np.zeros(image.shape, dtype=bool)
        for side in MASKS:
            lungs |= np.asarray(Image.open(folder / "ManualMask" / side / f"{case.name}.png").convert("L")) > 127
        small, mask = resize_pair(image, lungs, size)
        height, width = image.shape
        rows[case.split].append((small, mask, (0.0, PIXEL_MM * height / size, PIXEL_MM * width / size), case.patient, case.name))
    return {split: _stack(found) for split, found in rows.items() if found}


def load(dataset: str, root: Path, size: int) -> dict[str, SegmentationSplit]:
    """The splits of ``dataset`` read from ``root`` (the data root's ``segmentation`` folder)."""
    loaders = {"hc18": load_hc18, "montgomery": load_montgomery}
    if dataset not in loaders:
        raise ValueError(f"no segmentation dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return loaders[dataset](root, size)


def save(splits: dict[str, SegmentationSplit], path: str | Path) -> None:
    arrays = {f"{split}_{field}": getattr(data, field) for split, data in splits.items() for field in SegmentationSplit.__dataclass_fields__}
    np.savez_compressed(path, **arrays)


def read(path: str | Path) -> dict[str, SegmentationSplit]:
    """Splits written by :func:`save`."""
    with np.load(path) as npz:
        present = sorted({key.split("_", 1)[0] for key in npz.files}, key=SPLITS.index)
        return {
            split: SegmentationSplit(**{field: npz[f"{split}_{field}"] for field in SegmentationSplit.__dataclass_fields__})
            for split in present
        }

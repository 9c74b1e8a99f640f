"""HC18 fetal-head ultrasound (ultrasound): the official release, fetched from Zenodo when
the data root lacks it, read as filled head masks.

Record 1327317 (DOI 10.5281/zenodo.1327317, CC BY 4.0; van den Heuvel et al., PLoS ONE
2018, 13(8): e0200412) holds ``training_set.zip`` (999 images with their head-outline
annotations, under ``training_set/``), ``training_set_pixel_size_and_HC.csv`` and a test
set without annotations, which is not used. The MD5s below are those Zenodo lists.

Each expert annotation is an ellipse outline, filled into a binary mask (an already filled
ellipse is kept); an annotation whose filled ellipse does not have the CSV's head
circumference (within 5 %) is set aside. Images are 800×540 with their own pixel size
(the CSV). Cases are split 70/15/15 by a hash of the case number, so repeat scans
(``NNN_2HC``, ``NNN_3HC``…) stay with their case: the split of a case does not depend on
which other cases are present.

A folder already under the data root (``segmentation/hc18_fetal_head_us`` with its CSV and
``training_set/``) is used as it is, however many images it holds. Otherwise the archive
and the CSV are downloaded (``workflow.data.download``), the archive is extracted into a
temporary folder beside the final one and renamed into place once complete, and an
``MD5SUMS`` of every extracted file is written beside it, so later reads are checked file
by file as those of a provided copy are.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage

from .download import DownloadError, download_file, md5sum
from .segmentation import Case, Sample, SegmentationDataError, split_of

NAME = "hc18"
MODALITY = "ultrasound"
CLASSES = {1: "fetal head"}
MULTILABEL = False
FOLDER = "hc18_fetal_head_us"
CSV = f"{FOLDER}/training_set_pixel_size_and_HC.csv"
RECORD = "https://zenodo.org/records/1327317/files"
CITATION = (
    "van den Heuvel T.L.A. et al. Automated measurement of fetal head circumference using 2D ultrasound images. "
    "PLoS ONE 13(8): e0200412 (2018). doi:10.1371/journal.pone.0200412"
)
LICENSE = "CC BY 4.0 (the Zenodo record); downloaded from Zenodo without registration"
MEMBER = re.compile(r"training_set/\d{3}_\d?HC(_Annotation)?\.png")
HC_TOLERANCE = 0.05  # a filled mask's ellipse circumference vs the CSV's head circumference


@dataclass(frozen=True)
class Release:
    """Where the official files are and their published MD5s."""

    base_url: str = RECORD
    archive_md5: str = "00eb8198b9a505b2b3a6dfc740382497"  # training_set.zip, 132,926,838 bytes
    csv_md5: str = "c0761518fece2bd2d2ad4218f2cd9777"  # training_set_pixel_size_and_HC.csv, 33,688 bytes

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}?download=1"


def present(root: Path) -> bool:
    """Whether ``root`` (the data root's ``segmentation`` folder) holds an HC18 training set."""
    return (root / CSV).is_file() and (root / FOLDER / "training_set").is_dir()


def ensure(root: Path, release: Release = Release(), **retry) -> Path:
    """The HC18 folder under ``root``, downloaded and extracted first if it is not there.

    A failed download raises :class:`SegmentationDataError` naming the URL, the destination
    and what to do; nothing is left under the final names.
    """
    folder = root / FOLDER
    if present(root):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    archive, csv = folder / "training_set.zip", folder / ".csv.download"
    try:
        for url, path, md5, label in [
            (release.url("training_set_pixel_size_and_HC.csv"), csv, release.csv_md5, "HC18 CSV"),
            (release.url("training_set.zip"), archive, release.archive_md5, "HC18 training_set.zip"),
        ]:
            download_file(url, path, md5, label, **retry)
    except DownloadError as error:
        raise SegmentationDataError(
            f"HC18 is not under {root} and could not be downloaded: {error}. Download training_set.zip and "
            f"training_set_pixel_size_and_HC.csv from {RECORD} (DOI 10.5281/zenodo.1327317), unzip the archive "
            f"into {folder} beside the CSV, or point DLMIA_DATA at a data folder holding {FOLDER}/"
        ) from None
    sums = _extract(archive, folder)
    sums["training_set_pixel_size_and_HC.csv"] = release.csv_md5
    _write_md5sums(folder, sums)
    os.replace(csv, root / CSV)  # last: the CSV's presence marks the folder complete
    archive.unlink()
    return folder


def _extract(archive: Path, folder: Path) -> dict[str, str]:
    """Extract the verified archive's ``training_set/`` next to ``folder/training_set`` and
    rename it into place; the MD5 of every file, by path relative to ``folder``."""
    with zipfile.ZipFile(archive) as bundle:
        names = [n for n in bundle.namelist() if not n.endswith("/")]
        unexpected = [n for n in names if not MEMBER.fullmatch(n)]
        if unexpected or not names:
            raise SegmentationDataError(f"{archive}: not the HC18 layout (training_set/NNN_HC.png and their _Annotation.png); unexpected: {unexpected[:3]}")
        with tempfile.TemporaryDirectory(dir=folder, prefix=".extracting-") as scratch:
            bundle.extractall(scratch, members=names)
            extracted = Path(scratch) / "training_set"
            sums = {f"training_set/{p.name}": md5sum(p) for p in sorted(extracted.iterdir())}
            target = folder / "training_set"
            if target.exists():  # an earlier extraction stopped before the CSV was moved into place
                shutil.rmtree(target)
            os.replace(extracted, target)
    return sums


def _write_md5sums(folder: Path, sums: dict[str, str]) -> None:
    partial = folder / "MD5SUMS.part"
    partial.write_text("".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())))
    os.replace(partial, folder / "MD5SUMS")


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
    return ramanujan(a, b)


def ramanujan(a: float, b: float) -> float:
    """Ramanujan's second approximation of an ellipse's perimeter from its semi-axes."""
    h = ((a - b) / (a + b)) ** 2
    return float(math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h))))


def case_of(filename: str) -> str:
    """``010_2HC.png`` → ``010``: the case a (repeat) HC18 image belongs to."""
    match = re.match(r"(\d+)_\d*HC\.png$", filename)
    if not match:
        raise ValueError(f"{filename} is not an HC18 image name (NNN_HC.png, NNN_2HC.png…)")
    return match.group(1)


@functools.lru_cache(maxsize=4)
def table(root: Path) -> pd.DataFrame:
    """The pixel-size CSV with each image's annotation file, case and split."""
    frame = pd.read_csv(root / CSV).rename(columns={"pixel size(mm)": "pixel_mm", "head circumference (mm)": "hc_mm"})
    frame["annotation"] = frame["filename"].str.replace(".png", "_Annotation.png", regex=False)
    frame["case"] = frame["filename"].map(case_of)
    frame["split"] = frame["case"].map(split_of)
    return frame.set_index("filename", drop=False)


def cases(root: Path) -> tuple[list[Case], dict[str, str]]:
    """Every image of the CSV, and the images set aside with the reason: an annotation of
    another size than its image, or whose filled ellipse misses the CSV's circumference."""
    usable, set_aside = [], {}
    for row in table(root).itertuples():
        files = (CSV, f"{FOLDER}/training_set/{row.filename}", f"{FOLDER}/training_set/{row.annotation}")
        with Image.open(root / files[1]) as image, Image.open(root / files[2]) as annotation:
            size, mask = image.size, fill_outline(np.asarray(annotation))
        if mask.shape != size[::-1]:
            set_aside[row.filename] = f"annotation {mask.shape[1]}x{mask.shape[0]} px, image {size[0]}x{size[1]} px"
            continue
        circumference = ellipse_circumference(mask, row.pixel_mm, row.pixel_mm)
        if abs(circumference / row.hc_mm - 1) > HC_TOLERANCE:
            set_aside[row.filename] = (
                f"the filled annotation's circumference {circumference:.1f} mm is not within {HC_TOLERANCE:.0%} of the "
                f"CSV's {row.hc_mm} mm (an outline that is not closed?)"
            )
            continue
        usable.append(Case(row.filename, row.split, files, row.case))
    return usable, set_aside


def read(root: Path, case: Case) -> Sample:
    row = table(root).loc[case.name]
    image = np.asarray(Image.open(root / case.files[1]).convert("L"))
    label = fill_outline(np.asarray(Image.open(root / case.files[2]))).astype(np.uint8)
    return Sample(image, label, (float(row.pixel_mm), float(row.pixel_mm)), reference={"hc_mm": float(row.hc_mm)})


def card(root: Path, usable: list[Case], set_aside: dict[str, str], release: Release = Release()) -> dict:
    """Source, licence, citation, checksums, images and cases per split, pixel sizes."""
    frame = table(root)
    frame = frame[frame["filename"].isin([case.name for case in usable])]
    return {
        "name": "HC18 fetal head circumference (training set)",
        "url": release.url("training_set.zip"),
        "obtain": f"downloaded from Zenodo ({RECORD}) when missing",
        "md5": {"training_set.zip": release.archive_md5, "training_set_pixel_size_and_HC.csv": release.csv_md5},
        "checksums": f"segmentation/{FOLDER}/MD5SUMS" if (root / FOLDER / "MD5SUMS").is_file() else "segmentation/MD5SUMS",
        "license": LICENSE,
        "citation": CITATION,
        "split_rule": "70/15/15 by a hash of the case number (repeat scans NNN_2HC... stay with their case)",
        "n_cases": {split: int(frame.loc[frame["split"] == split, "case"].nunique()) for split in ("train", "val", "test")},
        "pixel_mm": {"min": float(frame["pixel_mm"].min()), "median": float(frame["pixel_mm"].median()), "max": float(frame["pixel_mm"].max())},
    }

"""HC18 fetal-head ultrasound: the official release, fetched from Zenodo when the data
root lacks it.

Record 1327317 (DOI 10.5281/zenodo.1327317, CC BY 4.0; van den Heuvel et al., PLoS ONE
2018, 13(8): e0200412) holds ``training_set.zip`` (999 images with their head-outline
annotations, under ``training_set/``), ``training_set_pixel_size_and_HC.csv`` and a test
set without annotations, which is not used. The MD5s below are those Zenodo lists.

A folder already under the data root (``segmentation/hc18_fetal_head_us`` with its CSV and
``training_set/``) is used as it is, however many images it holds. Otherwise the archive
and the CSV are downloaded (``workflow.data.download``), the archive is extracted into a
temporary folder beside the final one and renamed into place once complete, and an
``MD5SUMS`` of every extracted file is written beside it, so later reads are checked file
by file as those of a provided copy are.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .download import DownloadError, download_file, md5sum
from .segmentation import HC18, HC18_CSV, SegmentationDataError, hc18_table

RECORD = "https://zenodo.org/records/1327317/files"
CITATION = (
    "van den Heuvel T.L.A. et al. Automated measurement of fetal head circumference using 2D ultrasound images. "
    "PLoS ONE 13(8): e0200412 (2018). doi:10.1371/journal.pone.0200412"
)
LICENSE = "CC BY 4.0"
MEMBER = re.compile(r"training_set/\d{3}_\d?HC(_Annotation)?\.png")


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
    return (root / HC18_CSV).is_file() and (root / HC18 / "training_set").is_dir()


def ensure(root: Path, release: Release = Release(), **retry) -> Path:
    """The HC18 folder under ``root``, downloaded and extracted first if it is not there.

    A failed download raises :class:`SegmentationDataError` naming the URL, the destination
    and what to do; nothing is left under the final names.
    """
    folder = root / HC18
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
            f"into {folder} beside the CSV, or point DLMIA_DATA at a data folder holding {HC18}/"
        ) from None
    sums = _extract(archive, folder)
    sums["training_set_pixel_size_and_HC.csv"] = release.csv_md5
    _write_md5sums(folder, sums)
    os.replace(csv, root / HC18_CSV)  # last: the CSV's presence marks the folder complete
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


def card(root: Path, release: Release = Release()) -> dict:
    """A description of the HC18 folder under ``root``: source, licence, citation, checksums,
    images and cases per split (by case number), pixel sizes."""
    table = hc18_table(root)
    return {
        "dataset": "hc18",
        "modality": "ultrasound",
        "labels": {"0": "background", "1": "fetal head (the filled ellipse of the annotation)"},
        "folder": f"segmentation/{HC18}",  # under the data root
        "url": release.url("training_set.zip"),
        "md5": {"training_set.zip": release.archive_md5, "training_set_pixel_size_and_HC.csv": release.csv_md5},
        "checksums": f"segmentation/{HC18}/MD5SUMS" if (root / HC18 / "MD5SUMS").is_file() else "segmentation/MD5SUMS",
        "license": LICENSE,
        "citation": CITATION,
        "n_samples": {split: int((table["split"] == split).sum()) for split in ("train", "val", "test")},
        "n_cases": {split: int(table.loc[table["split"] == split, "case"].nunique()) for split in ("train", "val", "test")},
        "pixel_mm": {"min": float(table["pixel_mm"].min()), "median": float(table["pixel_mm"].median()), "max": float(table["pixel_mm"].max())},
        "set_aside": {},  # an annotation that does not match its head circumference stops the job instead
    }

"""Montgomery County chest X-ray set (X-ray): the U.S. National Library of Medicine's
archive, fetched when the data root lacks it, and a card of the usable images.

138 posterior-anterior chest radiographs (80 normal, 58 with tuberculosis) from the
Montgomery County, Maryland, screening programme, each with a manual left-lung and
right-lung mask: ``MontgomerySet/CXR_png/MCUCXR_NNNN_D.png`` (D: 0 normal, 1 abnormal;
4020×4892 or 4892×4020 px, 0.0875 mm pixels, per the set's ReadMe) and
``MontgomerySet/ManualMask/{leftMask,rightMask}/`` under the same names. Each number is one
patient. NLM publishes no checksum of the archive; the SHA-256 below is the one torch-em
records for it (constantinpape/torch-em, ``torch_em/data/datasets/medical/montgomery.py``),
not checked against NLM here. No open licence: the ReadMe asks that the set not be shared
outside the user's research group and that NLM be credited and two papers cited.

A folder ``segmentation/MontgomerySet`` already under the data root is used as it is.
Otherwise the archive is downloaded (``workflow.data.download``, SHA-256 checked), its
images, masks and clinical readings are extracted into a temporary folder beside the final
one with an ``MD5SUMS`` of every file and renamed into place; other members (the ReadMe,
thumbnails) are listed in the card and left out.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .download import DownloadError, download_file, place_folder
from .segmentation import Case, Sample, SegmentationDataError, split_of

NAME = "montgomery"
MODALITY = "X-ray"
CLASSES = {1: "lungs"}
MULTILABEL = False
FOLDER = "MontgomerySet"
URL = "https://openi.nlm.nih.gov/imgs/collections/NLM-MontgomeryCXRSet.zip"
HOMEPAGE = "https://data.lhncbc.nlm.nih.gov/public/Tuberculosis-Chest-X-ray-Datasets/Montgomery-County-CXR-Set/MontgomerySet/index.html"
SHA256 = "54601e952315d8f67383e9202a6e145997ade429f54f7e0af44b4e158714f424"  # recorded by torch-em, not by NLM
LICENSE = (
    "no open licence; the set's ReadMe asks users not to share it outside their research group (requests go to NLM), "
    "to credit the National Library of Medicine, NIH, Bethesda, MD, USA, and to cite both papers"
)
CITATION = [
    "Candemir S. et al. Lung segmentation in chest radiographs using anatomical atlases with nonrigid registration. "
    "IEEE Trans Med Imaging 33(2):577-590 (2014). doi:10.1109/TMI.2013.2290491",
    "Jaeger S. et al. Automatic tuberculosis screening using chest radiographs. IEEE Trans Med Imaging 33(2):233-245 "
    "(2014). doi:10.1109/TMI.2013.2284099",
]
PIXEL_MM = 0.0875  # per the set's ReadMe, both directions
NAME_PATTERN = r"MCUCXR_(\d{4})_[01]"
MEMBER = re.compile(rf"{FOLDER}/(CXR_png/{NAME_PATTERN}\.png|ManualMask/(left|right)Mask/{NAME_PATTERN}\.png|ClinicalReadings/{NAME_PATTERN}\.txt)")
MASKS = ("leftMask", "rightMask")


@dataclass(frozen=True)
class Release:
    """Where the archive is and its SHA-256."""

    url: str = URL
    sha256: str = SHA256


def present(root: Path) -> bool:
    """Whether ``root`` (the data root's ``segmentation`` folder) holds the set's images and masks."""
    return (root / FOLDER / "CXR_png").is_dir() and (root / FOLDER / "ManualMask").is_dir()


def ensure(root: Path, release: Release = Release(), **retry) -> Path:
    """The ``MontgomerySet`` folder under ``root``, downloaded and extracted first if it is
    not there. A failed download raises :class:`SegmentationDataError` naming the URL, the
    destination and what to do; nothing is left under the final names."""
    folder = root / FOLDER
    if present(root):
        return folder
    archive = root / "NLM-MontgomeryCXRSet.zip"
    try:
        download_file(release.url, archive, release.sha256, "Montgomery CXR", algorithm="sha256", **retry)
    except DownloadError as error:
        raise SegmentationDataError(
            f"the Montgomery County CXR set is not under {root} and could not be downloaded: {error}. Download "
            f"{release.url} (see {HOMEPAGE}) and unzip it into {root} so that {folder}/CXR_png exists, or point "
            f"DLMIA_DATA at a data folder holding segmentation/{FOLDER}/"
        ) from None
    _extract(archive, root)
    archive.unlink()
    return folder


def _extract(archive: Path, root: Path) -> None:
    """Extract the verified archive's images, masks and readings beside ``root/MontgomerySet``,
    list the other members in ``IGNORED``, write ``MD5SUMS`` and rename it into place."""
    with zipfile.ZipFile(archive) as bundle:
        names = [n for n in bundle.namelist() if not n.endswith("/")]
        wanted = [n for n in names if MEMBER.fullmatch(n)]
        if not any(n.startswith(f"{FOLDER}/CXR_png/") for n in wanted):
            raise SegmentationDataError(f"{archive}: not the Montgomery layout ({FOLDER}/CXR_png/MCUCXR_NNNN_D.png, {FOLDER}/ManualMask/)")
        with tempfile.TemporaryDirectory(dir=root, prefix=".extracting-") as scratch:
            bundle.extractall(scratch, members=wanted)
            extracted = Path(scratch) / FOLDER
            if ignored := sorted(set(names) - set(wanted)):
                (extracted / "IGNORED").write_text("".join(f"{name}\n" for name in ignored))
            place_folder(extracted, root / FOLDER)


def cases(root: Path) -> tuple[list[Case], dict[str, str]]:
    """The images that have both lung masks of their own size, split by patient, and the
    reason each other image is set aside (a mask missing, or a mask of another size)."""
    folder = root / FOLDER
    usable, set_aside = [], {}
    for path in sorted((folder / "CXR_png").glob("MCUCXR_*.png")):
        match = re.fullmatch(NAME_PATTERN, path.stem)
        if not match:
            set_aside[path.name] = "not an MCUCXR_NNNN_D.png name"
            continue
        with Image.open(path) as image:
            size = image.size
        problems = []
        for side in MASKS:
            mask = folder / "ManualMask" / side / path.name
            if not mask.is_file():
                problems.append(f"no {side}")
                continue
            with Image.open(mask) as opened:
                if opened.size != size:
                    problems.append(f"{side} is {opened.size[0]}x{opened.size[1]} px, the image {size[0]}x{size[1]}")
        if problems:
            set_aside[path.stem] = "; ".join(problems)
            continue
        patient = match.group(1)
        files = tuple(f"{FOLDER}/{part}/{path.name}" for part in ("CXR_png", *(f"ManualMask/{side}" for side in MASKS)))
        usable.append(Case(path.stem, split_of(patient), files, patient))
    return usable, set_aside


def read(root: Path, case: Case) -> Sample:
    """The radiograph with its left and right lung masks joined."""
    image = np.asarray(Image.open(root / case.files[0]).convert("L"))
    lungs = np.zeros(image.shape, dtype=bool)
    for name in case.files[1:]:
        lungs |= np.asarray(Image.open(root / name).convert("L")) > 127
    return Sample(image, lungs.astype(np.uint8), (PIXEL_MM, PIXEL_MM))


def card(root: Path, usable: list[Case], set_aside: dict[str, str], release: Release = Release()) -> dict:
    """Source, terms of use, citations, checksums, pixel spacing and what the archive held
    beside the images and masks."""
    folder = root / FOLDER
    ignored = folder / "IGNORED"
    return {
        "name": "Montgomery County chest X-ray set",
        "url": release.url,
        "homepage": HOMEPAGE,
        "obtain": f"downloaded from the NLM ({release.url}) when missing",
        "sha256": release.sha256,  # of the archive, as torch-em records it; NLM publishes none
        "checksums": f"segmentation/{FOLDER}/MD5SUMS" if (folder / "MD5SUMS").is_file() else None,
        "license": LICENSE,
        "citation": CITATION,
        "split_rule": "70/15/15 by a hash of the patient number",
        "abnormal_images": sum(case.name.endswith("_1") for case in usable),
        "pixel_mm": [PIXEL_MM, PIXEL_MM],  # stated by the ReadMe; PNG headers do not record it
        "left_out_of_archive": ignored.read_text().splitlines() if ignored.is_file() else [],
    }

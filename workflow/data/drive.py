"""DRIVE retinal vessels (colour fundus): the official 20 training and 20 test images.

Staal et al., IEEE TMI 23(4):501-509, 2004. 565×584 px colour photographs (Canon CR5, 45°
field of view), each with a manual vessel annotation (``1st_manual``, the reference) and
a field-of-view mask; the 20 test images also have a second observer's annotation
(``2nd_manual``, stored as palette indices 0/1). No pixel size is published, so distances
are in pixels. Validation: 4 of the 20 training images, evenly spaced by number (the
official split has none).

DRIVE is distributed after registration and may not be redistributed: the user places the
official folders under ``segmentation/drive_retina/`` (``training/`` and ``test/``, as
released); files are checked against the package's manifest of the release the kept
results were made with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .segmentation import Case, Sample, SegmentationDataError, held_out

NAME = "drive"
MODALITY = "fundus"
CLASSES = {1: "vessels"}
MULTILABEL = False
FOLDER = "drive_retina"
HOMEPAGE = "https://drive.grand-challenge.org/"
CITATION = (
    "Staal J. et al. Ridge-based vessel segmentation in color images of the retina. IEEE Trans Med Imaging "
    "23(4):501-509 (2004). doi:10.1109/TMI.2004.825627"
)
LICENSE = (
    "free of charge for research and educational purposes; copying, redistribution and unauthorised commercial "
    "use are prohibited, and only those who obtained the database from its website may use it"
)
VALIDATION_IMAGES = 4


def ensure(root: Path) -> Path:
    """The DRIVE folder under ``root``; an error saying where to get it and where to put it
    when it is not there (the database needs a registration)."""
    folder = root / FOLDER
    if (folder / "training" / "images").is_dir() and (folder / "test" / "images").is_dir():
        return folder
    raise SegmentationDataError(
        f"DRIVE is not under {root}: register at {HOMEPAGE} (the DRIVE database of Staal et al. 2004), download it "
        f"and place its training/ and test/ folders (images/, 1st_manual/, mask/; test/2nd_manual/) in {folder}/, "
        f"so that {folder}/training/images/21_training.tif exists, or point DLMIA_DATA at a data folder holding "
        f"segmentation/{FOLDER}/. Its terms forbid redistribution: keep it out of any repository"
    )


def _files(part: str, number: str) -> tuple[str, ...]:
    """Image, reference annotation and field-of-view mask (and, for a test image, the second observer's)."""
    base = f"{FOLDER}/{part}"
    files = (f"{base}/images/{number}_{part}.tif", f"{base}/1st_manual/{number}_manual1.gif", f"{base}/mask/{number}_{part}_mask.gif")
    return files + ((f"{base}/2nd_manual/{number}_manual2.gif",) if part == "test" else ())


def cases(root: Path) -> tuple[list[Case], dict[str, str]]:
    """The official training images (4 held out for validation) and test images; an image
    whose annotation or mask is missing or of another size is set aside."""
    found, set_aside = [], {}
    for part in ("training", "test"):
        for path in sorted((root / FOLDER / part / "images").glob(f"*_{part}.tif")):
            number = path.name.split("_")[0]
            files = _files(part, number)
            missing = [name for name in files if not (root / name).is_file()]
            if missing:
                set_aside[path.stem] = f"{', '.join(Path(m).name for m in missing)} missing"
                continue
            sizes = {Image.open(root / name).size for name in files}
            if len(sizes) > 1:
                set_aside[path.stem] = f"image, annotations and mask differ in size: {sorted(sizes)}"
                continue
            found.append((path.stem, part, files))
    validation = held_out([name for name, part, _ in found if part == "training"], VALIDATION_IMAGES)
    usable = [
        Case(name, "test" if part == "test" else "val" if name in validation else "train", files, name)
        for name, part, files in found
    ]
    return usable, set_aside


def _binary(path: Path) -> np.ndarray:
    """A DRIVE annotation or mask as bool: grey 0/255 GIFs above 127, palette GIFs by index."""
    with Image.open(path) as image:
        values = np.asarray(image)
        return values > 0 if image.mode == "P" else values > 127


def read(root: Path, case: Case) -> Sample:
    image = np.asarray(Image.open(root / case.files[0]).convert("RGB"))
    return Sample(image, _binary(root / case.files[1]).astype(np.uint8), None, region=_binary(root / case.files[2]))


def second_observer(root: Path, case: Case) -> np.ndarray:
    """The second observer's annotation of a test image (bool)."""
    if len(case.files) < 4:
        raise ValueError(f"{case.name} has no second observer's annotation (only the test images do)")
    return _binary(root / case.files[3])


def card(root: Path, usable: list[Case], set_aside: dict[str, str]) -> dict:
    return {
        "name": "DRIVE: Digital Retinal Images for Vessel Extraction",
        "homepage": HOMEPAGE,
        "obtain": f"after registration at {HOMEPAGE}; placed by the user under segmentation/{FOLDER}/ (not downloadable here)",
        "checksums": "workflow/data/manifests/drive_retina.md5 (the copy the kept results used) or an MD5SUMS under the data root",
        "license": LICENSE,
        "citation": CITATION,
        "split_rule": (
            f"official: 20 training and 20 test images; validation: {VALIDATION_IMAGES} of the training images evenly "
            "spaced by number; scored inside each image's field-of-view mask against the first observer"
        ),
        "pixel_mm": None,  # not published: distances in pixels
    }

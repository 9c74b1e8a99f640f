"""JSRT chest radiographs with the SCR masks (X-ray): lung fields, heart and clavicles.

247 posterior-anterior radiographs of the JSRT database (Shiraishi et al., AJR 2000; 154
with a lung nodule) and the SCR database's manual segmentations of each (van Ginneken,
Stegmann and Loog, Medical Image Analysis 10(1):19-40, 2006): right and left lung, heart,
right and left clavicle, 1024×1024 GIF masks at 0.35 mm. The structures overlap (clavicles
lie over the lungs), so they are learned as three binary maps (multi-label), scored as SCR
scores them: lung fields (both lungs), heart, clavicles (both).

Split: SCR's two folds, fold 1 the 124 odd-numbered images and fold 2 the 123 even-numbered
ones (numbered within the JPCLN and JPCNN series); a run trains on one fold (12 images held
out for validation, evenly spaced) and tests on the other (``test_fold``). SCR's protocol
tests each fold with a model trained on the other and reports over all 247 images.

JSRT and SCR are distributed after registration and may not be redistributed: the user
places them under ``segmentation/jsrt_scr_chest_xray/``: the images as 8-bit grayscale PNG
(``images_512/JPCLNnnn.IMG.png``, the 2048×2048 originals converted to display polarity and
resized to 512 px) and the masks as SCR distributes them
(``masks/{right_lung,left_lung,heart,right_clavicle,left_clavicle}/JPCLNnnn.gif``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from .segmentation import Case, Sample, SegmentationDataError, held_out

NAME = "jsrt_scr"
MODALITY = "X-ray"
CLASSES = {1: "lungs", 2: "heart", 3: "clavicles"}
MULTILABEL = True
FOLDER = "jsrt_scr_chest_xray"
STRUCTURES = {"lungs": ("right_lung", "left_lung"), "heart": ("heart",), "clavicles": ("right_clavicle", "left_clavicle")}
MASKS = tuple(mask for parts in STRUCTURES.values() for mask in parts)
MASK_SIZE, MASK_MM = 1024, 0.35  # SCR's masks: 1024×1024 at 0.35 mm (the JSRT originals: 2048×2048 at 0.175 mm)
NAME_PATTERN = re.compile(r"JPC(LN|NN)(\d{3})")
JSRT_HOMEPAGE = "http://db.jsrt.or.jp/eng.php"
SCR_HOMEPAGE = "https://www.isi.uu.nl/Research/Databases/SCR/"
CITATION = [
    "van Ginneken B., Stegmann M.B., Loog M. Segmentation of anatomical structures in chest radiographs using supervised "
    "methods: a comparative study on a public database. Med Image Anal 10(1):19-40 (2006). doi:10.1016/j.media.2005.02.002",
    "Shiraishi J. et al. Development of a digital image database for chest radiographs with and without a lung nodule. "
    "AJR Am J Roentgenol 174(1):71-74 (2000). doi:10.2214/ajr.174.1.1740071",
]
LICENSE = (
    "SCR: free of charge for research and educational purposes, redistribution and commercial use prohibited; "
    "JSRT: distributed by the Japanese Society of Radiological Technology after registration, under its terms"
)
VALIDATION_IMAGES = 12


def ensure(root: Path) -> Path:
    """The folder under ``root``; an error saying where to get the data and where to put it."""
    folder = root / FOLDER
    if (folder / "images_512").is_dir() and (folder / "masks").is_dir():
        return folder
    raise SegmentationDataError(
        f"JSRT/SCR is not under {root}: the images come from the JSRT database ({JSRT_HOMEPAGE}, registration) and the "
        f"masks from the SCR database ({SCR_HOMEPAGE}, registration). Place the masks as SCR distributes them in "
        f"{folder}/masks/<structure>/JPCLNnnn.gif (structures: {', '.join(MASKS)}) and each image as an 8-bit "
        f"grayscale PNG, lungs dark, 512x512, in {folder}/images_512/JPCLNnnn.IMG.png; or point DLMIA_DATA at a data "
        f"folder holding segmentation/{FOLDER}/. Their terms forbid redistribution: keep them out of any repository"
    )


def fold_of(name: str) -> int:
    """SCR's fold of an image: 1 for odd numbers, 2 for even (within its series)."""
    match = NAME_PATTERN.fullmatch(name)
    if not match:
        raise ValueError(f"{name} is not a JSRT image name (JPCLNnnn or JPCNNnnn)")
    return 1 if int(match.group(2)) % 2 else 2


def cases(root: Path, test_fold: int = 2) -> tuple[list[Case], dict[str, str]]:
    """Every image with its five masks of SCR's size, in the folds of ``test_fold`` (tested)
    and the other (trained, 12 held out for validation); others set aside with the reason."""
    if test_fold not in (1, 2):
        raise ValueError(f"test_fold must be 1 or 2, not {test_fold!r}")
    found, set_aside = [], {}
    for path in sorted((root / FOLDER / "images_512").glob("*.IMG.png")):
        name = path.name.removesuffix(".IMG.png")
        if not NAME_PATTERN.fullmatch(name):
            set_aside[path.name] = "not a JSRT image name (JPCLNnnn.IMG.png or JPCNNnnn.IMG.png)"
            continue
        files = (f"{FOLDER}/images_512/{path.name}", *(f"{FOLDER}/masks/{mask}/{name}.gif" for mask in MASKS))
        problems = [f"no {Path(f).parent.name} mask" for f in files[1:] if not (root / f).is_file()]
        problems += [
            f"{Path(f).parent.name} mask is {size[0]}x{size[1]} px, not {MASK_SIZE}x{MASK_SIZE}"
            for f in files[1:]
            if (root / f).is_file() and (size := Image.open(root / f).size) != (MASK_SIZE, MASK_SIZE)
        ]
        if problems:
            set_aside[name] = "; ".join(problems)
            continue
        found.append((name, files))
    training = [name for name, _ in found if fold_of(name) != test_fold]
    validation = held_out(training, VALIDATION_IMAGES)
    usable = [
        Case(name, "test" if fold_of(name) == test_fold else "val" if name in validation else "train", files, name)
        for name, files in found
    ]
    return usable, set_aside


def read(root: Path, case: Case) -> Sample:
    """The radiograph and its three structures (K, 1024, 1024) on the mask grid."""
    image = np.asarray(Image.open(root / case.files[0]).convert("L"))
    masks = {Path(f).parent.name: np.asarray(Image.open(root / f).convert("L")) > 127 for f in case.files[1:]}
    label = np.stack([np.logical_or.reduce([masks[part] for part in parts]) for parts in STRUCTURES.values()]).astype(np.uint8)
    return Sample(image, label, (MASK_MM, MASK_MM))


def card(root: Path, usable: list[Case], set_aside: dict[str, str], test_fold: int = 2) -> dict:
    return {
        "name": "JSRT chest radiographs with SCR lung, heart and clavicle masks",
        "homepage": [JSRT_HOMEPAGE, SCR_HOMEPAGE],
        "obtain": f"after registration at both websites; placed by the user under segmentation/{FOLDER}/ (not downloadable here)",
        "checksums": "workflow/data/manifests/jsrt_scr_chest_xray.md5 (the copy the kept results used) or an MD5SUMS under the data root",
        "license": LICENSE,
        "citation": CITATION,
        "split_rule": (
            f"SCR's folds (fold 1: odd-numbered images, fold 2: even-numbered, within each series); tested on fold "
            f"{test_fold}, trained on fold {3 - test_fold} with {VALIDATION_IMAGES} of its images (evenly spaced) held out for validation"
        ),
        "structures": {name: list(parts) for name, parts in STRUCTURES.items()},
        "pixel_mm": [MASK_MM, MASK_MM],  # of the label grid (SCR's 1024 px masks)
        "images": "8-bit grayscale PNG at 512 px (0.7 mm), converted from the 12-bit 2048 px JSRT originals",
    }

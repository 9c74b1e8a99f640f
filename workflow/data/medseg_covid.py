"""COVID-19 CT slices (CT): MedSeg's infection labels as split by Inf-Net (COVID-SemiSeg).

98 axial CT slices of COVID-19 patients (MedSeg, medicalsegmentation.com/covid19), cropped
and stored as 8-bit JPEG by Inf-Net (Fan et al., IEEE TMI 39(8):2626-2637, 2020), each
labelled 0 background, 1 ground-glass opacity, 2 consolidation; infection is their union.
Inf-Net's split: 50 training and 48 test slices. Validation: 6 of the training slices,
evenly spaced by number (Inf-Net's split has none; slices of one patient may fall in more
than one split, as in Inf-Net's). No pixel size survives the cropping: distances are in
pixels.

Non-commercial research use only. The user places Inf-Net's ``TrainingSet/`` and
``TestingSet/`` folders (from its COVID-SemiSeg release) under
``segmentation/medseg_covid_ct/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .segmentation import Case, Sample, SegmentationDataError, held_out

NAME = "medseg_covid"
MODALITY = "CT"
CLASSES = {1: "ground-glass opacity", 2: "consolidation"}
DERIVED = {"infection": (1, 2)}  # scored beside the classes: their union
MULTILABEL = False
FOLDER = "medseg_covid_ct"
PARTS = {
    "train": ("TrainingSet/MultiClassInfection-Train", "TrainingSet/LungInfection-Train/Doctor-label"),
    "test": ("TestingSet/MultiClassInfection-Test", "TestingSet/LungInfection-Test"),
}
HOMEPAGE = "https://github.com/DengPingFan/Inf-Net"
CITATION = [
    "Fan D.-P. et al. Inf-Net: Automatic COVID-19 Lung Infection Segmentation from CT Images. IEEE Trans Med Imaging "
    "39(8):2626-2637 (2020). doi:10.1109/TMI.2020.2996645",
    "MedSeg. COVID-19 CT segmentation dataset. https://medicalsegmentation.com/covid19/ (2020)",
]
LICENSE = "non-commercial research use only (Inf-Net's terms for COVID-SemiSeg; MedSeg's own terms apply as well)"
VALIDATION_SLICES = 6


def ensure(root: Path) -> Path:
    folder = root / FOLDER
    if all((folder / multi / "Imgs").is_dir() for multi, _ in PARTS.values()):
        return folder
    raise SegmentationDataError(
        f"the MedSeg COVID-19 CT slices are not under {root}: get Inf-Net's COVID-SemiSeg data (see {HOMEPAGE}, "
        f"section on the dataset; non-commercial research use only) and place its TrainingSet/ and TestingSet/ folders "
        f"in {folder}/, so that {folder}/{PARTS['train'][0]}/Imgs/0.jpg exists, or point DLMIA_DATA at a data folder "
        f"holding segmentation/{FOLDER}/"
    )


def cases(root: Path) -> tuple[list[Case], dict[str, str]]:
    """Inf-Net's training slices (6 held out for validation) and test slices; a slice whose
    labels are missing, of another size, hold other values, or whose binary infection label
    is not the union of its classes is set aside."""
    found, set_aside = [], {}
    for split, (multi, binary) in PARTS.items():
        for path in sorted((root / FOLDER / multi / "Imgs").glob("*.jpg"), key=lambda p: int(p.stem) if p.stem.isdigit() else -1):
            number = path.stem
            files = (f"{FOLDER}/{multi}/Imgs/{path.name}", f"{FOLDER}/{multi}/GT/{number}.png", f"{FOLDER}/{binary}/GT/{number}.png")
            name = f"{split}_{number}"
            missing = [f for f in files[1:] if not (root / f).is_file()]
            if missing:
                set_aside[name] = f"{', '.join(missing)} missing"
                continue
            image, classes, infection = (Image.open(root / f) for f in files)
            if not image.size == classes.size == infection.size:
                set_aside[name] = f"image and labels differ in size: {image.size}, {classes.size}, {infection.size}"
                continue
            values = np.asarray(classes)
            if not set(np.unique(values).tolist()) <= {0, *CLASSES}:
                set_aside[name] = f"class label values {sorted(set(np.unique(values).tolist()) - {0, *CLASSES})} are not 0, 1 or 2"
                continue
            if not np.array_equal(np.asarray(infection.convert("L")) > 128, values > 0):
                set_aside[name] = "the binary infection label is not the union of the class label's classes"
                continue
            found.append((name, split, files))
    validation = held_out([name for name, split, _ in found if split == "train"], VALIDATION_SLICES)
    return [Case(name, "val" if name in validation else split, files, name) for name, split, files in found], set_aside


def read(root: Path, case: Case) -> Sample:
    image = np.asarray(Image.open(root / case.files[0]).convert("L"))
    return Sample(image, np.asarray(Image.open(root / case.files[1])).astype(np.uint8), None)


def card(root: Path, usable: list[Case], set_aside: dict[str, str]) -> dict:
    return {
        "name": "MedSeg COVID-19 CT segmentation slices (Inf-Net's COVID-SemiSeg split)",
        "homepage": HOMEPAGE,
        "obtain": f"Inf-Net's COVID-SemiSeg release ({HOMEPAGE}); placed by the user under segmentation/{FOLDER}/ (not downloadable here)",
        "checksums": "workflow/data/manifests/medseg_covid_ct.md5 (the copy the kept results used) or an MD5SUMS under the data root",
        "license": LICENSE,
        "citation": CITATION,
        "split_rule": f"Inf-Net's 50 training and 48 test slices; validation: {VALIDATION_SLICES} training slices evenly spaced by number",
        "derived_classes": {name: [CLASSES[v] for v in values] for name, values in DERIVED.items()},
        "pixel_mm": None,  # lost in cropping: distances in pixels
    }

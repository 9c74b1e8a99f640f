"""3-D segmentation datasets: labelled volumes listed with their split, modality and classes.

* ``brain_mri``: the two labelled brain MRI volumes of the pyradiomics test cases (NRRD,
  0.78 × 0.78 × 6.5 mm, a lesion label): ``brain1`` for training, ``brain2`` held out for
  testing; with one training volume there is no validation split. A demonstration of the
  3-D pipeline on real data offline, not an accuracy claim. A volume whose label differs
  from its image in shape or voxel axes, or holds values other than 0 and 1, is set aside;
  without a training and a test volume the job stops naming the dataset. The TotalSegmentator examples
  are not used (their label maps are a model's output, not ground truth), nor ``breast1``
  (143 labelled voxels in three slices).
* A Medical Segmentation Decathlon task by name (``Task04_Hippocampus``, ``Task09_Spleen``…,
  ``workflow.data.decathlon``): downloaded when missing, the training pairs that agree with
  ``dataset.json`` split 70/15/15 by patient.

:func:`prepare` returns a JSON-ready description: the dataset card, the modality that sets
the intensity normalisation (CT or MRI), the foreground classes, whether it is only a
demonstration (kept out of the family × modality table) and the cases with paths relative
to the data root's ``segmentation`` folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from . import decathlon
from .segmentation import SegmentationDataError, read_md5sums, verify

BRAIN = "pyradiomics_testcases"
BRAIN_VOLUMES = {"brain1": "train", "brain2": "test"}
DECATHLON_TASK = re.compile(r"Task\d\d_[A-Za-z]+")


def is_volume_dataset(name: str) -> bool:
    return name == "brain_mri" or bool(DECATHLON_TASK.fullmatch(name))


def prepare(name: str, root: Path, **retry) -> dict:
    """The description of volume dataset ``name`` under ``root`` (a Decathlon task is
    downloaded first when missing); files are checked against their ``MD5SUMS``."""
    if name == "brain_mri":
        return _brain_mri(root)
    if DECATHLON_TASK.fullmatch(name):
        return _decathlon(name, root, **retry)
    raise ValueError(f"no volume dataset {name!r}: brain_mri or a Decathlon task name such as Task04_Hippocampus")


def _brain_mri(root: Path) -> dict:
    import nrrd

    cases = [
        {"name": volume, "image": f"{BRAIN}/{volume}_image.nrrd", "label": f"{BRAIN}/{volume}_label.nrrd", "split": split}
        for volume, split in BRAIN_VOLUMES.items()
    ]
    verify(root, [case[key] for case in cases for key in ("image", "label")])
    spacing, set_aside = {}, {}
    for case in cases:
        header = nrrd.read_header(str(root / case["image"]))
        label, label_header = nrrd.read(str(root / case["label"]))
        directions = np.asarray(header["space directions"], dtype=float)
        shape = tuple(int(n) for n in header["sizes"])
        if label.shape != shape:
            set_aside[case["name"]] = f"label shape {label.shape} differs from the image's {shape}"
        elif not np.allclose(np.asarray(label_header["space directions"], dtype=float), directions, rtol=1e-3):
            set_aside[case["name"]] = "label voxel axes or spacing differ from the image's"
        elif not set(np.unique(label).tolist()) <= {0, 1}:
            set_aside[case["name"]] = f"label values {sorted(set(np.unique(label).tolist()) - {0, 1})[:5]} are not 0 (background) or 1 (lesion)"
        spacing[case["name"]] = [round(float(s), 4) for s in np.linalg.norm(directions, axis=1)]
    cases = [case for case in cases if case["name"] not in set_aside]
    if {case["split"] for case in cases} != {"train", "test"}:
        raise SegmentationDataError(f"brain_mri: no usable training or test volume under {root / BRAIN}; set aside: {set_aside}")
    card = {
        "dataset": "brain_mri",
        "name": "pyradiomics brain MRI test cases",
        "modality": {"0": "MRI"},
        "labels": {"0": "background", "1": "lesion"},
        "folder": f"segmentation/{BRAIN}",
        "url": "https://github.com/AIM-Harvard/pyradiomics/tree/master/data",
        "checksums": "segmentation/MD5SUMS",
        "license": "BSD-3-Clause (the pyradiomics repository)",
        "citation": "van Griethuysen J.J.M. et al. Computational Radiomics System to Decode the Radiographic Phenotype. "
        "Cancer Research 77(21): e104-e107 (2017). doi:10.1158/0008-5472.CAN-17-0339",
        "n_samples": {split: sum(c["split"] == split for c in cases) for split in ("train", "val", "test")},
        "spacing_mm": spacing,
        "set_aside": set_aside,
    }
    return {"dataset": "brain_mri", "modality": "MRI", "channels": 1, "classes": {1: "lesion"}, "demonstration": True, "card": card, "cases": cases}


def _decathlon(task: str, root: Path, **retry) -> dict:
    release = decathlon.release(task)
    folder = decathlon.ensure(root, release, **retry)
    found = decathlon.cases(folder)
    card = decathlon.card(folder, release, found)
    usable = found[0]
    cases = [
        {"name": case.name, "image": _relative(folder / case.image, root), "label": _relative(folder / case.label, root), "split": case.split}
        for case in usable
    ]
    if read_md5sums(root).keys() & {case["image"] for case in cases}:  # written by the download; a folder placed by hand may have none
        verify(root, [case[key] for case in cases for key in ("image", "label")])
    if not any(case["split"] == "test" for case in cases) or not any(case["split"] == "train" for case in cases):
        raise SegmentationDataError(f"Decathlon {task}: the patient split leaves no training or no test case under {folder}")
    modalities = set(card["modality"].values())
    return {
        "dataset": task,
        "modality": "CT" if modalities == {"CT"} else "MRI",
        "channels": len(card["modality"]),
        "classes": {int(value): name for value, name in card["labels"].items() if int(value) != 0},
        "demonstration": False,
        "card": card,
        "cases": cases,
    }


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()  # pathlib drops the "./" of dataset.json's paths

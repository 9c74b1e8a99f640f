"""3-D segmentation datasets: labelled volumes listed with their split, modality and classes.

A Medical Segmentation Decathlon task by name (``Task04_Hippocampus``, ``Task09_Spleen``…,
``workflow.data.decathlon``): the task's folder or a copy of it under the data root
(downloaded when neither is there), the training pairs that agree with ``dataset.json``
split 70/15/15 by patient, the others set aside by name with the reason.

:func:`prepare` returns a JSON-ready description: the dataset card, the modality that sets
the intensity normalisation (CT or MRI), the foreground classes and the cases with paths
relative to the data root's ``segmentation`` folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import decathlon
from .segmentation import SegmentationDataError, checksums, verify

DECATHLON_TASK = re.compile(r"Task\d\d_[A-Za-z]+")


def prepare(name: str, root: Path, **retry) -> dict:
    """The description of volume dataset ``name`` under ``root`` (downloaded first when
    missing); files with a recorded MD5 (a download's ``MD5SUMS``, the data root's, or the
    package's manifest of a copy) are checked against it."""
    if not DECATHLON_TASK.fullmatch(name):
        raise ValueError(f"no volume dataset {name!r}: a Decathlon task name such as Task04_Hippocampus")
    release = decathlon.release(name)
    folder = decathlon.ensure(root, release, **retry)
    found = decathlon.cases(folder, name)
    card = decathlon.card(folder, release, found)
    cases = [
        {"name": case.name, "image": _relative(folder / case.image, root), "label": _relative(folder / case.label, root), "split": case.split}
        for case in found[0]
    ]
    if checksums(root).keys() & {case["image"] for case in cases}:  # a folder placed by hand may have none
        verify(root, [case[key] for case in cases for key in ("image", "label")])
    if not any(case["split"] == "test" for case in cases) or not any(case["split"] == "train" for case in cases):
        raise SegmentationDataError(f"Decathlon {name}: the patient split leaves no training or no test case under {folder}")
    modalities = set(card["modality"].values())
    return {
        "dataset": name,
        "modality": "CT" if modalities == {"CT"} else "MRI",
        "channels": len(card["modality"]),
        "classes": {int(value): label for value, label in card["labels"].items() if int(value) != 0},
        "card": card,
        "cases": cases,
    }


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()  # pathlib drops the "./" of dataset.json's paths

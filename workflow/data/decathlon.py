"""Medical Segmentation Decathlon tasks (MRI and CT): the archives MONAI records, fetched
when the data root lacks them, and a card of the cases that agree with the task's description.

The Decathlon (Antonelli et al., Nat Commun 2022, 13: 4128; CC BY-SA 4.0) has ten tasks,
each a ``TaskNN_Name/`` folder with ``dataset.json`` (modalities, labels, the training
pairs and the test images), ``imagesTr/``, ``labelsTr/`` and ``imagesTs/`` in NIfTI.
Any task is selected by its name; the URL and MD5 of its archive are those of
``monai.apps.DecathlonDataset.resource`` and ``.md5``.

A folder ``segmentation/TaskNN_Name`` holding its ``dataset.json`` is used as it is.
Otherwise the archive is downloaded (``workflow.data.download``), its members are checked
against the layout (macOS metadata, ``._`` forks and ``.DS_Store``, is skipped), it is extracted into a
temporary folder beside the final one with an ``MD5SUMS`` of every file and renamed into
place, so the folder appears complete or not at all. It is the folder that
``DecathlonDataset(root, task, section, download=False)`` reads.
"""

from __future__ import annotations

import json
import re
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import DownloadError, download_file, place_folder
from .segmentation import SegmentationDataError, split_of

CITATION = "Antonelli M. et al. The Medical Segmentation Decathlon. Nat Commun 13, 4128 (2022). doi:10.1038/s41467-022-30695-9"
LICENSE = "CC BY-SA 4.0"
SPACING_MM = (0.2, 10.0)  # the range a voxel edge of a Decathlon CT or MRI volume is accepted in
MACOS = re.compile(r"(.*/)?(\._[^/]*|\.DS_Store)|__MACOSX/.*")  # Finder metadata and resource forks, not volumes


@dataclass(frozen=True)
class Release:
    """A task's archive: where it is and its MD5."""

    task: str
    url: str
    md5: str


@dataclass(frozen=True)
class Case:
    """A training pair that agrees with the task's description."""

    name: str  # the case id, e.g. hippocampus_367: one patient
    image: str  # relative to the task folder
    label: str
    shape: tuple[int, ...]
    spacing: tuple[float, float, float]  # mm along the volume's three axes
    split: str


def release(task: str) -> Release:
    """The archive of ``task`` (e.g. ``Task04_Hippocampus``) as MONAI records it."""
    from monai.apps import DecathlonDataset

    if task not in DecathlonDataset.resource:
        raise ValueError(f"no Decathlon task {task!r}; known: {', '.join(DecathlonDataset.resource)}")
    return Release(task, DecathlonDataset.resource[task], DecathlonDataset.md5[task])


def present(root: Path, task: str) -> bool:
    """Whether ``root`` (the data root's ``segmentation`` folder) holds the task's folder."""
    return (root / task / "dataset.json").is_file()


def ensure(root: Path, release: Release, **retry) -> Path:
    """The task's folder under ``root``, downloaded and extracted first if it is not there.

    A failed download raises :class:`SegmentationDataError` naming the URL, the destination
    and what to do; nothing is left under the final names.
    """
    task, folder = release.task, root / release.task
    if present(root, task):
        return folder
    archive = root / f"{task}.tar"
    try:
        download_file(release.url, archive, release.md5, f"Decathlon {task}", **retry)
    except DownloadError as error:
        raise SegmentationDataError(
            f"Decathlon {task} is not under {root} and could not be downloaded: {error}. Download {release.url} "
            f"(md5 {release.md5}) and extract it into {root} so that {folder}/dataset.json exists, or point "
            f"DLMIA_DATA at a data folder holding segmentation/{task}/"
        ) from None
    _extract(archive, root, task)
    archive.unlink()
    return folder


def _extract(archive: Path, root: Path, task: str) -> None:
    """Extract the verified archive's ``task/`` beside ``root/task``, write its ``MD5SUMS``
    and rename it into place."""
    layout = re.compile(rf"(\./)?{re.escape(task)}/(dataset\.json|(imagesTr|labelsTr|imagesTs)/[^/]+\.nii\.gz)")
    with tarfile.open(archive) as bundle:
        members = [m for m in bundle.getmembers() if not m.isdir() and not MACOS.fullmatch(m.name)]
        unexpected = [m.name for m in members if not (m.isfile() and layout.fullmatch(m.name))]
        if unexpected or not any(m.name.endswith(f"{task}/dataset.json") for m in members):
            raise SegmentationDataError(
                f"{archive}: not the layout of Decathlon {task} ({task}/dataset.json and imagesTr/, labelsTr/, "
                f"imagesTs/ NIfTI files); unexpected: {unexpected[:3]}"
            )
        with tempfile.TemporaryDirectory(dir=root, prefix=".extracting-") as scratch:
            bundle.extractall(scratch, members=members, filter="data")
            place_folder(Path(scratch) / task, root / task)


class _SetAside(ValueError):
    """A training pair that disagrees with the task's description; the message says how."""


def cases(folder: Path) -> tuple[list[Case], dict[str, str]]:
    """The training pairs of ``dataset.json`` that agree with the task's description, and the
    reason each other pair is set aside: a missing file, an image without the described
    modalities, a label on another grid (shape or spacing), a voxel edge outside
    :data:`SPACING_MM`, or label values that ``dataset.json`` does not list."""
    import nibabel

    description = json.loads((folder / "dataset.json").read_text())
    labels = {int(value) for value in description["labels"]}
    channels = len(description["modality"])
    usable, set_aside = [], {}
    for pair in description["training"]:
        name = Path(pair["image"]).name.removesuffix(".nii.gz")
        try:
            image_path, label_path = folder / pair["image"], folder / pair["label"]
            for path in (image_path, label_path):
                if not path.is_file():
                    raise _SetAside(f"{path.relative_to(folder)} is missing")
            image, label = nibabel.load(image_path), nibabel.load(label_path)
            expected = image.shape[:3] + ((channels,) if channels > 1 else ())
            if len(image.shape) < 3 or image.shape != expected:
                raise _SetAside(f"image shape {image.shape} does not hold the {channels} modalities of dataset.json")
            if label.shape != image.shape[:3]:
                raise _SetAside(f"label shape {label.shape} differs from the image's {image.shape[:3]}")
            spacing = tuple(round(float(z), 4) for z in image.header.get_zooms()[:3])
            label_spacing = tuple(round(float(z), 4) for z in label.header.get_zooms()[:3])
            if not np.allclose(spacing, label_spacing, rtol=1e-3):
                raise _SetAside(f"label spacing {label_spacing} mm differs from the image's {spacing} mm")
            if not all(SPACING_MM[0] <= s <= SPACING_MM[1] for s in spacing):
                raise _SetAside(f"voxel spacing {spacing} mm is outside {SPACING_MM[0]}-{SPACING_MM[1]} mm")
            values = np.unique(np.asarray(label.dataobj))
            unknown = [v.item() for v in values if v not in labels]
            if unknown:
                raise _SetAside(f"label values {unknown[:5]} are not among the labels of dataset.json {sorted(labels)}")
        except _SetAside as reason:
            set_aside[name] = str(reason)
            continue
        usable.append(Case(name, pair["image"], pair["label"], tuple(image.shape), spacing, split_of(name)))
    return usable, set_aside


def card(folder: Path, release: Release, found: tuple[list[Case], dict[str, str]] | None = None) -> dict:
    """A description of the task's folder: source, licence, citation, checksums, split sizes
    (train/val/test by patient, from the labelled training pairs), voxel spacing and the
    pairs set aside with their reasons (``found``: :func:`cases` of the folder, when already
    read). Raises :class:`SegmentationDataError` naming the task when no pair is usable."""
    description = json.loads((folder / "dataset.json").read_text())
    usable, set_aside = found if found is not None else cases(folder)
    if not usable:
        raise SegmentationDataError(f"Decathlon {release.task}: no usable training case under {folder}; set aside: {set_aside}")
    spacing = np.array([case.spacing for case in usable])
    return {
        "dataset": release.task,
        "name": description.get("name"),
        "modality": description["modality"],
        "labels": description["labels"],
        "folder": f"segmentation/{release.task}",  # under the data root
        "url": release.url,
        "md5": release.md5,  # of the archive, as MONAI records it
        "checksums": f"segmentation/{release.task}/MD5SUMS" if (folder / "MD5SUMS").is_file() else None,
        "license": LICENSE,
        "license_in_dataset_json": description.get("licence"),
        "citation": CITATION,
        "reference": description.get("reference"),
        "n_cases": {"training": len(description["training"]), "test_unlabelled": len(description.get("test", []))},
        "n_samples": {split: sum(case.split == split for case in usable) for split in ("train", "val", "test")},
        "spacing_mm": {"min": spacing.min(0).tolist(), "median": np.median(spacing, 0).tolist(), "max": spacing.max(0).tolist()},
        "set_aside": set_aside,
    }

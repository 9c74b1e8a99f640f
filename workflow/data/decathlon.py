"""Medical Segmentation Decathlon tasks (MRI and CT): the archives MONAI records, fetched
when the data root lacks them, and a card of the cases that agree with the task's description.

The Decathlon (Antonelli et al., Nat Commun 2022, 13: 4128; CC BY-SA 4.0) has ten tasks,
each a ``TaskNN_Name/`` folder with ``dataset.json`` (modalities, labels, the training
pairs and the test images), ``imagesTr/``, ``labelsTr/`` and ``imagesTs/`` in NIfTI.
Any task is selected by its name; the URL and MD5 of its archive are those of
``monai.apps.DecathlonDataset.resource`` and ``.md5``.

A folder ``segmentation/TaskNN_Name`` holding its ``dataset.json`` is used as it is; so is a
copy of a task's training set laid out as ``images/`` and ``labels/`` without
``dataset.json`` (:data:`COPIES`: the hippocampus as a course redistributes it), described
by the task's own ``dataset.json`` entries below, its pairs the names found in either folder.
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
# Copies of a task's training set in images/ and labels/ folders, with what the task's
# dataset.json gives for them (name, modality, labels, licence, reference).
COPIES = {
    "Task04_Hippocampus": {
        "folder": "msd_task04_hippocampus",
        "source": "udacity/nd320-c3-3d-imaging-starter, data/TrainingSet/ (a course's copy of the training images and labels)",
        "dataset.json": {
            "name": "Hippocampus",
            "description": "Left and right hippocampus segmentation",
            "reference": "Vanderbilt University Medical Center",
            "licence": "CC-BY-SA 4.0",
            "modality": {"0": "MRI"},
            "labels": {"0": "background", "1": "Anterior", "2": "Posterior"},
        },
    }
}
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


def copy_folder(root: Path, task: str) -> Path | None:
    """The folder of a copy of ``task`` in images/ and labels/ under ``root``, if there is one."""
    copy = COPIES.get(task)
    if copy is None or not (root / copy["folder"] / "images").is_dir() or not (root / copy["folder"] / "labels").is_dir():
        return None
    return root / copy["folder"]


def ensure(root: Path, release: Release, **retry) -> Path:
    """The task's folder under ``root`` (or its copy, :data:`COPIES`), downloaded and
    extracted first if neither is there.

    A failed download raises :class:`SegmentationDataError` naming the URL, the destination
    and what to do; nothing is left under the final names.
    """
    task, folder = release.task, root / release.task
    if present(root, task):
        return folder
    if (copy := copy_folder(root, task)) is not None:
        return copy
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


def description(folder: Path, task: str) -> dict:
    """The task's ``dataset.json`` in ``folder``, or the entries :data:`COPIES` holds for a copy."""
    if (folder / "dataset.json").is_file():
        return json.loads((folder / "dataset.json").read_text())
    copy = COPIES[task]
    names = sorted({p.name for sub in ("images", "labels") for p in (folder / sub).glob("*.nii.gz")})
    return {**copy["dataset.json"], "training": [{"image": f"./images/{n}", "label": f"./labels/{n}"} for n in names], "test": []}


def cases(folder: Path, task: str) -> tuple[list[Case], dict[str, str]]:
    """The training pairs of the task's description that agree with it, and the reason each
    other pair is set aside: a missing file (for a label without its image, the label's
    grid is named), an image without the described modalities, a label on another grid
    (shape or spacing), a voxel edge outside :data:`SPACING_MM`, or label values that the
    description does not list."""
    import nibabel

    described = description(folder, task)
    labels = {int(value) for value in described["labels"]}
    channels = len(described["modality"])
    usable, set_aside = [], {}
    for pair in described["training"]:
        name = Path(pair["image"]).name.removesuffix(".nii.gz")
        try:
            image_path, label_path = folder / pair["image"], folder / pair["label"]
            if not label_path.is_file():
                raise _SetAside(f"{label_path.relative_to(folder)} is missing: an image without a label")
            if not image_path.is_file():
                header = nibabel.load(label_path).header
                grid = "x".join(map(str, header.get_data_shape())) + " at " + "x".join(f"{z:.3g}" for z in header.get_zooms()[:3]) + " mm"
                raise _SetAside(f"{image_path.relative_to(folder)} is missing: a label without an image (the label is {grid})")
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
    described = description(folder, release.task)
    usable, set_aside = found if found is not None else cases(folder, release.task)
    if not usable:
        raise SegmentationDataError(f"Decathlon {release.task}: no usable training case under {folder}; set aside: {set_aside}")
    spacing = np.array([case.spacing for case in usable])
    return {
        "dataset": release.task,
        "name": described.get("name"),
        "modality": described["modality"],
        "labels": described["labels"],
        "folder": f"segmentation/{folder.name}",  # under the data root
        "source": COPIES[release.task]["source"] if folder.name != release.task else f"the Decathlon archive ({release.url})",
        "url": release.url,
        "md5": release.md5,  # of the archive, as MONAI records it
        "checksums": f"segmentation/{folder.name}/MD5SUMS" if (folder / "MD5SUMS").is_file() else f"workflow/data/manifests/{folder.name}.md5 or segmentation/MD5SUMS",
        "license": LICENSE,
        "license_in_dataset_json": described.get("licence"),
        "citation": CITATION,
        "reference": described.get("reference"),
        "obtain": (
            f"downloaded from {release.url} when missing (public, no registration)" if folder.name == release.task
            else f"a copy of the training set placed in the data folder ({COPIES[release.task]['source']}); the official archive, "
            f"{release.url}, is downloaded when neither is there"
        ),
        "split_rule": "70/15/15 of the labelled training pairs by a hash of the case (patient) id; the Decathlon's own test images have no public labels",
        "n_cases": {"training": len(described["training"]), "test_unlabelled": len(described.get("test", []))},
        "n_samples": {split: sum(case.split == split for case in usable) for split in ("train", "val", "test")},
        "spacing_mm": {"min": spacing.min(0).tolist(), "median": np.median(spacing, 0).tolist(), "max": spacing.max(0).tolist()},
        "set_aside": set_aside,
    }

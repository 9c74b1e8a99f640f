"""MedMNIST files: where they live, how to fetch and check them, how to read them.

One table drives everything: ``medmnist.INFO`` (URLs, MD5s, tasks, splits) plus
``modalities.csv`` beside this module (the imaging modality of each flag). A dataset id
is the file stem that the ``medmnist`` package uses: ``{flag}`` at 28 px and
``{flag}_{size}`` at 64, 128 or 224 px.
"""

from __future__ import annotations

import csv
import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import DataError
from .download import DownloadError, download_file, md5sum


def _official_info() -> dict:
    """``medmnist.info.INFO``, read without running the package's ``__init__``.

    Importing ``medmnist`` imports torch and its dataset classes (several seconds);
    building the DAG only needs this table.
    """
    package = importlib.util.find_spec("medmnist")
    path = Path(package.submodule_search_locations[0]) / "info.py"
    spec = importlib.util.spec_from_file_location("_medmnist_info", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.INFO


INFO = _official_info()
MODALITIES_CSV = Path(__file__).with_name("modalities.csv")
SIZES = (28, 64, 128, 224)
SPLITS = ("train", "val", "test")


class DatasetError(DataError):
    """A MedMNIST file is missing, corrupt or unreadable."""


@dataclass(frozen=True)
class Dataset:
    """One MedMNIST subset at one image size."""

    flag: str
    size: int = 28

    def __post_init__(self) -> None:
        if self.flag not in INFO:
            raise DatasetError(f"unknown MedMNIST flag {self.flag!r}; known: {', '.join(INFO)}")
        if self.size not in SIZES:
            raise DatasetError(f"{self.flag}: size {self.size} is not one of {SIZES}")

    @classmethod
    def from_id(cls, dataset_id: str) -> Dataset:
        flag, _, size = dataset_id.partition("_")
        return cls(flag, int(size) if size else 28)

    @property
    def id(self) -> str:
        return self.flag if self.size == 28 else f"{self.flag}_{self.size}"

    @property
    def info(self) -> dict:
        return INFO[self.flag]

    @property
    def url(self) -> str:
        return self.info["url" if self.size == 28 else f"url_{self.size}"]

    @property
    def md5(self) -> str:
        return self.info["MD5" if self.size == 28 else f"MD5_{self.size}"]

    @property
    def spatial_dims(self) -> int:
        return 3 if self.flag.endswith("3d") else 2

    @property
    def task(self) -> str:
        return self.info["task"]

    @property
    def n_classes(self) -> int:
        return len(self.info["label"])

    @property
    def modality(self) -> str:
        return modality_table()[self.flag]["modality"]

    def path(self, root: str | os.PathLike) -> Path:
        """Where the ``.npz`` lives under a data root (``{root}/medmnist/{id}.npz``)."""
        return Path(root) / "medmnist" / f"{self.id}.npz"


@cache
def modality_table() -> dict[str, dict[str, str]]:
    """Flag → imaging description and modality group (X-ray, CT, MRI, ultrasound, fundus, other)."""
    with open(MODALITIES_CSV, newline="") as handle:
        table = {row["flag"]: row for row in csv.DictReader(handle)}
    missing = set(INFO) - set(table)
    if missing:
        raise DatasetError(f"{MODALITIES_CSV} lacks flags {sorted(missing)}")
    return table


def verify(dataset: Dataset, path: str | os.PathLike) -> str:
    """Check the file against the official MD5; return it, or raise naming both sums."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(missing_message(dataset, path))
    actual = md5sum(path)
    if actual != dataset.md5:
        raise DatasetError(
            f"{path}: md5 {actual} does not match the official {dataset.md5} for "
            f"{dataset.id}; the file is corrupt or not the official release. Delete it and "
            f"download it again from {dataset.url}"
        )
    return actual


def missing_message(dataset: Dataset, path: Path) -> str:
    return (
        f"{path} not found. Download it from {dataset.url} (md5 {dataset.md5}) into "
        f"{path.parent}, or point DLMIA_DATA (or --config data_root=PATH) at a folder "
        f"holding medmnist/{path.name}"
    )


def download(dataset: Dataset, dest: str | os.PathLike, url: str | None = None, **retry) -> Path:
    """Fetch the official file to ``dest`` (``workflow.data.download``: retried, resumed, and
    moved into place only once its MD5 is the official one); ``retry``: attempts, timeout,
    backoff."""
    url = url or dataset.url
    try:
        return download_file(url, dest, dataset.md5, label=dataset.id, **retry)
    except DownloadError as error:
        raise DatasetError(f"{missing_message(dataset, Path(dest))}. {error}") from None


def load_splits(dataset: Dataset, path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read ``{split: (images, labels)}`` and check the official split sizes."""
    try:
        with np.load(path) as npz:
            splits = {s: (npz[f"{s}_images"], npz[f"{s}_labels"]) for s in SPLITS}
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"{path}: cannot read MedMNIST arrays ({exc})") from exc
    for split, (images, labels) in splits.items():
        expected = dataset.info["n_samples"][split]
        if len(images) != expected or len(labels) != expected:
            raise DatasetError(
                f"{path}: {split} split has {len(images)} images and {len(labels)} labels, "
                f"expected {expected}"
            )
    return splits


def card(dataset: Dataset, path: str | os.PathLike) -> dict:
    """A verified description of one dataset file: what it is, where from, how big."""
    md5 = verify(dataset, path)
    splits = load_splits(dataset, path)
    images = splits["train"][0]
    return {
        "dataset": dataset.id,
        "flag": dataset.flag,
        "size": dataset.size,
        "modality": dataset.modality,
        "imaging": modality_table()[dataset.flag]["imaging"],
        "spatial_dims": dataset.spatial_dims,
        "task": dataset.task,
        "n_classes": dataset.n_classes,
        "n_channels": dataset.info["n_channels"],
        "image_shape": list(images.shape[1:]),
        "labels": dataset.info["label"],
        "n_samples": {s: int(len(splits[s][0])) for s in SPLITS},
        "file": f"medmnist/{Path(path).name}",  # under the data root
        "md5": md5,
        "url": dataset.url,
        "license": dataset.info["license"],
    }

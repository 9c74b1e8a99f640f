"""The throughput benchmark's official loop and the engine feed the network the same numbers."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import default_collate

from benchmarks.training_throughput import normalize, official_dataset, to_tensor
from workflow.data.medmnist import Dataset, load_splits
from workflow.train.engine import _normalise, to_split

CPU = torch.device("cpu")


def _batches(flag: str, data_root: Path, layout: torch.memory_format) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A shuffled train batch of the whole split, built by each path from the same indices."""
    dataset = Dataset(flag)
    official = official_dataset(dataset, "train", data_root)
    index = torch.randperm(len(official), generator=torch.Generator().manual_seed(0))
    images, targets = default_collate([official[i] for i in index.tolist()])
    split = to_split(*load_splits(dataset, dataset.path(data_root))["train"], dataset.spatial_dims, CPU)
    return images, targets, _normalise(split.images[index], layout), split.labels[index]


def test_to_tensor_and_normalize_map_every_byte_as_the_engine_does():
    image = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16))
    ours = _normalise(torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16))[0]
    assert torch.equal(normalize(to_tensor(image)), ours)
    assert ours.min() == -1 and ours.max() == 1


@pytest.mark.parametrize("flag", ["breastmnist", "retinamnist"])
def test_2d_batches_are_identical(flag: str, data_root: Path):
    images, targets, ours, labels = _batches(flag, data_root, torch.channels_last)
    assert images.dtype == ours.dtype == torch.float32 and images.shape == ours.shape
    assert torch.equal(images, ours)
    assert torch.equal(targets.long(), labels)


def test_3d_batches_are_the_official_inputs(data_root: Path):
    """The 3-D experiments feed volumes in [0, 1] (``/ 255.``, then ``Transform3D()``); so does the engine."""
    images, targets, ours, labels = _batches("adrenalmnist3d", data_root, torch.channels_last_3d)
    assert images.dtype == ours.dtype == torch.float32 and images.shape == ours.shape == (len(labels), 1, 28, 28, 28)
    assert images.min() == 0 and images.max() == 1
    assert torch.equal(images, ours)
    assert torch.equal(targets.long(), labels)

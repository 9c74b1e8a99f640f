"""The throughput benchmark's official loop and the engine feed the network the same numbers."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import default_collate

from benchmarks.training_throughput import flip_and_shift, normalize, official_dataset, to_tensor
from workflow.data.medmnist import Dataset, load_splits
from workflow.train.augmentation import augment
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


def _flips_and_shifts(image: torch.Tensor, pixels: int) -> list[torch.Tensor]:
    """Every horizontal flip (or none) and zero-filled shift of up to ``pixels`` of a (C, *spatial) image."""
    spatial = image.shape[1:]
    found = []
    for candidate in (image, image.flip(-1)):
        padded = torch.nn.functional.pad(candidate, [pixels] * (2 * len(spatial)))
        for offset in np.ndindex(*[2 * pixels + 1] * len(spatial)):
            found.append(padded[(slice(None), *[slice(o, o + s) for o, s in zip(offset, spatial)])])
    return found


@pytest.mark.parametrize("flag", ["breastmnist", "adrenalmnist3d"])
def test_augmented_paths_draw_from_the_same_transforms(flag: str, data_root: Path):
    """--augment: each official sample and each engine image is one of the same flips and shifts."""
    dataset = Dataset(flag)
    pixels = 2
    plain = official_dataset(dataset, "train", data_root)
    augmented = official_dataset(dataset, "train", data_root, augment=pixels)
    split = to_split(*load_splits(dataset, dataset.path(data_root))["train"], dataset.spatial_dims, CPU)
    ours = augment(split.images[:6], flip_and_shift(pixels), torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    changed = 0
    for i in range(6):
        fill = -1.0 if dataset.spatial_dims == 2 else 0.0  # a zero byte after each path's scaling
        image = torch.as_tensor(np.asarray(plain[i][0], dtype=np.float32))
        allowed = _flips_and_shifts(image - fill, pixels)
        official = torch.as_tensor(np.asarray(augmented[i][0], dtype=np.float32)) - fill
        assert any(torch.equal(official, candidate) for candidate in allowed)
        assert any(torch.equal(ours[i], candidate) for candidate in _flips_and_shifts(split.images[i], pixels))
        changed += not torch.equal(official, allowed[len(allowed) // 4]) and not torch.equal(ours[i], split.images[i])
    assert changed > 0  # both paths do transform images


def test_each_path_is_set_against_the_peak_of_its_own_arithmetic():
    from benchmarks.training_throughput import _arithmetic

    cuda = torch.device("cuda")
    assert [_arithmetic(p, cuda) for p in ("official", "ours[auto]", "ours[fp32+compile]", "ours[bf16+compile]")] == ["fp32", "bf16", "fp32", "bf16"]
    assert _arithmetic("ours[auto]", CPU) == "fp32"

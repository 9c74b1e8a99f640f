"""Batched on-device augmentation: each image gets one of the allowed transforms, draws
repeat with the generator's seed, and a run with augmentation resumes exactly."""

from pathlib import Path

import numpy as np
import pytest
import torch

from workflow.data.medmnist import Dataset, load_splits
from workflow.models import create
from workflow.train.augmentation import augment
from workflow.train.engine import fit, seed_everything, to_split
from workflow.train.recipe import Augmentation, Recipe


def _images(n: int = 64, spatial: tuple[int, ...] = (8, 8), channels: int = 2) -> torch.Tensor:
    return torch.randint(1, 256, (n, channels, *spatial), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_no_augmentation_is_falsy_and_bad_settings_are_refused():
    assert not Augmentation() and Augmentation(translate=1) and Augmentation(flips=("vertical",))
    with pytest.raises(ValueError, match="'diagonal'"):
        Augmentation(flips=("diagonal",))
    with pytest.raises(ValueError, match="translate must be >= 0"):
        Augmentation(translate=-1)


def test_flips_give_each_image_itself_or_its_mirror():
    images = _images()
    out = augment(images, Augmentation(flips=("horizontal",)), _generator())
    same = (out == images).flatten(1).all(1)
    mirrored = (out == images.flip(-1)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 0 < int(mirrored.sum()) < len(images)
    assert out.dtype == torch.uint8 and out.shape == images.shape


def test_rotations_are_the_four_quarter_turns_and_need_square_images():
    images = _images()
    out = augment(images, Augmentation(rotate90=True), _generator())
    turns = torch.stack([(out == torch.rot90(images, k, dims=(-2, -1))).flatten(1).all(1) for k in range(4)])
    assert bool((turns.sum(0) == 1).all())  # every image is exactly one quarter turn of itself
    assert bool(turns.any(1).all())  # all four turns occur in 64 images
    with pytest.raises(ValueError, match="square"):
        augment(_images(spatial=(8, 6)), Augmentation(rotate90=True), _generator())


@pytest.mark.parametrize("spatial", [(8, 8), (6, 6, 6)])
def test_translation_shifts_each_image_with_zero_fill(spatial):
    images = _images(n=32, spatial=spatial)
    pixels = 2
    out = augment(images, Augmentation(translate=pixels), _generator())
    padded = torch.nn.functional.pad(images, [pixels] * (2 * len(spatial)))
    shifts = set()
    for original, shifted in zip(padded, out):
        matches = [
            offset
            for offset in np.ndindex(*[2 * pixels + 1] * len(spatial))
            if torch.equal(original[(slice(None), *[slice(o, o + s) for o, s in zip(offset, spatial)])], shifted)
        ]
        assert len(matches) == 1  # a crop of the zero-padded image (images hold no zeros)
        shifts.add(matches[0])
    assert len(shifts) > 1


def test_draws_repeat_with_the_seed_and_the_input_is_kept():
    images = _images(spatial=(6, 6, 6))
    before = images.clone()
    settings = Augmentation(flips=("depth", "vertical", "horizontal"), rotate90=True, translate=1)
    first = augment(images, settings, _generator(3))
    assert torch.equal(first, augment(images, settings, _generator(3)))
    assert not torch.equal(first, augment(images, settings, _generator(4)))
    assert torch.equal(images, before)


def test_depth_flip_of_a_2d_batch_is_refused():
    with pytest.raises(ValueError, match="cannot flip depth"):
        augment(_images(), Augmentation(flips=("depth",)), _generator())


def test_recipe_reads_augmentation_from_config_lists():
    recipe = Recipe.from_dict({"milestones": [0.5], "augmentation": {"flips": ["horizontal"], "translate": 2}})
    assert recipe.augmentation == Augmentation(flips=("horizontal",), translate=2)
    assert recipe.milestones == (0.5,) and Recipe.from_dict({}).augmentation == Augmentation()


def test_augmented_run_resumes_to_the_same_result(data_root: Path, tmp_path: Path):
    dataset = Dataset("breastmnist")
    arrays = load_splits(dataset, dataset.path(data_root))
    splits = {name: to_split(x, y, 2, torch.device("cpu")) for name, (x, y) in arrays.items()}
    recipe = Recipe(epochs=2, batch_size=64, augmentation=Augmentation(flips=("horizontal",), translate=3))

    def model(seed: int = 0):
        seed_everything(seed)
        return create("resnet18", 2, 1, 2, widen_factor=0.0625)

    plain = fit(model(), splits, dataset.task, Recipe(epochs=2, batch_size=64), seed=0)
    uninterrupted = fit(model(), splits, dataset.task, recipe, seed=0)
    assert uninterrupted.history[0]["train_loss"] != plain.history[0]["train_loss"]

    def stop_after_first_epoch(row):
        if row["epoch"] == 1:
            raise KeyboardInterrupt

    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):
        fit(model(), splits, dataset.task, recipe, seed=0, checkpoint=checkpoint, fingerprint="a", on_epoch=stop_after_first_epoch)
    resumed = fit(model(1), splits, dataset.task, recipe, seed=0, checkpoint=checkpoint, fingerprint="a")
    assert resumed.resumed_from_epoch == 1
    assert resumed.metrics == uninterrupted.metrics

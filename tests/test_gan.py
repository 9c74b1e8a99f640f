"""GAN augmentation: networks, training on real BreastMNIST, the KID, the training-split-only
concatenation, and the Snakemake chain GAN → augmented run → table and sample grid."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from test_workflow import TINY, snakemake, with_plugins
from workflow.data.medmnist import Dataset, load_splits
from workflow.gan.augment import with_synthetic
from workflow.gan.kid import distance
from workflow.gan.networks import Discriminator, Generator
from workflow.gan.settings import GanSettings
from workflow.gan.training import sample, synthetic_labels, train_gan
from workflow.train.recipe import Recipe
from workflow.train.run import RunSpec

BREAST = Dataset("breastmnist")


@pytest.fixture(scope="module")
def breast(data_root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return load_splits(BREAST, BREAST.path(data_root))


@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(channels: int):
    generator, discriminator = Generator(16, 5, channels, 28, 8), Discriminator(5, channels, 28, 8)
    labels = torch.tensor([0, 4, 2])
    images = generator(torch.zeros(3, 16), labels)
    assert images.shape == (3, channels, 28, 28) and images.abs().max() <= 1
    assert discriminator(images, labels).shape == (3,)


def test_synthetic_labels_keep_their_shares_in_every_prefix():
    train = np.array([[0]] * 75 + [[1]] * 25, dtype=np.uint8)
    labels = synthetic_labels(train, 40, "train")
    assert labels.shape == (40, 1) and labels.dtype == np.uint8
    for n in (4, 20, 40):
        assert (labels[:n] == 1).sum() == n // 4
    assert np.bincount(synthetic_labels(train, 10, "balanced")[:, 0]).tolist() == [5, 5]
    with pytest.raises(ValueError, match="not one of"):
        synthetic_labels(train, 10, "uniform")


def test_gan_trains_on_real_breastmnist_reproducibly(breast):
    images, labels = breast["train"]
    settings = GanSettings(steps=30, batch_size=32, width=8)
    runs = [train_gan(images, labels, BREAST.n_classes, settings, seed=0, device=torch.device("cpu")) for _ in range(2)]
    wanted = synthetic_labels(labels, 50, "train")
    samples = [sample(generator, wanted, seed=0, channels_last=False) for generator, _ in runs]
    assert samples[0].shape == (50, 28, 28) and samples[0].dtype == np.uint8
    np.testing.assert_array_equal(samples[0], samples[1])
    assert runs[0][1]["steps"] == 30 and np.isfinite(runs[0][1]["d_loss_last_10pct"])
    with pytest.raises(ValueError, match="one label per image"):
        train_gan(images, np.zeros((len(images), 14)), 2, settings, seed=0, device=torch.device("cpu"))


def test_kid_is_lower_for_real_vs_real_than_real_vs_noise(breast):
    test, val = breast["test"][0], breast["val"][0]
    noise = np.random.default_rng(0).integers(0, 256, test.shape, dtype=np.uint8)
    shuffled = np.random.default_rng(0).permuted(test.reshape(len(test), -1), axis=1).reshape(test.shape)
    real = distance(test, val)
    assert abs(real) < 0.5
    assert real < distance(test, shuffled) < distance(test, noise)


def test_augmentation_extends_only_the_training_split(breast, tmp_path: Path):
    images, labels = breast["train"]
    synthetic = tmp_path / "synthetic.npz"
    np.savez(synthetic, images=np.full((600, 28, 28), 7, np.uint8), labels=np.ones((600, 1), np.uint8))
    splits, added = with_synthetic(breast, synthetic, 0.5)
    assert added == round(0.5 * len(images)) and len(splits["train"][0]) == len(images) + added
    np.testing.assert_array_equal(splits["train"][0][: len(images)], images)
    assert (splits["train"][0][len(images) :] == 7).all() and (splits["train"][1][len(images) :] == 1).all()
    assert all(splits[s][0] is breast[s][0] and splits[s][1] is breast[s][1] for s in ("val", "test"))
    with pytest.raises(ValueError, match="ratio 2"):
        with_synthetic(breast, synthetic, 2)
    np.savez(synthetic, images=np.zeros((600, 28, 28, 3), np.uint8), labels=np.ones((600, 1), np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        with_synthetic(breast, synthetic, 0.5)


def test_synthetic_images_and_ratio_enter_the_run_fingerprint():
    real = RunSpec("breastmnist", "resnet18", "resnet18", {}, Recipe(), seed=0)
    augmented = RunSpec("breastmnist", "resnet18", "resnet18", {}, Recipe(), seed=0, augment={"gan": 1.0})
    fingerprints = {real.fingerprint(), augmented.fingerprint("md5-a"), augmented.fingerprint("md5-b"), replace(augmented, augment={"gan": 0.5}).fingerprint("md5-a")}
    assert len(fingerprints) == 4  # a checkpoint is resumed only with the same images and ratio


def test_gan_chain_runs_in_snakemake(tmp_path: Path, data_root: Path):
    config = {
        **TINY,
        "benchmark": {
            **TINY["benchmark"],
            "seeds": [0],
            "gan": {"steps": 20, "batch_size": 32, "width": 8},
            "models": {
                "tiny": {"arch": "tiny_cnn", "params": {"width": 4}},
                "tiny_gan": {"arch": "tiny_cnn", "params": {"width": 4}, "augment": {"gan": 0.5}},
                "ae": {"arch": "conv_autoencoder", "params": {"width": 4, "pretrain_epochs": 2}, "datasets": ["breastmnist"]},
            },
        },
    }
    targets = ["results/report/gan_augmentation.csv", "results/report/gan_samples_breastmnist.png", "results/runs/breastmnist/ae/seed0/metrics.json"]
    result = snakemake(with_plugins(tmp_path), "--replace-workflow-config", *targets, config=config, data=data_root)
    assert result.returncode == 0, result.stderr[-5000:]
    assert "skipping tiny_gan on adrenalmnist3d: GAN augmentation takes 2-D single-label datasets" in result.stderr + result.stdout
    results = tmp_path / "results"

    # the synthetic set is removed once its run is trained; the grid's samples stay: 8 per class
    assert not (results / "gan" / "breastmnist" / "seed0" / "synthetic.npz").exists()
    with np.load(results / "gan" / "breastmnist" / "seed0" / "samples.npz") as npz:
        assert npz["images"].shape == (16, 28, 28) and np.bincount(npz["labels"][:, 0]).tolist() == [8, 8]
    gan = json.loads((results / "gan" / "breastmnist" / "seed0" / "metrics.json").read_text())
    assert gan["training"]["steps"] == 20 and gan["distance"]["synthetic"] > gan["distance"]["real_val"]
    assert gan["synthetic_images"] == 273

    augmented = json.loads((results / "runs" / "breastmnist" / "tiny_gan" / "seed0" / "metrics.json").read_text())
    assert augmented["family"] == "gan" and augmented["augment"]["gan"] == 0.5 and augmented["augment"]["synthetic_images"] == 273
    assert Path(augmented["augment"]["gan_metrics"]).name == "metrics.json"
    baseline = json.loads((results / "runs" / "breastmnist" / "tiny" / "seed0" / "metrics.json").read_text())
    assert baseline["family"] == "cnn" and "augment" not in baseline

    autoencoder = json.loads((results / "runs" / "breastmnist" / "ae" / "seed0" / "metrics.json").read_text())
    assert autoencoder["family"] == "autoencoder" and autoencoder["pretrain"]["epochs"] == 2
    assert autoencoder["pretrain"]["final_loss"] < autoencoder["pretrain"]["initial_loss"]

    table = pd.read_csv(results / "report" / "gan_augmentation.csv")
    assert table[["dataset", "model", "baseline", "ratio", "seeds"]].values.tolist() == [["breastmnist", "tiny_gan", "tiny", 0.5, 1]]
    assert table["auc_difference_mean"][0] == pytest.approx(augmented["test"]["auc"] - baseline["test"]["auc"])
    assert (results / "report" / "gan_samples_breastmnist.svg").stat().st_size > 0
    with np.load(results / "gan" / "breastmnist" / "real_samples.npz") as npz:  # the real images the grid shows, kept with the runs
        real = load_splits(Dataset("breastmnist"), Dataset("breastmnist").path(data_root))["train"]
        assert np.bincount(npz["labels"][:, 0]).tolist() == [8, 8]
        for label in (0, 1):  # the first 8 training images of each class
            assert np.array_equal(npz["images"][npz["labels"][:, 0] == label], real[0][real[1][:, 0] == label][:8])
    assert "| breastmnist | tiny_gan | tiny | 0.5 | 1 |" in (results / "report" / "gan_augmentation.md").read_text()


def test_augmented_entry_without_a_real_only_twin_is_refused(tmp_path: Path, data_root: Path):
    config = {**TINY, "benchmark": {**TINY["benchmark"], "models": {"tiny_gan": {"arch": "tiny_cnn", "augment": {"gan": 1.0}}}}}
    result = snakemake(with_plugins(tmp_path), "--replace-workflow-config", "-n", config=config, data=data_root)
    assert result.returncode != 0
    assert "benchmark.models.tiny_gan.augment: no entry with the same arch, params and recipe without augment" in result.stderr + result.stdout

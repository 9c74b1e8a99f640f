"""The autoencoder family: shapes, reconstruction pretraining on real images, and how the run
carries (and resumes) the pretrained encoder into the classifier."""

from pathlib import Path

import pytest
import torch

from workflow.data.medmnist import Dataset, load_splits
from workflow.models import create, get
from workflow.models.autoencoder_network import decoder
from workflow.train.engine import fit, seed_everything, to_split
from workflow.train.recipe import Recipe
from workflow.train.run import RunSpec, pretrain

BREAST = Dataset("breastmnist")
PARAMS = {"width": 8, "pretrain_epochs": 1}


@pytest.fixture(scope="module")
def breast(data_root: Path) -> dict:
    arrays = load_splits(BREAST, BREAST.path(data_root))
    return {name: to_split(x, y, 2, torch.device("cpu")) for name, (x, y) in arrays.items()}


def _model(freeze_encoder: bool = False) -> torch.nn.Module:
    seed_everything(0)
    return create("conv_autoencoder", 2, 1, 2, width=8, freeze_encoder=freeze_encoder)


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(("spatial_dims", "channels", "side"), [(2, 1, 28), (2, 3, 28), (2, 1, 64), (3, 1, 28)])
def test_classifier_and_decoder_take_medmnist_shapes(spatial_dims: int, channels: int, side: int):
    model = create("conv_autoencoder", spatial_dims, channels, 5, width=4)
    x = torch.zeros((2, channels) + (side,) * spatial_dims)
    assert model(x).shape == (2, 5)
    assert decoder(spatial_dims, channels, 4)(model.encoder(x)).shape == x.shape
    assert get("conv_autoencoder").family == "autoencoder" and get("conv_autoencoder").pretrain is not None


def test_pretraining_reduces_the_reconstruction_loss_on_real_images(breast):
    stats = get("conv_autoencoder").pretrain(_model(), breast["train"].images, seed=0, pretrain_epochs=3)
    assert stats["epochs"] == 3 and len(stats["train_losses"]) == 3
    assert stats["final_loss"] < 0.5 * stats["initial_loss"]
    assert stats["train_losses"][-1] < stats["train_losses"][0]


def test_run_carries_the_pretrained_encoder_into_the_classifier_and_reuses_it(breast, tmp_path: Path):
    spec = RunSpec("breastmnist", "ae", "conv_autoencoder", PARAMS, Recipe(epochs=1), seed=0)
    images, saved = breast["train"].images[:128], tmp_path / "pretrain.pt"
    hook_params = {"pretrain_epochs": 1}

    model = _model()
    initial_encoder, initial_head = _state(model.encoder), _state(model.head)
    first = pretrain(spec, model, images, hook_params, saved, fingerprint="a")
    direct = _model()
    get("conv_autoencoder").pretrain(direct, images, seed=0, **hook_params)
    assert _same(_state(model), _state(direct))  # the classifier holds exactly the pretrained weights
    assert not _same(_state(model.encoder), initial_encoder) and _same(_state(model.head), initial_head)

    resumed_model = _model()
    resumed = pretrain(spec, resumed_model, images, hook_params, saved, fingerprint="a")
    assert resumed["reused"] and not first["reused"] and resumed["final_loss"] == first["final_loss"]
    assert _same(_state(resumed_model), _state(model))

    other = _model()
    assert not pretrain(spec, other, images, hook_params, saved, fingerprint="b")["reused"]


def test_frozen_encoder_keeps_its_pretrained_weights_and_statistics_while_the_head_learns(breast):
    model = _model(freeze_encoder=True)
    get("conv_autoencoder").pretrain(model, breast["train"].images, seed=0, pretrain_epochs=1)
    encoder, head = _state(model.encoder), _state(model.head)
    fit(model, breast, BREAST.task, Recipe(epochs=1, batch_size=64), seed=0)
    assert _same(_state(model.encoder), encoder)
    assert not _same(_state(model.head), head)

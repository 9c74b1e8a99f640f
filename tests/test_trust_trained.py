"""The trust stage's view of a trained model: a scikit-learn baseline's logits from its
pixels in MedMNIST's layout, the multi-label scale, seeded redraws of a linear baseline,
and the runs that cannot be loaded, each named with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workflow.data.medmnist import Dataset
from workflow.trust.trained import MissingModel, TrainedModel, load

RUN = {"model": "lr", "seed": 0, "family": "classical"}


class SecondFeature:
    """A stand-in estimator whose P(class 1) is the second feature: in MedMNIST's layout, channels
    last, the first pixel's second channel (an RGB image) or the second pixel (a grey one)."""

    def predict_proba(self, pixels: np.ndarray) -> np.ndarray:
        p = pixels[:, 1].astype(np.float64)
        return np.stack([1 - p, p], axis=1)


class Labels:
    """A stand-in one-vs-rest estimator: label k's probability is the k-th feature."""

    def __init__(self, labels: int) -> None:
        self.estimators_ = [_Feature(k) for k in range(labels)]


class _Feature:
    def __init__(self, k: int) -> None:
        self.k = k

    def predict_proba(self, pixels: np.ndarray) -> np.ndarray:
        p = pixels[:, self.k].astype(np.float64)
        return np.stack([1 - p, p], axis=1)


def _model(flag: str, estimator: object) -> TrainedModel:
    return TrainedModel({"dataset": flag, **RUN}, Dataset(flag), estimator=estimator)


def test_a_baseline_reads_pixels_channels_last_and_gives_log_probabilities():
    x = torch.zeros(2, 3, 4, 4)
    x[0, 1, 0, 0] = 0.75  # the first pixel's green value: the second feature channels last
    x[0, 0, 0, 1], x[0, 0, 1, 0] = 0.1, 0.3  # the second feature in other layouts
    logits = _model("pathmnist", SecondFeature()).logits(x)
    np.testing.assert_allclose(logits[0].numpy(), np.log([0.25, 0.75]), rtol=1e-6)
    assert logits[1, 0] == 0 and logits[1, 1] == pytest.approx(np.log(1e-12), rel=1e-5)  # P = 0 clipped at 1e-12
    grey = torch.zeros(1, 1, 4, 4)
    grey[0, 0, 0, 1] = 0.5
    np.testing.assert_allclose(_model("breastmnist", SecondFeature()).logits(grey).numpy(), np.log([[0.5, 0.5]]), rtol=1e-6)


def test_a_multi_label_baseline_gives_clipped_log_odds_per_label():
    x = torch.zeros(1, 1, 2, 2)
    x[0, 0, 0] = torch.tensor([0.0, 0.8])  # label 0: P = 0, label 1: P = 0.8, label 2: P = 0 (pixel 2)
    x[0, 0, 1, 0] = 1.0  # label 2: P = 1
    logits = _model("chestmnist", Labels(3)).logits(x).numpy()[0]
    edge = np.log((1 - 1e-7) / 1e-7)
    np.testing.assert_allclose(logits, [-edge, np.log(0.8 / 0.2), edge], rtol=1e-5)


def test_probabilities_are_sigmoids_for_multi_label_subsets_and_volumes_are_fed_as_they_are():
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    chest = TrainedModel({"dataset": "chestmnist", **RUN}, Dataset("chestmnist"), module=network.eval())
    x = torch.rand(2, 1, 2, 2)
    assert torch.allclose(chest.probabilities(x), torch.sigmoid(network(x * 2 - 1)))
    breast = TrainedModel({"dataset": "breastmnist", **RUN}, Dataset("breastmnist"), module=network.eval())
    assert torch.allclose(breast.probabilities(x), torch.softmax(network(x * 2 - 1), dim=1))
    volume = torch.rand(1, 1, 2, 2, 2)
    assert torch.equal(breast.network_input(volume), volume)


def _fitted(labels: int | None = None) -> object:
    rng = np.random.default_rng(0)
    x = rng.random((60, 400))
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1e-3))
    if labels is None:
        return pipeline.fit(x, rng.integers(0, 2, 60))
    return OneVsRestClassifier(pipeline).fit(x, rng.integers(0, 2, (60, labels)))


def test_a_linear_baseline_is_redrawn_at_its_scale_seeded():
    model = _model("breastmnist", _fitted())
    trained = model.estimator[-1]
    first, again, other = model.randomised(1), model.randomised(1), model.randomised(2)
    linear = first.estimator[-1]
    assert np.array_equal(linear.coef_, again.estimator[-1].coef_) and not np.array_equal(linear.coef_, other.estimator[-1].coef_)
    assert linear.coef_.std() == pytest.approx(trained.coef_.std(), rel=0.1) and abs(linear.coef_.mean()) < 0.2 * trained.coef_.std()
    assert linear.intercept_.shape == trained.intercept_.shape == (1,) and abs(linear.intercept_[0]) < 4 * trained.coef_.std()
    [(name, twin)] = list(model.cascade(1, torch.zeros(1, 1, 28, 28)))
    assert name == "coefficients" and np.array_equal(twin.estimator[-1].coef_, linear.coef_)
    zero = _model("breastmnist", _fitted())
    zero.estimator[-1].coef_[:] = 0.0  # no scale to keep: a standard normal
    assert zero.randomised(1).estimator[-1].coef_.std() == pytest.approx(1.0, rel=0.1)


def test_every_label_of_a_one_vs_rest_baseline_is_redrawn():
    model = _model("chestmnist", _fitted(labels=3))
    twin = model.randomised(3)
    for trained, redrawn in zip(model.estimator.estimators_, twin.estimator.estimators_):
        assert not (redrawn[-1].coef_ == trained[-1].coef_).any() and not (redrawn[-1].intercept_ == trained[-1].intercept_).any()


def test_randomised_networks_can_be_limited_to_named_blocks():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
    model = TrainedModel({"dataset": "breastmnist", **RUN}, Dataset("breastmnist"), module=network)
    twin = model.randomised(5, names=["1"])
    assert torch.equal(twin.module[0].weight, network[0].weight) and not torch.equal(twin.module[1].weight, network[1].weight)
    assert not twin.module.training


def _run_folder(root: Path, metrics: dict) -> Path:
    root.mkdir(parents=True)
    (root / "metrics.json").write_text(json.dumps({"dataset": "breastmnist", "model": "m", "seed": 0, **metrics}))
    return root


def test_a_vision_transformer_is_built_for_the_subset_s_image_size(tmp_path: Path):
    from workflow.models import create

    params = {"hidden_size": 16, "mlp_dim": 32, "num_layers": 1, "num_heads": 2}
    network = create("vit", 2, 1, 2, img_size=(28, 28), **params)
    folder = _run_folder(tmp_path / "vit", {"status": "ok", "arch": "vit", "config": {"fingerprint": "f", "params": params}})
    torch.save({"fingerprint": "f", "best": {"state": network.state_dict()}}, folder / "checkpoint.pt")
    loaded = load(folder)
    x = torch.rand(2, 1, 28, 28)
    assert torch.allclose(loaded.logits(x), network.eval()(x * 2 - 1)) and not loaded.module.training


def test_runs_that_cannot_be_loaded_are_named_with_the_reason(tmp_path: Path):
    failed = _run_folder(tmp_path / "failed", {"status": "failed", "reason": "out of memory"})
    with pytest.raises(MissingModel, match=f"^run {failed}: status 'failed', no trained model \\(out of memory\\)$"):
        load(failed)
    silent = _run_folder(tmp_path / "silent", {"status": "diverged"})
    with pytest.raises(MissingModel, match=r"status 'diverged', no trained model \(\)$"):
        load(silent)
    linear = _run_folder(tmp_path / "linear", {"status": "ok", "arch": "logistic_regression"})
    with pytest.raises(MissingModel, match=f"^run {linear}: no model.joblib; train it again to keep its estimator$"):
        load(linear)
    other = _run_folder(tmp_path / "other", {"status": "ok", "arch": "resnet18", "config": {"fingerprint": "abc", "params": {}}})
    torch.save({"fingerprint": "def"}, other / "checkpoint.pt")
    with pytest.raises(MissingModel, match=f"^run {other}: checkpoint.pt belongs to another configuration than metrics.json$"):
        load(other)

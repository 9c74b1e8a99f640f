import math
from pathlib import Path

import numpy as np
import pytest
import torch
from medmnist import Evaluator

from workflow.data.medmnist import Dataset, load_splits
from workflow.models import create, load_plugins
from workflow.train.engine import MULTI_LABEL, Split, TrainingDiverged, fit, seed_everything, to_split
from workflow.train.metrics import evaluate
from workflow.train.recipe import Recipe

BREAST = Dataset("breastmnist")
RECIPE = Recipe(epochs=2, batch_size=64)
PLUGIN = Path(__file__).parent / "plugins" / "tiny_cnn.py"


@pytest.fixture(scope="module")
def breast(data_root: Path) -> dict[str, Split]:
    arrays = load_splits(BREAST, BREAST.path(data_root))
    return {name: to_split(x, y, 2, torch.device("cpu")) for name, (x, y) in arrays.items()}


def _model(seed: int = 0):
    seed_everything(seed)
    return create("resnet18", 2, 1, 2, widen_factor=0.0625)


def test_metrics_are_those_of_the_official_evaluator(data_root: Path):
    rng = np.random.default_rng(0)
    for flag in ("breastmnist", "retinamnist"):
        dataset = Dataset(flag)
        labels = load_splits(dataset, dataset.path(data_root))["test"][1]
        scores = rng.random((len(labels), dataset.n_classes))
        official = Evaluator(flag, "test", root=str(data_root / "medmnist")).evaluate(scores)
        ours = evaluate(dataset.task, labels, scores)
        assert (ours["auc"], ours["acc"]) == (official.AUC, official.ACC)


def test_splits_become_channel_first_uint8():
    gray = to_split(np.zeros((4, 28, 28), np.uint8), np.zeros((4, 1), np.uint8), 2, torch.device("cpu"))
    rgb = to_split(np.zeros((4, 28, 28, 3), np.uint8), np.zeros((4, 1), np.uint8), 2, torch.device("cpu"))
    vol = to_split(np.zeros((4, 28, 28, 28), np.uint8), np.zeros((4, 1), np.uint8), 3, torch.device("cpu"))
    assert gray.images.shape == (4, 1, 28, 28) and rgb.images.shape == (4, 3, 28, 28)
    assert vol.images.shape == (4, 1, 28, 28, 28) and vol.images.dtype == torch.uint8
    with pytest.raises(ValueError, match="not 3-D"):
        to_split(np.zeros((4, 28, 28), np.uint8), np.zeros((4, 1)), 3, torch.device("cpu"))


def test_training_learns_and_is_deterministic(breast, tmp_path: Path):
    first = fit(_model(), breast, BREAST.task, RECIPE, seed=0)
    second = fit(_model(), breast, BREAST.task, RECIPE, seed=0)
    assert [r["train_loss"] for r in first.history] == [r["train_loss"] for r in second.history]
    assert first.metrics == second.metrics
    np.testing.assert_array_equal(first.test_scores, second.test_scores)
    assert first.metrics["test"]["auc"] > 0.6


def test_the_log_records_the_learning_rate_each_epoch_trained_with(breast):
    """MedMNIST v2: x0.1 after 50% and after 75% of the epochs; 4 epochs train at
    1e-3, 1e-3, 1e-4, 1e-5."""
    recipe = Recipe(epochs=4, batch_size=256, lr=1e-3, gamma=0.1)
    result = fit(_model(), breast, BREAST.task, recipe, seed=0)
    assert [r["lr"] for r in result.history] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5])


def test_interrupted_run_resumes_to_the_same_result(breast, tmp_path: Path):
    checkpoint = tmp_path / "checkpoint.pt"
    uninterrupted = fit(_model(), breast, BREAST.task, RECIPE, seed=0)

    def stop_after_first_epoch(row):
        if row["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(_model(), breast, BREAST.task, RECIPE, seed=0, checkpoint=checkpoint, fingerprint="a", on_epoch=stop_after_first_epoch)
    resumed = fit(_model(1), breast, BREAST.task, RECIPE, seed=0, checkpoint=checkpoint, fingerprint="a")
    assert resumed.resumed_from_epoch == 1
    assert resumed.metrics == uninterrupted.metrics
    np.testing.assert_array_equal(resumed.test_scores, uninterrupted.test_scores)


def test_a_model_with_dropout_resumes_to_the_same_result(breast, tmp_path: Path):
    """Dropout draws from the global generators: the checkpoint carries their states."""

    load_plugins([PLUGIN])

    def model(seed: int = 0):
        seed_everything(seed)
        return create("tiny_cnn", 2, 1, 2, width=8, dropout=0.5)

    recipe = Recipe(epochs=2, batch_size=64)
    uninterrupted = fit(model(), breast, BREAST.task, recipe, seed=0)

    def stop_after_first_epoch(row):
        if row["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(model(), breast, BREAST.task, recipe, seed=0, checkpoint=tmp_path / "c.pt", fingerprint="a", on_epoch=stop_after_first_epoch)
    resumed = fit(model(), breast, BREAST.task, recipe, seed=0, checkpoint=tmp_path / "c.pt", fingerprint="a")
    assert resumed.resumed_from_epoch == 1
    assert resumed.history == [dict(r, seconds=s["seconds"]) for r, s in zip(uninterrupted.history, resumed.history)]
    np.testing.assert_array_equal(resumed.test_scores, uninterrupted.test_scores)


def test_checkpoint_of_another_configuration_is_not_resumed(breast, tmp_path: Path):
    checkpoint = tmp_path / "checkpoint.pt"
    fit(_model(), breast, BREAST.task, Recipe(epochs=1, batch_size=64), seed=0, checkpoint=checkpoint, fingerprint="a")
    result = fit(_model(), breast, BREAST.task, Recipe(epochs=1, batch_size=64), seed=0, checkpoint=checkpoint, fingerprint="b")
    assert result.resumed_from_epoch == 0


class _Broken(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 2)

    def forward(self, x):
        return self.linear(x.mean(dim=(2, 3))) * float("nan")


def test_nan_loss_stops_the_run(breast):
    with pytest.raises(TrainingDiverged, match="training loss became nan in epoch 1"):
        fit(_Broken(), breast, BREAST.task, Recipe(epochs=1, batch_size=64), seed=0)


def test_multi_label_task_trains_with_sigmoid_scores():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (32, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 2, (32, 3), dtype=np.uint8)
    split = to_split(images, labels, 2, torch.device("cpu"))
    result = fit(create("resnet18", 2, 1, 3, widen_factor=0.0625), {"train": split, "val": split, "test": split}, MULTI_LABEL, Recipe(epochs=1, batch_size=16), seed=0)
    assert result.test_scores.shape == (32, 3)
    assert ((result.test_scores >= 0) & (result.test_scores <= 1)).all()


class _Payload:
    """Stands for code hidden in a pickle: loading it must not run anything."""

    def __reduce__(self):
        return (print, ("code ran while loading the checkpoint",))


def test_checkpoints_load_weights_only(breast, tmp_path: Path):
    import pickle

    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"fingerprint": "a", "payload": _Payload()}, checkpoint)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        fit(_model(), breast, BREAST.task, Recipe(epochs=1, batch_size=64), seed=0, checkpoint=checkpoint, fingerprint="a")


def test_balanced_accuracy_and_macro_f1_follow_sklearn():
    from sklearn.metrics import balanced_accuracy_score, f1_score

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, (50, 1))
    scores = rng.random((50, 3))
    result = evaluate("multi-class", labels, scores)
    assert result["balanced_acc"] == pytest.approx(balanced_accuracy_score(labels[:, 0], scores.argmax(1)))
    assert result["f1"] == pytest.approx(f1_score(labels[:, 0], scores.argmax(1), average="macro"))
    multi = evaluate(MULTI_LABEL, rng.integers(0, 2, (50, 4)), rng.random((50, 4)))
    assert 0 <= multi["balanced_acc"] <= 1 and 0 <= multi["f1"] <= 1 and set(multi) == {"acc", "auc", "balanced_acc", "f1"}


def test_flops_are_counted_per_image():
    from workflow.train.run import flops_per_image

    model = create("resnet18", 2, 1, 2)
    assert flops_per_image(model, torch.zeros(1, 1, 28, 28, dtype=torch.uint8)) == pytest.approx(0.91e9, rel=0.01)


@pytest.mark.parametrize(("precision", "compiled"), [("bf16", False), ("fp32", True)], ids=["bf16-autocast", "torch-compile"])
def test_bf16_autocast_and_compiled_models_train_near_the_eager_float32_result(breast, precision: str, compiled: bool):
    """The opt-in paths run on a CPU too (a small plugin model keeps compiling short) and
    land near the eager float32 run: bf16 rounds, compiled kernels reorder sums."""
    load_plugins([PLUGIN])

    def model():
        seed_everything(0)
        return create("tiny_cnn", 2, 1, 2, width=8)

    eager = fit(model(), breast, BREAST.task, Recipe(epochs=2, batch_size=64), seed=0)
    torch._dynamo.utils.counters.clear()
    other = fit(model(), breast, BREAST.task, Recipe(epochs=2, batch_size=64, precision=precision, compile=compiled), seed=0)
    assert all(math.isfinite(r["train_loss"]) for r in other.history)
    if compiled:
        assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 1  # dynamo captured the model
    else:
        assert other.history[-1]["train_loss"] != eager.history[-1]["train_loss"]  # bf16 rounding took effect
    assert other.history[-1]["train_loss"] == pytest.approx(eager.history[-1]["train_loss"], abs=0.02)
    assert other.metrics["test"]["auc"] == pytest.approx(eager.metrics["test"]["auc"], abs=0.05)

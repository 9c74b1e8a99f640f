from pathlib import Path

import numpy as np
import pytest
import torch

from workflow.models import create, get, load_plugins, register, registered

PLUGIN = Path(__file__).parent / "plugins" / "tiny_cnn.py"


@pytest.mark.parametrize(("spatial_dims", "channels", "classes"), [(2, 1, 2), (2, 3, 5), (3, 1, 2), (2, 1, 14)])
def test_resnet18_takes_medmnist_shapes(spatial_dims: int, channels: int, classes: int):
    model = create("resnet18", spatial_dims, channels, classes, widen_factor=0.125)
    x = torch.zeros((2, channels) + (28,) * spatial_dims)
    assert model(x).shape == (2, classes)


def test_published_resnet18_has_the_published_size():
    model = create("resnet18", 2, 3, 9)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(11.18e6, rel=0.01)


def test_specs_describe_family_and_dims():
    spec = get("resnet18")
    assert spec.family == "cnn" and spec.supports(2) and spec.supports(3) and not spec.supports(1)


def test_unknown_model_lists_the_registered_ones():
    with pytest.raises(KeyError, match="registered: .*densenet121, .*resnet18, resnet50, .*vit"):
        get("nosuchnet")


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_densenet121_keeps_28_px_inputs_alive(spatial_dims: int):
    model = create("densenet121", spatial_dims, 1, 3).eval()
    assert model.features.conv0.stride == (1,) * spatial_dims
    x = torch.zeros((1, 1) + (28,) * spatial_dims)
    with torch.no_grad():
        assert model.features[:-1](x).shape[2:] == (3,) * spatial_dims  # three transitions: 28 → 14 → 7 → 3
        assert model(x).shape == (1, 3)


def test_model_refuses_dims_it_does_not_support():
    register("flat_only", family="cnn", spatial_dims=(2,))(lambda **kw: None)
    with pytest.raises(ValueError, match="supports \\(2,\\)-D inputs, not 3-D"):
        create("flat_only", 3, 1, 2)


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="family 'svm'"):
        register("x", family="svm")


def test_plugin_file_registers_a_model_without_core_edits():
    load_plugins([PLUGIN])
    assert "tiny_cnn" in registered()
    model = create("tiny_cnn", 3, 1, 2, width=4)
    assert model(torch.zeros(1, 1, 28, 28, 28)).shape == (1, 2)


def test_missing_plugin_file_is_named(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nothere.py"):
        load_plugins([tmp_path / "nothere.py"])


@pytest.mark.parametrize(
    ("name", "dataset", "params"),
    [
        ("vit", "breastmnist", {"hidden_size": 48, "mlp_dim": 96, "num_layers": 2, "num_heads": 2}),
        ("cnn_transformer", "breastmnist", {"width": 16, "depth": 1, "heads": 2}),
        ("cnn_transformer", "adrenalmnist3d", {"width": 8, "depth": 1, "heads": 2}),
        ("slice_rnn", "adrenalmnist3d", {"width": 8, "hidden": 16, "cell": "lstm"}),
    ],
)
def test_each_family_trains_on_real_data(data_root: Path, name: str, dataset: str, params: dict):
    from workflow.data.medmnist import Dataset, load_splits
    from workflow.train.engine import fit, seed_everything, to_split
    from workflow.train.recipe import Recipe

    ds = Dataset(dataset)
    arrays = load_splits(ds, ds.path(data_root))
    splits = {s: to_split(x[:256], y[:256], ds.spatial_dims, torch.device("cpu")) for s, (x, y) in arrays.items()}
    seed_everything(0)
    model = create(name, ds.spatial_dims, 1, ds.n_classes, img_size=(28,) * ds.spatial_dims, **params)
    result = fit(model, splits, ds.task, Recipe(epochs=1, batch_size=32), seed=0)
    assert np.isfinite(result.history[0]["train_loss"]) and 0 <= result.metrics["test"]["auc"] <= 1
    assert result.test_scores.shape == (len(splits["test"].images), ds.n_classes)


def test_vit_needs_the_image_size():
    with pytest.raises(ValueError, match="needs img_size"):
        create("vit", 2, 1, 2)


def test_slice_rnn_refuses_an_unknown_cell():
    with pytest.raises(ValueError, match="cell must be 'gru' or 'lstm'"):
        create("slice_rnn", 3, 1, 2, cell="transformer")


def test_building_the_dag_imports_no_torch():
    """The rules read the registry and the GAN settings at DAG build: torch costs seconds there."""
    import subprocess
    import sys

    code = "import sys; from workflow.models import registered; registered(); import workflow.gan.settings; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1], check=True)
    assert result.stdout.strip() == "False"

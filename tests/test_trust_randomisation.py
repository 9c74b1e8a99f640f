"""The model-randomisation check draws every weight again: for every registered model, no
trained tensor survives; each module keeps its own initialiser, bare parameters get the
ViT one; the cascading form re-draws blocks from the output down."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from workflow.data.medmnist import Dataset
from workflow.models import create
from workflow.models.registry import registered
from workflow.trust.randomisation import BARE_STD, blocks, redraw
from workflow.trust.trained import TrainedModel

SMALL = {  # small instances of the registered classification networks
    "resnet18": {"widen_factor": 0.125},
    "resnet50": {"widen_factor": 0.0625},
    "densenet121": {"growth_rate": 4},
    "vit": {"hidden_size": 16, "mlp_dim": 32, "num_layers": 2, "num_heads": 2},
    "cnn_transformer": {"width": 8, "depth": 2, "heads": 2},
    "slice_rnn": {"width": 4, "hidden": 8},
    "conv_autoencoder": {"width": 4},
}
NETWORKS = [
    (name, dims)
    for name, spec in sorted(registered().items())
    if spec.framework == "torch" and spec.task == "classification"
    for dims in spec.spatial_dims
]


def trained(module: nn.Module) -> nn.Module:
    """The module as if trained: every parameter and statistic moved off its initial value."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 + 0.01 * torch.randn_like(p))
        for name, b in module.named_buffers():
            b.add_(7 if name.endswith("num_batches_tracked") else 0.3)
    return module


def test_every_registered_classification_network_is_covered():
    assert {name for name, _ in NETWORKS} == set(SMALL)


@pytest.mark.parametrize(("name", "dims"), NETWORKS)
def test_no_trained_tensor_survives_the_redraw(name: str, dims: int):
    torch.manual_seed(0)
    module = trained(create(name, dims, 1, 3, img_size=(28,) * dims, **SMALL[name]))
    before = copy.deepcopy(module.state_dict())
    redraw(module, seed=1)
    for key, value in module.state_dict().items():
        if key.endswith("num_batches_tracked"):
            assert value == 0, key
        elif key.endswith("running_mean") or key.endswith("running_var"):
            assert torch.equal(value, torch.zeros_like(value) if key.endswith("mean") else torch.ones_like(value)), key
        else:
            assert not (value == before[key]).any(), f"{name} {dims}-D: {key} keeps trained values"


def test_bare_parameters_get_the_vit_initialiser_and_attention_its_own():
    torch.manual_seed(0)
    module = trained(create("cnn_transformer", 2, 1, 3, img_size=(28, 28), **SMALL["cnn_transformer"]))
    redraw(module, seed=1)
    # a bare nn.Parameter: a normal of std 0.02 cut at two std has std 0.0176 (a uniform over the same range 0.023)
    assert module.position.abs().max() <= 2 * BARE_STD and 0.016 < module.position.std().item() < 0.0195
    attention = module.encoder.layers[0].self_attn  # nn.MultiheadAttention: _reset_parameters, xavier-uniform weights
    bound = np.sqrt(6 / (attention.embed_dim + 3 * attention.embed_dim))  # fan in E, fan out 3E
    assert attention.in_proj_weight.abs().max() > 2 * BARE_STD and attention.in_proj_weight.abs().max() <= bound
    assert torch.equal(attention.in_proj_bias, torch.zeros_like(attention.in_proj_bias))
    vit = trained(create("vit", 2, 1, 3, img_size=(28, 28), **SMALL["vit"]))
    redraw(vit, seed=1)
    for bare in (vit.vit.cls_token, vit.vit.patch_embedding.position_embeddings):
        assert bare.abs().max() <= 2 * BARE_STD and bare.std() > BARE_STD / 2


def test_the_redraw_is_seeded_and_can_be_restricted_to_named_modules():
    torch.manual_seed(0)
    module = trained(create("cnn_transformer", 2, 1, 3, img_size=(28, 28), **SMALL["cnn_transformer"]))
    first, second, third = copy.deepcopy(module), copy.deepcopy(module), copy.deepcopy(module)
    redraw(first, seed=3)
    redraw(second, seed=3)
    redraw(third, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first.head[-1].weight, third.head[-1].weight)
    head = copy.deepcopy(module)
    redraw(head, seed=3, names=[n for n, _ in head.named_modules() if n.startswith("head")])
    for (key, value), old in zip(head.state_dict().items(), module.state_dict().values()):
        assert torch.equal(value, old) != key.startswith("head"), key


def test_blocks_follow_the_forward_pass_and_the_cascade_redraws_from_the_output_down():
    torch.manual_seed(0)
    module = trained(create("cnn_transformer", 2, 1, 3, img_size=(28, 28), **SMALL["cnn_transformer"])).eval()
    x = torch.rand(1, 1, 28, 28)
    groups = blocks(module, x * 2 - 1)
    assert [g[0] for g in groups] == ["stem", "encoder", "head"] and "" in groups[0]  # the position embedding with the stem
    model = TrainedModel({"dataset": "breastmnist", "model": "toy", "seed": 0, "family": "hybrid"}, Dataset("breastmnist"), module=module)
    state = module.state_dict()
    steps = list(model.cascade(seed=1, x=x))
    assert [name for name, _ in steps] == ["head", "encoder", "stem"]
    redrawn = [{k for k, v in twin.module.state_dict().items() if not torch.equal(v, state[k])} for _, twin in steps]
    assert {k.split(".")[0] for k in redrawn[0]} == {"head"}
    assert {k.split(".")[0] for k in redrawn[1]} == {"head", "encoder"}
    assert redrawn[2] == set(state)  # every tensor, the bare position embedding included
    assert all(torch.equal(v, state[k]) for k, v in module.state_dict().items())  # the trained model is left as it was


class Backwards(nn.Module):
    """Children registered in the reverse of the order the forward pass runs them, one never run."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(4, 2)
        self.unused = nn.Linear(2, 2)
        self.body = nn.Conv2d(1, 4, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.body(x)).flatten(1))


class Wrapper(nn.Module):
    """One child, and a parameter of its own: no wrapper to look through."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = Backwards()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.scale


def test_blocks_are_ordered_by_the_forward_pass_not_by_registration():
    groups = blocks(Backwards(), torch.rand(1, 1, 6, 6))
    assert groups == [["body", ""], ["head"], ["unused"]]  # a child never run goes last; the pooling has no parameters
    assert blocks(Wrapper(), torch.rand(1, 1, 6, 6)) == [["inner", "inner.head", "inner.unused", "inner.body", "inner.pool", ""]]


def test_blocks_look_through_a_wrapper_of_one_child():
    vit = create("vit", 2, 1, 3, img_size=(28, 28), **SMALL["vit"]).eval()
    groups = blocks(vit, torch.rand(1, 1, 28, 28))
    assert [g[0] for g in groups] == ["vit.patch_embedding", "vit.blocks", "vit.norm", "vit.classification_head"]
    assert "vit" in groups[0] and "vit.blocks.1.attn" in groups[1]  # the class token, owned by the ViT, with the input side


def test_a_linear_baseline_has_its_coefficients_and_intercepts_drawn_again():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    estimator = make_pipeline(StandardScaler(), LogisticRegression()).fit(rng.random((40, 5)), rng.integers(0, 2, 40))
    model = TrainedModel({"dataset": "breastmnist", "model": "lr", "seed": 0, "family": "classical"}, Dataset("breastmnist"), estimator=estimator)
    twin = model.randomised(seed=2)
    coef, intercept = estimator[-1].coef_.copy(), estimator[-1].intercept_.copy()
    assert not (twin.estimator[-1].coef_ == coef).any() and not (twin.estimator[-1].intercept_ == intercept).any()
    assert (estimator[-1].coef_ == coef).all()  # the trained model is untouched
    assert [name for name, _ in model.cascade(seed=2, x=torch.zeros(1, 1, 28, 28))] == ["coefficients"]

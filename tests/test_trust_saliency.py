"""Saliency methods and their quality measures against cases with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from workflow.data.medmnist import Dataset
from workflow.models import create
from workflow.report.trust_tables import explanation_summary
from workflow.trust.faithfulness import area, curves, rank_correlation, salience_order
from workflow.trust.saliency import gradcam_layer, not_applicable, saliency
from workflow.trust.trained import TrainedModel

PIXEL = (1, 2)  # the one pixel the toy model looks at


class OnePixel(nn.Module):
    """Two-class logits [0, 10 · x[PIXEL]] on the engine's 2-D scale ([-1, 1]): class 1 is
    certain when the pixel is white and a coin toss when it is black (-1 → logit -10 …)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value = (x[:, 0, PIXEL[0], PIXEL[1]] + 1.0) / 2.0  # back to [0, 1]
        return torch.stack([torch.zeros_like(value), 10.0 * value], dim=1)


class TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


class PerSlice(nn.Module):
    """Convolutions on each slice of a volume, as the slice RNN runs them."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, d = x.shape[:3]
        slices = self.pool(self.conv(x.transpose(1, 2).reshape(b * d, c, *x.shape[3:]))).reshape(b, d, -1)
        return self.head(slices.mean(1))


def _wrap(module: nn.Module, flag: str = "breastmnist") -> TrainedModel:
    run = {"dataset": flag, "model": "toy", "seed": 0, "family": "cnn"}
    return TrainedModel(run, Dataset(flag), module=module.eval())


def test_deletion_curve_of_a_one_pixel_model_matches_the_hand_computed_area():
    model = _wrap(OnePixel())
    image = torch.ones(1, 4, 4)
    right = np.zeros((4, 4))
    right[PIXEL] = 1.0
    probability = lambda batch: model.probabilities(batch)[:, 1]  # noqa: E731
    curve = curves(probability, image, right, steps=16)
    # p(class 1) = 1 / (1 + e^-10) while the pixel is there, 1/2 from the first step on
    p1 = 1 / (1 + np.exp(-10.0))
    np.testing.assert_allclose(curve["deletion"], [p1] + [0.5] * 16, atol=1e-6)
    assert area(curve["fraction"], curve["deletion"]) == pytest.approx((p1 + 0.5) / 2 / 16 + 0.5 * 15 / 16, abs=1e-6)
    wrong = 1.0 - right  # the pixel comes last: the probability holds until the end
    late = curves(probability, image, wrong, steps=16)
    assert area(late["fraction"], late["deletion"]) == pytest.approx(p1 * 15 / 16 + (p1 + 0.5) / 2 / 16, abs=1e-6)
    # insertion from a black start (blur of a one-pixel image is not needed here: sigma 0)
    inserted = curves(probability, image, right, steps=16, blur_sigma=0.0)
    assert inserted["insertion"][0] == pytest.approx(p1)  # the blurred copy of a white image is white


def test_occlusion_finds_the_one_pixel_and_gradcam_does_not_apply_without_convolutions():
    model = _wrap(OnePixel())
    x = torch.ones(2, 1, 8, 8)
    maps = saliency(model, "occlusion", x, torch.tensor([1, 1]), window=2, stride=1)
    assert maps.shape == (2, 8, 8)
    peak = np.unravel_index(maps[0].argmax(), maps[0].shape)
    assert abs(peak[0] - PIXEL[0]) <= 1 and abs(peak[1] - PIXEL[1]) <= 1
    assert maps[0][PIXEL] > 0 and maps[0][7, 7] == 0  # windows away from the pixel change nothing
    assert not_applicable(model, "gradcam", x) == "the network has no convolutions"
    assert "rollout" in not_applicable(model, "rollout", x)


def test_gradcam_reads_the_input_of_the_last_global_pooling_and_upsamples():
    torch.manual_seed(0)
    model = _wrap(TinyCNN())
    x = torch.rand(3, 1, 28, 28)
    layer, layer_input = gradcam_layer(model, x)
    assert layer is model.module.pool and layer_input
    maps = saliency(model, "gradcam", x, torch.tensor([0, 1, 0]))
    assert maps.shape == (3, 28, 28) and (maps >= 0).all()


def test_gradcam_skips_a_single_pixel_feature_map_for_the_last_larger_one():
    module = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 28), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    layer, layer_input = gradcam_layer(_wrap(module), torch.rand(1, 1, 28, 28))
    assert layer is module[0] and not layer_input


def test_gradcam_is_skipped_with_a_reason_for_per_slice_convolutions_and_for_a_vit():
    volume = _wrap(PerSlice(), "adrenalmnist3d")
    assert "single slices" in not_applicable(volume, "gradcam", torch.rand(1, 1, 6, 8, 8))
    vit = _wrap(create("vit", spatial_dims=2, in_channels=1, out_channels=2, img_size=(28, 28), hidden_size=32, mlp_dim=64, num_layers=2, num_heads=2))
    x = torch.rand(2, 1, 28, 28)
    assert "rollout" in not_applicable(vit, "gradcam", x)
    maps = saliency(vit, "rollout", x, torch.tensor([0, 1]))
    assert maps.shape == (2, 28, 28) and (maps > 0).all() and (maps < 1).all()  # a share of the class token's attention


def test_randomisation_check_separates_a_model_dependent_map_from_an_input_edge_map():
    torch.manual_seed(0)
    model = _wrap(TinyCNN())
    x = torch.rand(2, 1, 28, 28)
    randomised = model.randomised(seed=1)
    assert not torch.equal(model.module.head.weight, randomised.module.head.weight)
    trained = saliency(model, "gradcam", x, torch.tensor([0, 1]))
    again = saliency(randomised, "gradcam", x, torch.tensor([0, 1]))
    assert rank_correlation(trained[0], trained[0]) == pytest.approx(1.0)
    assert rank_correlation(trained[0], np.zeros_like(trained[0])) == 0.0
    assert abs(rank_correlation(trained[0], again[0])) < 0.9

    # a "method" that returns the input itself ignores the model: rho 1, fails the check
    rows = []
    for method, rho in (("input", 1.0), ("flipped", -0.9), ("gradcam", 0.1), ("random", np.nan)):
        rows.append({"dataset": "d", "modality": "m", "family": "cnn", "model": "toy", "seed": 0, "method": method, "image": 0,
                     "deletion_auc": 0.2, "insertion_auc": 0.8, "randomisation_rho": rho})
    summary = explanation_summary(pd.DataFrame(rows), threshold=0.5).set_index("method")
    assert summary.loc["input", "sanity check"] == summary.loc["flipped", "sanity check"] == "fails"
    assert summary.loc["gradcam", "sanity check"] == "passes"


def test_salience_order_breaks_ties_by_seed_and_keeps_the_ranking():
    saliency_map = np.array([[0.0, 2.0], [1.0, 1.0]])
    first, second = salience_order(saliency_map, seed=0), salience_order(saliency_map, seed=5)
    assert first[0] == 1 and set(first[1:3]) == {2, 3} and first[3] == 0
    assert all(salience_order(saliency_map, seed=0) == first)
    orders = {tuple(salience_order(saliency_map, seed=s)) for s in range(20)}
    assert len(orders) == 2 and tuple(second) in orders

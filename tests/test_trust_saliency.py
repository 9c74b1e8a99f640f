"""Saliency methods and their quality measures against cases with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from torch import nn

from workflow.data.medmnist import Dataset
from workflow.models import create
from monai.networks.blocks.selfattention import SABlock
from scipy.stats import spearmanr

from workflow.report.trust_tables import explanation_summary, sanity_check
from workflow.trust import stage
from workflow.trust.faithfulness import area, blurred, curves, rank_correlation, salience_order
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
    # insertion from a blurred copy: the pixel is dim there, and back at full value from the first step on
    dark = torch.zeros(1, 4, 4)
    dark[0, PIXEL[0], PIXEL[1]] = 1.0
    start = blurred(dark, 1.0)
    p_start = float(probability(start[None])[0])
    assert p_start < 0.9 * p1
    inserted = curves(probability, dark, right, steps=16, blur_sigma=1.0)
    np.testing.assert_allclose(inserted["insertion"], [p_start] + [p1] * 16, atol=1e-6)
    last = curves(probability, dark, wrong, steps=16, blur_sigma=1.0)  # the pixel comes back last
    np.testing.assert_allclose(last["insertion"], [p_start] * 16 + [p1], atol=1e-6)
    assert area(inserted["fraction"], inserted["insertion"]) > area(last["fraction"], last["insertion"])


def test_curves_follow_the_seeded_order_and_blur_by_a_fourteenth_of_the_side():
    model = _wrap(OnePixel())
    probability = lambda batch: model.probabilities(batch)[:, 1]  # noqa: E731
    image = torch.rand(1, 4, 4, generator=torch.Generator().manual_seed(0))
    flat = np.ones((4, 4))  # every pixel tied: the seed alone orders them
    curve = curves(probability, image, flat, steps=16, seed=3)
    position = int(np.flatnonzero(salience_order(flat, 3) == PIXEL[0] * 4 + PIXEL[1])[0])  # when the pixel goes
    p1 = float(probability(image[None])[0])
    np.testing.assert_allclose(curve["deletion"], [p1] * (position + 1) + [0.5] * (16 - position), atol=1e-6)
    assert np.array_equal(curves(probability, image, flat, steps=16)["deletion"], curves(probability, image, flat, steps=16, seed=0)["deletion"])
    assert np.array_equal(salience_order(flat), salience_order(flat, 0))
    default = curves(probability, image, flat, steps=4)["insertion"]
    assert np.array_equal(default, curves(probability, image, flat, steps=4, blur_sigma=4 / 14)["insertion"])
    with pytest.raises(ValueError, match=r"^saliency of shape \(3, 3\) for an image of spatial shape \(4, 4\)$"):
        curves(probability, image, np.ones((3, 3)), steps=4)


def test_rank_correlation_of_two_informative_pixels_and_of_unit_ranges():
    assert rank_correlation(np.array([0.0, 1.0, 2.0]), np.array([0.0, 3.0, 5.0])) == pytest.approx(1.0)  # two pixels left
    assert rank_correlation(np.array([0.0, 1.0, 0.5]), np.array([0.2, 0.9, 0.4])) == pytest.approx(1.0)  # a range of exactly 1
    assert rank_correlation(np.array([0.2, 0.9, 0.4]), np.array([1.0, 0.0, 0.5])) == pytest.approx(-1.0)


def test_occlusion_windows_and_steps():
    model = _wrap(OnePixel())
    x = torch.ones(1, 1, 8, 8)
    maps = saliency(model, "occlusion", x, torch.tensor([1]), window=2, stride=2)
    expected = np.zeros((8, 8))
    expected[0:2, 2:4] = 10.0  # the one window holding the pixel: the class-1 logit drops from 10 to 0
    np.testing.assert_allclose(maps[0], expected, atol=1e-5)
    assert np.array_equal(saliency(model, "occlusion", x, torch.tensor([1])), saliency(model, "occlusion", x, torch.tensor([1]), window=4, stride=2))


def test_occlusion_finds_the_one_pixel_and_gradcam_does_not_apply_without_convolutions():
    model = _wrap(OnePixel())
    x = torch.ones(2, 1, 8, 8)
    maps = saliency(model, "occlusion", x, torch.tensor([1, 1]), window=2, stride=1)
    assert maps.shape == (2, 8, 8)
    peak = np.unravel_index(maps[0].argmax(), maps[0].shape)
    assert abs(peak[0] - PIXEL[0]) <= 1 and abs(peak[1] - PIXEL[1]) <= 1
    assert maps[0][PIXEL] > 0 and maps[0][7, 7] == 0  # windows away from the pixel change nothing
    assert not_applicable(model, "gradcam", x) == "the network has no convolutions"
    assert not_applicable(model, "rollout", x) == "attention rollout needs a vision transformer's self-attention blocks"
    with pytest.raises(ValueError, match="^gradcam does not apply to breastmnist/toy/seed0: the network has no convolutions$"):
        saliency(model, "gradcam", x, torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="^unknown saliency method 'lime'; known: gradcam, rollout, occlusion$"):
        not_applicable(model, "lime", x)
    estimator = TrainedModel({"dataset": "breastmnist", "model": "lr", "seed": 0, "family": "classical"}, Dataset("breastmnist"), estimator=object())
    assert not_applicable(estimator, "gradcam", x) == "a scikit-learn model has no feature maps"


def test_gradcam_reads_the_input_of_the_last_global_pooling_and_upsamples():
    torch.manual_seed(0)
    model = _wrap(TinyCNN())
    x = torch.rand(3, 1, 28, 28)
    layer, layer_input = gradcam_layer(model, x)
    assert layer is model.module.pool and layer_input
    maps = saliency(model, "gradcam", x, torch.tensor([0, 1, 0]))
    assert maps.shape == (3, 28, 28) and (maps >= 0).all()
    cam = LayerGradCam(model.logits, model.module.pool).attribute(x, target=torch.tensor([0, 1, 0]), attribute_to_layer_input=True, relu_attributions=True)
    np.testing.assert_allclose(maps, F.interpolate(cam.detach(), size=(28, 28), mode="bilinear")[:, 0].numpy(), atol=1e-6)


def test_gradcam_on_volumes_is_upsampled_trilinearly():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv3d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv3d(2, 2, 3, stride=2, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(2, 2))
    model = _wrap(module, "adrenalmnist3d")
    x = torch.rand(2, 1, 8, 8, 8)
    maps = saliency(model, "gradcam", x, torch.tensor([0, 1]))
    cam = LayerGradCam(model.logits, module[3]).attribute(x, target=torch.tensor([0, 1]), attribute_to_layer_input=True, relu_attributions=True)
    np.testing.assert_allclose(maps, F.interpolate(cam.detach(), size=(8, 8, 8), mode="trilinear")[:, 0].numpy(), atol=1e-6)


def test_gradcam_needs_a_feature_map_of_more_than_one_pixel():
    x = torch.rand(1, 1, 1, 2)  # two pixels
    pooled = nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2))
    assert gradcam_layer(_wrap(pooled), x) == (pooled[1], True)
    flat = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.Linear(4, 2))
    assert gradcam_layer(_wrap(flat), x) == (flat[0], False)
    single = nn.Sequential(nn.Conv2d(1, 2, (1, 2)), nn.Flatten(), nn.Linear(2, 2))
    assert gradcam_layer(_wrap(single), x) == "no convolutional feature map of more than one pixel reaches the classifier"


def test_gradcam_skips_a_single_pixel_feature_map_for_the_last_larger_one():
    module = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 28), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    layer, layer_input = gradcam_layer(_wrap(module), torch.rand(1, 1, 28, 28))
    assert layer is module[0] and not layer_input


def test_gradcam_is_skipped_with_a_reason_for_per_slice_convolutions_and_for_a_vit():
    volume = _wrap(PerSlice(), "adrenalmnist3d")
    per_slice = "its convolutions run on single slices, not on the volume: their feature maps are not the input's"
    assert not_applicable(volume, "gradcam", torch.rand(1, 1, 6, 8, 8)) == per_slice
    assert not_applicable(volume, "gradcam", torch.rand(1, 1, 1, 8, 8)) == per_slice  # one slice: the batch alone does not tell
    vit = _wrap(create("vit", spatial_dims=2, in_channels=1, out_channels=2, img_size=(28, 28), hidden_size=32, mlp_dim=64, num_layers=2, num_heads=2))
    x = torch.rand(2, 1, 28, 28)
    assert not_applicable(vit, "gradcam", x) == "a vision transformer's only convolution embeds the patches; attention rollout explains it"
    maps = saliency(vit, "rollout", x, torch.tensor([0, 1]))
    assert maps.shape == (2, 28, 28) and (maps > 0).all() and (maps < 1).all()  # a share of the class token's attention


class TwoSides(nn.Module):
    """Class 0 reads the first channel, class 1 the second, through a 1x1 convolution and a
    global pooling: the two classes depend on different pixels when the channels differ."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(2).reshape(2, 2, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x)).flatten(1)


def test_gradcam_explains_the_class_it_is_asked_for():
    x = torch.zeros(2, 2, 8, 8)
    x[:, 0, :, :4] = 1.0  # class 0's evidence on the left
    x[:, 1, :, 4:] = 1.0  # class 1's on the right
    maps = saliency(_wrap(TwoSides(), "pathmnist"), "gradcam", x, torch.tensor([0, 1]))
    assert (maps[0][:, :4] > 0).all() and (maps[0][:, 4:] == 0).all()
    assert (maps[1][:, 4:] > 0).all() and (maps[1][:, :4] == 0).all()


class FixedAttention(SABlock):
    """A self-attention block whose attention matrix is given, (heads, tokens, tokens)."""

    def __init__(self, attention: torch.Tensor) -> None:
        super().__init__(hidden_size=4, num_heads=1)
        self.given = attention

    def forward(self, x: torch.Tensor, *_, **__) -> torch.Tensor:
        if self.save_attn:
            self.att_mat = self.given.expand(len(x), *self.given.shape)
        return x


class TwoLayers(nn.Module):
    def __init__(self, first: torch.Tensor, second: torch.Tensor) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([FixedAttention(first), FixedAttention(second)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return torch.zeros(len(x), 2)


def test_attention_rollout_by_hand_on_two_layers():
    # 5 tokens: the class token, then a 2 x 2 patch grid; e_k: all attention on token k
    eye = torch.eye(5)
    first = torch.stack([eye.clone(), eye.clone()])  # two heads: the class token attends to patch 1, or to patch 3
    first[0, 0], first[1, 0] = eye[1], eye[3]
    second = eye.clone()[None]
    second[0, 0] = eye[2]
    # heads averaged: row 0 of layer 1 is (e1 + e3) / 2; with the residual, 0.5 A + 0.5 I:
    # M1[0] = e0 / 2 + e1 / 4 + e3 / 4, M2[0] = e0 / 2 + e2 / 2, other rows identity;
    # rollout M2 M1, row 0 = M1[0] / 2 + M1[2] / 2 = e0 / 4 + e1 / 8 + e2 / 2 + e3 / 8
    model = _wrap(TwoLayers(first, second))
    maps = saliency(model, "rollout", torch.zeros(1, 1, 2, 2), torch.tensor([0]))
    np.testing.assert_allclose(maps[0], [[0.125, 0.5], [0.125, 0.0]], atol=1e-6)
    assert all(not block.save_attn for block in model.module.blocks)  # the blocks are left as they were


def test_rank_correlation_is_taken_where_either_map_is_non_zero_and_is_undefined_for_a_constant_map():
    rng = np.random.default_rng(0)
    first, second = np.zeros(100), np.zeros(100)
    first[90:], second[90:] = rng.random(10), rng.random(10)  # a black background both maps leave at 0
    assert spearmanr(first, second).statistic > 0.8  # the shared zeros alone
    assert rank_correlation(first, second) == pytest.approx(spearmanr(first[90:], second[90:]).statistic)
    third = np.zeros(100)
    third[85:95] = rng.random(10)  # non-zero where the other is 0: those pixels count
    assert rank_correlation(first, third) == pytest.approx(spearmanr(first[85:], third[85:]).statistic)
    signed = rng.normal(size=50)
    assert rank_correlation(signed, -signed) == pytest.approx(-1.0)
    assert rank_correlation(signed, -signed, absolute=True) == pytest.approx(1.0)  # the magnitudes stay
    for constant in (np.zeros(50), np.full(50, 3.0)):
        assert np.isnan(rank_correlation(signed, constant)) and np.isnan(rank_correlation(constant, signed))
    assert np.isnan(rank_correlation(np.zeros(50), np.zeros(50)))


def _fake_method(monkeypatch: pytest.MonkeyPatch, method) -> None:
    monkeypatch.setattr(stage, "saliency", lambda model, name, x, target, **_: method(model, x, target))


def test_randomisation_check_separates_a_model_dependent_map_from_an_input_map(monkeypatch: pytest.MonkeyPatch):
    torch.manual_seed(0)
    model = _wrap(TinyCNN())
    x = torch.rand(2, 1, 28, 28)
    target = torch.tensor([0, 1])
    trained = saliency(model, "gradcam", x, target)
    check = stage.randomisation(model, "gradcam", x, target, trained, seed=1)
    assert all(abs(rho) < 0.9 for rho in check["randomisation_rho"])
    assert check["cascade"]["blocks"] == ["head", "features"]
    # a "method" that returns the input itself ignores the model: rho 1 for every randomisation, and it fails
    _fake_method(monkeypatch, lambda model, x, target: x[:, 0].numpy())
    check = stage.randomisation(model, "input", x, target, x[:, 0].numpy(), seed=1)
    assert check["randomisation_rho"] == check["randomisation_rho_abs"] == pytest.approx([1.0, 1.0])
    assert np.allclose(check["cascade"]["rho"], 1.0) and np.shape(check["cascade"]["rho"]) == (2, 2)
    # a constant map has no rank correlation: recorded as None, not as a pass
    _fake_method(monkeypatch, lambda model, x, target: np.zeros((len(x), *x.shape[2:])))
    check = stage.randomisation(model, "flat", x, target, np.zeros((2, 28, 28)), seed=1)
    assert check["randomisation_rho"] == check["randomisation_rho_abs"] == [None, None]

    rows = []
    for method, rho, rho_abs in (("input", 1.0, 1.0), ("flipped", -0.9, 0.9), ("magnitudes", 0.1, 0.8), ("gradcam", 0.1, 0.2),
                                 ("never", np.nan, np.nan), ("flat", np.nan, np.nan), ("random", np.nan, np.nan)):
        for image in (0, 1):
            rows.append({"dataset": "d", "modality": "m", "family": "cnn", "model": "toy", "seed": 0, "method": method, "image": image,
                         "deletion_auc": 0.2, "insertion_auc": 0.8, "randomisation_rho": rho, "randomisation_rho_abs": rho_abs})
    rows[-3]["randomisation_rho"] = rows[-3]["randomisation_rho_abs"] = 0.0  # "flat": one image of two defined
    summary = explanation_summary(pd.DataFrame(rows), threshold=0.5).set_index("method")
    assert summary.loc["input", "sanity check"] == summary.loc["flipped", "sanity check"] == summary.loc["magnitudes", "sanity check"] == "fails"
    assert summary.loc["gradcam", "sanity check"] == "passes" and summary.loc["gradcam", "undefined"] == "0/2"
    assert summary.loc["flat", "undefined"] == "1/2" and summary.loc["flat", "sanity check"] == "passes"
    assert summary.loc["flipped", "mean abs ρ"] == "0.90" and summary.loc["magnitudes", "of magnitudes"] == "0.80"
    assert summary.loc["flat", "randomisation ρ"] == "0.00" and summary.loc["flat", "images"] == 2
    assert summary.loc["never", "sanity check"] == "undefined" and summary.loc["never", "mean abs ρ"] == "–" and summary.loc["never", "undefined"] == "2/2"
    assert "random" not in summary.index


def test_the_sanity_check_reads_both_correlations_against_the_threshold():
    nan = pd.Series([np.nan, np.nan])
    assert sanity_check(nan, nan, 0.5) == "undefined"
    assert sanity_check(pd.Series([0.49, -0.49]), pd.Series([0.2, 0.2]), 0.5) == "passes"
    assert sanity_check(pd.Series([0.5, -0.5]), pd.Series([0.2, 0.2]), 0.5) == "fails"  # the mean |rho| reaches the threshold
    assert sanity_check(pd.Series([0.2, 0.2]), pd.Series([0.5, 0.5]), 0.5) == "fails"
    assert sanity_check(pd.Series([0.2, np.nan]), pd.Series([np.nan, 0.3]), 0.5) == "passes"  # undefined images left out
    assert sanity_check(pd.Series([0.2, 0.1]), nan, 0.5) == "passes"  # magnitudes constant (a map of one absolute value)
    assert sanity_check(nan, pd.Series([0.6, 0.6]), 0.5) == "fails"


def test_salience_order_breaks_ties_by_seed_and_keeps_the_ranking():
    saliency_map = np.array([[0.0, 2.0], [1.0, 1.0]])
    first, second = salience_order(saliency_map, seed=0), salience_order(saliency_map, seed=5)
    assert first[0] == 1 and set(first[1:3]) == {2, 3} and first[3] == 0
    assert all(salience_order(saliency_map, seed=0) == first)
    orders = {tuple(salience_order(saliency_map, seed=s)) for s in range(20)}
    assert len(orders) == 2 and tuple(second) in orders

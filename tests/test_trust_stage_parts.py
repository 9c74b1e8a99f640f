"""The trust stage's parts on small cases, without training: the seeded samples, the 3-D
corruption sets, logits from saved scores, the runs left out, and one model's explanation
record against the functions it is made of."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from workflow.data.medmnist import Dataset
from workflow.trust import stage
from workflow.trust.faithfulness import area, curves
from workflow.trust.robustness import corrupt_3d
from workflow.trust.saliency import saliency
from workflow.trust.trained import TrainedModel


def test_samples_are_seeded_sorted_and_without_repeats():
    assert stage.sample(5, 5, 0).tolist() == [0, 1, 2, 3, 4] and stage.sample(3, 9, 0).tolist() == [0, 1, 2]
    chosen = stage.sample(50, 10, 3)
    assert chosen.tolist() == sorted(np.random.default_rng(3).choice(50, 10, replace=False).tolist())
    assert len(set(stage.sample(12, 11, 1).tolist())) == 11 and np.array_equal(stage.sample(50, 10, 3), chosen)


def test_volumes_are_corrupted_at_five_severities_with_seeds_per_corruption():
    volumes = np.random.default_rng(0).integers(0, 256, (2, 6, 6, 6), dtype=np.uint8)
    adrenal = Dataset("adrenalmnist3d")
    sets, left_out = stage.corrupted_sets(adrenal, volumes, {"corruptions_3d": ["gaussian_blur", "gaussian_noise", "sharpen"]}, 7)
    assert list(sets) == ["gaussian_blur", "gaussian_noise"] and left_out == {"sharpen": "not a corruption defined for adrenalmnist3d"}
    for i, name in enumerate(sets):
        for severity, images in zip(range(1, 6), sets[name]):
            assert np.array_equal(images, corrupt_3d(volumes, name, severity, 7 + 1000 * i + severity))
    every, none_left = stage.corrupted_sets(adrenal, volumes, {}, 7)
    assert list(every) == ["gaussian_noise", "gaussian_blur", "gamma_contrast"] and none_left == {}
    assert list(stage.corrupted_sets(adrenal, volumes, {"corruptions_2d": ["pixelate"], "corruptions_3d": "all"}, 7)[0]) == list(every)


def test_saved_scores_become_log_probabilities_or_clipped_log_odds():
    p = np.array([[0.2, 0.8], [1.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(stage._logits(p, "binary-class"), np.log(np.clip(p.astype(np.float64), 1e-30, 1.0)))
    assert stage._logits(p, "binary-class").dtype == np.float64 and stage._logits(p, "binary-class")[1, 1] == pytest.approx(np.log(1e-30))
    odds = stage._logits(p, "multi-label, binary-class")
    np.testing.assert_allclose(odds[0], np.log([0.25, 4.0]), rtol=1e-6)
    assert odds[1, 0] == pytest.approx(np.log(1 / 1e-30)) and odds[1, 1] == pytest.approx(np.log(1e-30))
    assert stage._targets(np.array([[0.1, 0.7, 0.2]])).tolist() == [1]
    assert stage._rounded(np.array([0.1234567, 1.0])) == [0.12346, 1.0]


def test_a_run_that_did_not_finish_is_left_out_and_named(tmp_path: Path, capsys: pytest.CaptureFixture):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "metrics.json").write_text(json.dumps({"status": "ok"}))
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "metrics.json").write_text(json.dumps({"status": "diverged"}))
    assert stage._trained(tmp_path / "ok") and not stage._trained(tmp_path / "failed")
    assert capsys.readouterr().err == f"not scored: {tmp_path / 'failed'} (diverged)\n"


class Corner(nn.Module):
    """Class 1's logit is 4 times the mean of the image's top-left 2 x 2 corner."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        corner = x[:, 0, :2, :2].mean(dim=(1, 2))
        return torch.stack([torch.zeros_like(corner), 4 * corner], dim=1)


def test_an_explanation_record_is_made_of_the_maps_curves_and_checks_it_names():
    model = TrainedModel({"dataset": "breastmnist", "model": "corner", "seed": 0, "family": "cnn"}, Dataset("breastmnist"), module=Corner().eval())
    x = torch.rand(2, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    settings = {"methods": ["gradcam", "occlusion"], "steps": 4, "sanity_threshold": 0.5, "occlusion": {"window_2d": 3, "stride_2d": 3}}
    targets = np.array([1, 0])
    result, maps = stage.explain(model, x, targets, settings, seed=5)
    assert result["skipped"] == {"gradcam": "the network has no convolutions"} and set(result["methods"]) == {"occlusion", "random"}
    assert result["fraction"] == [0.0, 0.25, 0.5, 0.75, 1.0] and result["threshold"] == 0.5
    occlusion = saliency(model, "occlusion", x, torch.from_numpy(targets), window=3, stride=3)
    assert set(maps) == {"occlusion"} and maps["occlusion"].dtype == np.float16 and np.array_equal(maps["occlusion"], occlusion.astype(np.float16))
    random = np.random.default_rng(5).random((2, 6, 6))
    for method, method_maps in (("occlusion", occlusion), ("random", random)):
        entry = result["methods"][method]
        for i in range(2):
            probability = lambda batch, c=int(targets[i]): model.probabilities(batch)[:, c]  # noqa: E731
            curve = curves(probability, x[i], method_maps[i], 4, seed=5 + i)
            assert entry["deletion_auc"][i] == pytest.approx(area(curve["fraction"], curve["deletion"]))
            assert entry["insertion_auc"][i] == pytest.approx(area(curve["fraction"], curve["insertion"]))
            assert entry["curves"][i] == {"deletion": stage._rounded(curve["deletion"]), "insertion": stage._rounded(curve["insertion"])}
    check = result["methods"]["occlusion"]
    assert check == {**check, **stage.randomisation(model, "occlusion", x, torch.from_numpy(targets), occlusion, 5, window=3, stride=3)}
    assert "randomisation_rho" not in result["methods"]["random"]


def test_settings_are_read_from_the_configuration_section():
    section = {"seed": 3, "saliency": {"a": 1}, "calibration": {"b": 2}, "robustness": {"c": 3}, "latency": {"d": 4}, "enabled": True}
    settings = stage.TrustSettings.from_config(section)
    assert (settings.seed, settings.saliency, settings.calibration, settings.robustness, settings.latency) == (3, {"a": 1}, {"b": 2}, {"c": 3}, {"d": 4})
    assert stage.records_json([{"a": 1}, {"b": [1, 2]}]) == '[\n{"a":1},\n{"b":[1,2]}\n]\n'


def test_the_check_records_signed_and_magnitude_correlations_of_maps_made_with_the_settings():
    maps = np.array([[[1.0, -2.0], [3.0, -4.0]]])
    rhos = stage._rhos(maps, -maps)  # the same map with its sign flipped
    assert rhos["rho"] == [pytest.approx(-1.0)] and rhos["rho_abs"] == [pytest.approx(1.0)]
    assert stage._rhos(maps, np.zeros_like(maps)) == {"rho": [None], "rho_abs": [None]}
    model = TrainedModel({"dataset": "breastmnist", "model": "corner", "seed": 0, "family": "cnn"}, Dataset("breastmnist"), module=Corner().eval())
    x = torch.rand(2, 1, 6, 6, generator=torch.Generator().manual_seed(2))
    target = torch.tensor([1, 1])
    trained = saliency(model, "occlusion", x, target, window=3, stride=3)
    check = stage.randomisation(model, "occlusion", x, target, trained, 4, window=3, stride=3)
    again = saliency(model.randomised(4), "occlusion", x, target, window=3, stride=3)
    assert check["randomisation_rho"] == [stage._rhos(trained, again)["rho"][i] for i in range(2)]
    steps = list(model.cascade(4, x))
    assert check["cascade"]["rho"] == [stage._rhos(trained, saliency(twin, "occlusion", x, target, window=3, stride=3))["rho"] for _, twin in steps]

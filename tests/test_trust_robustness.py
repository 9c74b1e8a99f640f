import importlib.machinery
import json
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import balanced_accuracy_score

from workflow.trust import robustness
from workflow.trust.robustness import (
    SEVERITIES_3D,
    corrupt_2d,
    corrupt_3d,
    corruptions_3d,
    medmnistc_corruptions,
    robustness_scores,
)
from workflow.train.metrics import MULTI_LABEL, evaluate

# Read by hand from medmnistc/corruptions/registry.py: the entries whose classes live in
# noise.py and compression.py, in registry order, and those from enhance.py / filter.py.
AVAILABLE = {
    "breastmnist": ["pixelate", "jpeg_compression", "speckle_noise"],
    "pneumoniamnist": ["pixelate", "jpeg_compression", "gaussian_noise", "speckle_noise", "impulse_noise", "shot_noise"],
}
ENHANCE = {
    "breastmnist": ["brightness_up", "brightness_down", "contrast_down"],
    "pneumoniamnist": ["brightness_up", "brightness_down", "contrast_up", "contrast_down", "gamma_corr_up", "gamma_corr_down"],
}
FILTER = {"breastmnist": ["motion_blur"], "pneumoniamnist": ["gaussian_blur"]}
# medmnistc/utils/baselines.py, breastmnist.
BREAST_CLEAN, BREAST_SPECKLE = 0.14536340852130336, 0.38709273182957393


def _test_images(data_root: Path, flag: str, n: int) -> np.ndarray:
    with np.load(data_root / "medmnist" / f"{flag}.npz") as arrays:
        return arrays["test_images"][:n]


@pytest.mark.parametrize("flag", ["breastmnist", "pneumoniamnist"])
def test_available_corruptions_are_the_registry_entries_that_import(flag: str):
    available, left_out = medmnistc_corruptions(flag)
    assert list(available) == AVAILABLE[flag]
    assert set(left_out) == set(ENHANCE[flag]) | set(FILTER[flag])
    for name in ENHANCE[flag]:
        assert left_out[name].startswith("medmnistc.corruptions.enhance needs torchvision")
    for name in FILTER[flag]:
        assert left_out[name].startswith("medmnistc.corruptions.filter needs") and "torchvision" in left_out[name]
    assert all("CPU build of torch" in reason for reason in left_out.values())


def test_severity_params_are_the_registry_literals():
    breast, _ = medmnistc_corruptions("breastmnist")
    pneumonia, _ = medmnistc_corruptions("pneumoniamnist")
    assert breast["speckle_noise"].severity_params == [0.10, 0.15, 0.20, 0.25, 0.30]
    assert pneumonia["shot_noise"].severity_params == [300, 200, 150, 100, 80]
    assert pneumonia["impulse_noise"].severity_params == [0.005, 0.01, 0.013, 0.017, 0.02]
    assert type(pneumonia["jpeg_compression"]).__module__ == "medmnistc.corruptions.compression"


def test_flag_without_medmnistc_entry_is_refused_by_name():
    with pytest.raises(ValueError, match="adrenalmnist3d"):
        medmnistc_corruptions("adrenalmnist3d")


def test_enhance_corruptions_build_once_torchvision_imports(monkeypatch: pytest.MonkeyPatch):
    for name in ("torchvision", "torchvision.transforms", "torchvision.transforms.functional"):
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        monkeypatch.setitem(sys.modules, name, module)
    sys.modules["torchvision"].transforms = sys.modules["torchvision.transforms"]
    sys.modules["torchvision.transforms"].functional = sys.modules["torchvision.transforms.functional"]
    robustness._corruptions.cache_clear()
    try:
        available, left_out = medmnistc_corruptions("breastmnist")
        assert list(available) == ["pixelate", "jpeg_compression", "speckle_noise", "brightness_up", "brightness_down", "contrast_down"]
        assert list(left_out) == ["motion_blur"]
        assert available["brightness_down"].severity_params == [0.55, 0.5, 0.45, 0.4, 0.3]
        dark = corrupt_2d(np.full((2, 8, 8), 200, np.uint8), available["brightness_down"], 5, seed=0)
        assert (dark == 60).all()  # 200 × 0.3
    finally:
        monkeypatch.undo()
        sys.modules.pop("medmnistc.corruptions.enhance", None)  # imported against the stand-in
        if hasattr(sys.modules["medmnistc.corruptions"], "enhance"):
            delattr(sys.modules["medmnistc.corruptions"], "enhance")
        robustness._corruptions.cache_clear()
    assert "brightness_down" in medmnistc_corruptions("breastmnist")[1]


def test_non_literal_severity_params_are_left_out_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    registry = tmp_path / "registry.py"
    registry.write_text(
        "from .noise import GaussianNoise\nimport numpy as np\n"
        "CORRUPTIONS_DS = {'toy': {'a': GaussianNoise(severity_params=[0.1, 0.2, 0.3, 0.4, 0.5]),\n"
        "                          'b': GaussianNoise(severity_params=[np.arange(1, 1.1, 0.01)] * 5),\n"
        "                          'c': Unknown(severity_params=[1, 2, 3, 4, 5])}}\n"
    )
    monkeypatch.setattr(robustness, "_registry_path", lambda: registry)
    robustness._corruptions.cache_clear()
    try:
        available, left_out = medmnistc_corruptions("toy")
    finally:
        robustness._corruptions.cache_clear()
    assert list(available) == ["a"] and available["a"].severity_params == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert left_out == {
        "b": "its severity parameters are not literal values",
        "c": "its class Unknown is not imported by name in registry.py",
    }


def _mean_change(images: np.ndarray, corruption, seed: int = 0) -> list[float]:
    return [float(np.abs(corrupt_2d(images, corruption, s, seed).astype(float) - images).mean()) for s in range(1, 6)]


def test_corrupt_2d_keeps_shape_and_dtype_and_follows_the_package(data_root: Path):
    gray = _test_images(data_root, "pneumoniamnist", 16)
    rgb = _test_images(data_root, "retinamnist", 4)
    pneumonia, _ = medmnistc_corruptions("pneumoniamnist")
    retina, _ = medmnistc_corruptions("retinamnist")
    assert list(retina) == ["pixelate", "jpeg_compression", "gaussian_noise", "speckle_noise"]
    for images, corruptions in ((gray, pneumonia), (rgb, retina)):
        for corruption in corruptions.values():
            out = corrupt_2d(images, corruption, 3, seed=0)
            assert out.shape == images.shape and out.dtype == np.uint8
    # As MedMNIST-C's DatasetManager: corrupt the RGB image, convert a grayscale result to L.
    by_hand = Image.fromarray(pneumonia["jpeg_compression"].apply(Image.fromarray(gray[0]).convert("RGB"), 4)).convert("L")
    assert np.array_equal(corrupt_2d(gray[:1], pneumonia["jpeg_compression"], 5, seed=0)[0], np.asarray(by_hand))
    with pytest.raises(ValueError, match="severity"):
        corrupt_2d(gray, pneumonia["pixelate"], 0, seed=0)


def test_corrupt_2d_is_deterministic_per_seed_and_leaves_global_generators_alone(data_root: Path):
    images = _test_images(data_root, "pneumoniamnist", 16)
    pneumonia, _ = medmnistc_corruptions("pneumoniamnist")
    numpy_state, python_state = np.random.get_state(), random.getstate()
    for name in ("gaussian_noise", "impulse_noise", "shot_noise"):
        first = corrupt_2d(images, pneumonia[name], 4, seed=7)
        assert np.array_equal(first, corrupt_2d(images, pneumonia[name], 4, seed=7))
        assert not np.array_equal(first, corrupt_2d(images, pneumonia[name], 4, seed=8))
    assert not hasattr(pneumonia["impulse_noise"], "rng")
    assert np.array_equal(np.random.get_state()[1], numpy_state[1]) and random.getstate() == python_state


def test_noise_grows_with_severity_on_real_images(data_root: Path):
    for flag, names in (("pneumoniamnist", ["gaussian_noise", "speckle_noise"]), ("breastmnist", ["speckle_noise"]),
                        ("retinamnist", ["gaussian_noise", "speckle_noise"])):
        images = _test_images(data_root, flag, 32)
        corruptions, _ = medmnistc_corruptions(flag)
        for name in names:
            change = _mean_change(images, corruptions[name])
            assert all(a < b for a, b in zip(change, change[1:])), (flag, name, change)


def _ramp_volumes() -> np.ndarray:
    axis = np.linspace(0, 1, 12)
    ramp = (axis[:, None, None] + axis[None, :, None] + axis[None, None, :]) / 3
    bumps = np.sin(6 * axis)[:, None, None] * np.cos(5 * axis)[None, :, None] * 0.2
    return np.stack([np.rint(255 * np.clip(ramp + bumps * k, 0, 1)).astype(np.uint8) for k in (0, 1)])


def test_corrupt_3d_shape_determinism_and_severity(data_root: Path):
    ramp = _ramp_volumes()
    with np.load(data_root / "medmnist" / "adrenalmnist3d.npz") as arrays:
        adrenal = arrays["test_images"][:2]
    assert set(corruptions_3d()) == set(SEVERITIES_3D) == {"gaussian_noise", "gaussian_blur", "gamma_contrast"}
    for name in SEVERITIES_3D:
        out = corrupt_3d(ramp, name, 3, seed=0)
        assert out.shape == ramp.shape and out.dtype == np.uint8
        assert np.array_equal(out, corrupt_3d(ramp, name, 3, seed=0))
        change = [np.abs(corrupt_3d(ramp, name, s, seed=0).astype(float) - ramp).mean() for s in range(1, 6)]
        assert all(a < b for a, b in zip(change, change[1:])), (name, change)
    noisy = corrupt_3d(ramp, "gaussian_noise", 3, seed=0)
    assert not np.array_equal(noisy, corrupt_3d(ramp, "gaussian_noise", 3, seed=1))
    assert not np.array_equal(noisy[0], noisy[1] - ramp[1] + ramp[0])  # each volume draws its own noise
    blurred = corrupt_3d(adrenal, "gaussian_blur", 5, seed=0)  # the batch filtered at once, as channels
    assert np.array_equal(blurred, np.concatenate([corrupt_3d(v[None], "gaussian_blur", 5, seed=0) for v in adrenal]))
    for name in ("gaussian_noise", "gaussian_blur"):
        change = [np.abs(corrupt_3d(adrenal[:1], name, s, seed=0).astype(float) - adrenal[:1]).mean() for s in range(1, 6)]
        assert all(a < b for a, b in zip(change, change[1:])), (name, change)
    # The 3-D subsets hold 0/255 volumes, which a gamma change leaves as they are.
    assert np.array_equal(corrupt_3d(adrenal, "gamma_contrast", 5, seed=0), adrenal)
    assert np.array_equal(
        corrupt_3d(ramp, "gamma_contrast", 2, seed=0, severities={"gamma_contrast": [1.0] * 5}), ramp
    )


def _binary_scores(predicted: np.ndarray) -> np.ndarray:
    positive = np.where(predicted == 1, 0.9, 0.1)
    return np.stack([1 - positive, positive], axis=1)


def _predict(labels: np.ndarray, wrong_negatives: int, wrong_positives: int) -> np.ndarray:
    predicted = labels.copy()
    predicted[:wrong_negatives] = 1  # labels 0 0 0 0 1 1 1 1
    predicted[len(labels) - wrong_positives :] = 0
    return predicted


def test_binary_be_and_rbe_match_a_hand_computation():
    from medmnistc.utils.baselines import BASELINES

    assert BASELINES["breastmnist"]["clean_score"] == BREAST_CLEAN
    assert BASELINES["breastmnist"]["raw_scores"]["speckle_noise"] == BREAST_SPECKLE
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])[:, None]
    flat = labels.ravel()
    clean = _binary_scores(_predict(flat, 0, 1))  # error 1 - (4/4 + 3/4) / 2 = 0.125
    wrong = [(0, 1), (1, 1), (2, 1), (2, 2), (3, 2)]  # errors 0.125 0.25 0.375 0.5 0.625
    speckle = [_binary_scores(_predict(flat, a, b)) for a, b in wrong]
    noise = [_binary_scores(_predict(flat, 1, 0))] * 5  # no breastmnist baseline for it
    left_out = medmnistc_corruptions("breastmnist")[1]
    result = robustness_scores("breastmnist", "binary-class", labels, clean,
                               {"speckle_noise": speckle, "gaussian_noise": noise}, left_out=left_out)
    json.dumps(result, allow_nan=False)
    assert result["left_out"] == left_out
    assert result["clean"]["balanced_error"] == pytest.approx(0.125)
    rows = result["corruptions"]["speckle_noise"]["severities"]
    assert [row["severity"] for row in rows] == [1, 2, 3, 4, 5]
    for row, scores, (a, b) in zip(rows, speckle, wrong):
        assert row["balanced_acc"] == pytest.approx(((4 - a) / 4 + (4 - b) / 4) / 2)
        assert row["balanced_acc"] == balanced_accuracy_score(flat, scores[:, 1] > 0.5)
        assert (row["acc"], row["auc"]) == pytest.approx(tuple(evaluate("binary-class", labels, scores)[k] for k in ("acc", "auc")))
    mean_error = (0.125 + 0.25 + 0.375 + 0.5 + 0.625) / 5
    speckle_result = result["corruptions"]["speckle_noise"]
    assert speckle_result["mean_balanced_error"] == pytest.approx(mean_error)
    assert speckle_result["be"] == pytest.approx(mean_error / BREAST_SPECKLE)
    assert speckle_result["rbe"] == pytest.approx((mean_error - 0.125) / (BREAST_SPECKLE - BREAST_CLEAN))
    assert (result["be"], result["rbe"]) == (speckle_result["be"], speckle_result["rbe"])
    assert result["corruptions"]["gaussian_noise"]["be"] is None
    assert result["corruptions"]["gaussian_noise"]["mean_balanced_error"] == pytest.approx(0.125)
    assert "gaussian_noise" in result["note"]

    perfect = robustness_scores("breastmnist", "binary-class", labels, _binary_scores(flat), {"speckle_noise": speckle})
    assert perfect["clean"]["balanced_error"] == 0.0
    assert perfect["rbe"] == pytest.approx(mean_error / (BREAST_SPECKLE - BREAST_CLEAN))


def test_multi_class_and_multi_label_balanced_accuracy_is_sklearn_at_medmnistc_operating_points():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 8)[:, None]
    clean = rng.dirichlet(np.ones(5), size=40)
    clean[np.arange(40), labels.ravel()] += 0.5
    clean /= clean.sum(axis=1, keepdims=True)
    shifted = [np.roll(clean, k, axis=1) * 0.1 * k + clean * (1 - 0.1 * k) for k in range(1, 6)]
    result = robustness_scores("retinamnist", "ordinal-regression", labels, clean, {"pixelate": shifted})
    for row, scores in zip(result["corruptions"]["pixelate"]["severities"], shifted):
        assert row["balanced_acc"] == balanced_accuracy_score(labels.ravel(), scores.argmax(axis=1))
    errors = [1 - row["balanced_acc"] for row in result["corruptions"]["pixelate"]["severities"]]
    assert result["corruptions"]["pixelate"]["be"] == pytest.approx(np.mean(errors) / 0.6017003263074344)

    labels = rng.integers(0, 2, size=(30, 3))
    clean = rng.random((30, 3))
    result = robustness_scores("chestmnist", MULTI_LABEL, labels, clean, {"pixelate": [clean] * 5})
    expected = np.mean([balanced_accuracy_score(labels[:, i], clean[:, i] > 0.5) for i in range(3)])
    assert result["clean"]["balanced_acc"] == pytest.approx(expected)
    assert result["corruptions"]["pixelate"]["rbe"] == pytest.approx(0.0)
    json.dumps(result, allow_nan=False)


def test_3d_flags_have_scores_but_no_be():
    labels = np.array([0, 1, 0, 1, 1, 0])[:, None]
    clean = _binary_scores(labels.ravel())
    result = robustness_scores("adrenalmnist3d", "binary-class", labels, clean, {"gaussian_blur": [clean] * 5})
    json.dumps(result, allow_nan=False)
    assert result["be"] is None and result["rbe"] is None and result["corruptions"]["gaussian_blur"]["be"] is None
    assert "no baseline for adrenalmnist3d" in result["note"]
    assert result["corruptions"]["gaussian_blur"]["severities"][4]["auc"] == 1.0
    with pytest.raises(ValueError, match="5 score arrays"):
        robustness_scores("adrenalmnist3d", "binary-class", labels, clean, {"gaussian_blur": [clean] * 4})


def test_the_record_names_its_flag_task_size_and_baseline():
    from medmnistc.utils.baselines import BASELINES

    labels = np.array([0, 0, 1, 1])[:, None]
    clean = _binary_scores(labels.ravel())
    result = robustness_scores("breastmnist", "binary-class", labels, clean, {"speckle_noise": [clean] * 5, "gaussian_noise": [clean] * 5})
    assert (result["flag"], result["task"], result["n_images"], result["left_out"]) == ("breastmnist", "binary-class", 4, {})
    baseline = BASELINES["breastmnist"]
    assert result["baseline"] == {"clean_error": float(baseline["clean_score"]), "errors": {"speckle_noise": float(baseline["raw_scores"]["speckle_noise"])}}
    assert result["note"] == (
        "BE and rBE are normalised by MedMNIST-C's published baseline errors, measured on its 224-px corrupted test sets; the overall "
        "BE and rBE are means over the corruptions scored here; no baseline error for gaussian_noise, so no BE or rBE for them"
    )


def test_every_refusal_says_what_it_got():
    labels = np.array([0, 0, 1, 1])[:, None]
    clean = _binary_scores(labels.ravel())
    with pytest.raises(ValueError, match=r"^clean scores cover 3 images, labels 4$"):
        robustness_scores("breastmnist", "binary-class", labels, clean[:3], {})
    with pytest.raises(ValueError, match=r"^speckle_noise severity 1: scores \(3, 2\), clean scores \(4, 2\)$"):
        robustness_scores("breastmnist", "binary-class", labels, clean, {"speckle_noise": [clean[:3]] + [clean] * 4})
    volume = np.zeros((1, 2, 2, 2), np.uint8)
    with pytest.raises(ValueError, match="^unknown 3-D corruption 'sharpen'; known: gaussian_noise, gaussian_blur, gamma_contrast$"):
        corrupt_3d(volume, "sharpen", 1, 0)
    with pytest.raises(ValueError, match=r"^volumes must be uint8 \(N, D, H, W\), not float64 \(1, 2, 2, 2\)$"):
        corrupt_3d(volume.astype(float), "gaussian_noise", 1, 0)
    with pytest.raises(ValueError, match=r"^volumes must be uint8 \(N, D, H, W\), not uint8 \(2, 2, 2\)$"):
        corrupt_3d(volume[0], "gaussian_noise", 1, 0)
    pixelate = medmnistc_corruptions("breastmnist")[0]["pixelate"]
    with pytest.raises(ValueError, match="^images must be uint8, not float64$"):
        corrupt_2d(np.zeros((1, 4, 4)), pixelate, 1, 0)
    with pytest.raises(ValueError, match=r"^images must be \(N, H, W\) or \(N, H, W, 3\), not \(1, 4, 4, 4\)$"):
        corrupt_2d(np.zeros((1, 4, 4, 4), np.uint8), pixelate, 1, 0)


def test_corrupted_volumes_are_clipped_to_the_uint8_range_not_wrapped():
    volume = np.zeros((1, 8, 8, 8), np.uint8)
    volume[:, :, :, 4:] = 255
    noisy = corrupt_3d(volume, "gaussian_noise", 5, 0)
    assert noisy[volume == 0].max() < 128 and noisy[volume == 255].min() > 127  # noise past 0 or 255 stops there
    assert (noisy[volume == 0] == 0).any() and (noisy[volume == 255] == 255).any()

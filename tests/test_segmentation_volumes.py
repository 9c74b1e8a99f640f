"""3-D segmentation on real volumes: the Decathlon hippocampus as the data folder holds it
(a course's copy with three defects), MONAI preprocessing and its inverse, patch sampling,
sliding-window inference checked against a hand-made stitch, surface Dice against a SciPy
reference, resumable training and a short run's files."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from workflow.data import volumes
from workflow.data.segmentation import SegmentationDataError
from workflow.data.volume_transforms import native_label, preprocessing, to_native_grid
from workflow.models import create
from workflow.train.segmentation import SegmentationRecipe, discrete, fit, patch_sampler, predict
from workflow.train.segmentation_metrics import case_rows, class_scores, pooled_dice
from workflow.train.volume_run import VolumeRunSpec, centre_slice, execute, load_volumes

TASK = "Task04_Hippocampus"
COPY = "msd_task04_hippocampus"
TINY_UNET = {"channels": [4, 8, 16], "strides": [2, 2], "num_res_units": 0}
CASES = ("001", "003", "004", "006", "007", "008", "011", "014", "015", "017", "019", "020", "026", "035", "040", "051")  # 3 test, 3 validation


def surface_dice_reference(pred: np.ndarray, true: np.ndarray, spacing: tuple[float, ...], tolerance: float) -> float:
    """Nikolov et al.'s surface Dice with SciPy: boundary voxels are those an erosion removes;
    the share of both boundaries within ``tolerance`` mm of the other."""
    edge_p, edge_t = pred & ~ndimage.binary_erosion(pred), true & ~ndimage.binary_erosion(true)
    to_t = ndimage.distance_transform_edt(~edge_t, sampling=spacing)[edge_p]
    to_p = ndimage.distance_transform_edt(~edge_p, sampling=spacing)[edge_t]
    return float(((to_t <= tolerance).sum() + (to_p <= tolerance).sum()) / (len(to_t) + len(to_p)))


def test_surface_dice_on_a_square_shifted_by_one_row():
    """Two 10 × 10 squares one row apart on a 2 mm grid: of each square's 36 boundary pixels,
    the 16 side pixels beside the other square's sides and the 2 corners that fall on them
    coincide; every other one is one pixel (2 mm) from the other boundary."""
    true = np.zeros((20, 20), bool)
    true[6:16, 5:15] = True
    pred = np.roll(true, -1, axis=0)
    for tolerance, expected in [(1.9, 0.5), (2.0, 1.0)]:
        assert class_scores(pred, true, (2.0, 2.0), tolerance)["surface_dice"] == pytest.approx(expected)
    assert class_scores(pred, true, (2.0, 2.0), 1.0)["hd95"] == pytest.approx(2.0)


boxes = st.tuples(st.integers(1, 8), st.integers(1, 10), st.integers(1, 6), st.integers(3, 9), st.integers(3, 9), st.integers(2, 8))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(boxes, min_size=1, max_size=3),
    st.lists(boxes, min_size=1, max_size=3),
    st.tuples(*[st.floats(0.5, 3.0)] * 3),
    st.floats(0.2, 6.0),
)
def test_surface_dice_matches_the_scipy_reference(pred_boxes, true_boxes, spacing, tolerance):
    masks = []
    for chosen in (pred_boxes, true_boxes):
        mask = np.zeros((20, 22, 16), bool)
        for x, y, z, dx, dy, dz in chosen:
            mask[x : x + dx, y : y + dy, z : z + dz] = True
        masks.append(mask)
    measured = class_scores(masks[0], masks[1], spacing, tolerance)["surface_dice"]
    assert measured == pytest.approx(surface_dice_reference(*masks, spacing, tolerance), abs=1e-6)


def test_each_foreground_class_of_a_volume_is_scored():
    true = np.zeros((12, 12, 6), np.uint8)
    true[2:6, 2:6, 1:5] = 1
    true[7:11, 7:11, 1:5] = 2
    pred = true.copy()
    pred[7:11, 7:11, 1:5] = 0  # class 2 missed
    pred[0, 0, 0] = 3  # a class the task does not score
    stack = lambda m: np.stack([m == 1, m == 2])  # noqa: E731
    rows = pd.DataFrame(case_rows(stack(pred), stack(true), ["anterior", "posterior"], (1.0, 1.0, 2.0), 1.0)).set_index("class")
    assert rows.loc["anterior", ["dice", "surface_dice", "hd95"]].tolist() == [1.0, 1.0, 0.0]
    assert rows.loc["posterior", ["dice", "surface_dice", "predicted_pixels", "status"]].tolist() == [0.0, 0.0, 0, "empty prediction"]
    assert np.isnan(rows.loc["posterior", "hd95"])
    one = (torch.from_numpy(pred)[None], torch.from_numpy(true)[None])
    assert pooled_dice([one], [1, 2], False) == pytest.approx(0.5)
    empty = torch.zeros_like(one[1])  # a second case without the structures: pooled, it changes nothing
    assert pooled_dice([one, (empty, empty)], [1, 2], False) == pytest.approx(0.5)
    missed = empty.clone()
    missed[0, 2:6, 2:6, 1:5] = 1  # a case whose anterior part is missed adds to that class's pool
    assert pooled_dice([one, (empty, missed)], [1, 2], False) == pytest.approx((2 * 64 / (64 + 128) + 0) / 2)


@pytest.fixture(scope="module")
def segroot(data_root: Path) -> Path:
    return data_root / "segmentation"


@pytest.fixture(scope="module")
def hippocampus(segroot: Path) -> dict:
    """The data folder's hippocampus copy, described whole (260 usable pairs)."""
    return volumes.prepare(TASK, segroot)


@pytest.fixture(scope="module")
def small_root(segroot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root linking 16 of the copy's cases (checked against the package's manifest)."""
    root = tmp_path_factory.mktemp("data") / "segmentation"
    for sub in ("images", "labels"):
        (root / COPY / sub).mkdir(parents=True)
        for case in CASES:
            (root / COPY / sub / f"hippocampus_{case}.nii.gz").symlink_to(segroot / COPY / sub / f"hippocampus_{case}.nii.gz")
    return root


@pytest.fixture(scope="module")
def small(small_root: Path) -> dict:
    return volumes.prepare(TASK, small_root)


def test_the_hippocampus_copy_sets_its_three_defects_aside_by_name(hippocampus: dict):
    card = hippocampus["card"]
    assert card["set_aside"] == {
        "hippocampus_010": "images/hippocampus_010.nii.gz is missing: a label without an image (the label is 36x50x31 at 1x1x1 mm)",
        "hippocampus_118": "labels/hippocampus_118.nii.gz is missing: an image without a label",
        "hippocampus_281": "images/hippocampus_281.nii.gz is missing: a label without an image (the label is 512x512x94 at 0.734x0.734x5 mm)",
    }
    assert sum(card["n_samples"].values()) == 260 == len(hippocampus["cases"]) and card["n_samples"] == {"train": 180, "val": 38, "test": 42}
    assert hippocampus["modality"] == "MRI" and hippocampus["classes"] == {1: "Anterior", 2: "Posterior"}
    assert card["folder"] == f"segmentation/{COPY}" and card["license"] == "CC BY-SA 4.0" and "udacity" in card["source"]
    assert "by a hash of the case (patient) id" in card["split_rule"] and card["spacing_mm"]["median"] == [1.0, 1.0, 1.0]


def test_a_corrupt_volume_fails_its_md5_check_by_name(small_root: Path, tmp_path: Path):
    root = tmp_path / "segmentation"
    shutil.copytree(small_root, root)
    bad = root / COPY / "labels" / "hippocampus_004.nii.gz"
    bad.write_bytes(bad.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(SegmentationDataError, match=r"labels/hippocampus_004.nii.gz: md5 \w+ does not match"):
        volumes.prepare(TASK, root)


def test_preprocessing_resamples_to_ras_at_the_spacing_and_z_scores_mri(small: dict, small_root: Path):
    import nibabel

    case = small["cases"][0]
    data = preprocessing("MRI", (1.5, 1.5, 1.5), (16, 16, 16))({key: str(small_root / case[key]) for key in ("image", "label")})
    image, label = data["image"], data["label"]
    stored = nibabel.load(small_root / case["label"])
    assert image.shape == label.shape == (1, *[math.ceil(n / 1.5) for n in stored.shape])
    assert set(torch.unique(label).tolist()) == {0.0, 1.0, 2.0}
    raw = np.asarray(stored.dataobj)
    for value in (1, 2):  # each structure keeps its volume
        assert float((label == value).sum()) * 1.5**3 == pytest.approx((raw == value).sum(), rel=0.12)
    tissue = image[image != 0]
    assert float(tissue.mean()) == pytest.approx(0.0, abs=1e-3) and float(tissue.std()) == pytest.approx(1.0, abs=1e-2)


def test_a_prediction_goes_back_to_the_volume_s_own_grid(small: dict, small_root: Path):
    """The preprocessed label (1.5 mm, padded to the patch), taken back by the inverse, lies on
    the stored label: same shape and spacing, Dice above 0.85 per structure after the round
    trip through a coarser grid (a flip or shift would leave almost nothing)."""
    transform = preprocessing("MRI", (1.5, 1.5, 1.5), (32, 48, 32))
    test = load_volumes(small, small_root, transform)["test"][0]
    assert test.label.shape == (1, 32, 48, 32)  # padded to the patch
    native = to_native_grid(test.label[0].to(torch.uint8), test.label, transform)
    truth, spacing = native_label(test.label.meta["filename_or_obj"])
    assert native.shape == truth.shape and spacing == pytest.approx((1.0, 1.0, 1.0))
    for value in (1, 2):
        p, t = native == value, truth == value
        assert 2 * (p & t).sum() / (p.sum() + t.sum()) > 0.85


def test_ct_is_windowed_to_the_unit_interval(segroot: Path, tmp_path: Path):
    import nibabel

    source = nibabel.load(segroot / "totalsegmentator_examples" / "example_ct_sm.nii.gz")
    hu = np.asarray(source.dataobj, dtype=np.float32)
    nibabel.save(nibabel.Nifti1Image(hu, np.diag([3.0, 3.0, 3.0, 1.0])), tmp_path / "ct.nii.gz")
    nibabel.save(nibabel.Nifti1Image((hu > 100).astype(np.uint8), np.diag([3.0, 3.0, 3.0, 1.0])), tmp_path / "label.nii.gz")
    data = preprocessing("CT", (3.0, 3.0, 3.0), (32, 32, 16), window=(-57, 164))({"image": str(tmp_path / "ct.nii.gz"), "label": str(tmp_path / "label.nii.gz")})
    np.testing.assert_allclose(data["image"][0].numpy(), np.clip((hu + 57) / 221, 0, 1), atol=1e-5)
    with pytest.raises(ValueError, match="window"):
        preprocessing("CT", (3.0, 3.0, 3.0), (32, 32, 16))
    with pytest.raises(ValueError, match="modality 'PET'"):
        preprocessing("PET", (3.0, 3.0, 3.0), (32, 32, 16))


def test_patches_are_balanced_between_foreground_and_background(small: dict, small_root: Path):
    case = small["cases"][1]
    data = preprocessing("MRI", (1.0, 1.0, 1.0), (16, 16, 16))({key: str(small_root / case[key]) for key in ("image", "label")})
    sampler = patch_sampler((16, 16, 16), 200)
    sampler.set_random_state(seed=0)
    patches = sampler({"image": data["image"], "label": data["label"]})
    centred = np.mean([bool(p["label"][0, 8, 8, 8] > 0) for p in patches])
    share = float((data["label"] > 0).float().mean())
    assert all(p["image"].shape == (1, 16, 16, 16) for p in patches)
    assert 0.4 < centred < 0.65 and share < 0.1  # about half centred on the hippocampus, which holds a few % of the voxels


def _stitched_by_hand(model: torch.nn.Module, image: torch.Tensor, patch: tuple[int, ...], overlap: float) -> torch.Tensor:
    """Sliding windows as MONAI places them (a step of ``patch × (1 - overlap)``, the last
    window flush with the end), each window's logits weighted by MONAI's Gaussian importance
    map (sd an eighth of the window), summed and divided by the summed weights."""
    from monai.data.utils import compute_importance_map

    size = image.shape[1:]
    starts = [sorted({min(k * int(p * (1 - overlap)), s - p) for k in range(math.ceil(s / int(p * (1 - overlap))))}) for s, p in zip(size, patch)]
    weight = compute_importance_map(patch, mode="gaussian", sigma_scale=0.125)
    total, weights = torch.zeros(2, *size), torch.zeros(size)
    with torch.no_grad():
        for x in starts[0]:
            for y in starts[1]:
                for z in starts[2]:
                    window = (slice(x, x + patch[0]), slice(y, y + patch[1]), slice(z, z + patch[2]))
                    total[(slice(None), *window)] += model(image[(slice(None), *window)][None])[0] * weight
                    weights[window] += weight
    return torch.softmax(total / weights, 0)


def test_sliding_window_matches_a_hand_made_gaussian_stitch():
    """A 3 × 3 × 3 convolution sees past a window's edge, so windows disagree near their
    borders and the overlap and its weights decide the result: the prediction must be the
    hand-made Gaussian stitch, which differs from an unweighted one and from the convolution
    of the whole volume at the seams (and equals it inside every window)."""
    torch.manual_seed(0)
    model = torch.nn.Conv3d(1, 2, 3, padding=1)
    image = torch.randn(1, 40, 37, 19, generator=torch.Generator().manual_seed(1))
    patch, recipe = (16, 16, 16), SegmentationRecipe(overlap=0.5, sw_batch_size=3)
    predicted = predict(model, image, patch, recipe, multilabel=False)
    by_hand = _stitched_by_hand(model, image, patch, 0.5)
    assert predicted.shape == (2, 40, 37, 19)
    torch.testing.assert_close(predicted, by_hand, rtol=0, atol=1e-5)
    with torch.no_grad():
        whole = torch.softmax(model(image[None])[0], 0)
    assert (predicted - whole).abs().max() > 1e-2  # the seams differ from the whole-volume convolution
    unweighted = predict(model, image, patch, SegmentationRecipe(overlap=0.0, sw_batch_size=3), multilabel=False)
    assert (predicted - unweighted).abs().max() > 1e-3
    assert torch.equal(discrete(predicted, False)[0], predicted.argmax(0).to(torch.uint8))


@pytest.mark.parametrize(
    "arch, params",
    [
        ("unet", TINY_UNET),
        ("attention_unet", {"channels": [4, 8, 16], "strides": [2, 2]}),
        ("unetr", {"feature_size": 8, "hidden_size": 48, "mlp_dim": 96, "num_heads": 4}),
        ("swin_unetr", {"feature_size": 12, "depths": [1, 1, 1, 1], "num_heads": [1, 2, 4, 8]}),
    ],
)
def test_the_3d_networks_keep_the_patch_shape(arch: str, params: dict):
    patch = (64, 32, 32)
    network = create(arch, 3, 1, 3, img_size=patch, **params)
    assert network(torch.zeros(2, 1, *patch)).shape == (2, 3, *patch)


def test_swin_unetr_refuses_a_patch_it_cannot_train_on():
    with pytest.raises(ValueError, match=r"swin_unetr needs .* not \[32, 32, 32\]"):
        create("swin_unetr", 3, 1, 2, img_size=(32, 32, 32), feature_size=12)
    with pytest.raises(ValueError, match=r"not \[64, 48, 32\]"):
        create("swin_unetr", 3, 1, 2, img_size=(64, 48, 32), feature_size=12)


def _fit(train: list, epochs: int, checkpoint: Path | None = None) -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    network = create("unet", 3, 1, 3, **TINY_UNET)
    recipe = SegmentationRecipe(epochs=epochs, batch_size=2, samples=2, schedule="poly")
    from workflow.train.segmentation_augmentation import augmentation

    augment = augmentation({"flip_axes": [0], "rotate_deg": 10, "intensity": {"shift": 0.1}}, 3)
    result = fit(network, train, [], recipe, 0, torch.device("cpu"), [1, 2], patch=(16, 16, 16), augment=augment, checkpoint=checkpoint, fingerprint="run")
    return network, result


def test_a_resumed_3d_run_ends_like_an_uninterrupted_one(small: dict, small_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import workflow.train.segmentation as training

    torch.set_num_threads(1)
    train = load_volumes(small, small_root, preprocessing("MRI", (1.0, 1.0, 1.0), (16, 16, 16)))["train"][:4]
    whole, uninterrupted = _fit(train, 3)
    save = training.save_progress

    def killed(checkpoint, fingerprint, epoch, *args):
        save(checkpoint, fingerprint, epoch, *args)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_progress", killed)
    with pytest.raises(KeyboardInterrupt):
        _fit(train, 3, tmp_path / "checkpoint.pt")
    monkeypatch.setattr(training, "save_progress", save)
    resumed_model, resumed = _fit(train, 3, tmp_path / "checkpoint.pt")
    assert resumed.resumed_from_epoch == 2
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in uninterrupted.history]
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key


def test_a_short_run_learns_the_hippocampus_and_writes_every_result(small: dict, small_root: Path, tmp_path: Path):
    """A small 3-D U-Net on the training cases of 16 (patches 16 × 32 × 16 at 1.5 mm): its test
    Dice rises well above an empty prediction's 0; cases are scored per structure on each
    volume's own 1 mm grid, the training cases by the same path; the run files carry the
    protocol and the test volumes' centre slices."""
    import nibabel

    (tmp_path / "small.json").write_text(json.dumps(small))
    augment = {"flip_axes": [0], "rotate_deg": 10, "scale": 0.1, "intensity": {"scale": 0.1, "shift": 0.1}}
    spec = VolumeRunSpec(TASK, "unet3d", "unet", {"channels": [8, 16, 32], "strides": [2, 2]},
                         SegmentationRecipe(epochs=20, batch_size=2, samples=2, lr=0.01, val_every=5), 0, (16, 32, 16), (1.5, 1.5, 1.5), 1.0, augment=augment, profile="test")
    paths = [tmp_path / "run" / name for name in ("metrics.json", "log.csv", "cases.csv", "predictions.npz")]
    metrics = execute(spec, tmp_path / "small.json", small_root, *paths, threads=2)
    assert metrics["test"]["dice"] > 0.45, metrics["test"]  # 0.6-0.7 measured
    assert metrics["train_dice"] > 0.45 and metrics["train_dice_cases"] == min(8, metrics["train_images"])
    assert metrics["dims"] == 3 and metrics["input"] == "patch 16×32×16 at 1.5×1.5×1.5 mm" and metrics["distance_unit"] == "mm"
    assert metrics["classes"] == ["Anterior", "Posterior"] and metrics["config"]["augment"] == augment
    assert set(metrics["protocol"]) == {"Anterior Dice", "Posterior Dice"}
    cases = pd.read_csv(paths[2])
    tests = [case for case in small["cases"] if case["split"] == "test"]
    first = cases[(cases["split"] == "test") & (cases["case"] == tests[0]["name"])].set_index("class")
    stored = np.asarray(nibabel.load(small_root / tests[0]["label"]).dataobj)
    assert first.loc["Anterior", "true_pixels"] == (stored == 1).sum() and first.loc["Posterior", "spacing_mm"] == "1×1×1"
    assert metrics["test"]["dice"] == pytest.approx(cases.loc[cases["split"] == "test", "dice"].mean())
    validated = pd.read_csv(paths[1])["val_dice"]
    assert validated.notna().sum() == 4 and len(validated) == 20
    with np.load(paths[3]) as npz:
        assert npz["classes"].tolist() == ["Anterior", "Posterior"] and npz["image_0"].dtype == np.uint8
        assert npz["truth_0"].shape == npz["predicted_0"].shape == (2, *npz["image_0"].shape) and npz["truth_0"].any()


def test_the_centre_slice_passes_through_the_foreground():
    label = np.zeros((4, 4, 10), bool)
    label[1, 1, [2, 3, 7]] = True
    assert centre_slice(label) == 4 and centre_slice(np.zeros((4, 4, 10), bool)) == 5

"""3-D segmentation: surface Dice against a SciPy reference and hand-computed cases, per-class
volume metrics, the brain MRI pair's description and checks, MONAI preprocessing (spacing,
orientation, CT window, MRI z-score), balanced patch sampling, sliding-window stitching,
the four 3-D networks, a short real run and resuming."""

from __future__ import annotations

import json
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
from workflow.data.download import md5sum
from workflow.data.segmentation import SegmentationDataError
from workflow.data.segmentation import read_md5sums as seg_md5sums
from workflow.data.volume_transforms import native_label, patch_sampler, preprocessing, to_native_grid
from workflow.models import create
from workflow.train.segmentation_metrics import _case_metrics, volume_metrics
from workflow.train.volume_run import VolumeRunSpec, centre_slice, execute, load_volumes
from workflow.train.volumes import Volume, VolumeRecipe, fit, foreground_dice, predict

BRAIN_SPACING = (1.5625, 1.5625, 6.5)  # the native 0.78125 mm in-plane, halved
TINY_UNET = {"channels": [4, 8, 16], "strides": [2, 2], "num_res_units": 0}


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
        assert _case_metrics(pred, true, (2.0, 2.0), tolerance)["surface_dice"] == pytest.approx(expected)
    assert _case_metrics(pred, true, (2.0, 2.0), 1.0)["hd95_mm"] == pytest.approx(2.0)


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
    measured = _case_metrics(masks[0], masks[1], spacing, tolerance)["surface_dice"]
    assert measured == pytest.approx(surface_dice_reference(*masks, spacing, tolerance), abs=1e-6)


def test_volume_metrics_score_each_foreground_class():
    true = np.zeros((12, 12, 6), np.uint8)
    true[2:6, 2:6, 1:5] = 1
    true[7:11, 7:11, 1:5] = 2
    pred = true.copy()
    pred[7:11, 7:11, 1:5] = 0  # class 2 missed
    pred[0, 0, 0] = 3  # a class the task does not score
    rows = pd.DataFrame(volume_metrics(pred, true, (1.0, 1.0, 2.0), {1: "anterior", 2: "posterior"}, 1.0)).set_index("class")
    assert rows.loc["anterior", ["dice", "surface_dice", "hd95_mm"]].tolist() == [1.0, 1.0, 0.0]
    assert rows.loc["posterior", ["dice", "surface_dice", "predicted_pixels"]].tolist() == [0.0, 0.0, 0]
    assert rows.loc["posterior", "hd95_mm"] == pytest.approx(np.linalg.norm([12, 12, 12]))  # the grid's diagonal in mm
    assert foreground_dice(torch.from_numpy(pred), torch.from_numpy(true), [1, 2]) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def segmentation_root(data_root: Path) -> Path:
    return data_root / "segmentation"


@pytest.fixture(scope="module")
def brain(segmentation_root: Path) -> dict:
    return volumes.prepare("brain_mri", segmentation_root)


def test_the_brain_mri_pair_is_described_with_its_spacing_and_card(brain: dict):
    assert [(c["name"], c["split"]) for c in brain["cases"]] == [("brain1", "train"), ("brain2", "test")]
    assert brain["modality"] == "MRI" and brain["classes"] == {1: "lesion"} and brain["channels"] == 1 and brain["demonstration"]
    card = brain["card"]
    assert card["spacing_mm"] == {"brain1": [0.7812, 0.7812, 6.5], "brain2": [0.7812, 0.7812, 6.5]}
    assert card["n_samples"] == {"train": 1, "val": 0, "test": 1} and card["set_aside"] == {}
    assert "BSD-3-Clause" in card["license"] and "Cancer Research" in card["citation"]
    json.dumps(brain)  # the rule writes it as JSON


def test_a_corrupt_volume_fails_its_md5_check_by_name(segmentation_root: Path, tmp_path: Path):
    root = tmp_path / "segmentation"
    shutil.copytree(segmentation_root / volumes.BRAIN, root / volumes.BRAIN)
    shutil.copy(segmentation_root / "MD5SUMS", root / "MD5SUMS")
    label = root / volumes.BRAIN / "brain2_label.nrrd"
    label.chmod(0o644)
    label.write_bytes(label.read_bytes() + b"\0")
    with pytest.raises(SegmentationDataError, match="brain2_label.nrrd: md5 .* does not match"):
        volumes.prepare("brain_mri", root)
    with pytest.raises(ValueError, match="no volume dataset 'hc18'"):
        volumes.prepare("hc18", root)


def test_a_label_on_another_grid_is_set_aside_and_the_dataset_named(segmentation_root: Path, tmp_path: Path):
    import nrrd

    root = tmp_path / "segmentation"
    (root / volumes.BRAIN).mkdir(parents=True)
    for name in ("brain1_image", "brain1_label", "brain2_image"):
        (root / volumes.BRAIN / f"{name}.nrrd").symlink_to(segmentation_root / volumes.BRAIN / f"{name}.nrrd")
    label, header = nrrd.read(str(segmentation_root / volumes.BRAIN / "brain2_label.nrrd"))
    nrrd.write(str(root / volumes.BRAIN / "brain2_label.nrrd"), label[:, :, 1:], header)  # a slice short
    sums = {name: digest for name, digest in seg_md5sums(segmentation_root).items() if name.startswith(volumes.BRAIN)}
    sums[f"{volumes.BRAIN}/brain2_label.nrrd"] = md5sum(root / volumes.BRAIN / "brain2_label.nrrd")
    (root / "MD5SUMS").write_text("".join(f"{digest}  ./{name}\n" for name, digest in sums.items()))
    with pytest.raises(SegmentationDataError, match=r"brain_mri: no usable training or test volume .*'brain2': \"label shape \(256, 256, 22\) differs from the image's \(256, 256, 23\)\""):
        volumes.prepare("brain_mri", root)


def test_preprocessing_resamples_to_ras_at_the_spacing_and_z_scores_mri(brain: dict, segmentation_root: Path):
    import nrrd

    case = brain["cases"][0]
    data = preprocessing("MRI", BRAIN_SPACING, (64, 64, 16))({key: str(segmentation_root / case[key]) for key in ("image", "label")})
    image, label = data["image"], data["label"]
    assert image.shape == label.shape == (1, 128, 128, 25)  # 256 × 0.78125 mm = 128 × 1.5625 mm
    assert set(torch.unique(label).tolist()) == {0.0, 1.0}
    raw_label, header = nrrd.read(str(segmentation_root / case["label"]))
    voxel_mm3 = np.prod(np.abs(np.diag(header["space directions"])))
    assert float(label.sum()) * np.prod(BRAIN_SPACING) == pytest.approx(raw_label.sum() * voxel_mm3, rel=0.15)  # lesion volume kept
    raw, _ = nrrd.read(str(segmentation_root / case["image"]))
    # the file is LPS with a negative y step: RAS flips x (and y twice), so anterior stays at high y
    assert np.corrcoef(image[0, :, :, 12].numpy().ravel(), raw[::-2, ::2, 12].astype(float).ravel())[0, 1] > 0.9
    tissue = image[image != 0]
    assert float(tissue.mean()) == pytest.approx(0.0, abs=1e-3) and float(tissue.std()) == pytest.approx(1.0, abs=1e-2)


def test_a_prediction_goes_back_to_the_volume_s_own_grid(brain: dict, segmentation_root: Path):
    """The preprocessed label (RAS, 1.5625 mm, padded), taken back by the inverse, lies on the
    stored label: same shape, spacing and orientation, Dice above 0.9 after the round trip."""
    import nrrd

    transform = preprocessing("MRI", BRAIN_SPACING, (64, 64, 32))
    test = load_volumes(brain, segmentation_root, transform)["test"][0]
    assert test.label.shape == (1, 128, 128, 32)  # 23 slices padded to the patch
    native = to_native_grid(test.label[0].to(torch.uint8), test.label, transform)
    truth, spacing = native_label(test.source)
    stored = nrrd.read(str(segmentation_root / volumes.BRAIN / "brain2_label.nrrd"))[0]
    assert native.shape == truth.shape == stored.shape == (256, 256, 23) and np.array_equal(truth, stored)
    assert spacing == pytest.approx((0.78125, 0.78125, 6.5))
    assert 2 * (native & truth).sum() / (native.sum() + truth.sum()) > 0.9


def test_ct_is_windowed_to_the_unit_interval(segmentation_root: Path, tmp_path: Path):
    import nibabel

    source = nibabel.load(segmentation_root / "totalsegmentator_examples" / "example_ct_sm.nii.gz")
    hu = np.asarray(source.dataobj, dtype=np.float32)
    nibabel.save(nibabel.Nifti1Image(hu, np.diag([3.0, 3.0, 3.0, 1.0])), tmp_path / "ct.nii.gz")
    nibabel.save(nibabel.Nifti1Image((hu > 100).astype(np.uint8), np.diag([3.0, 3.0, 3.0, 1.0])), tmp_path / "label.nii.gz")
    data = preprocessing("CT", (3.0, 3.0, 3.0), (32, 32, 16), window=(-57, 164))({"image": str(tmp_path / "ct.nii.gz"), "label": str(tmp_path / "label.nii.gz")})
    np.testing.assert_allclose(data["image"][0].numpy(), np.clip((hu + 57) / 221, 0, 1), atol=1e-5)
    with pytest.raises(ValueError, match="window"):
        preprocessing("CT", (3.0, 3.0, 3.0), (32, 32, 16))
    with pytest.raises(ValueError, match="modality 'PET'"):
        preprocessing("PET", (3.0, 3.0, 3.0), (32, 32, 16))


def test_patches_are_balanced_between_foreground_and_background(brain: dict, segmentation_root: Path):
    case = brain["cases"][1]  # brain2: 111 lesion voxels of 377,000 at this spacing
    data = preprocessing("MRI", BRAIN_SPACING, (32, 32, 16))({key: str(segmentation_root / case[key]) for key in ("image", "label")})
    sampler = patch_sampler((32, 32, 16), 200)
    sampler.set_random_state(seed=0)
    patches = sampler({"image": data["image"], "label": data["label"]})
    with_lesion = np.mean([bool(p["label"].any()) for p in patches])
    share = float(data["label"].mean())
    assert all(p["image"].shape == (1, 32, 32, 16) for p in patches)
    assert 0.4 < with_lesion < 0.65 and share < 1e-3  # about half, where uniform draws would almost never hit it


def test_sliding_window_segments_a_whole_volume_larger_than_the_patch():
    """A fixed 1 × 1 × 1 convolution scores class 1 as the intensity: the stitched arg-max of
    a 70 × 45 × 19 volume in 32 × 32 × 16 windows must be the intensity's sign, everywhere."""
    model = torch.nn.Conv3d(1, 2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([0.0, 1.0]).view(2, 1, 1, 1, 1))
        model.bias.zero_()
    image = torch.randn(1, 70, 45, 19, generator=torch.Generator().manual_seed(0))
    predicted = predict(model, image, (32, 32, 16), VolumeRecipe(overlap=0.25, sw_batch_size=3))
    assert predicted.shape == (70, 45, 19) and torch.equal(predicted, (image[0] > 0).to(torch.uint8))


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


def _fit(train: list[Volume], epochs: int, checkpoint: Path | None = None) -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    network = create("unet", 3, 1, 2, **TINY_UNET)
    recipe = VolumeRecipe(epochs=epochs, batch_size=1, samples=2)
    result = fit(network, train, [], patch_sampler((32, 32, 16), 2), (32, 32, 16), [1], recipe, 0, torch.device("cpu"), checkpoint, "run")
    return network, result


def test_a_resumed_3d_run_ends_like_an_uninterrupted_one(brain: dict, segmentation_root: Path, tmp_path: Path):
    torch.set_num_threads(1)
    train = load_volumes(brain, segmentation_root, preprocessing("MRI", BRAIN_SPACING, (32, 32, 16)))["train"]
    whole, uninterrupted = _fit(train, 3)
    _fit(train, 2, tmp_path / "checkpoint.pt")  # stopped after epoch 2
    resumed_model, resumed = _fit(train, 3, tmp_path / "checkpoint.pt")
    assert resumed.resumed_from_epoch == 2
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in uninterrupted.history]
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key


def test_a_short_run_learns_its_training_volume_and_writes_every_result(brain: dict, segmentation_root: Path, tmp_path: Path):
    """A small 3-D U-Net on brain1 (patches of 64 × 64 × 32): its training Dice rises well above
    an empty prediction's 0; the run files carry the protocol and the test volume's centre slice."""
    (tmp_path / "brain.json").write_text(json.dumps(brain))
    spec = VolumeRunSpec("brain_mri", "unet3d", "unet", {"channels": [8, 16, 32, 64], "strides": [2, 2, 2]},
                         VolumeRecipe(epochs=40, batch_size=1, samples=4, lr=0.01), 0, (64, 64, 32), BRAIN_SPACING, 2.0, profile="test")
    paths = {name: tmp_path / "run" / f"{name}.{ext}" for name, ext in [("metrics", "json"), ("log", "csv"), ("cases", "csv"), ("predictions", "npz")]}
    metrics = execute(spec, tmp_path / "brain.json", segmentation_root, *(paths[k] for k in ("metrics", "log", "cases", "predictions")), threads=2)
    assert metrics["train_dice"] > 0.4, metrics["train_dice"]  # 0.70 measured
    assert metrics["dims"] == 3 and metrics["input"] == "patch 64×64×32 at 1.5625×1.5625×6.5 mm" and metrics["best_epoch"] == 40
    assert metrics["modality"] == "MRI" and metrics["classes"] == {"1": "lesion"} and metrics["tolerance_mm"] == 2.0
    cases = pd.read_csv(paths["cases"])
    import nrrd

    lesion = int(nrrd.read(str(segmentation_root / volumes.BRAIN / "brain2_label.nrrd"))[0].sum())  # on the volume's own grid
    assert cases[["case", "class", "true_pixels", "spacing_mm"]].values.tolist() == [["brain2", "lesion", lesion, "0.7812×0.7812×6.5"]]
    assert metrics["test"]["dice"] == pytest.approx(cases["dice"].item()) and 0 <= metrics["test"]["surface_dice"] <= 1
    assert len(pd.read_csv(paths["log"])) == 40
    with np.load(paths["predictions"]) as npz:
        assert npz["names"].tolist() == ["brain2"] and npz["mask_0"].any() and npz["image_0"].dtype == np.uint8
        assert npz["mask_0"].shape == npz["predicted_0"].shape == npz["image_0"].shape == (128, 128)


def test_the_centre_slice_passes_through_the_foreground():
    label = np.zeros((4, 4, 10), bool)
    label[1, 1, [2, 3, 7]] = True
    assert centre_slice(label) == 4 and centre_slice(np.zeros((4, 4, 10), bool)) == 5

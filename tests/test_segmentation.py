"""Segmentation: HC18 masks against the recorded head circumference, metrics on known
shapes, MD5 checks, a short real training run, resuming, and the report rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image
from scipy import ndimage

from conftest import REPO
from workflow.data import segmentation as seg
from workflow.data.download import md5sum
from workflow.models import create, get
from workflow.train.segmentation import SegmentationRecipe, fit, predict, to_device
from workflow.train.segmentation_metrics import case_metrics, mean_dice

SUBSET = 72  # HC18 rows (from the first) in the test data root


@pytest.fixture(scope="module")
def hc18(data_root: Path) -> Path:
    return data_root / "segmentation"


@pytest.fixture(scope="module")
def subset_root(hc18: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the first HC18 rows: links to the real files, their MD5SUMS lines."""
    root = tmp_path_factory.mktemp("data") / "segmentation"
    folder = root / seg.HC18 / "training_set"
    folder.mkdir(parents=True)
    table = pd.read_csv(hc18 / seg.HC18_CSV).head(SUBSET)
    table.to_csv(root / seg.HC18_CSV, index=False)
    names = [f for n in table["filename"] for f in (n, n.replace(".png", "_Annotation.png"))]
    for name in names:
        (folder / name).symlink_to(hc18 / seg.HC18 / "training_set" / name)
    sums = seg.read_md5sums(hc18)
    wanted = {f"{seg.HC18}/training_set/{n}" for n in names}
    lines = [f"{digest}  ./{name}" for name, digest in sums.items() if name in wanted]
    lines.append(f"{md5sum(root / seg.HC18_CSV)}  ./{seg.HC18_CSV}")  # the trimmed CSV's own sum
    (root / "MD5SUMS").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def subset_splits(subset_root: Path) -> dict[str, seg.SegmentationSplit]:
    return seg.load("hc18", subset_root, 32)


@pytest.mark.parametrize("filename", ["000_HC.png", "010_2HC.png", "063_3HC.png", "133_4HC.png"])
def test_filled_outline_has_the_recorded_head_circumference(hc18: Path, filename: str):
    table = seg.hc18_table(hc18).set_index("filename")
    row = table.loc[filename]
    annotation = np.asarray(Image.open(hc18 / seg.HC18 / "training_set" / row["annotation"]))
    region = seg.fill_outline(annotation)
    outline = region & ~ndimage.binary_erosion(region)  # the ellipse as a one-pixel line
    filled = seg.fill_outline(np.where(outline, 255, 0).astype(np.uint8))
    assert outline.sum() < 0.05 * filled.sum()
    assert (filled == region).mean() > 0.999
    circumference = seg.ellipse_circumference(filled, row["pixel_mm"], row["pixel_mm"])
    assert circumference == pytest.approx(row["hc_mm"], rel=0.03)
    # the outline alone is not a head: its moments give a circumference ~√2 too large
    assert seg.ellipse_circumference(outline, row["pixel_mm"], row["pixel_mm"]) > 1.3 * row["hc_mm"]


def test_repeat_images_stay_with_their_case(hc18: Path):
    table = seg.hc18_table(hc18)
    assert table.groupby("case")["split"].nunique().max() == 1
    assert table.loc[table["filename"] == "133_4HC.png", "case"].item() == "133"
    shares = table.drop_duplicates("case")["split"].value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.70, abs=0.1) and shares["test"] == pytest.approx(0.15, abs=0.07)


def test_subset_is_resized_with_the_spacing_of_the_new_grid(subset_splits: dict, hc18: Path):
    table = seg.hc18_table(hc18).set_index("filename")
    test = subset_splits["test"]
    assert test.images.shape[1:] == (1, 32, 32) and test.images.dtype == np.uint8
    assert set(np.unique(test.masks)) == {0, 1}
    pixel = table.loc[test.names[0], "pixel_mm"]
    assert test.spacing[0].tolist() == pytest.approx([0.0, pixel * 540 / 32, pixel * 800 / 32])


def test_dice_and_hd95_on_known_shapes():
    true = np.zeros((3, 1, 32, 32), np.uint8)
    true[:, :, 8:24, 8:24] = 1
    pred = np.zeros_like(true)
    pred[:, :, 8:24, 12:28] = 1  # the square shifted 4 columns
    pred[2] = 0
    spacing = np.array([[0.0, 0.5, 2.0]] * 3)
    cases = case_metrics(pred, true, spacing, np.array(["a", "b", "c"]), 8.0).set_index("case")
    assert cases.loc["a", "dice"] == pytest.approx(0.75) and cases.loc["a", "surface_dice"] == pytest.approx(1.0)  # within 4 columns
    assert case_metrics(pred[:1], true[:1], spacing[:1], np.array(["a"]), 7.9)["surface_dice"].item() < 1.0
    assert cases.loc["a", "hd95_px"] == pytest.approx(4.0)
    assert cases.loc["a", "hd95_mm"] == pytest.approx(8.0)  # 4 columns of 2 mm
    assert cases.loc["c", ["dice", "surface_dice"]].tolist() == [0.0, 0.0] and cases.loc["c", "predicted_pixels"] == 0
    assert cases.loc["c", "hd95_px"] == pytest.approx(np.hypot(32, 32))
    volume = case_metrics(pred[:2], true[:2], np.array([[3.0, 0.5, 2.0]] * 2), np.array(["v", "v"]), 2.0)
    assert volume["slices"].item() == 2 and volume["dice"].item() == pytest.approx(0.75)
    assert mean_dice(torch.from_numpy(pred), torch.from_numpy(true)) == pytest.approx(0.5)


def test_an_empty_ground_truth_is_scored_not_left_out():
    """Nothing to find: predicting nothing is perfect (Dice 1, HD95 0); a false positive
    scores like a miss (Dice 0, HD95 the grid's diagonal)."""
    true = np.zeros((2, 1, 32, 32), np.uint8)
    pred = np.zeros_like(true)
    pred[1, :, 4:8, 4:8] = 1
    cases = case_metrics(pred, true, np.array([[0.0, 0.5, 0.5]] * 2), np.array(["empty", "false_positive"]), 1.0).set_index("case")
    assert cases.loc["empty", ["dice", "hd95_px", "hd95_mm", "surface_dice"]].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert cases.loc["false_positive", ["dice", "surface_dice"]].tolist() == [0.0, 0.0]
    assert cases.loc["false_positive", "hd95_px"] == pytest.approx(np.hypot(32, 32))
    assert cases.loc["false_positive", "hd95_mm"] == pytest.approx(np.hypot(16, 16))
    assert cases[["dice", "hd95_px", "hd95_mm", "surface_dice"]].notna().all().all()


def test_md5_mismatch_names_the_file(subset_root: Path, tmp_path: Path):
    root = tmp_path / "segmentation"
    shutil.copytree(subset_root, root, symlinks=False)
    bad = root / seg.HC18 / "training_set" / "001_HC_Annotation.png"
    bad.write_bytes(bad.read_bytes() + b"\0")
    with pytest.raises(seg.SegmentationDataError, match="001_HC_Annotation.png: md5 .* does not match"):
        seg.load("hc18", root, 32)


UNET = ("unet", {"channels": [8, 16, 32], "strides": [2, 2], "num_res_units": 1})


def _train(splits: dict, epochs: int, checkpoint: Path | None = None, fingerprint: str = "", model: tuple[str, dict] = UNET) -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    arch, params = model
    network = create(arch, 2, 1, 2, img_size=(32, 32), **params)
    device = {name: to_device(split, torch.device("cpu")) for name, split in splits.items()}
    result = fit(network, device, SegmentationRecipe(epochs=epochs, batch_size=8, lr=3e-3), seed=0, checkpoint=checkpoint, fingerprint=fingerprint)
    return network, result


@pytest.mark.parametrize(
    "model",
    [UNET, ("attention_unet", {"channels": [8, 16, 32], "strides": [2, 2]}), ("unetr", {"feature_size": 8, "hidden_size": 96, "mlp_dim": 192, "num_heads": 4})],
    ids=lambda model: model[0],
)
def test_short_training_beats_the_mean_mask(subset_splits: dict, model: tuple[str, dict]):
    """Each architecture, trained on the subset's training cases only (last epoch kept),
    scored on all its other images."""
    torch.set_num_threads(1)
    network, result = _train({"train": subset_splits["train"]}, epochs=12, model=model)
    images = torch.from_numpy(np.concatenate([subset_splits[s].images for s in ("val", "test")]))
    masks = torch.from_numpy(np.concatenate([subset_splits[s].masks for s in ("val", "test")]))
    trained = mean_dice(predict(network, images, 64), masks)
    prior = torch.from_numpy(subset_splits["train"].masks.mean(0, keepdims=True) >= 0.5)
    baseline = mean_dice(prior.expand_as(masks), masks)
    assert get("unet").task == "segmentation" and get("unetr").family == "hybrid"
    assert result.best_epoch == 12 and len(masks) >= 10
    assert trained > baseline + 0.05, (trained, baseline)


def test_resumed_run_ends_like_an_uninterrupted_one(subset_splits: dict, tmp_path: Path):
    torch.set_num_threads(1)
    small = {name: seg.SegmentationSplit(**{k: v[:16] for k, v in vars(split).items()}) for name, split in subset_splits.items()}
    whole, uninterrupted = _train(small, epochs=2)
    checkpoint = tmp_path / "checkpoint.pt"
    _train(small, epochs=1, checkpoint=checkpoint, fingerprint="run")  # stopped after epoch 1
    resumed_model, resumed = _train(small, epochs=2, checkpoint=checkpoint, fingerprint="run")
    assert resumed.resumed_from_epoch == 1
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in uninterrupted.history]
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key


def test_report_rule_writes_table_and_overlays(subset_root: Path, hc18: Path, tmp_path: Path):
    """The rules end to end on a 2-D and a 3-D dataset: cards, runs with the settings' epochs,
    one table by modality, overlays of images and volume slices."""
    root = tmp_path / "data" / "segmentation"
    shutil.copytree(subset_root, root, symlinks=True)
    (root / "pyradiomics_testcases").symlink_to(hc18 / "pyradiomics_testcases")
    sums = [f"{digest}  ./{name}" for name, digest in seg.read_md5sums(hc18).items() if name.startswith("pyradiomics_testcases/")]
    (root / "MD5SUMS").write_text((root / "MD5SUMS").read_text() + "\n".join(sums) + "\n")
    tiny = {"channels": [4, 8], "strides": [2], "num_res_units": 0}
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["segmentation"] = {
        "datasets": ["hc18"],
        "size": 32,
        "seeds": [0],
        "overlays": 2,
        "recipe": {"epochs": 1, "batch_size": 16},
        "models": {"tiny_unet": {"arch": "unet", "params": tiny}},
        "volumes": {
            "datasets": ["brain_mri"],
            "settings": {"brain_mri": {"spacing": [3.125, 3.125, 6.5], "patch": [32, 32, 16], "tolerance_mm": 4.0, "epochs": 2}},
            "recipe": {"epochs": 5, "batch_size": 1, "samples": 2},
            "models": {"tiny_unet3d": {"arch": "unet", "params": tiny}},
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "DLMIA_CONFIG": str(path), "DLMIA_DATA": str(root.parent)}
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--cores", "1",
               "results/report/segmentation_overlays.png"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = tmp_path / "results" / "report"
    assert Image.open(report / "segmentation_overlays.png").size[0] > 200
    assert (report / "segmentation_overlays.svg").read_text().startswith("<?xml")
    table = pd.read_csv(report / "segmentation.csv")
    assert table[["modality", "dataset", "model", "seeds", "epochs"]].values.tolist() == [["MRI", "brain_mri", "tiny_unet3d", 1, 2], ["ultrasound", "hc18", "tiny_unet", 1, 1]]
    assert table["input"].tolist() == ["patch 32×32×16 at 3.125×3.125×6.5 mm", "32×32 px"] and table["tolerance_mm"].tolist() == [4.0, 2.0]
    assert table["dice_mean"].between(0, 1).all() and table["surface_dice_mean"].between(0, 1).all()
    cards = tmp_path / "results" / "segmentation" / "data"
    assert json.loads((cards / "hc18.json").read_text())["license"] == "CC BY 4.0"
    assert json.loads((cards / "brain_mri.json").read_text())["card"]["n_samples"] == {"train": 1, "val": 0, "test": 1}
    assert "Test images and volume slices" in (report / "segmentation_overlays.svg").read_text()

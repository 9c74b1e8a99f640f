"""2-D segmentation: the datasets (HC18, DRIVE, JSRT/SCR, MedSeg COVID CT) read from the real
files under $DLMIA_DATA/segmentation, their splits, cards and set-aside cases; the metrics
and each dataset's own protocol against independent references; training and scoring on
the images' own grids."""

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
from workflow.data import drive, hc18, jsrt_scr, medseg_covid
from workflow.data import segmentation as seg
from workflow.data import segmentation_datasets as datasets
from workflow.data.download import md5sum
from workflow.models import create, get
from workflow.train.segmentation import Example, SegmentationRecipe, discrete, fit, predict
from workflow.train.segmentation_augmentation import augmentation
from workflow.train.segmentation_metrics import case_rows, class_scores, pooled_dice, summary
from workflow.train.segmentation_protocols import head_circumference, infnet_scores, pooled_scores

SUBSET = 72  # HC18 rows (from the first) in the test data root


@pytest.fixture(scope="module")
def segroot(data_root: Path) -> Path:
    return data_root / "segmentation"


def _subset_hc18(segroot: Path, root: Path, rows: int) -> Path:
    """A data root holding the first HC18 rows: links to the real files, their MD5SUMS lines."""
    folder = root / hc18.FOLDER / "training_set"
    folder.mkdir(parents=True)
    table = pd.read_csv(segroot / hc18.CSV).head(rows)
    table.to_csv(root / hc18.CSV, index=False)
    names = [f for n in table["filename"] for f in (n, n.replace(".png", "_Annotation.png"))]
    for name in names:
        (folder / name).symlink_to(segroot / hc18.FOLDER / "training_set" / name)
    sums = seg.read_md5sums(segroot)
    wanted = {f"{hc18.FOLDER}/training_set/{n}" for n in names}
    lines = [f"{digest}  ./{name}" for name, digest in sums.items() if name in wanted]
    lines.append(f"{md5sum(root / hc18.CSV)}  ./{hc18.CSV}")  # the trimmed CSV's own sum
    (root / "MD5SUMS").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def subset_root(segroot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _subset_hc18(segroot, tmp_path_factory.mktemp("data") / "segmentation", SUBSET)


@pytest.fixture(scope="module")
def subset(subset_root: Path) -> tuple[dict[str, datasets.Prepared], dict]:
    return datasets.prepare("hc18", subset_root, {"size": [32, 32], "tolerance_mm": 2.0})


def _linked(segroot: Path, tmp_path: Path, folder: str, keep) -> Path:
    """A data root with a copy of ``folder``'s files for which ``keep(relative path)`` holds
    (the package's manifest checks them)."""
    root = tmp_path / "segmentation"
    for path in sorted((segroot / folder).rglob("*")):
        relative = path.relative_to(segroot)
        if path.is_file() and keep(str(relative)):
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, root / relative)
    return root


# --- HC18 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["000_HC.png", "010_2HC.png", "063_3HC.png", "133_4HC.png"])
def test_filled_outline_has_the_recorded_head_circumference(segroot: Path, filename: str):
    row = hc18.table(segroot).loc[filename]
    annotation = np.asarray(Image.open(segroot / hc18.FOLDER / "training_set" / row["annotation"]))
    region = hc18.fill_outline(annotation)
    outline = region & ~ndimage.binary_erosion(region)  # the ellipse as a one-pixel line
    filled = hc18.fill_outline(np.where(outline, 255, 0).astype(np.uint8))
    assert outline.sum() < 0.05 * filled.sum()
    assert (filled == region).mean() > 0.999
    circumference = hc18.ellipse_circumference(filled, row["pixel_mm"], row["pixel_mm"])
    assert circumference == pytest.approx(row["hc_mm"], rel=0.03)
    # the outline alone is not a head: its moments give a circumference ~√2 too large
    assert hc18.ellipse_circumference(outline, row["pixel_mm"], row["pixel_mm"]) > 1.3 * row["hc_mm"]
    # the protocol's ellipse, fitted to the filled head's contour, measures the CSV's circumference
    assert head_circumference(filled, row["pixel_mm"]) == pytest.approx(row["hc_mm"], rel=0.02)
    assert head_circumference(filled[: filled.shape[0] // 2 + 40], row["pixel_mm"]) < 0.95 * row["hc_mm"]  # a head cut short measures less
    assert np.isnan(head_circumference(np.zeros_like(filled), row["pixel_mm"]))


def test_repeat_images_stay_with_their_case(segroot: Path):
    table = hc18.table(segroot)
    assert table.groupby("case")["split"].nunique().max() == 1
    assert table.loc["133_4HC.png", "case"] == "133"
    shares = table.drop_duplicates("case")["split"].value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.70, abs=0.1) and shares["test"] == pytest.approx(0.15, abs=0.07)


def test_hc18_is_prepared_on_the_training_grid_and_read_back_on_its_own(subset: tuple, subset_root: Path):
    splits, card = subset
    test = splits["test"]
    assert test.images.shape[1:] == (1, 32, 32) and test.images.dtype == np.float32 and test.labels.shape[1:] == (1, 32, 32)
    assert np.allclose(test.images.mean(axis=(1, 2, 3)), 0, atol=1e-4)  # each image z-scored
    assert set(np.unique(test.labels)) == {0, 1}
    assert card["modality"] == "ultrasound" and card["classes"] == {1: "fetal head"} and card["spacing_known"]
    assert card["license"].startswith("CC BY 4.0") and card["set_aside"] == {} and card["training_size"] == [32, 32]
    assert sum(card["n_samples"].values()) == SUBSET == len(card["cases"])
    case = next(c for c in card["cases"] if c["name"] == test.names[0])
    sample = datasets.native("hc18", subset_root, case)
    row = hc18.table(subset_root).loc[test.names[0]]
    assert sample.label.shape == sample.image.shape == (540, 800) and sample.spacing == (row["pixel_mm"], row["pixel_mm"])
    assert sample.reference == {"hc_mm": row["hc_mm"]}


def test_an_annotation_off_its_circumference_is_set_aside_by_name(segroot: Path, tmp_path: Path):
    root = _subset_hc18(segroot, tmp_path / "segmentation", 12)
    bad = root / hc18.FOLDER / "training_set" / "002_HC_Annotation.png"
    annotation = np.asarray(Image.open(bad))
    bad.unlink()  # the link to the real file, not the file
    half = annotation[::2, ::2]  # the same ellipse at half its size
    shrunk = np.zeros_like(annotation)
    shrunk[135 : 135 + half.shape[0], 200 : 200 + half.shape[1]] = half
    Image.fromarray(shrunk).save(bad)
    usable, set_aside = hc18.cases(root)
    assert list(set_aside) == ["002_HC.png"] and "not within 5% of the CSV's" in set_aside["002_HC.png"]
    assert len(usable) == 11 and "002_HC.png" not in {c.name for c in usable}


def test_md5_mismatch_names_the_file(subset_root: Path, tmp_path: Path, segroot: Path):
    root = tmp_path / "segmentation"
    shutil.copytree(subset_root, root, symlinks=False)
    bad = root / hc18.FOLDER / "training_set" / "001_HC_Annotation.png"
    bad.write_bytes(bad.read_bytes() + b"\0")
    with pytest.raises(seg.SegmentationDataError, match="001_HC_Annotation.png: md5 .* does not match"):
        datasets.prepare("hc18", root, {"size": [32, 32]})
    # a dataset placed by hand is checked against the package's manifest of the kept copy
    placed = _linked(segroot, tmp_path / "drive", drive.FOLDER, lambda _: True)
    gif = placed / drive.FOLDER / "test" / "mask" / "07_test_mask.gif"
    gif.write_bytes(gif.read_bytes()[:-1] + b"\1")
    with pytest.raises(seg.SegmentationDataError, match=r"07_test_mask.gif: md5 .* the checksum recorded for it .*manifests"):
        datasets.prepare("drive", placed, {"tolerance_px": 2})


# --- DRIVE, JSRT/SCR, MedSeg ---------------------------------------------------------------


def test_drive_uses_its_official_split_and_its_field_of_view(segroot: Path):
    usable, set_aside = drive.cases(segroot)
    splits = {s: sorted(c.name for c in usable if c.split == s) for s in ("train", "val", "test")}
    assert set_aside == {} and [len(splits[s]) for s in ("train", "val", "test")] == [16, 4, 20]
    assert splits["val"] == ["21_training", "27_training", "34_training", "40_training"]
    assert splits["test"][0] == "01_test" and all(n.endswith("_training") for n in splits["train"])
    sample = drive.read(segroot, next(c for c in usable if c.name == "01_test"))
    assert sample.image.shape == (584, 565, 3) and sample.spacing is None
    vessels = sample.label.astype(bool)
    assert sample.region.mean() == pytest.approx(0.68, abs=0.02) and (vessels & ~sample.region).sum() < 0.01 * vessels.sum()


def test_drive_second_observer_matches_its_published_agreement(segroot: Path):
    """DRIVE's second manual (palette indices 0/1) against the first inside the field of view:
    accuracy 0.9473 is the figure the DRIVE literature quotes for the second observer, and the
    data folder's README gives mean Dice 0.788 (0.742-0.829), computed independently."""
    from workflow.train.segmentation_protocols import drive_second_observer

    cards = [{"name": c.name, "split": c.split, "files": list(c.files)} for c in drive.cases(segroot)[0]]
    scores = drive_second_observer(segroot, cards)
    assert scores["images"] == 20 and "AUC" not in scores  # a human draws no probabilities
    assert scores["accuracy"] == pytest.approx(0.9473, abs=5e-4)
    assert scores["Dice per image"] == pytest.approx(0.788, abs=5e-4)  # inside the field of view
    whole = []  # the README's per-image range is over the whole image
    for case in (c for c in drive.cases(segroot)[0] if c.split == "test"):
        first, second = drive.read(segroot, case).label.astype(bool), drive.second_observer(segroot, case)
        whole.append(2 * (first & second).sum() / (first.sum() + second.sum()))
    assert [min(whole), max(whole)] == pytest.approx([0.742, 0.829], abs=5e-4)
    with Image.open(segroot / drive.FOLDER / "test" / "2nd_manual" / "01_manual2.gif") as trap:  # read as grey, every pixel is a vessel
        assert (np.asarray(trap.convert("L")) > 0).all()


def test_pooled_scores_reproduce_retina_unet_from_its_confusion_matrix():
    """orobix/retina-unet's test/performances.txt: confusion matrix [[3895256, 65238], [134513,
    443136]] over the pooled field-of-view pixels, F1 0.816071114516, sensitivity
    0.767137136912, specificity 0.98352781244, accuracy 0.955983978469."""
    tn, fp, fn, tp = 3895256, 65238, 134513, 443136
    truth = np.repeat([False, False, True, True], [tn, fp, fn, tp])
    probability = np.repeat([0.2, 0.7, 0.4, 0.9], [tn, fp, fn, tp]).astype(np.float32)
    scores = pooled_scores(probability, truth)
    assert scores["F1"] == pytest.approx(0.816071114516, abs=1e-9) and scores["sensitivity"] == pytest.approx(0.767137136912, abs=1e-9)
    assert scores["specificity"] == pytest.approx(0.98352781244, abs=1e-9) and scores["accuracy"] == pytest.approx(0.955983978469, abs=1e-9)
    assert pooled_scores(np.array([0.5, 0.49, 0.1]), np.array([True, True, False]))["sensitivity"] == 0.5  # 0.5 counts as a vessel, as there


def test_jsrt_folds_are_scr_odd_and_even_numbers(segroot: Path):
    usable, set_aside = jsrt_scr.cases(segroot, test_fold=2)
    test = [c.name for c in usable if c.split == "test"]
    training = [c.name for c in usable if c.split != "test"]
    assert set_aside == {} and len(test) == 123 and len(training) == 124 and sum(c.split == "val" for c in usable) == 12
    assert jsrt_scr.fold_of("JPCLN001") == 1 and jsrt_scr.fold_of("JPCNN002") == 2 and "JPCLN002" in test and "JPCNN093" in training
    swapped, _ = jsrt_scr.cases(segroot, test_fold=1)
    assert {c.name for c in swapped if c.split == "test"} == set(training)
    sample = jsrt_scr.read(segroot, next(c for c in usable if c.name == "JPCLN001"))
    assert sample.image.shape == (512, 512) and sample.label.shape == (3, 1024, 1024) and sample.spacing == (0.35, 0.35)
    masks = jsrt_scr.MASKS
    parts = {m: np.asarray(Image.open(segroot / jsrt_scr.FOLDER / "masks" / m / "JPCLN001.gif").convert("L")) > 127 for m in masks}
    assert np.array_equal(sample.label[0], parts["right_lung"] | parts["left_lung"])
    assert np.array_equal(sample.label[2], parts["right_clavicle"] | parts["left_clavicle"])
    assert (sample.label[0] & sample.label[2]).any()  # the structures overlap: multi-label


def test_a_jsrt_image_without_one_of_its_masks_is_set_aside_by_name(segroot: Path, tmp_path: Path):
    names = ("JPCLN001", "JPCLN002", "JPCLN003", "JPCNN001", "JPCNN002")
    root = _linked(segroot, tmp_path, jsrt_scr.FOLDER, lambda p: any(n in p for n in names))
    (root / jsrt_scr.FOLDER / "masks" / "heart" / "JPCLN003.gif").unlink()
    usable, set_aside = jsrt_scr.cases(root)
    assert set_aside == {"JPCLN003": "no heart mask"} and sorted(c.name for c in usable) == ["JPCLN001", "JPCLN002", "JPCNN001", "JPCNN002"]


def test_medseg_uses_inf_net_s_split_with_ground_glass_and_consolidation(segroot: Path):
    usable, set_aside = medseg_covid.cases(segroot)
    counts = {s: sum(c.split == s for c in usable) for s in ("train", "val", "test")}
    assert set_aside == {} and counts == {"train": 44, "val": 6, "test": 48}
    test = {int(c.name.split("_")[1]) for c in usable if c.split == "test"}
    assert test == {6, 7, 8, 9, 18, 21, 36, 38, *range(59, 67), *range(68, 100)}  # Inf-Net's TestingSet
    described = datasets.describe("medseg_covid")
    assert described["classes"] == {1: "ground-glass opacity", 2: "consolidation"} and described["derived"] == {"infection": [1, 2]}
    sample = medseg_covid.read(segroot, next(c for c in usable if c.name == "test_18"))
    assert sample.spacing is None and set(np.unique(sample.label)) <= {0, 1, 2} and sample.label.shape == sample.image.shape


def test_a_medseg_slice_whose_labels_disagree_is_set_aside(segroot: Path, tmp_path: Path):
    root = _linked(segroot, tmp_path, medseg_covid.FOLDER, lambda p: any(f"/{n}." in p for n in (0, 1, 2, 3, 6, 7)))
    binary = root / medseg_covid.FOLDER / "TestingSet" / "LungInfection-Test" / "GT" / "7.png"
    Image.fromarray(np.zeros(Image.open(binary).size[::-1], np.uint8)).save(binary)
    usable, set_aside = medseg_covid.cases(root)
    assert set_aside == {"test_7": "the binary infection label is not the union of the class label's classes"}
    assert sorted(c.name for c in usable) == ["test_6", "train_0", "train_1", "train_2", "train_3"]


@pytest.mark.parametrize("name", ["drive", "jsrt_scr", "medseg_covid"])
def test_a_dataset_behind_a_registration_says_where_to_get_it_and_where_to_put_it(tmp_path: Path, name: str):
    module = datasets.module(name)
    with pytest.raises(seg.SegmentationDataError) as error:
        datasets.prepare(name, tmp_path / "segmentation", {"tolerance_px": 2})
    message = str(error.value)
    assert str(tmp_path / "segmentation" / module.FOLDER) in message and "DLMIA_DATA" in message
    assert any(site in message for site in ("grand-challenge.org", "db.jsrt.or.jp", "github.com/DengPingFan/Inf-Net"))
    assert "redistribution" in message or "non-commercial" in message


# --- metrics and protocols -------------------------------------------------------------------


def test_resized_labels_keep_the_class_covering_most_of_each_pixel():
    label = np.zeros((8, 8), np.uint8)
    label[:, :3] = 1  # 3 of every 4 columns of the first output pixel
    label[:, 4:5] = 2  # 1 of 4: background wins there
    small = seg.resize_label(label, (2, 2), multilabel=False)
    assert small.tolist() == [[1, 0], [1, 0]]
    stack = np.stack([label == 1, label > 0]).astype(np.uint8)  # overlapping structures keep both
    assert seg.resize_label(stack, (2, 2), multilabel=True).tolist() == [[[1, 0], [1, 0]], [[1, 0], [1, 0]]]


def test_class_scores_on_known_shapes():
    true = np.zeros((32, 32), bool)
    true[8:24, 8:24] = True
    pred = np.zeros_like(true)
    pred[8:24, 12:28] = True  # the square shifted 4 columns
    scores = class_scores(pred, true, (0.5, 2.0), 8.0)
    assert scores["status"] == "ok" and scores["dice"] == pytest.approx(0.75) and scores["jaccard"] == pytest.approx(0.6)
    assert scores["sensitivity"] == pytest.approx(0.75) and scores["specificity"] == pytest.approx(1 - 64 / (1024 - 256))
    assert scores["accuracy"] == pytest.approx(1 - 128 / 1024)
    assert scores["hd95"] == pytest.approx(8.0) and scores["surface_dice"] == pytest.approx(1.0)  # 4 columns of 2 mm
    assert class_scores(pred, true, (0.5, 2.0), 7.9)["surface_dice"] < 1.0
    assert class_scores(pred, true, None, 4.0)["hd95"] == pytest.approx(4.0)  # no pixel size: pixels
    region = np.zeros_like(true)
    region[:, :20] = True  # counted inside a field of view only
    inside = class_scores(pred, true, None, 2.0, region)  # both masks counted inside alone
    assert (inside["predicted_pixels"], inside["true_pixels"]) == (16 * 8, 16 * 12) and inside["dice"] == pytest.approx(2 * 128 / (128 + 192))
    assert inside["accuracy"] == pytest.approx((128 + 640 - 192) / 640) and inside["specificity"] == 1.0


def test_an_empty_prediction_has_no_hd95_and_is_counted_not_averaged():
    """A prediction that misses a structure scores Dice 0, and its HD95 is undefined: no grid
    diagonal enters the means; the summary counts it and gives HD95 over the other cases."""
    true = np.zeros((3, 32, 32), bool)
    true[:, 8:24, 8:24] = True
    pred = true.copy()
    pred[1, :, 12:28] = pred[1, :, 8:24]
    pred[1, :, 8:12] = False
    pred[2] = False
    rows = [{"case": f"c{i}", **row} for i in range(3) for row in case_rows(pred[i : i + 1], true[i : i + 1], ["head"], (1.0, 1.0), 2.0)]
    frame = pd.DataFrame(rows)
    assert frame["status"].tolist() == ["ok", "ok", "empty prediction"] and np.isnan(frame["hd95"].iloc[2])
    result = summary(frame)
    assert result["empty_predictions"] == 1 and result["dice"] == pytest.approx((1 + 0.75 + 0) / 3)
    assert result["hd95_median"] == pytest.approx(2.0) and result["hd95_mean"] == pytest.approx(2.0)  # (0 + 4) / 2, the miss left out
    assert result["classes"]["head"]["hd95_cases"] == 2


def test_an_empty_ground_truth_is_scored_not_left_out():
    true = np.zeros((32, 32), bool)
    nothing = class_scores(true, true, (0.5, 0.5), 1.0)
    assert nothing["status"] == "absent" and (nothing["dice"], nothing["surface_dice"]) == (1.0, 1.0) and np.isnan(nothing["hd95"])
    spot = true.copy()
    spot[4:8, 4:8] = True
    false_positive = class_scores(spot, true, (0.5, 0.5), 1.0)
    assert false_positive["status"] == "false positive" and (false_positive["dice"], false_positive["surface_dice"]) == (0.0, 0.0)


def _infnet_reference(probability: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Inf-Net's MyTest_LungInf.py, EvaluationTool/main.m and Fmeasure_calu.m, line by line: the
    map min-max normalised and saved as an 8-bit PNG, im2double, mapminmax to [0, 1],
    thresholds 1:-1/255:0, Label3(sMap >= t) = 1, all three scores 0 when there is no true
    positive; means over thresholds."""
    res = (probability - probability.min()) / (probability.max() - probability.min() + 1e-8)  # MyTest_LungInf.py
    cmin, cmax = res.min(), res.max()  # misc.imsave → bytescale: (data - cmin) * 255 / (cmax - cmin), + 0.5, uint8
    saved = ((res - cmin) * (255.0 / (cmax - cmin)) + 0.5).astype(np.uint8).astype(float) / 255  # im2double
    gain = 1.0 / (saved.max() - saved.min())  # mapminmax: (x - xmin) .* gain + ymin
    resmap = (saved - saved.min()) * gain
    step = -1.0 / 255  # 1:-1/255:0, MATLAB's colon: from the start for k < n/2, from the end after
    thresholds = [1.0 + k * step if k < 127.5 else 0.0 - (255 - k) * step for k in range(256)]
    dice, sensitivity, specificity = [], [], []
    for t in thresholds:
        label = resmap >= t
        tp = int((label & truth).sum())
        if tp == 0:
            dice.append(0.0), sensitivity.append(0.0), specificity.append(0.0)
            continue
        fp, fn = int((label & ~truth).sum()), int((~label & truth).sum())
        tn = truth.size - tp - fp - fn
        dice.append(2 * tp / (truth.sum() + label.sum()))
        sensitivity.append(tp / truth.sum())
        specificity.append(tn / (tn + fp))
    return {"infnet_dice": np.mean(dice), "infnet_sensitivity": np.mean(sensitivity), "infnet_specificity": np.mean(specificity)}


def test_inf_net_scores_match_its_evaluation_threshold_by_threshold():
    rng = np.random.default_rng(0)
    truth = np.zeros((40, 30), bool)
    truth[10:25, 5:20] = True
    for probability in (np.clip(0.55 * truth + rng.normal(0.25, 0.2, truth.shape), 0, 1), 0.3 * rng.random(truth.shape)):  # sure, and a faint map
        ours, reference = infnet_scores(probability, truth), _infnet_reference(probability, truth)
        for key in ours:
            assert ours[key] == pytest.approx(reference[key], abs=1e-12), key
    hard = infnet_scores(truth.astype(float), truth)  # a perfect binary map: 1 at every threshold above 0
    assert hard["infnet_dice"] == pytest.approx((255 + 2 * truth.sum() / (truth.sum() + truth.size)) / 256)


# --- augmentation, training, scoring -------------------------------------------------------------


def test_augmentation_moves_image_and_label_together_and_repeats_with_its_seed():
    image = torch.arange(32 * 32, dtype=torch.float32).reshape(1, 32, 32)
    label = (image > 600).float()
    flips = augmentation({"flip_axes": [0, 1]}, 2)
    combinations = [(), (1,), (2,), (1, 2)]
    seen = set()
    for seed in range(8):
        flips.set_random_state(seed=seed)
        out = flips({"image": image, "label": label})
        done = [c for c in combinations if torch.equal(out["image"], image.flip(c) if c else image)]
        assert len(done) == 1 and torch.equal(out["label"], label.flip(done[0]) if done[0] else label)  # the same flip for both
        seen.add(done[0])
    assert len(seen) > 2
    transform = augmentation({"rotate_deg": 30, "scale": 0.2, "probability": 1.0}, 2)
    transform.set_random_state(seed=3)
    first = transform({"image": image, "label": label})
    assert not torch.equal(first["image"], image) and set(torch.unique(first["label"]).tolist()) <= {0.0, 1.0}
    inside, interior = first["label"][0] > 0.5, first["image"][0] > 0  # away from the zero padding
    assert first["image"][0][inside & interior].mean() > 700 > first["image"][0][~inside & interior].mean()  # the bright part moved with its label
    transform.set_random_state(seed=3)
    again = transform({"image": image, "label": label})
    assert torch.equal(first["image"], again["image"]) and torch.equal(first["label"], again["label"])
    intensity = augmentation({"intensity": {"scale": 0.5, "shift": 1.0, "noise_std": 0.1, "gamma": [0.5, 2.0]}}, 2)
    intensity.set_random_state(seed=0)
    changed = intensity({"image": image, "label": label})
    assert torch.equal(changed["label"], label) and augmentation({}, 2) is None


def _examples(split: datasets.Prepared) -> list[Example]:
    return [Example(str(n), torch.from_numpy(i), torch.from_numpy(l).float()) for n, i, l in zip(split.names, split.images, split.labels)]


UNET = ("unet", {"channels": [8, 16, 32], "strides": [2, 2], "num_res_units": 1})


def _train(splits: dict, epochs: int, checkpoint: Path | None = None, fingerprint: str = "", model: tuple[str, dict] = UNET, schedule: str = "constant"):
    torch.manual_seed(0)
    arch, params = model
    network = create(arch, 2, 1, 2, img_size=(32, 32), **params)
    recipe = SegmentationRecipe(epochs=epochs, batch_size=8, lr=3e-3, schedule=schedule)
    augment = augmentation({"flip_axes": [1], "rotate_deg": 10}, 2)
    train = _examples(splits["train"])
    result = fit(network, train, _examples(splits["val"]) if "val" in splits else [], recipe, 0, torch.device("cpu"), [1], augment=augment, checkpoint=checkpoint, fingerprint=fingerprint)
    return network, result


def _dice(network, split: datasets.Prepared) -> float:
    return float(np.mean([pooled_dice([(discrete(predict(network, e.image, None, SegmentationRecipe(), False), False), e.label)], [1], False) for e in _examples(split)]))


@pytest.mark.parametrize(
    "model",
    [
        UNET,
        ("attention_unet", {"channels": [8, 16, 32], "strides": [2, 2]}),
        ("unetr", {"feature_size": 8, "hidden_size": 96, "mlp_dim": 192, "num_heads": 4}),
    ],
    ids=lambda model: model[0],
)
def test_short_training_beats_the_mean_mask(subset: tuple, model: tuple[str, dict]):
    """Each architecture, trained on the subset's training cases only (last epoch kept),
    scored on all its other images."""
    torch.set_num_threads(1)
    splits, _ = subset
    network, result = _train({"train": splits["train"]}, epochs=12, model=model)
    held = datasets.Prepared(*(np.concatenate([getattr(splits[s], f) for s in ("val", "test")]) for f in ("images", "labels", "names")))
    trained = _dice(network, held)
    prior = (splits["train"].labels.mean(0) >= 0.5).astype(np.float32)
    baseline = float(np.mean([pooled_dice([(torch.from_numpy(prior), torch.from_numpy(l).float())], [1], False) for l in held.labels]))
    assert get("unet").task == "segmentation" and get("unetr").family == "hybrid"
    assert result.best_epoch == 12 and len(held.labels) >= 10
    assert trained > baseline + 0.05, (trained, baseline)


@pytest.mark.parametrize(
    "arch, params",
    [
        ("unet", UNET[1]),
        ("attention_unet", {"channels": [8, 16, 32], "strides": [2, 2]}),
        ("unetr", {"feature_size": 8, "hidden_size": 96, "mlp_dim": 192, "num_heads": 4}),
        ("swin_unetr", {"feature_size": 12, "depths": [1, 1, 1, 1], "num_heads": [1, 2, 4, 8]}),
    ],
)
def test_the_2d_networks_keep_the_image_shape(arch: str, params: dict):
    """Per-pixel logits at the input's size, for 3 classes and 3 input channels (DRIVE's RGB);
    SwinUNETR's five halvings need 64 px on a side (32 would leave one pixel to normalise)."""
    network = create(arch, 2, 3, 3, img_size=(64, 96), **params)
    assert network(torch.zeros(2, 3, 64, 96)).shape == (2, 3, 64, 96)


def test_a_resumed_run_ends_like_an_uninterrupted_one(subset: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A run killed right after its first epoch's checkpoint and started again ends with the
    weights, losses and learning rates (poly decay) of a run that was never stopped."""
    import workflow.train.segmentation as training

    torch.set_num_threads(1)
    splits, _ = subset
    small = {name: datasets.Prepared(split.images[:16], split.labels[:16], split.names[:16]) for name, split in splits.items()}
    whole, uninterrupted = _train(small, epochs=3, schedule="poly")
    checkpoint, save = tmp_path / "checkpoint.pt", training.save_progress

    def killed(*args, **kwargs):
        save(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_progress", killed)
    with pytest.raises(KeyboardInterrupt):
        _train(small, epochs=3, checkpoint=checkpoint, fingerprint="run", schedule="poly")
    monkeypatch.setattr(training, "save_progress", save)
    resumed_model, resumed = _train(small, epochs=3, checkpoint=checkpoint, fingerprint="run", schedule="poly")
    assert resumed.resumed_from_epoch == 1
    assert [r["lr"] for r in uninterrupted.history] == pytest.approx([3e-3, 3e-3 * (2 / 3) ** 0.9, 3e-3 * (1 / 3) ** 0.9])
    assert [r["lr"] for r in resumed.history] == [r["lr"] for r in uninterrupted.history]
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in uninterrupted.history]
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key


def test_multi_label_training_learns_overlapping_structures(segroot: Path, tmp_path: Path):
    """JSRT/SCR's lungs, heart and clavicles as three sigmoid maps: 60 epochs on the 16
    odd-numbered of 32 images at 32 px beat the lungs' and the heart's mean masks (0.83 and
    0.75 Dice; a strong prior for radiographs) on the 16 even-numbered; a pixel may belong to
    two structures in a prediction, as the clavicles lie over the lungs."""
    names = [f"JPCLN{n:03d}" for n in range(1, 33)]
    root = _linked(segroot, tmp_path, jsrt_scr.FOLDER, lambda p: any(n in p for n in names))
    splits, card = datasets.prepare("jsrt_scr", root, {"size": [32, 32], "tolerance_mm": 2.0})
    assert card["multilabel"] and splits["train"].labels.shape[1:] == (3, 32, 32) and len(splits["test"].names) == 16
    torch.manual_seed(0)
    network = create("unet", 2, 1, 3, **UNET[1])
    training = _examples(splits["train"]) + _examples(splits["val"])  # the odd-numbered fold
    fit(network, training, [], SegmentationRecipe(epochs=60, batch_size=8, lr=1e-2), 0, torch.device("cpu"), [1, 2, 3], multilabel=True)
    test = splits["test"]
    predicted = [discrete(predict(network, e.image, None, SegmentationRecipe(), True), True) for e in _examples(test)]
    prior = torch.from_numpy((splits["train"].labels.mean(0) >= 0.5).astype(np.uint8))
    for k, structure in enumerate(("lungs", "heart")):
        trained = np.mean([pooled_dice([(p[k : k + 1], torch.from_numpy(l[k : k + 1]))], [1], True) for p, l in zip(predicted, test.labels)])
        baseline = np.mean([pooled_dice([(prior[k : k + 1], torch.from_numpy(l[k : k + 1]))], [1], True) for l in test.labels])
        assert trained > baseline + 0.02, (structure, trained, baseline)
    both = discrete(torch.tensor([[[0.9]], [[0.2]], [[0.7]]]), True)  # sigmoid maps: structures thresholded one by one
    assert both[:, 0, 0].tolist() == [1, 0, 1]


def test_a_2d_run_is_scored_on_each_image_s_own_grid(subset_root: Path, subset: tuple, tmp_path: Path):
    """Test metrics count the pixels of the original 800×540 masks (not of the 32-px training
    grid), with the head circumference of HC18's protocol; the training Dice goes the same way."""
    from workflow.data.segmentation_datasets import save
    from workflow.train.segmentation_run import SegmentationRunSpec, execute

    splits, card = subset
    save(splits, tmp_path / "data.npz")
    (tmp_path / "card.json").write_text(json.dumps(card))
    spec = SegmentationRunSpec("hc18", "tiny", "unet", UNET[1], SegmentationRecipe(epochs=3, batch_size=8, lr=3e-3), 0, 2.0, size=(32, 32))
    run = tmp_path / "run"
    with pytest.raises(ValueError, match="segmentation.settings.hc18.tolerance_px: hc18 has a pixel size; give tolerance_mm"):
        wrong = SegmentationRunSpec("hc18", "tiny", "unet", UNET[1], SegmentationRecipe(epochs=1), 0, 2.0, tolerance_unit="px")
        execute(wrong, tmp_path / "data.npz", tmp_path / "card.json", subset_root, *(run / n for n in ("m.json", "l.csv", "c.csv", "p.npz")))
    metrics = execute(spec, tmp_path / "data.npz", tmp_path / "card.json", subset_root, run / "metrics.json", run / "log.csv", run / "cases.csv", run / "predictions.npz")
    cases = pd.read_csv(run / "cases.csv")
    test = cases[cases["split"] == "test"].set_index("case")
    by_name = {c["name"]: c for c in card["cases"]}
    for name in test.index[:3]:
        native = datasets.native("hc18", subset_root, by_name[name])
        assert test.loc[name, "true_pixels"] == native.label.sum()  # on the 32-px grid it would be ~500 times fewer
        assert test.loc[name, "hc_reference_mm"] == native.reference["hc_mm"]
    assert metrics["distance_unit"] == "mm" and metrics["protocol"]["ADF mm"] == pytest.approx(test["hc_difference_mm"].abs().mean())
    assert metrics["train_dice_cases"] == 8 and (cases["split"] == "train").sum() == 8
    assert metrics["test"]["cases"] == len(test) == len(splits["test"].names) and metrics["input"].endswith("scored on their label grid)")
    with np.load(run / "predictions.npz") as npz:
        assert npz["classes"].tolist() == ["fetal head"] and max(npz["image_0"].shape) == 256 and npz["truth_0"].shape[0] == 1


def test_report_rule_writes_tables_comparison_overlays_and_curves(subset_root: Path, segroot: Path, tmp_path: Path):
    """The rules end to end on a 2-D and a 3-D dataset: cards, runs with each dataset's
    epochs, one table by modality, the comparison with published results, overlays of images
    and volume slices, validation curves."""
    root = tmp_path / "data" / "segmentation"
    shutil.copytree(subset_root, root, symlinks=True)
    hippocampus = root / "msd_task04_hippocampus"
    for sub in ("images", "labels"):
        (hippocampus / sub).mkdir(parents=True)
        for n in ("001", "003", "004", "006", "007", "008", "011", "014", "015", "017", "026", "035"):
            (hippocampus / sub / f"hippocampus_{n}.nii.gz").symlink_to(segroot / "msd_task04_hippocampus" / sub / f"hippocampus_{n}.nii.gz")
    tiny = {"channels": [4, 8], "strides": [2], "num_res_units": 0}
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["segmentation"] = {
        "datasets": ["hc18"],
        "seeds": [0],
        "overlays": 2,
        "recipe": {"epochs": 2, "batch_size": 16},
        "settings": {"hc18": {"size": [32, 32], "tolerance_mm": 2.0, "epochs": 1}},
        "models": {"tiny_unet": {"arch": "unet", "params": tiny}},
        "volumes": {
            "datasets": ["Task04_Hippocampus"],
            "settings": {"Task04_Hippocampus": {"spacing": [2.0, 2.0, 2.0], "patch": [16, 32, 16], "tolerance_mm": 2.0, "epochs": 2}},
            "recipe": {"epochs": 5, "batch_size": 2, "samples": 1},
            "models": {"tiny_unet3d": {"arch": "unet", "params": tiny}},
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "DLMIA_CONFIG": str(path), "DLMIA_DATA": str(root.parent)}
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--cores", "1",
               "results/report/segmentation_overlays.png", "results/report/segmentation_vs_published.csv"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = tmp_path / "results" / "report"
    assert Image.open(report / "segmentation_overlays.png").size[0] > 200 and Image.open(report / "segmentation_curves.png").size[0] > 200
    assert "ground truth (solid) and prediction (dashed)" in (report / "segmentation_overlays.svg").read_text()
    table = pd.read_csv(report / "segmentation.csv")
    assert table[["modality", "dataset", "model", "seeds", "epochs"]].values.tolist() == [["MRI", "Task04_Hippocampus", "tiny_unet3d", 1, 2], ["ultrasound", "hc18", "tiny_unet", 1, 1]]
    assert table["input"].iloc[0] == "patch 16×32×16 at 2×2×2 mm" and table["input"].iloc[1].startswith("32×32 px")
    assert table["tolerance"].tolist() == [2.0, 2.0] and table["distance_unit"].tolist() == ["mm", "mm"]
    published = pd.read_csv(report / "segmentation_vs_published.csv")
    hippo = published[published["dataset"] == "Task04_Hippocampus"]
    assert hippo[["metric", "kind"]].values.tolist() == [["Anterior Dice", "measured"], ["Anterior Dice", "published"], ["Posterior Dice", "measured"], ["Posterior Dice", "published"]]
    assert hippo["split"].iloc[1].startswith("differs") and "drive" not in set(published["dataset"])  # datasets not run are left out
    cards = tmp_path / "results" / "segmentation" / "data"
    assert json.loads((cards / "hc18.json").read_text())["license"].startswith("CC BY 4.0")
    card = json.loads((cards / "Task04_Hippocampus.json").read_text())["card"]
    assert card["n_samples"] == {"train": 8, "val": 2, "test": 2} and card["folder"] == "segmentation/msd_task04_hippocampus"

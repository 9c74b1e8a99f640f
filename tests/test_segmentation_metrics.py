"""Segmentation metrics against hand-computed cases: undefined rates, the two directed
distances of HD95, the summary's means, spreads and counts, and pooled Dice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from workflow.train.segmentation_metrics import boundary, case_rows, class_scores, pooled_dice, summary


def _square(size: int, top: int, left: int, side: int) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[top : top + side, left : left + side] = True
    return mask


def test_hd95_is_the_larger_directed_distance_and_the_tolerance_is_inclusive():
    true = _square(40, 5, 5, 30)
    pred = _square(40, 18, 18, 4)  # a small square in the middle of a large one
    hd95, surface = boundary(pred, true, None, 13.0)
    # from the small square's edge the large one's is 13 pixels away at the most; from the large one's edge much further
    assert hd95 > 13.0
    assert hd95 == pytest.approx(max(boundary(true, pred, None, 13.0)[0], hd95))
    # each of the small square's 12 edge pixels lies 13 px from the large edge (inclusive: all count); of the large
    # edge's 116, the 4 facing the small square on each side lie 13 px from it, the rest further
    assert surface == pytest.approx((12 + 16) / (12 + 116))
    assert boundary(pred, true, None, 12.9)[1] == 0.0
    doubled_pixels = boundary(pred, true, (2.0, 2.0), 26.0)
    assert doubled_pixels == pytest.approx((2 * hd95, surface))


def test_rates_are_undefined_where_their_denominator_is_empty():
    everything = np.ones((8, 8), bool)
    scores = class_scores(everything, everything, None, 1.0)
    assert scores["dice"] == 1.0 and scores["sensitivity"] == 1.0 and np.isnan(scores["specificity"]) and scores["accuracy"] == 1.0
    nothing = np.zeros((8, 8), bool)
    absent = class_scores(nothing, nothing, None, 1.0)
    assert np.isnan(absent["sensitivity"]) and absent["specificity"] == 1.0 and absent["jaccard"] == 1.0
    assert (absent["true_pixels"], absent["predicted_pixels"]) == (0, 0)
    spot = _square(8, 2, 2, 2)
    missed = class_scores(nothing, spot, None, 1.0)
    assert missed["status"] == "empty prediction" and missed["jaccard"] == 0.0 and missed["sensitivity"] == 0.0 and np.isnan(missed["hd95"])
    assert missed["specificity"] == 1.0 and missed["accuracy"] == pytest.approx(60 / 64) and missed["true_pixels"] == 4


def test_rates_where_the_two_counts_of_a_sum_are_equal():
    true = _square(8, 0, 0, 2)  # 4 pixels
    pred = np.zeros((8, 8), bool)
    pred[0, :2] = True  # 2 of them: tp = fn = 2
    pred[7, :2] = True  # and 2 elsewhere: fp = 2
    scores = class_scores(pred, true, None, 1.0)
    assert scores["status"] == "ok" and scores["sensitivity"] == 0.5 and scores["dice"] == pytest.approx(4 / 8)
    assert scores["specificity"] == pytest.approx(58 / 60)
    region = np.zeros((8, 8), bool)
    region[:2, :2] = True
    region[7, :2] = True
    region[6, :2] = True  # tn = fp = 2 inside the region
    assert class_scores(pred, true, None, 1.0, region)["specificity"] == 0.5


def test_case_rows_pass_the_spacing_and_the_region_on():
    true = np.stack([_square(16, 2, 2, 8)])
    pred = np.stack([_square(16, 2, 4, 8)])
    region = np.zeros((16, 16), bool)
    region[:, :8] = True
    row = case_rows(pred, true, ["head"], (2.0, 2.0), 4.0, region)[0]
    assert row == {"class": "head", **class_scores(pred[0], true[0], (2.0, 2.0), 4.0, region)}
    assert row["true_pixels"] == 48 and row["hd95"] == pytest.approx(class_scores(pred[0] & region, true[0] & region, None, 2.0)["hd95"] * 2)


def test_a_region_counts_only_its_own_pixels():
    true = _square(10, 0, 0, 4)
    pred = _square(10, 0, 2, 4)
    region = np.zeros((10, 10), bool)
    region[:5, :5] = True
    scores = class_scores(pred, true, None, 1.0, region)
    # inside the region: true 16 pixels (rows 0-3, columns 0-3), predicted 12 (columns 2-4), 8 shared; 25 pixels in all
    assert (scores["true_pixels"], scores["predicted_pixels"]) == (16, 12)
    assert scores["dice"] == pytest.approx(16 / 28) and scores["jaccard"] == pytest.approx(8 / 20)
    assert scores["specificity"] == pytest.approx(5 / 9) and scores["accuracy"] == pytest.approx(13 / 25)


def _rows() -> pd.DataFrame:
    """Three cases, classes a and b and their union u (a derived class)."""
    truth = _square(16, 2, 2, 8)
    rows = []
    for case, (a, b) in enumerate([(truth, truth), (_square(16, 2, 4, 8), np.zeros((16, 16), bool)), (truth, _square(16, 2, 2, 4))]):
        pred = np.stack([a, b, a | b])
        true = np.stack([truth, truth, truth])
        rows += [{"case": f"c{case}", **row} for row in case_rows(pred, true, ["a", "b", "u"], None, 1.0)]
    return pd.DataFrame(rows)


def test_summary_means_spreads_and_counts_per_class_and_overall():
    frame = _rows()
    result = summary(frame, derived=["u"])
    a, b = frame[frame["class"] == "a"], frame[frame["class"] == "b"]
    assert result["classes"]["a"]["dice"] == pytest.approx(a["dice"].mean()) and result["classes"]["a"]["dice_sd"] == pytest.approx(a["dice"].std(ddof=1))
    assert result["classes"]["b"]["empty_predictions"] == 1 and result["classes"]["b"]["hd95_cases"] == 2 and result["classes"]["b"]["cases"] == 3
    assert result["classes"]["b"]["hd95_median"] == pytest.approx(b["hd95"].median()) and result["classes"]["b"]["hd95_mean"] == pytest.approx(b["hd95"].mean())
    assert result["classes"]["a"]["false_positives"] == 0 and result["classes"]["b"]["sensitivity"] == pytest.approx(b["sensitivity"].mean())
    assert result["dice"] == pytest.approx((a["dice"].mean() + b["dice"].mean()) / 2)  # the union left out
    assert result["jaccard"] == pytest.approx((a["jaccard"].mean() + b["jaccard"].mean()) / 2)
    assert result["surface_dice"] == pytest.approx((a["surface_dice"].mean() + b["surface_dice"].mean()) / 2)
    per_case = frame[frame["class"] != "u"].groupby("case")["dice"].mean()
    assert result["dice_sd"] == pytest.approx(per_case.std(ddof=1)) and result["cases"] == 3 and result["empty_predictions"] == 1
    hd = frame[frame["class"] != "u"]["hd95"].dropna()
    assert result["hd95_median"] == pytest.approx(hd.median()) and result["hd95_mean"] == pytest.approx(hd.mean())
    assert set(result["classes"]) == {"a", "b", "u"}
    own = ["dice", "jaccard", "sensitivity", "specificity", "accuracy", "surface_dice"]
    assert set(result["classes"]["a"]) == {*own, *(f"{s}_sd" for s in own), "hd95_median", "hd95_mean", "hd95_cases", "empty_predictions", "false_positives", "cases"}
    with_union = summary(frame)
    assert with_union["dice"] == pytest.approx(frame.groupby("class")["dice"].mean().mean())


def test_summary_keeps_the_classes_in_their_order_counts_false_positives_and_spreads_two_cases():
    truth = _square(16, 2, 2, 8)
    spot = _square(16, 12, 12, 2)
    nothing = np.zeros((16, 16), bool)
    rows = [{"case": f"c{i}", **row} for i, (a, b) in enumerate([(truth, spot), (truth, nothing)])
            for row in case_rows(np.stack([a, b]), np.stack([truth, nothing]), ["zone", "artery"], None, 1.0)]
    result = summary(pd.DataFrame(rows))
    assert list(result["classes"]) == ["zone", "artery"]  # as they come, not sorted
    assert result["classes"]["artery"]["false_positives"] == 1 and result["classes"]["artery"]["dice"] == pytest.approx(0.5)
    assert result["classes"]["artery"]["dice_sd"] == pytest.approx(np.std([0.0, 1.0], ddof=1))  # two cases have a spread
    assert result["dice_sd"] == pytest.approx(np.std([0.5, 1.0], ddof=1))


def test_summary_of_one_case_has_no_spread_and_of_no_boundary_no_hd95():
    frame = _rows()
    one = summary(frame[frame["case"] == "c0"])
    assert np.isnan(one["dice_sd"]) and np.isnan(one["classes"]["a"]["dice_sd"]) and one["cases"] == 1
    missed = summary(frame[(frame["case"] == "c1") & (frame["class"] == "b")])
    assert np.isnan(missed["hd95_median"]) and np.isnan(missed["hd95_mean"]) and np.isnan(missed["classes"]["b"]["hd95_median"])
    assert np.isnan(missed["classes"]["b"]["hd95_mean"]) and missed["classes"]["b"]["hd95_cases"] == 0


def test_pooled_dice_of_multi_label_stacks_and_of_absent_classes():
    true = torch.zeros(2, 4, 4)
    true[0, :2] = 1  # 8 pixels of label 0
    pred = torch.zeros(2, 4, 4)
    pred[0, :1] = 1  # 4 of them found
    pred[1, 3] = 1  # label 1: 4 pixels where there is none
    # label 0: 2 * 4 / (4 + 8); label 1: 0
    assert pooled_dice([(pred, true)], [1, 2], True) == pytest.approx((8 / 12 + 0) / 2)
    nothing = torch.zeros(1, 4, 4)
    assert pooled_dice([(nothing, nothing)], [1, 2], False) == 1.0  # a class absent from every case counts 1
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    labels[0, 0] = 2
    assert pooled_dice([(labels, labels)], [1, 2], False) == 1.0
    assert pooled_dice([(labels, nothing)], [1, 2], False) == pytest.approx(0.5)  # class 2 predicted where absent: 0
    one = torch.zeros(1, 4, 4, dtype=torch.long)
    one[0, 0, 0] = 1
    assert pooled_dice([(one, nothing)], [1], False) == 0.0  # a single pixel predicted where there is none

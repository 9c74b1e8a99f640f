"""Reported-metric extraction: the hard cases one by one, and the extractor measured against
the hand-labelled sample of included records (tests/data/reported_metrics_samples.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import REPO
from workflow.literature.extraction_scores import table
from workflow.literature.reported_metrics import COLUMNS, _names, clean, extract, extract_records

SAMPLE = REPO / "tests" / "data" / "reported_metrics_sample.csv"
# Measured on each sample (tests/data/reported_metrics_samples.md); a test fails more than TOLERANCE below.
MEASURED = {
    "development": {"precision": 1.000, "recall": 1.000, "headline": 1.000, "role": 1.000},
    "held-out": {"precision": 1.000, "recall": 1.000, "headline": 1.000, "role": 0.954},
    "stratified-a": {"precision": 0.981, "recall": 0.927, "headline": 0.918, "role": 0.921},
    "stratified-b": {"precision": 0.966, "recall": 0.895, "headline": 0.970, "role": 0.944},
    "stratified-c": {"precision": 0.951, "recall": 0.907, "headline": 0.910, "role": 0.930},
    "stratified-d": {"precision": 0.967, "recall": 0.879, "headline": 0.915, "role": 0.931},
    "stratified-e": {"precision": 0.975, "recall": 0.906, "headline": 0.893, "role": 0.948},
    "stratified-f": {"precision": 0.975, "recall": 0.908, "headline": 0.978, "role": 0.958},
    "stratified-g": {"precision": 1.000, "recall": 0.467, "headline": 1.000, "role": 1.000},
    "to-screen": {"precision": 0.955, "recall": 0.930, "headline": 0.897, "role": 0.888},
    "to-screen-2": {"precision": 0.976, "recall": 0.953, "headline": 0.897, "role": 0.811},
    "to-screen-3": {"precision": 0.983, "recall": 1.000, "headline": 0.979, "role": 0.948},
    "to-screen-4": {"precision": 0.962, "recall": 0.950, "headline": 0.931, "role": 0.947},
}
# The last blind sample that states pairs, scored once with the extractor of the round before
# it (round 9, 7e3a3b0; tests/data/reported_metrics_samples.md): (point, low, high) and headlines right of all.
LAST_BLIND = ("to-screen-4", (0.947, 0.877, 1.000), (0.900, 0.843, 0.957), (24, 29))
RECORDS = {"development": 40, "held-out": 60, "stratified-a": 240, "stratified-b": 200, "stratified-c": 200, "stratified-d": 200, "stratified-e": 200, "stratified-f": 200, "stratified-g": 200, "to-screen": 200, "to-screen-2": 200, "to-screen-3": 200, "to-screen-4": 200, "to-screen-5": 200}
TOLERANCE = 0.01


def pairs(text: str) -> list[tuple]:
    return [(v.metric, v.value, v.value_high, v.spread, v.unit, v.role) for v in extract("", text)]


def test_the_sole_metric_of_a_sentence_takes_the_values_no_rule_attached():
    text = "Mean Dice overlap was higher for our model on CCBR (0.83 vs. 0.81 and 0.82), and on OAI (0.86 vs. 0.84 and 0.85)."
    assert [v for _, v, *_ in pairs(text)] == [0.83, 0.81, 0.82, 0.86, 0.84, 0.85]
    assert [v for _, v, *_ in pairs("achieving mean Dice coefficients of 81%/69%, as compared to 52%/31% and 72%/35% by the U-Net and ANTs, respectively.")] == [0.81, 0.69, 0.52, 0.31, 0.72, 0.35]
    assert [v for _, v, *_ in pairs("The Dice was 0.91; the second set gave 1.00.")] == [0.91, 1.0]  # a decimal up to 1 is a value
    # people's agreement is left out in its own clause only
    assert [v for _, v, *_ in pairs("The Dice was 0.91 above the interobserver 0.80, and 0.89 on the second set.")] == [0.91, 0.89]


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("The Dice was 0.91 on sets labelled under 80% noise ratio.", 0.8),  # a percentage of a thing
        ("The Dice was 0.91 for all tasks, 91.4 (6%) on ISIC.", 0.06),  # a figure about the value before it
        ("The Dice was 0.91, with significance level α = 0.05.", 0.05),  # a significance level
        ("The Dice was 0.91, surpassing others by (23%).", 0.23),  # a difference
        ("The Dice was 0.91, with an area overlap of 0.80.", 0.8),  # another noun's value
        ("The Dice was 0.91, above the interobserver (0.44).", 0.44),  # agreement between people
        ("The Dice was 0.91, and rose by 4.86% on the IV-Net; on the TSFIV-Net 9.88% and 10.35%.", 0.0988),  # a sentence of differences
        ("The Dice was 0.91, higher (p value 0.02 and 0.00025).", 0.00025),  # a sentence of significance tests
        ("The Dice was 0.91; the second set gave 1.5.", 0.015),  # a bare number above 1 is not a percentage
        ("The Dice was 0.91 and the AUC was 0.88; the second set gave 0.77.", 0.77),  # two metrics: which one is not said
        ("The Dice was 0.91 to 0.91 on all sets.", None),  # the end of what is not a range
    ],
)
def test_the_sole_metric_leaves_out_what_is_something_elses(text: str, other: float | None):
    values = [v for _, v, *_ in pairs(text)]
    assert values[0] == 0.91 and (other not in values if other is not None else values.count(0.91) == 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a "respectively" list far from its names
            "RESULTS: The dice metric, Jaccard index, sensitivity, and specificity were used to evaluate the network's performance, with values of 0.93, 0.87, 0.98, and 0.94, respectively.",
            [("dice", 0.93), ("iou", 0.87), ("sensitivity", 0.98), ("specificity", 0.94)],
        ),
        (  # a second list after a year
            "The Dice and IoU values reached 90.73% and 89.37%, respectively, on LASC2013 (a challenge in 2013); the corresponding values reached 92.05% and 89.41%, respectively, on ASC2018.",
            [("dice", 0.9073), ("iou", 0.8937), ("dice", 0.9205), ("iou", 0.8941)],
        ),
        ("Dice-coefficient and Hausdorff distance were good (≥ 0.89 and ≤ 10.6 mm, respectively).", [("dice", 0.89), ("hd95", 10.6)]),
        ("The models reached 0.69 and 0.76 in terms of the ROC curve area.", [("auc", 0.69), ("auc", 0.76)]),
        ("The model achieved 92.4 % accuracy, 93.2 % specificity, and AUC 0.95.", [("accuracy", 0.924), ("specificity", 0.932), ("auc", 0.95)]),
        ("Our Dice was 0.88. Interrater agreement measured in DSC/HD was 0.87/11.1 for the gland.", [("dice", 0.88)]),
        ("The Dice was 0.90; post-processing yields a decrease of 10.5% in hausdorff distance.", [("dice", 0.9)]),
        ("The pooled sensitivity was 0.90 (0.86–––0.92) in all studies.", [("sensitivity", 0.9)]),
    ],
)
def test_lists_far_from_their_names_bounds_and_agreement_of_people(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # three or more names and as many numbers, far apart, without "respectively"
            "The pooled sensitivity, specificity, DOR, and AUC of AI test sets in detecting biochemical recurrence of prostate cancer were 0.77, 0.76, 10.39, and 0.79.",
            [("sensitivity", 0.77), ("specificity", 0.76), ("auc", 0.79)],
        ),
        ("The pooled data indicated an overall accuracy of 96% (95% CI=94% to 98%) for the mandible.", [("accuracy", 0.96)]),
        ("In the SMOTE-voting model, accuracy, sensitivity and PPA ratios improved by 0.93 % to 5.13 %, 39.26 % to 46.97 % and 2 % to 29 %, respectively.", []),
    ],
)
def test_equal_lists_far_apart_intervals_with_equals_and_ranges_of_differences(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # LaTeX: a formula that is the only copy of its number is read as typeset
            "our proposed framework achieves an average Dice of \\documentclass[12pt]{minimal}\n\\usepackage{amsmath}\n\\begin{document}$$92.83\\%$$\\end{document} in segmenting",
            [("dice", 0.9283)],
        ),
        ("The proposed method achieves state-of-the-art segmentation performance (Dice~$\\approx95\\%$) with significant efficiency.", [("dice", 0.95)]),
        ("It reached 95 & x0025; accuracy.", [("accuracy", 0.95)]),  # a character reference broken in export
        (  # "Az", the ROC curve's area, and the values the sole metric's list carries on
            "The best three classifiers were Bayesian network (Az = 92.8% ± 5.9%), random forest (89.5% ± 7.1%), and k-NN (86.9% ± 7.5%).",
            [("auc", 0.928), ("auc", 0.895), ("auc", 0.869)],
        ),
        ("The BP-LSTM network achieved 92% accuracy, 89% specificity, 91% precision, and 96% Fl-score.", [("accuracy", 0.92), ("specificity", 0.89), ("precision", 0.91), ("f1", 0.96)]),
        (  # a measure that is not labelled keeps its place in a list; "95HD" is a Hausdorff distance
            "The evaluation metrics of Dice, Jaccard, ASD and 95HD are 90.05%, 82.01%, 1.74 voxel and 7.03 voxel when we use 20% labeled data.",
            [("dice", 0.9005), ("iou", 0.8201), ("hd95", 7.03)],
        ),
        ("On ACDC training set and testing set, the model achieves 95% and 94% respectively as classification accuracy.", [("accuracy", 0.95), ("accuracy", 0.94)]),
    ],
)
def test_latex_ocr_spellings_and_names_after_respectively(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Dice reached of 89.82% with 10% labeled data training and 91.27% with 20% labeled data training.", [("dice", 0.8982), ("dice", 0.9127)]),
        (  # a change stated "in" the metric after a change word
            "Our method can achieve significant performance improvement by leveraging unlabeled data, with up to 4.13% and 9.82% in Dice coefficient compared to supervised baseline.",
            [],
        ),
        ("Furthermore, 85% of the studies reported on the stand-alone diagnostic accuracy, whereas 15% demonstrated the impact of AI.", []),
        ("The evaluation was limited to measures of performance (e.g. sensitivity, specificity) for 57 ML-CDSS (95%).", []),  # a share of the things counted
        ("SVM classifiers resulted in an AUC = 0.88 (0.04).", [("auc", 0.88)]),  # a standard deviation in brackets
    ],
)
def test_shares_subjects_changes_in_a_metric_and_bracketed_deviations_are_not_values(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


def test_a_bracketed_deviation_is_the_spread_of_the_value_before_it():
    assert pairs("mean (standard deviation) Dice: 0.72(0.21) and 0.63(0.23)") == [
        ("dice", 0.72, None, 0.21, "fraction", "proposed"),
        ("dice", 0.63, None, 0.23, "fraction", "proposed"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The average Dice coefficients were 96.24% (ED) and 89.92% (ES) for the LV. The values for myocardium were 88.90% (ED) and 90.48% (ES).",
            [("dice", 0.9624), ("dice", 0.8992), ("dice", 0.889), ("dice", 0.9048)],
        ),
        (
            "The algorithm achieved an accuracy of 95.23%, recall of 97.90%, and specificity of 93.06%. "
            "The same performance metrics on the augmented dataset were 98.53%, 98.70%, and 95.21%, respectively.",
            [("accuracy", 0.9523), ("sensitivity", 0.979), ("specificity", 0.9306), ("accuracy", 0.9853), ("sensitivity", 0.987), ("specificity", 0.9521)],
        ),
        (  # no "respectively": which value is which metric's is not said
            "The algorithm achieved an accuracy of 95.23% and recall of 97.90%. The same performance metrics on the augmented dataset were 98.53% and 98.70%.",
            [("accuracy", 0.9523), ("sensitivity", 0.979)],
        ),
        ("The accuracy was 91%. The values were stable across 3 folds.", [("accuracy", 0.91)]),
    ],
)
def test_a_sentence_on_the_values_before_it_takes_their_metrics(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("When the average number of false-positive lesions per patient is 0.6275, the true-positive rate is 91.82%.", [("sensitivity", 0.9182)]),
        ("The proposed neural network has C-statistics of 79.1%.", [("auc", 0.791)]),
        ("ROC AUC of 0.88 (95% CI of 0.82-0.95).", [("auc", 0.88)]),
        ("A recall of 78% and a probability of false alarm (PFA) of 41% were measured. Cross-validation yielded a recall of 78% and a PFA of 30%.", [("sensitivity", 0.78)]),
        ("The model reported good AUC (average: 0.84), acceptable calibration (average: 0.17) and utility (average: 0.50).", [("auc", 0.84)]),
        ("AI models had accuracy from 72.5 % to 100 % (AUC up to 1.0).", [("accuracy", 0.725), ("auc", 1.0)]),  # a name with a value of its own does not take the one before
        ("improved the area under the ROC curve (0.822 vs 0.729) and sensitivity corresponding to 90% specificity.", [("auc", 0.822), ("auc", 0.729)]),
        ("Performance metrics for lesion detection ranged from 87.9% to 92% at a threshold specificity of 50%.", []),
    ],
)
def test_other_rates_operating_points_and_names_with_values_of_their_own(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The range of area under the receiving operating curve for AI was from 0.87 to 1.", [("auc", 0.87)]),
        ("The experiments resulted in 98.11 % correct classification (sensitivity =96.15 % and specificity = 100 %).", [("accuracy", 0.9811), ("sensitivity", 0.9615), ("specificity", 1.0)]),
        ("The average absolute error for skill assessment was 0.78 (n=1 team).", [("mae", 0.78)]),
        ("Sensitivity was calculated using a CADx threshold (≥0.21) that yielded 95% sensitivity in training.", [("sensitivity", 0.95)]),
        ("AI algorithms achieved better accuracy, reporting sensitivity and specificity above 90 %.", [("sensitivity", 0.9), ("specificity", 0.9)]),  # one bound said of each name
        ("The sensitivity and specificity of 90 % were reached.", [("specificity", 0.9)]),  # a value, not a bound: the last name's, as before
        ("The recall/precision above 0.85 was reached.", []),  # a slash: which metric is not said
    ],
)
def test_spellings_of_auc_and_accuracy_thresholds_and_a_bound_shared_by_names(text: str, expected: list[tuple]):
    assert sorted(p[:2] for p in pairs(text)) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # the cases mutmut's survivors of rounds 8 to 10 showed untested
        ("It was evaluated for 57 ML-CDSS (95%) and reached an AUC of 0.91.", [("auc", 0.91)]),  # a share does not end the sentence's numbers
        ("The model reached a sensitivity of 0.80 at 90% specificity and an AUC of 0.93.", [("sensitivity", 0.8), ("auc", 0.93)]),  # nor does an operating point
        ("The AUC was 0.91 (0.89) on the external set.", [("auc", 0.91), ("auc", 0.89)]),  # a bracketed value near the first is a value, not its deviation
        ("An accuracy of 95% and a recall of 97%. The same metrics on the augmented set were 98% and 99%, respectively.", [("accuracy", 0.95), ("sensitivity", 0.97), ("accuracy", 0.98), ("sensitivity", 0.99)]),
        ("The method reported sensitivity, specificity and accuracy above 90 %.", [("sensitivity", 0.9), ("specificity", 0.9), ("accuracy", 0.9)]),
    ],
)
def test_values_after_shares_near_values_in_brackets_two_carried_names_and_three_sharing_a_bound(text: str, expected: list[tuple]):
    assert sorted(p[:2] for p in pairs(text)) == sorted(expected)


def test_a_title_that_speaks_of_values_has_no_sentence_before_it():
    assert [(v.metric, v.value) for v in extract("The same metrics were 0.91 and 0.92, respectively", "The AUC was 0.95.")] == [("auc", 0.95)]


def test_values_of_human_readers_named_after_them_are_comparisons():
    text = "Reported sensitivity was 42–100% (human readers, n = 9 studies), 60–95% (AI systems, n = 10) and 81–98% (AI-supported readers, n = 3)."
    assert [(p[0], p[1], p[5]) for p in pairs(text)] == [("sensitivity", 0.42, "comparison"), ("sensitivity", 0.6, "proposed"), ("sensitivity", 0.81, "proposed")]


def test_a_minus_sign_between_numbers_is_a_dash_of_a_confidence_interval():
    assert pairs("the highest AUC 0.895 (95 %CI, 0.810−0.980) for urological malignancy") == [("auc", 0.895, None, None, "fraction", "proposed")]


def test_percentages_and_fractions_are_fractions_of_one():
    assert pairs("An accuracy of 92.1% and an AUC of 0.95; Dice index = 59.40.") == [
        ("accuracy", 0.921, None, None, "fraction", "proposed"),
        ("auc", 0.95, None, None, "fraction", "proposed"),
        ("dice", 0.594, None, None, "fraction", "proposed"),
    ]


def test_middle_dot_decimals_and_latex_are_read():
    assert pairs("a sensitivity of 0·973 and specificity of 1·000") == [
        ("sensitivity", 0.973, None, None, "fraction", "proposed"),
        ("specificity", 1.0, None, None, "fraction", "proposed"),
    ]
    latex = r"a Dice of 0.90 (7.5%\documentclass[12pt]{minimal}\begin{document}$$7.5\%$$\end{document} higher)"
    assert pairs(latex) == [("dice", 0.9, None, None, "fraction", "proposed")]


@pytest.mark.parametrize("text", ["The AUC ranged between 0.85 and 0.92.", "AUC ranging from 85% to 92%.", "AUC of 0.85-0.92 across sites."])
def test_a_range_keeps_both_ends(text: str):
    assert pairs(text) == [("auc", 0.85, 0.92, None, "fraction", "proposed")]


def test_plus_minus_keeps_the_spread_and_distances_keep_their_unit():
    assert pairs("Dice was 91.0 ± 2.0% and HD95 was 3.2 ± 1.1 mm; MAE 2.3 years.") == [
        ("dice", 0.91, None, 0.02, "fraction", "proposed"),
        ("hd95", 3.2, None, 1.1, "mm", "proposed"),
        ("mae", 2.3, None, None, "other", "proposed"),
    ]


def test_lists_give_one_pair_per_number():
    assert [p[:2] for p in pairs("accuracies of 92.1%, 88.4% and 90.2% on A, B and C")] == [("accuracy", 0.921), ("accuracy", 0.884), ("accuracy", 0.902)]
    assert [p[:2] for p in pairs("a mean DSC, NSD, sensitivity and F1 of 0.70, 0.73, 0.68 and 0.71, respectively")] == [
        ("dice", 0.70), ("sensitivity", 0.68), ("f1", 0.71)
    ]
    assert [p[:2] for p in pairs("achieved 0.998 for the AUC, 0.999 for specificity, and 97.35% accuracy")] == [
        ("auc", 0.998), ("specificity", 0.999), ("accuracy", 0.9735)
    ]


def test_values_of_other_methods_are_comparisons():
    assert [(p[1], p[5]) for p in pairs("Our method achieved a Dice of 0.89, compared with 0.84 for U-Net.")] == [(0.89, "proposed"), (0.84, "comparison")]
    assert [(p[1], p[5]) for p in pairs("The baseline reached an accuracy of 88.2%, while our method achieved 93.4%.")] == [(0.882, "comparison"), (0.934, "proposed")]
    assert [(p[1], p[5]) for p in pairs("higher sensitivity than radiologists (0.983 vs 0.929)")] == [(0.983, "proposed"), (0.929, "comparison")]
    assert [(p[1], p[5]) for p in pairs("Accuracy improved from 85% to 92%.")] == [(0.85, "comparison"), (0.92, "proposed")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The model classified it with an accuracy of more than 95%.", [(0.95, "proposed")]),
        ("an AUC greater than 0.9 at every site", [(0.9, "proposed")]),
        ("Trained on more than 1,000 images, the network reached an accuracy of 91%.", [(0.91, "proposed")]),
        ("Ours reached 95% accuracy; the baseline reached more than 90% accuracy.", [(0.95, "proposed"), (0.9, "comparison")]),
        ("Our AUC of 0.95 was higher than 0.90 for the baseline.", [(0.95, "proposed"), (0.9, "comparison")]),
        ("Our accuracy was 91%. Its accuracy was better than the baseline at 85%.", [(0.91, "proposed"), (0.85, "comparison")]),
    ],
)
def test_more_than_a_number_is_a_bound_not_a_comparison(text: str, expected: list[tuple]):
    assert [(p[1], p[5]) for p in pairs(text)] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The DSC/HD/ASD of 0.88/18.3/2.2 mm were reached.", [("dice", 0.88), ("hd95", 18.3)]),
        (
            "We obtained the dice metric, Jaccard index, sensitivity and specificity of 0.93, 0.87, 0.98 and 0.94, respectively.",
            [("dice", 0.93), ("iou", 0.87), ("sensitivity", 0.98), ("specificity", 0.94)],
        ),
        ("Dice scores were 0.944 (LV), 0.908 (RV) and 0.852 (Myo) on DB1.", [("dice", 0.944), ("dice", 0.908), ("dice", 0.852)]),
        ("The model achieved 99% and 91% accuracy for snail and parasite classification.", [("accuracy", 0.99), ("accuracy", 0.91)]),
        ("The classification results show 100% for specificity, sensitivity, and accuracy.", [("specificity", 1.0), ("sensitivity", 1.0), ("accuracy", 1.0)]),
        ("Sensitivity and specificity were 0.95 and 0.39, and 0.89 and 0.78 respectively.", [("sensitivity", 0.95), ("specificity", 0.39), ("sensitivity", 0.89), ("specificity", 0.78)]),
        ("The absolute mean error was 2.3 mm.", [("mae", 2.3)]),
        ("Mean Dice was 0.951\\pm{0.003} on training data.", [("dice", 0.951)]),
        ("The Dice was 0.90 (SD 0.04), within the inter-rater range.", [("dice", 0.9)]),
        ("It reached a sensitivity of 0.64 and 0.90 at 0.1 and 1 false positives per scan.", [("sensitivity", 0.64), ("sensitivity", 0.9)]),
        ("The sensitivity of CNN for tumours smaller than 2 cm was 92.1% here and 63.1% in the US.", [("sensitivity", 0.921), ("sensitivity", 0.631)]),
    ],
)
def test_lists_slashes_and_labels_pair_each_number_with_its_metric(text: str, expected: list[tuple]):
    assert [p[:2] for p in pairs(text)] == expected


def test_decimal_commas_and_a_second_language_copy_give_each_pair_once():
    assert pairs("The AUC was 0.85-0.97. El AUC fue 0,85-0,97 en todos los centros; sensibilidad de 91,5%.") == [
        ("auc", 0.85, 0.97, None, "fraction", "proposed"),
        ("sensitivity", 0.915, None, None, "fraction", "proposed"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The model achieved recall/precision of 0.85.",  # which metric is 0.85?
        "PSNR, SSIM and MAE were 28.0, 0.58, 21.8 and 0.12, respectively.",  # four numbers, three names
        "Bias and limits of agreement for LVEF were 1.2% and -8.1% to 10.4%.",
        "The proposed model achieved a mean accuracy with a learning rate of 0.001.",
        "Our model had a 1% higher DSC and saves more than 90% computational time.",
        "Augmentation increased DSC 5.0 +/- 7.9% and 1.2 +/- 2.5%.",
        "Pretrained models perform better (+2.8 Dice coefficient percentage points).",
        "It leads to 4.25% and 6.93% AUC increase over images alone.",
        "The Dice (SD) was high (SD 0.04) and the P value: 0.03.",
    ],
)
def test_ambiguous_numbers_and_other_measures_are_left_out(text: str):
    assert pairs(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("DeepLabV3+ performs better than FCN and PSNet with an average DSC of 70.3% in PZ.", [(0.703, "proposed")]),
        ("The model achieved good results compared to the state of the art (i.e., accuracy of 97.95%).", [(0.9795, "proposed")]),
        ("It improves on state-of-the-art networks, obtaining an average Dice of 0.84.", [(0.84, "proposed")]),
        ("Our accuracy was 91%. The baseline reached an accuracy of 88.2% with augmentation.", [(0.91, "proposed"), (0.882, "comparison")]),
        ("Segmentation gave similar Dice scores (LV: 0.92, RV: 0.86) and lower deviations.", [(0.92, "proposed"), (0.86, "proposed")]),
        ("validated on two studies.ResultsThe models reached high Dice scores (= 0.91 for LV, = 0.92 for RV).", [(0.91, "proposed"), (0.92, "proposed")]),
        ("A Dice of 0.69 ± 0.17, similar to the interobserver Dice of 0.66 ± 0.09.", [(0.69, "proposed")]),
        ("The accuracy difference between the two models was 8.6% on validation.", []),
        ("With I2 values of 89.82% for sensitivity, heterogeneity was high.", []),
        ("Accuracy, sensitivity and specificity at a threshold of 25% were 0.87, 0.93, and 0.80, respectively.", [(0.87, "proposed"), (0.93, "proposed"), (0.8, "proposed")]),
        ("Hausdorff scores were 19.14 (6%) and 17.42 (6%) for the two tasks.", [(19.14, "proposed"), (17.42, "proposed")]),
        ("DSC, Ω, and ACC values were 95.8%, 94.3%, and 95.4%, respectively.", []),
        ("For the in-house datasets, Dice scores of 0.965 and 0.9505 were achieved.", [(0.965, "proposed"), (0.9505, "proposed")]),
        ("The method achieves DSC scores of 95, 91, and 88% for the kidney, spleen and liver.", [(0.95, "proposed"), (0.91, "proposed"), (0.88, "proposed")]),
        ("Accuracy of CNNQC reached 0.861 for 2-chamber, 0.806 for 3-chamber, and 0.859 for 4-chamber.", [(0.861, "proposed"), (0.806, "proposed"), (0.859, "proposed")]),
        ("Adding texture features increased the AUC to 0.84 and 0.82, respectively.", [(0.84, "proposed"), (0.82, "proposed")]),
        ("It improves detection by 10% (area under the curve, 0.959) over the gold standard.", [(0.959, "proposed")]),
        ("The model reached an average 0.90 (F1 score) on GLAS.", [(0.9, "proposed")]),
        ("It achieves 70.4% of accuracy, 73.6% of JSI and 81% of DSC.", [(0.704, "proposed"), (0.736, "proposed"), (0.81, "proposed")]),
        ("Performance was worse in test set 2 (AUC, 0.87).", [(0.87, "proposed")]),
        ("It improves existing methods by nearly 3% DSC under annotations with 80% noise ratio.", []),
    ],
)
def test_roles_labels_and_owners_of_numbers(text: str, expected: list[tuple]):
    assert [(p[1], p[5]) for p in pairs(text)] == expected


def test_values_compared_in_one_sentence_keep_their_metric_and_role():
    assert [(p[0], p[1], p[5]) for p in pairs("The dice metric was 0.90 for the U-net, which was higher than 0.82 for the level-set.")] == [
        ("dice", 0.9, "proposed"), ("dice", 0.82, "comparison")
    ]
    found = extract("", "We also show a 42% improvement in myocardium Dice from 0.56 ± 0.28 to 0.80 ± 0.14.")
    assert [(v.value, v.role, v.headline) for v in found] == [(0.56, "comparison", False), (0.8, "proposed", True)]


@pytest.mark.parametrize(
    "text",
    [
        "We enrolled n = 120 patients in 2019 and report accuracy.",
        "The AUC differed (p < 0.05) between 2015 and 2020.",
        "It increased the Dice score by 4.4% and 6.3%.",
        "a 15% improvement in terms of average Dice score",
        "an AUC for 3 datasets of 1,000 images in 0.59 s",
        "a mean average precision of 81% and an NPV of 90.6%",
    ],
)
def test_numbers_that_are_not_metric_values_are_left_out(text: str):
    assert pairs(text) == []


def test_the_headline_is_the_first_single_value_of_the_highest_ranked_metric():
    found = extract("", "Accuracy of 90%. The AUC ranged from 0.89 to 0.91 with an average AUC of 0.897; AUC 0.95 on B.")
    assert [(v.metric, v.value) for v in found if v.headline] == [("auc", 0.897)]
    found = extract("", "Our AUC was 0.75; the baseline reached an AUC of 0.8.")
    assert [(v.value, v.role, v.headline) for v in found] == [(0.75, "proposed", True), (0.8, "comparison", False)]


def test_a_record_whose_every_pair_reads_as_comparison_states_its_own_values():
    # none of 399 labelled records with pairs states only other methods' values: the cues misled
    found = extract("", "Compared to other well known models, an accuracy of 96.9% was achieved.")
    assert [(v.value, v.role, v.headline) for v in found] == [(0.969, "proposed", True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Our HD was 2.1 mm. Compared with several existing methods, the method achieves Dice of 0.878.", [(2.1, "proposed"), (0.878, "proposed")]),
        ("Our HD was 2.1 mm. The proposed method outperformed other methods and yielded average Dice values of 0.85.", [(2.1, "proposed"), (0.85, "proposed")]),
        ("Our Dice was 0.91. Other methods reached a Dice of 0.80.", [(0.91, "proposed"), (0.8, "comparison")]),
    ],
)
def test_the_subject_of_a_comparison_owns_the_value_its_main_clause_gives(text: str, expected: list[tuple]):
    assert [(p[1], p[5]) for p in pairs(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("An average accuracy and F-1 score of 91.6% and 0.890, respectively.", [("accuracy", 0.916, None), ("f1", 0.89, None)]),
        ("scores of 0.7639, 0.8129 and 0.9986 corresponding to Dice, Sensitivity and Specificity metrics respectively.", [("dice", 0.7639, None), ("sensitivity", 0.8129, None), ("specificity", 0.9986, None)]),
        ("The accuracy was 95.23%, while 30% of the dataset was used for testing.", [("accuracy", 0.9523, None)]),
        ("The accuracy was 98 . 53% on the augmented set.", [("accuracy", 0.9853, None)]),
        ("a median Dice of 0.92 (IQR, 0.89-0.94) for ICH", [("dice", 0.92, None)]),
        ("accuracy, specificity, dice score coefficient (DSC) and Jaccard index with values of 0.86, 0.84, 0.81 and 0.69, respectively.",
         [("accuracy", 0.86, None), ("specificity", 0.84, None), ("dice", 0.81, None), ("iou", 0.69, None)]),
    ],
)
def test_spellings_lists_shares_and_interquartile_ranges(text: str, expected: list[tuple]):
    assert [p[:3] for p in pairs(text)] == expected


@pytest.fixture(scope="module")
def screened(quick_screened: pd.DataFrame) -> pd.DataFrame:
    """The quick profile's screened records, any decision (conftest's quick_screened)."""
    return quick_screened.set_index("record_id")


@pytest.mark.parametrize("name", list(MEASURED))
def test_extraction_finds_the_labelled_pairs_of_each_sample(screened: pd.DataFrame, name: str):
    labelled = pd.read_csv(SAMPLE, dtype={"pmid": str}).query("sample == @name")
    assert labelled["record_id"].nunique() == RECORDS[name]
    decision = "screen" if name.startswith("to-screen") else "include"
    assert set(labelled["record_id"]) <= set(screened.index[screened["decision"] == decision])  # the same corpus as when labelled
    result = table(labelled, screened, extract, draws=200).iloc[0]
    for key, measured in MEASURED[name].items():
        assert result[key] >= measured - TOLERANCE, result.to_dict()


def test_the_scores_match_one_to_one_and_compare_range_ends():
    labelled = pd.DataFrame({
        "sample": "s", "record_id": ["a", "a", "b"], "metric": ["auc", "auc", "dice"], "value": [0.9, 0.9, 0.8],
        "value_high": [float("nan"), float("nan"), 0.85], "role": ["proposed"] * 3, "headline": [1, 0, 1],
    })
    included = pd.DataFrame({"title": ["", ""], "abstract": ["The AUC was 0.9.", "Dice ranged from 0.8 to 0.9."]}, index=["a", "b"])
    # a: one of two labelled pairs found; b: the range's upper end differs, so no match and a wrong headline
    result = table(labelled, included, extract, draws=50).iloc[0]
    assert result[["precision", "recall", "headline", "role"]].to_dict() == pytest.approx({"precision": 0.5, "recall": 1 / 3, "headline": 0.5, "role": 1.0})


def test_the_readme_and_docs_state_the_last_blind_scores_and_the_extractor_keeps_them(screened: pd.DataFrame):
    name, precision, recall, (right, headlines) = LAST_BLIND
    readme = " ".join((REPO / "README.md").read_text().split())
    docs = " ".join((REPO / "docs" / "literature.md").read_text().split())
    record = " ".join((REPO / "tests" / "data" / "reported_metrics_samples.md").read_text().split())
    assert f"precision {precision[0]:.3f} [{precision[1]:.3f}, {precision[2]:.3f}], recall {recall[0]:.3f} [{recall[1]:.3f}, {recall[2]:.3f}]" in readme
    assert f"right in {right} of {headlines} records" in readme
    row = f"| {precision[0]:.3f} [{precision[1]:.3f}, {precision[2]:.3f}] | {recall[0]:.3f} [{recall[1]:.3f}, {recall[2]:.3f}] | {right}/{headlines} = {right / headlines:.3f}"
    assert row in docs and row in record
    labelled = pd.read_csv(SAMPLE, dtype={"pmid": str}).query("sample == @name")
    now = table(labelled, screened, extract, draws=200).iloc[0]  # the current extractor reads at least as well as the frozen one did
    assert now["precision"] >= precision[0] and now["recall"] >= recall[0] and now["headlines_right"] >= right, now.to_dict()


def test_the_last_unread_records_state_one_pair_and_nothing_is_read_into_the_others(screened: pd.DataFrame):
    labelled = pd.read_csv(SAMPLE, dtype={"pmid": str}).query("sample == 'to-screen-5'")
    r = table(labelled, screened, extract, draws=200).iloc[0]
    assert r["records"] == RECORDS["to-screen-5"]
    assert (r["labelled"], r["with pairs"], r["found"]) == (1, 1, 0)  # the one pair, "an area under the ROC curve of 1", missed
    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"found no pair in the {r['records'] - r['with pairs']} that state none and missed that one" in readme


def test_cleaning_unifies_markup_dashes_and_decimal_commas():
    latex = r"\documentclass{x}\begin{document}$$7.5\%$$\end{document}"
    assert clean(f"a {latex} b 5\\% x$y 1--2 a\u2010b c\u2011d 0,85 0. 86") == "a 7.5% b 5% xy 1–2 a-b c-d 0.85 0.86"
    assert clean(f"a 7.5% {latex}, b") == "a 7.5% , b"  # the typeset copy of the text before it


def test_a_name_and_its_abbreviation_are_one_name():
    sentence = "A Dice similarity coefficient (DSC) of 0.85"
    assert [(n.metric, sentence[n.start : n.end]) for n in _names(sentence)] == [("dice", "Dice similarity coefficient (DSC)")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a mean 95 Hausdorff distance of 3.2 mm", [("hd95", 3.2, None, "mm")]),
        ("HD of 3 px, 4 pixels and 1.5 voxel", [("hd95", 3.0, None, "other"), ("hd95", 4.0, None, "other"), ("hd95", 1.5, None, "other")]),
        ("HD95 of 2 voxels", [("hd95", 2.0, None, "other")]),
        ("MAE of 2.1 years, 1 year in the subgroup", [("mae", 2.1, None, "other"), ("mae", 1.0, None, "other")]),
        ("MAE of 3 months", [("mae", 3.0, None, "other")]),
        ("MAE of 5 days", [("mae", 5.0, None, "other")]),
        ("MAE of 4 kPa", [("mae", 4.0, None, "other")]),
        ("an accuracy of 0 on X and the AUC of 1 here", []),  # a bare 0 or 1 says nothing
        ("a specificity of 1.5", [("specificity", 0.015, None, "fraction")]),  # a bare number above 1 is a percentage
        ("an AUC of 97.123456%", [("auc", 0.971235, None, "fraction")]),  # six decimals
        ("accuracy 0.85) - 0.90 x", [("accuracy", 0.85, None, "fraction")]),  # a bracket between: not a range
        ("the accuracy was 0.90 to 0.90", [("accuracy", 0.9, None, "fraction")]),  # a range goes up
        ("accuracy ranged from 85 to 92%", [("accuracy", 0.85, 0.92, "fraction")]),  # the percent sign of the range's end
        (
            "The dice and Hausdorff distance scores are about 0.81 to 0.84 and 9.8 to 19.7 correspondingly.",
            [("dice", 0.81, 0.84, "fraction"), ("hd95", 9.8, 19.7, "other")],
        ),
    ],
)
def test_units_scales_and_ranges(text: str, expected: list[tuple]):
    assert [(p[0], p[1], p[2], p[4]) for p in pairs(text)] == expected


def test_a_stated_range_after_a_change_is_a_value_and_what_it_changed_from():
    assert [(p[1], p[2], p[5]) for p in pairs("The model improved significantly from a sensitivity of 77.6% to 85.6%.")] == [
        (0.776, None, "comparison"), (0.856, None, "proposed")
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Dice was 0.90 (0.05 higher than before) for A, 0.74 for B.", [0.9, 0.74]),  # a difference does not carry a list
        ("A Dice of 0.88 (88%) on the test set.", [0.88]),  # a value restated in brackets is one pair
        ("Dice of 0.88 (0.85 for U-Net) on the test set.", [0.88, 0.85]),  # a bracketed value of the same kind carries on
        ("The AUC in cohort 2 was 0.91.", [0.91]),  # a number that cannot be an AUC does not take its name
        ("The Dice for tumours larger than 2.5 mm was 0.80.", [0.8]),  # a length between name and value is no value
        ("Dice and IoU were 0.9, 0.8 and 0.7, respectively.", []),  # three numbers for two names
        ("Dice, IoU and HD were 0.9, 0.8 and 3.1, RESPECTIVELY.", [0.9, 0.8, 3.1]),
        ("Performance dropped in test set 2 ( AUC , 0.87 ).", [0.87]),
    ],
)
def test_which_numbers_carry_a_name(text: str, expected: list[float]):
    assert [p[1] for p in pairs(text)] == expected


def test_a_title_is_read_and_each_pair_keeps_its_sentence():
    found = extract("A U-Net with a Dice of 0.91", "We report results. The AUC was 0.88 on the test set.")
    assert [(v.metric, v.value, v.sentence) for v in found] == [
        ("dice", 0.91, "A U-Net with a Dice of 0.91"), ("auc", 0.88, "The AUC was 0.88 on the test set.")
    ]
    assert extract(None, "The AUC was 0.88.")[0].value == 0.88 and extract("The AUC was 0.88.", None)[0].value == 0.88


def test_every_pair_keeps_its_record_identifiers():
    records = pd.DataFrame({
        "record_id": ["R1", "R2", "R3"], "pmid": ["11", "", "33"], "doi": ["10.1/a", "10.1/b", ""],
        "title": ["A Dice of 0.9", float("nan"), "Nothing here"], "abstract": ["The AUC was 0.8.", "Accuracy was 95%.", float("nan")],
    })
    table = extract_records(records)
    assert list(table.columns) == COLUMNS
    assert table[["record_id", "pmid", "doi", "metric", "value", "headline"]].values.tolist() == [
        ["R1", "11", "10.1/a", "dice", 0.9, True], ["R1", "11", "10.1/a", "auc", 0.8, False], ["R2", "", "10.1/b", "accuracy", 0.95, True]
    ]
    assert extract_records(records.iloc[:0]).columns.tolist() == COLUMNS

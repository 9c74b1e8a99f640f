"""Each dataset's own evaluation protocol, computed beside the common metrics so that a
result can stand next to the published ones on the same definition.

* ``drive`` (Staal et al. 2004; as retina-unet and the R2U-Net comparison score it): F1,
  sensitivity, specificity and accuracy of the vessel probability thresholded at 0.5, and
  the area under the ROC curve, over the pixels inside the field-of-view masks of all test
  images pooled (:func:`pooled_scores`).
* ``hc18`` (van den Heuvel et al. 2018): the head circumference of an ellipse fitted to the
  predicted head's contour (Ramanujan's perimeter), minus the CSV's (DF, mm), and its
  absolute value (ADF), mean and sd over test images.
* ``medseg_covid`` (Inf-Net, Fan et al. 2020, ``EvaluationTool/main.m`` and
  ``Fmeasure_calu.m``): per class, Dice, sensitivity and specificity of a map (infection: its
  probability, as Inf-Net scores its binary models; ground-glass opacity and consolidation:
  the arg-max mask, as its multi-class scripts save them) normalised and stored as 8 bits, at
  256 thresholds from 1 to 0; all three are 0 at a threshold without a true positive;
  averaged over thresholds and test images (:func:`infnet_scores`).
* ``jsrt_scr`` (van Ginneken et al. 2006): per structure, the Jaccard overlap (Ω) and Dice,
  mean and sd over test images.
* every dataset: per class Dice, mean over test cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage import measure
from sklearn.metrics import roc_auc_score

from ..data.hc18 import ramanujan

def _matlab_colon(start: float, step: float, stop: float) -> np.ndarray:
    """MATLAB's ``start:step:stop``, bit for bit: the first half counted from ``start``, the
    second from ``stop`` (the symmetric algorithm of MATLAB's colon operator)."""
    n = int(round((stop - start) / step))
    k = np.arange(n + 1)
    return np.where(k < n / 2, start + k * step, stop - (n - k) * step)


INFNET_THRESHOLDS = _matlab_colon(1.0, -1.0 / 255, 0.0)  # Thresholds = 1:-1/255:0


def pooled_scores(probability: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """F1, sensitivity, specificity, accuracy (prediction: ``probability >= threshold``) and,
    for a non-binary ``probability``, ROC AUC, over pooled pixels."""
    pred = probability >= threshold
    tp, fp = int((pred & truth).sum()), int((pred & ~truth).sum())
    fn, tn = int((~pred & truth).sum()), int((~pred & ~truth).sum())
    scores = {
        "F1": 2 * tp / (2 * tp + fp + fn),
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "accuracy": (tp + tn) / (tp + tn + fp + fn),
    }
    if len(np.unique(probability)) > 2:
        scores["AUC"] = float(roc_auc_score(truth, probability))
    return scores


def infnet_scores(probability: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Inf-Net's mean Dice, sensitivity and specificity of one image over its 256 thresholds.

    The map goes the way Inf-Net's test scripts and ``main.m`` take it: min-max normalised
    (``(res - min) / (max - min + 1e-8)``), saved as an 8-bit image (``misc.imsave``: scaled to
    0-255 and rounded), read back by ``im2double`` and normalised again by ``mapminmax``
    (a constant map becomes 0)."""
    low, high = probability.min(), probability.max()
    scaled = (probability - low) / (high - low + 1e-8)
    top = scaled.max()
    saved = np.floor((scaled - scaled.min()) * (255.0 / (top - scaled.min())) + 0.5) / 255.0 if top > scaled.min() else np.zeros_like(scaled)
    low, high = saved.min(), saved.max()
    normalised = (saved - low) * (1.0 / (high - low)) if high > low else np.zeros_like(saved)  # mapminmax(x, 0, 1)
    positives, negatives = np.sort(normalised[truth]), np.sort(normalised[~truth])
    tp = len(positives) - np.searchsorted(positives, INFNET_THRESHOLDS, side="left")
    fp = len(negatives) - np.searchsorted(negatives, INFNET_THRESHOLDS, side="left")
    tn = len(negatives) - fp
    objects = len(positives)
    hit = tp > 0
    dice = np.where(hit, 2 * tp / np.maximum(objects + tp + fp, 1), 0.0)
    sensitivity = np.where(hit, tp / max(objects, 1), 0.0)
    specificity = np.where(hit, tn / np.maximum(tn + fp, 1), 0.0)
    return {"infnet_dice": float(dice.mean()), "infnet_sensitivity": float(sensitivity.mean()), "infnet_specificity": float(specificity.mean())}


def head_circumference(mask: np.ndarray, pixel_mm: float) -> float:
    """The circumference (mm) of the ellipse fitted by least squares to the contour of the
    largest predicted region (holes filled); NaN when nothing can be fitted."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return float("nan")
    largest = ndimage.binary_fill_holes(labels == 1 + np.argmax(ndimage.sum(mask, labels, range(1, count + 1))))
    contours = measure.find_contours(np.pad(largest, 1).astype(float), 0.5)
    points = max(contours, key=len) * pixel_mm
    ellipse = measure.EllipseModel.from_estimate(points)
    if not ellipse:
        return float("nan")
    a, b = ellipse.axis_lengths
    return ramanujan(float(a), float(b))


class Protocol:
    """A dataset's protocol: per-case fields beside the common metrics, and a summary."""

    def case(self, name: str, probabilities: dict[str, np.ndarray], predicted: dict[str, np.ndarray], truth: dict[str, np.ndarray], sample) -> dict[str, dict]:
        """Extra fields per class of one test case (``probabilities``, ``predicted`` and ``truth``
        by class name on the case's own grid; ``sample``: the case as read)."""
        return {}

    def summary(self, cases: pd.DataFrame) -> dict[str, float]:
        rows = cases.groupby("class", sort=False)["dice"].mean()
        return {f"{name} Dice": float(value) for name, value in rows.items()}


class Drive(Protocol):
    def __init__(self) -> None:
        self.probabilities: list[np.ndarray] = []
        self.truths: list[np.ndarray] = []

    def case(self, name, probabilities, predicted, truth, sample):
        inside = sample.region
        probability, true = probabilities["vessels"][inside], truth["vessels"][inside]
        self.probabilities.append(probability.astype(np.float32))
        self.truths.append(true)
        return {"vessels": {"auc": float(roc_auc_score(true, probability))}}

    def summary(self, cases):
        return {**super().summary(cases), **pooled_scores(np.concatenate(self.probabilities), np.concatenate(self.truths))}


class HeadCircumference(Protocol):
    def case(self, name, probabilities, predicted, truth, sample):
        measured = head_circumference(predicted["fetal head"], sample.spacing[0])
        reference = sample.reference["hc_mm"]
        return {"fetal head": {"hc_mm": measured, "hc_reference_mm": reference, "hc_difference_mm": measured - reference}}

    def summary(self, cases):
        difference = cases["hc_difference_mm"]
        measured = difference.dropna()
        return {
            **super().summary(cases),
            "DF mm": float(measured.mean()),
            "DF sd mm": float(measured.std(ddof=1)),
            "ADF mm": float(measured.abs().mean()),
            "ADF sd mm": float(measured.abs().std(ddof=1)),
            "HC not measured": int(difference.isna().sum()),
        }


class InfNet(Protocol):
    """Infection (the union) on its probability map, as Inf-Net scores its binary models'
    maps; ground-glass opacity and consolidation on the arg-max mask, as Inf-Net's
    multi-class scripts save it (a binary map per class)."""

    def case(self, name, probabilities, predicted, truth, sample):
        return {
            label: infnet_scores(probabilities[label] if label == "infection" else predicted[label].astype(np.float64), truth[label])
            for label in truth
        }

    def summary(self, cases):
        scores = cases.groupby("class", sort=False)[["infnet_dice", "infnet_sensitivity", "infnet_specificity"]].mean()
        return {
            **super().summary(cases),
            **{f"{name} {metric} (Inf-Net)": float(scores.loc[name, f"infnet_{metric.lower()}"]) for name in scores.index for metric in ("Dice", "sensitivity", "specificity")},
        }


class Overlap(Protocol):
    """Jaccard and Dice per structure, mean and sd over test cases."""

    def summary(self, cases):
        out = {}
        for name, rows in cases.groupby("class", sort=False):
            for metric in ("jaccard", "dice"):
                label = "Jaccard" if metric == "jaccard" else "Dice"
                out[f"{name} {label}"] = float(rows[metric].mean())
                out[f"{name} {label} sd"] = float(rows[metric].std(ddof=1))
        return out


PROTOCOLS = {"drive": Drive, "hc18": HeadCircumference, "medseg_covid": InfNet, "jsrt_scr": Overlap}


def protocol(dataset: str) -> Protocol:
    """A fresh protocol for ``dataset`` (per-class Dice alone for a dataset without its own)."""
    return PROTOCOLS.get(dataset, Protocol)()


def drive_second_observer(root, cases: list[dict]) -> dict:
    """The second observer of DRIVE's test images scored as a model is, against the first:
    :func:`pooled_scores` over the fields of view (no AUC: a human draws no probabilities),
    and the Dice of each image, mean and range."""
    from ..data import drive
    from ..data.segmentation import Case, checksums
    from ..data.segmentation_datasets import native

    drawn, truths, dice, sums = [], [], [], checksums(root)
    for entry in (c for c in cases if c["split"] == "test"):
        sample = native("drive", root, entry, sums)
        second = drive.second_observer(root, Case(entry["name"], entry["split"], tuple(entry["files"]), entry.get("group", "")))
        inside, first = sample.region, sample.label.astype(bool)
        drawn.append(second[inside])
        truths.append(first[inside])
        dice.append(2 * (second & first & inside).sum() / ((second & inside).sum() + (first & inside).sum()))
    scores = pooled_scores(np.concatenate(drawn).astype(np.float32), np.concatenate(truths))
    return {**scores, "Dice per image": float(np.mean(dice)), "Dice per image range": [float(min(dice)), float(max(dice))], "images": len(dice)}

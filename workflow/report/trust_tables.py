"""Tables of the trust stage: its records (``results/trust/{dataset}/{model}/trust.json``) as
data frames, summarised per family and modality, and written as Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.medmnist import modality_table
from ..trust.calibration import TEMPERATURE_LIMIT
from .tables import to_markdown

_KEYS = ["dataset", "modality", "family", "model", "seed"]


def collect(paths: list[str | Path]) -> list[dict]:
    """Every run's record, from the trust stage's files, with the modality group that
    ``modalities.csv`` gives its subset now (as the benchmark tables group runs)."""
    groups = modality_table()
    records = [record for path in paths for record in json.loads(Path(path).read_text())]
    return [{**record, "modality": groups[record["flag"]]["modality"]} if record.get("flag") in groups else record for record in records]


def runs(records: list[dict]) -> pd.DataFrame:
    """One row per run: calibration, robustness and cost beside the run's test AUC."""
    rows = []
    for r in records:
        row = {k: r[k] for k in _KEYS} | {"profile": r["profile"], "test_auc": r["test_auc"], "rescored_max_abs_diff": r["rescored_max_abs_diff"]}
        if "calibration" in r:
            c = r["calibration"]
            row |= {
                "temperature": c["temperature"], "degenerate": c["degenerate"], "ece_change_low": c["ece_change_low"], "ece_change_high": c["ece_change_high"],
                **{f"{m}_{when}": c[when][m] for when in ("before", "after") for m in ("ece", "ece_low", "ece_high", "noise_floor_p95", "brier", "nll")},
            }
        if "robustness" in r:
            rob = r["robustness"]
            corrupted = [s["balanced_acc"] for c in rob["corruptions"].values() for s in c["severities"]]
            row |= {
                "clean_balanced_acc": rob["clean"]["balanced_acc"],
                "corrupted_balanced_acc": float(np.mean(corrupted)) if corrupted else np.nan,
                "be": rob["be"], "rbe": rob["rbe"], "corruptions": len(rob["corruptions"]),
            }
        if "latency" in r:
            lat = r["latency"]
            row |= {k: lat[k] for k in ("latency_ms_median", "latency_ms_p95", "throughput_batch", "throughput_images_per_s", "threads", "device")}
        if "latency_cuda" in r:
            row |= {f"cuda_{k}": r["latency_cuda"][k] for k in ("latency_ms_median", "latency_ms_p95", "throughput_batch", "throughput_images_per_s")}
        rows.append(row)
    return pd.DataFrame(rows)


def explanations(records: list[dict]) -> pd.DataFrame:
    """One row per (run, method, explained image): deletion and insertion areas and the
    rank correlations (signed maps and magnitudes) with the randomised model's map; NaN
    where undefined (a constant map) and for the random reference."""
    rows = []
    for r in records:
        for method, m in r.get("saliency", {}).get("methods", {}).items():
            none = [None] * len(m["deletion_auc"])
            rhos = zip(m["deletion_auc"], m["insertion_auc"], m.get("randomisation_rho", none), m.get("randomisation_rho_abs", none))
            for i, (deletion, insertion, rho, rho_abs) in enumerate(rhos):
                rows.append({k: r[k] for k in _KEYS} | {"method": method, "image": i, "deletion_auc": deletion, "insertion_auc": insertion,
                                                        "randomisation_rho": np.nan if rho is None else rho, "randomisation_rho_abs": np.nan if rho_abs is None else rho_abs})
    return pd.DataFrame(rows)


def cascade(records: list[dict]) -> pd.DataFrame:
    """The cascading randomisation, long: run, method, step (1: the output block re-drawn),
    its share of the run's steps, the block re-drawn at that step, image and both rank
    correlations (NaN where undefined)."""
    rows = []
    for r in records:
        for method, m in r.get("saliency", {}).get("methods", {}).items():
            steps = m.get("cascade", {"blocks": [], "rho": [], "rho_abs": []})  # none for the random reference
            for step, (block, rho, rho_abs) in enumerate(zip(steps["blocks"], steps["rho"], steps["rho_abs"]), start=1):
                rows += [
                    {k: r[k] for k in _KEYS} | {"method": method, "step": step, "share": step / len(steps["blocks"]), "block": block, "image": i,
                                                "rho": np.nan if a is None else a, "rho_abs": np.nan if b is None else b}
                    for i, (a, b) in enumerate(zip(rho, rho_abs))
                ]
    return pd.DataFrame(rows, columns=_KEYS + ["method", "step", "share", "block", "image", "rho", "rho_abs"])


def curves(records: list[dict]) -> pd.DataFrame:
    """Deletion and insertion curves, long: run, method, image, curve, fraction, probability."""
    rows = []
    for r in records:
        s = r.get("saliency", {})
        for method, m in s.get("methods", {}).items():
            for i, pair in enumerate(m["curves"]):
                for curve in ("deletion", "insertion"):
                    rows += [{k: r[k] for k in _KEYS} | {"method": method, "image": i, "curve": curve, "fraction": f, "probability": p} for f, p in zip(s["fraction"], pair[curve])]
    return pd.DataFrame(rows)


def skipped(records: list[dict]) -> pd.DataFrame:
    """Saliency methods that did not apply, with the reason, once per (model, method)."""
    rows = [{"model": r["model"], "family": r["family"], "method": m, "reason": why} for r in records for m, why in r.get("saliency", {}).get("skipped", {}).items()]
    return pd.DataFrame(rows, columns=["model", "family", "method", "reason"]).drop_duplicates(["model", "method", "reason"])


def reliability(records: list[dict]) -> pd.DataFrame:
    """Reliability-diagram bins of every run, before and after temperature scaling."""
    rows = []
    for r in records:
        for when in ("before", "after"):
            rows += [{k: r[k] for k in _KEYS} | {"scaling": when} | b for b in r.get("calibration", {}).get(f"reliability_{when}", [])]
    return pd.DataFrame(rows)


def robustness(records: list[dict]) -> pd.DataFrame:
    """One row per (run, corruption, severity), with severity 0 for the clean images."""
    rows = []
    for r in records:
        rob = r.get("robustness")
        if not rob:
            continue
        base = {k: r[k] for k in _KEYS}
        for name in rob["corruptions"]:
            rows.append(base | {"corruption": name, "severity": 0, **{k: rob["clean"][k] for k in ("auc", "acc", "balanced_acc")}})
            rows += [base | {"corruption": name, **s} for s in rob["corruptions"][name]["severities"]]
    return pd.DataFrame(rows)


def left_out(records: list[dict]) -> pd.DataFrame:
    """Corruptions left out per dataset, with the reason."""
    rows = {(r["dataset"], name): why for r in records for name, why in r.get("robustness", {}).get("left_out", {}).items()}
    return pd.DataFrame([{"dataset": d, "corruption": n, "reason": why} for (d, n), why in sorted(rows.items())], columns=["dataset", "corruption", "reason"])


def _two(value: float) -> str:
    """Two decimals, or a dash where nothing is defined."""
    return "–" if np.isnan(value) else f"{value:.2f}"


def sanity_check(rho: pd.Series, rho_abs: pd.Series, threshold: float) -> str:
    """The project's reading of the model-randomisation check (``threshold`` is its own
    choice; Adebayo et al. give none): "passes" when the mean |rho| of the signed maps and
    that of their magnitudes are both below it over the images where rho is defined;
    "undefined" when it is defined on none (constant maps), "fails" otherwise."""
    means = [r.abs().mean() for r in (rho, rho_abs) if r.notna().any()]
    if not means:
        return "undefined"
    return "passes" if all(m < threshold for m in means) else "fails"


def explanation_summary(frame: pd.DataFrame, threshold: float, steps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per family and method: mean deletion and insertion areas against the random map's on
    the same runs and images; mean rank correlation with the randomised model (signed, its
    magnitude, and that of the maps' magnitudes) over the images where it is defined, with
    the count where it is not; the check (:func:`sanity_check`); and, from the cascading
    form ``steps`` when given, the mean |rho| once the output block and once every block
    is re-drawn."""
    if frame.empty:
        return pd.DataFrame()
    random = frame[frame["method"] == "random"].set_index(_KEYS + ["image"])[["deletion_auc", "insertion_auc"]]
    rows = []
    for (family, method), group in frame[frame["method"] != "random"].groupby(["family", "method"]):
        reference = random.loc[group.set_index(_KEYS + ["image"]).index]
        rho, rho_abs = group["randomisation_rho"], group["randomisation_rho_abs"]
        row = {
            "family": family, "method": method, "runs": group[["dataset", "model", "seed"]].drop_duplicates().shape[0], "images": len(group),
            "deletion AUC ↓": f"{group['deletion_auc'].mean():.3f}", "random map": f"{reference['deletion_auc'].mean():.3f}",
            "insertion AUC ↑": f"{group['insertion_auc'].mean():.3f}", "random map ": f"{reference['insertion_auc'].mean():.3f}",
            "randomisation ρ": _two(rho.mean()), "mean abs ρ": _two(rho.abs().mean()), "of magnitudes": _two(rho_abs.abs().mean()),
            "undefined": f"{int(rho.isna().sum())}/{len(rho)}", "sanity check": sanity_check(rho, rho_abs, threshold),
        }
        if steps is not None:
            own = steps[(steps["family"] == family) & (steps["method"] == method)]
            first, last = own[own["step"] == 1]["rho"], own[own["share"] == 1]["rho"]
            row["cascade abs ρ: output block → all"] = f"{_two(first.abs().mean())} → {_two(last.abs().mean())}" if len(own) else "–"
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Family × modality: mean ECE before → after temperature scaling, the median
    temperature of the fits that are not degenerate (above 1: over-confident), and what
    exceeds the noise: runs whose ECE before scaling is above the 95th percentile of a
    perfectly calibrated model's at the same confidences, runs whose ECE scaling lowered
    (the paired 95 % bootstrap interval of the change below 0) or raised (above 0), and
    degenerate fits."""
    cells = {}
    for (family, modality), g in frame.dropna(subset=["ece_before"]).groupby(["family", "modality"]):
        fitted = g[g["degenerate"].isna()]
        temperature = f"T {fitted['temperature'].median():.2f}" if len(fitted) else "T –"
        notes = [f"{int((g['ece_before'] > g['noise_floor_p95_before']).sum())}/{len(g)} above floor",
                 f"{int((g['ece_change_high'] < 0).sum())} lowered", f"{int((g['ece_change_low'] > 0).sum())} raised"]
        if len(fitted) < len(g):
            notes.append(f"{len(g) - len(fitted)} degenerate")
        cells[(family, modality)] = f"{g['ece_before'].mean():.3f} → {g['ece_after'].mean():.3f} ({temperature}; {', '.join(notes)})"
    return _grid(cells)


def _grid(cells: dict[tuple[str, str], str]) -> pd.DataFrame:
    families, modalities = sorted({f for f, _ in cells}), sorted({m for _, m in cells})
    return pd.DataFrame([{"family": f, **{m: cells.get((f, m), "–") for m in modalities}} for f in families])


def robustness_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Family × modality: balanced accuracy clean → under corruption (mean over corruptions
    and severities), and MedMNIST-C's rBE where the subset has a baseline."""
    if "clean_balanced_acc" not in frame:
        return pd.DataFrame()
    cells = {}
    for (family, modality), g in frame.groupby(["family", "modality"]):
        rbe = g["rbe"].dropna()
        cells[(family, modality)] = f"{g['clean_balanced_acc'].mean():.2f} → {g['corrupted_balanced_acc'].mean():.2f}" + (f" (rBE {rbe.mean():.2f})" if len(rbe) else "")
    return _grid(cells)


def cost_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per run (seeds pooled): test AUC beside batch-1 latency and throughput."""
    if "latency_ms_median" not in frame:
        return pd.DataFrame()
    rows = []
    for (dataset, model), g in frame.groupby(["dataset", "model"]):
        rows.append({
            "dataset": dataset, "model": model, "family": g["family"].iat[0], "test AUC": f"{g['test_auc'].mean():.3f}",
            "latency ms (median)": f"{g['latency_ms_median'].median():.2f}", "latency ms (p95)": f"{g['latency_ms_p95'].median():.2f}",
            "throughput img/s": f"{g['throughput_images_per_s'].median():,.0f}", "at batch": int(g["throughput_batch"].max()),
            "threads": int(g["threads"].iat[0]), "device": g["device"].iat[0],
            **({"CUDA latency ms (median)": f"{g['cuda_latency_ms_median'].median():.2f}", "CUDA throughput img/s": f"{g['cuda_throughput_images_per_s'].median():,.0f}"}
               if "cuda_latency_ms_median" in g and g["cuda_latency_ms_median"].notna().any() else {}),
        })
    return pd.DataFrame(rows)


def markdown(records: list[dict], profile: str) -> str:
    """Every trust table under one heading per part, each caption stating the profile; the
    lists of skipped methods and left-out corruptions when there are any."""
    frame = runs(records)
    settings = records[0]["settings"] if records else {}
    sal, rob = settings.get("saliency", {}), settings.get("robustness", {})
    threshold = sal.get("sanity_threshold", 0.5)
    scored = f"{rob.get('images')} seeded test images per dataset" if any("indices" in r.get("robustness", {}) for r in records) else "whole test splits"
    sections = [
        (explanation_summary(explanations(records), threshold, cascade(records)),
         f"## Explanations\n\nDeletion and insertion areas (class probability as the most salient pixels are removed, or added to a "
         f"blurred copy; {sal.get('steps')} steps) on {sal.get('images')} seeded test images per dataset, beside a random map's on the "
         f"same images; ρ: Spearman correlation of each map with the map of the same architecture with every weight drawn again, on "
         f"the pixels where either map is non-zero, of the signed maps and of their magnitudes; undefined (not a pass) for a constant "
         f"map. The check passes when both mean |ρ| are below {threshold}, this project's threshold (Adebayo et al. set none). "
         f"Cascade: mean abs ρ once the output block, and once every block, is drawn again from the output down. Profile: {profile}."),
        (skipped(records), "Methods that do not apply, and why:"),
        (calibration_summary(frame),
         f"## Calibration\n\nTest-split expected calibration error ({settings.get('calibration', {}).get('bins')} equal-mass bins), mean over runs, "
         f"before → after temperature scaling fitted on the validation split, and the median temperature T of the fits that are not "
         f"degenerate (above 1: over-confident). Only what exceeds the noise counts: runs whose ECE is above the 95th percentile of a "
         f"perfectly calibrated model's at the same test size, and runs whose ECE scaling lowered or raised beyond the 95 % bootstrap "
         f"interval of the change; a fit is degenerate when the model is no better than the majority class on validation or T is "
         f"beyond [{1 / TEMPERATURE_LIMIT:g}, {TEMPERATURE_LIMIT:g}]. Intervals, floors, Brier scores and NLL per run in trust.csv. Profile: {profile}."),
        (robustness_summary(frame),
         f"## Robustness\n\nBalanced accuracy on clean → corrupted test images (mean over corruptions and the five severities; {scored}). "
         f"2-D: MedMNIST-C's corruptions; rBE: its relative balanced error against "
         f"its ResNet-18 baseline (measured at 224 px; these runs are at the profile's size). 3-D: MONAI noise and blur. Profile: {profile}."),
        (left_out(records), "MedMNIST-C corruptions left out here, and why:"),
        (cost_summary(frame),
         f"## Real-time cost\n\nBatch-1 inference latency (median and 95th percentile of {settings.get('latency', {}).get('repeats')} calls after "
         f"warm-up) and throughput at the largest batch tried that fits, beside test AUC. Profile: {profile}."),
    ]
    optional = {1, 4}  # the skipped methods and left-out corruptions, only when there are some
    tables = [to_markdown(table, caption) for i, (table, caption) in enumerate(sections) if not (i in optional and table.empty)]
    return "\n".join([f"# Trust ({profile} profile)\n", *tables])

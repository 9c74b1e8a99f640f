"""Tables of the trust stage: its records (``results/trust/{dataset}/{model}/trust.json``) as
data frames, summarised per family and modality, and written as Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.medmnist import modality_table
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
            row |= {"temperature": c["temperature"], **{f"{m}_{when}": c[when][m] for when in ("before", "after") for m in ("ece", "brier", "nll")}}
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
    rank correlation with the randomised model's map (none for the random reference)."""
    rows = []
    for r in records:
        for method, m in r.get("saliency", {}).get("methods", {}).items():
            rho = m.get("randomisation_rho", [np.nan] * len(m["deletion_auc"]))
            for i, (deletion, insertion, corr) in enumerate(zip(m["deletion_auc"], m["insertion_auc"], rho)):
                rows.append({k: r[k] for k in _KEYS} | {"method": method, "image": i, "deletion_auc": deletion, "insertion_auc": insertion, "randomisation_rho": corr})
    return pd.DataFrame(rows)


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


def explanation_summary(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per family and method: mean deletion and insertion areas against the random map's on
    the same runs and images, mean rank correlation with the randomised model (signed, and
    its magnitude), and whether the method passes the randomisation check (mean |rho|
    below ``threshold``: maps that flip sign with the weights still follow the input, not
    what the model learned)."""
    if frame.empty:
        return pd.DataFrame()
    random = frame[frame["method"] == "random"].set_index(_KEYS + ["image"])[["deletion_auc", "insertion_auc"]]
    rows = []
    for (family, method), group in frame[frame["method"] != "random"].groupby(["family", "method"]):
        reference = random.loc[group.set_index(_KEYS + ["image"]).index]
        rho, magnitude = group["randomisation_rho"].mean(), group["randomisation_rho"].abs().mean()
        rows.append({
            "family": family, "method": method, "runs": group[["dataset", "model", "seed"]].drop_duplicates().shape[0], "images": len(group),
            "deletion AUC ↓": f"{group['deletion_auc'].mean():.3f}", "random map": f"{reference['deletion_auc'].mean():.3f}",
            "insertion AUC ↑": f"{group['insertion_auc'].mean():.3f}", "random map ": f"{reference['insertion_auc'].mean():.3f}",
            "randomisation ρ": f"{rho:.2f}", "|ρ|": f"{magnitude:.2f}", "sanity check": "passes" if magnitude < threshold else "fails",
        })
    return pd.DataFrame(rows)


def calibration_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Family × modality: ECE before → after temperature scaling and the temperature (above 1:
    the family was over-confident), means over the cell's runs."""
    cells = {}
    for (family, modality), g in frame.dropna(subset=["ece_before"]).groupby(["family", "modality"]):
        cells[(family, modality)] = f"{g['ece_before'].mean():.3f} → {g['ece_after'].mean():.3f} (T {g['temperature'].mean():.2f})"
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
        (explanation_summary(explanations(records), threshold),
         f"## Explanations\n\nDeletion and insertion areas (class probability as the most salient pixels are removed, or added to a "
         f"blurred copy; {sal.get('steps')} steps) on {sal.get('images')} seeded test images per dataset, beside a random map's on the "
         f"same images; ρ: Spearman correlation of each map with the map of the same architecture with its weights drawn again "
         f"(passes when the mean |ρ| is below {threshold}). Profile: {profile}."),
        (skipped(records), "Methods that do not apply, and why:"),
        (calibration_summary(frame),
         f"## Calibration\n\nTest-split expected calibration error ({settings.get('calibration', {}).get('bins')} equal-mass bins) before → after "
         f"temperature scaling fitted on the validation split, and the temperature T: above 1, the family was over-confident; Brier "
         f"scores and NLL per run in trust.csv. Profile: {profile}."),
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

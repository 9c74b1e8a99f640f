"""A stratified random sample of included records to label by hand, for measuring the
reported-metric extractor on records it was not built from.

Every record falls in one stratum: a non-English abstract (or one with a second-language
copy), else a structured abstract (section headings), else its metric group (the kinds of
metric its abstract names: segmentation, classification, regression, none) crossed with its
modality tag (one modality, several, or none). Each stratum gets at least ``floor`` records
(all of it when smaller) and the rest of the sample in proportion to its size times the
group's ``weight``: abstracts that name metrics are sampled more often than those that name
none. ``weights`` gives each sampled record the number of population records it stands for,
so that scores can be estimated for the whole corpus.

The keywords here only choose strata; they are deliberately independent of the extractor's
own patterns (``reported_metrics.py``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

GROUP_PATTERNS = {
    "segmentation": r"\b(?:dice|dsc|jaccard|iou|hausdorff)\b",
    "classification": r"\b(?:aucs?|auroc|accuracy|sensitivity|specificity|precision|recall|f1|f-score)\b",
    "regression": r"\b(?:mean absolute error|mae|rmse)\b",
}
GROUP_WEIGHT = {"segmentation": 3.0, "classification": 3.0, "regression": 3.0, "none": 1.0}
_FOREIGN = re.compile(r"\b(?:los|las|del|para|uma|und|der|die|une|avec|pour|dans|são|foram|el|la|en|y|que|se|con|por|le|et|les|est|mit|ist|não|em|os)\b")
_ENGLISH = re.compile(r"\b(?:the|and|of|with|for|was|were|is|are)\b")
_HEADINGS = re.compile(r"(?:^|\n|\.\s)(?:BACKGROUND|PURPOSE|OBJECTIVES?|AIMS?|METHODS?|MATERIALS? AND METHODS|RESULTS?|CONCLUSIONS?|FINDINGS|INTERPRETATION)\s*:|^(?:Background|Purpose|Objectives?|Aims?|Introduction)\b(?! of)", re.IGNORECASE)


def metric_group(abstract: str) -> str:
    text = abstract.lower()
    return next((group for group, pattern in GROUP_PATTERNS.items() if re.search(pattern, text)), "none")


def non_english(abstract: str) -> bool:
    """Eight or more common Spanish, Portuguese, French or German words, at least a fifth as
    many as English ones: a foreign abstract or a second-language copy."""
    foreign = len(_FOREIGN.findall(abstract))
    return foreign >= 8 and foreign > 0.2 * len(_ENGLISH.findall(abstract))


def structured(abstract: str) -> bool:
    return bool(_HEADINGS.search(abstract.strip()))


def modality_tag(modalities: object) -> str:
    if not isinstance(modalities, str) or not modalities.strip():
        return "none"
    return "multiple" if ";" in modalities else modalities.strip()


def strata(records: pd.DataFrame) -> pd.Series:
    """The stratum of each record (``abstract`` and ``modalities`` columns)."""

    def one(abstract: str, modalities: object) -> str:
        if non_english(abstract):
            return "non-English"
        if structured(abstract):
            return "structured"
        return f"{metric_group(abstract)} × {modality_tag(modalities)}"

    return pd.Series([one(a, m) for a, m in zip(records["abstract"], records["modalities"])], index=records.index, name="stratum")


def allocate(sizes: pd.Series, total: int, floor: int) -> pd.Series:
    """Records per stratum: ``floor`` each (or the whole stratum), the rest by weighted size,
    largest remainders first, never more than a stratum has."""
    weight = pd.Series({s: GROUP_WEIGHT.get(s.split(" × ")[0], 3.0) for s in sizes.index})
    take = np.minimum(sizes, floor)
    while take.sum() < total and (take < sizes).any():
        room = sizes - take
        share = (sizes * weight).where(room > 0, 0.0)
        want = share / share.sum() * (total - take.sum())
        extra = np.minimum(np.floor(want), room).astype(int)
        if extra.sum() == 0:
            extra[(want - np.floor(want)).where(room > 0, -1).idxmax()] = 1
        take = take + extra
    return take.astype(int)


def draw(records: pd.DataFrame, size: int, seed: int, floor: int = 3) -> pd.DataFrame:
    """``size`` records (``record_id``, ``abstract``, ``modalities``) drawn at random within
    strata; with ``stratum`` and ``weight`` (population records per sampled record), in a
    random order."""
    records = records.sort_values("record_id").reset_index(drop=True).assign(stratum=lambda r: strata(r))
    sizes = records["stratum"].value_counts().sort_index()
    take = allocate(sizes, size, floor)
    rng = np.random.default_rng(seed)
    picked = [
        records[records["stratum"] == stratum].iloc[sorted(rng.choice(sizes[stratum], size=n, replace=False))].assign(weight=sizes[stratum] / n)
        for stratum, n in take.items()
        if n
    ]
    sample = pd.concat(picked)
    return sample.iloc[rng.permutation(len(sample))].reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    """Draw a sample from a finished literature stage's ``screened.csv`` and ``evidence.csv``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--literature", default="results/literature", help="the stage's output folder")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--exclude", nargs="*", default=[], help="labelled CSVs whose record_id are left out")
    parser.add_argument("--out", required=True, help="CSV of the sample: record_id, stratum, weight")
    parser.add_argument("--decision", default="include", help="draw from the screened records with this decision; "
                        "only included records carry modality tags (the others' stratum says 'none')")
    args = parser.parse_args(argv)
    screened = pd.read_csv(f"{args.literature}/screened.csv", dtype=str)
    tags = pd.read_csv(f"{args.literature}/evidence.csv", dtype=str).set_index("record_id")["modalities"]
    chosen = screened[screened["decision"] == args.decision]
    records = chosen[chosen["abstract"].fillna("").str.strip() != ""].assign(modalities=lambda r: r["record_id"].map(tags))
    excluded = {rid for path in args.exclude for rid in pd.read_csv(path, dtype=str)["record_id"]}
    records = records[~records["record_id"].isin(excluded)]
    sample = draw(records, args.size, args.seed)
    sample[["record_id", "stratum", "weight"]].to_csv(args.out, index=False)
    print(f"{len(sample)} of {len(records)} records in {sample['stratum'].nunique()} strata -> {args.out}")


if __name__ == "__main__":
    main()

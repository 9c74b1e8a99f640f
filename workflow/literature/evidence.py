"""The evidence map: tag each included record with architecture families and modalities.

Tags come from a vocabulary of terms (``vocabulary.yaml`` beside this module by
default); a record takes every family and modality whose terms its title, abstract or
MeSH terms mention, or none. MeSH headings listed under ``mesh_rewrites`` are replaced
first ("Tomography, X-Ray Computed" is CT, not X-ray).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from .records import LIST_SEPARATOR
from .screen import term_pattern

VOCABULARY = Path(__file__).with_name("vocabulary.yaml")
UNTAGGED = "none"


def load_vocabulary(path: str | Path = VOCABULARY) -> dict[str, dict[str, list[str]]]:
    vocabulary = yaml.safe_load(Path(path).read_text())
    if not {"families", "modalities"} <= set(vocabulary) <= {"families", "modalities", "mesh_rewrites"}:
        raise ValueError(f"{path}: expected the keys 'families', 'modalities' (and optionally 'mesh_rewrites'), found {sorted(vocabulary)}")
    return vocabulary


def tag(records: pd.DataFrame, vocabulary: dict) -> pd.DataFrame:
    """``record_id, year, source, families, modalities`` (tags joined by '; ')."""
    patterns = {kind: {name: term_pattern(tuple(terms)) for name, terms in vocabulary[kind].items()} for kind in ("families", "modalities")}
    rewrites = vocabulary.get("mesh_rewrites", {})
    rows = []
    for record in records.itertuples(index=False):
        mesh = [rewrites.get(m, m) for m in (record.mesh_terms or "").split(LIST_SEPARATOR)] if isinstance(record.mesh_terms, str) else []
        text = " ".join(str(v) for v in (record.title, record.abstract, *mesh) if isinstance(v, str))
        found = {kind: [name for name, p in groups.items() if p.search(text)] for kind, groups in patterns.items()}
        rows.append(
            {
                "record_id": record.record_id,
                "year": record.year,
                "source": record.source,
                "title": record.title,
                "families": LIST_SEPARATOR.join(found["families"]),
                "modalities": LIST_SEPARATOR.join(found["modalities"]),
            }
        )
    return pd.DataFrame(rows)


def _explode(tags: pd.DataFrame, column: str) -> pd.Series:
    return tags[column].fillna("").map(lambda v: v.split(LIST_SEPARATOR) if v else [UNTAGGED]).explode()


def counts(tags: pd.DataFrame, vocabulary: dict) -> pd.DataFrame:
    """Family × modality table of record counts (a record counts in every cell it tags)."""
    pairs = pd.DataFrame({"family": _explode(tags, "families")}).join(pd.DataFrame({"modality": _explode(tags, "modalities")}), how="inner")
    table = pd.crosstab(pairs["family"], pairs["modality"])
    families = list(vocabulary["families"]) + [UNTAGGED]
    modalities = list(vocabulary["modalities"]) + [UNTAGGED]
    return table.reindex(index=families, columns=modalities, fill_value=0)


def per_year(tags: pd.DataFrame) -> pd.DataFrame:
    """Records per publication year and family (untagged records left out)."""
    data = pd.DataFrame({"year": tags["year"], "family": _explode(tags, "families")}).dropna()
    data = data[data["family"] != UNTAGGED]
    return data.groupby(["year", "family"]).size().rename("records").reset_index()

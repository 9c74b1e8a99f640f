"""Title/abstract screening against configured criteria, with a reason for each exclusion.

Criteria are applied in a fixed order (year range, language, publication type, required
concept groups) and the first one a record fails is its recorded reason. The first three
read only metadata: PRISMA 2020 counts them as records marked ineligible by automation
tools, before screening; the concept groups screen the title and abstract themselves. A concept group
is satisfied when any of its terms occurs, as a whole word or phrase and ignoring case,
in the title, abstract or MeSH terms; spaces and hyphens inside a term are interchangeable
and optional ("U-Net" matches "U Net" and "UNet").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .records import LIST_SEPARATOR


@dataclass(frozen=True)
class Criteria:
    years: tuple[int, int] | None = None
    languages: tuple[str, ...] = ()
    exclude_publication_types: tuple[str, ...] = ()
    required_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, screening: dict) -> Criteria:
        years = screening.get("years")
        return cls(
            years=tuple(years) if years else None,
            languages=tuple(screening.get("languages", ())),
            exclude_publication_types=tuple(screening.get("exclude_publication_types", ())),
            required_terms={g: tuple(t) for g, t in screening.get("required_terms", {}).items()},
        )


def term_pattern(terms: tuple[str, ...]) -> re.Pattern:
    """One regex matching any of ``terms`` as whole words or phrases."""
    words = (re.split(r"[\s-]+", t.strip()) for t in terms)
    alternatives = "|".join(r"[\s-]*".join(map(re.escape, w)) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _split(value: str) -> list[str]:
    return [v for v in (value or "").split(LIST_SEPARATOR) if v]


def screen(records: pd.DataFrame, criteria: Criteria) -> pd.DataFrame:
    """Add ``decision`` (include/exclude), ``reason`` and ``stage`` columns to a copy of ``records``."""
    patterns = {group: term_pattern(terms) for group, terms in criteria.required_terms.items()}
    excluded_types = {t.lower() for t in criteria.exclude_publication_types}
    languages = {lang.lower() for lang in criteria.languages}
    reasons = [_reason(row, criteria, excluded_types, languages, patterns) for row in records.itertuples(index=False)]
    screened = records.copy()
    screened["reason"] = [reason for reason, _ in reasons]
    screened["stage"] = [stage for _, stage in reasons]
    screened["decision"] = ["exclude" if reason else "include" for reason, _ in reasons]
    return screened


AUTOMATION, SCREENING = "automation", "screening"


def _reason(row, criteria: Criteria, excluded_types: set, languages: set, patterns: dict) -> tuple[str, str]:
    """(reason, stage) of the first criterion the record fails; ("", "") when it passes."""
    if criteria.years:
        low, high = criteria.years
        if pd.isna(row.year):
            return "publication year unknown", AUTOMATION
        if not low <= int(row.year) <= high:
            return f"published outside {low}-{high}", AUTOMATION
    if languages:
        found = {lang.lower() for lang in _split(row.language)}
        if found and not found & languages:
            return f"language not {'/'.join(sorted(languages))}", AUTOMATION
    for kind in _split(row.publication_types):
        if kind.lower() in excluded_types:
            return f"publication type: {kind}", AUTOMATION
    text = " ".join(str(v) for v in (row.title, row.abstract, row.mesh_terms) if isinstance(v, str))
    for group, pattern in patterns.items():
        if not pattern.search(text):
            return f"no {group} term", SCREENING
    return "", ""

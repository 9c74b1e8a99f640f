"""Title/abstract screening against configured criteria, with a reason for each exclusion.

Criteria are applied in a fixed order (year range, language, publication type, required
concept groups) and the first one a record fails is its recorded reason. The first three
read only metadata: PRISMA 2020 counts them as records marked ineligible by automation
tools, before screening; the concept groups screen the title and abstract themselves.

A term occurs as a whole word or phrase, ignoring case, in the title, abstract or MeSH
terms, in any of its word forms: spaces and hyphens inside it are interchangeable and
optional ("U-Net" matches "U Net" and "UNet"), and its last word may be singular or plural
("MRI" matches "cine-MRIs", "images" matches "image", "study" matches "studies"). The rules
decide only on confident evidence: a record that matches a required term of every group
is included; one with an abstract that matches no term of some group, required or
uncertain, is excluded; every other record (a group matched only by an uncertain term
such as "network", or no abstract to look in) is left to the reviewers' ranked
screening, decision ``screen``.
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
    uncertain_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, screening: dict) -> Criteria:
        years = screening.get("years")
        return cls(
            years=tuple(years) if years else None,
            languages=tuple(screening.get("languages", ())),
            exclude_publication_types=tuple(screening.get("exclude_publication_types", ())),
            required_terms={g: tuple(t) for g, t in screening.get("required_terms", {}).items()},
            uncertain_terms={g: tuple(t) for g, t in screening.get("uncertain_terms", {}).items()},
        )


def _word_forms(word: str) -> str:
    """A regex for ``word`` in the singular or the plural."""
    stem = re.escape(word)
    if re.search(r"[^aeiou]y$", word, re.IGNORECASE):
        return rf"{re.escape(word[:-1])}(?:y|ies)"
    if re.search(r"[^s]s$", word, re.IGNORECASE) and len(word) > 3:
        return rf"{re.escape(word[:-1])}(?:s|es)?"
    return rf"{stem}(?:s|es)?"


def term_pattern(terms: tuple[str, ...]) -> re.Pattern:
    """One regex matching any of ``terms`` as whole words or phrases, in their word forms."""
    alternatives = []
    for term in terms:
        words = re.split(r"[\s-]+", term.strip())
        alternatives.append(r"[\s-]*".join([*map(re.escape, words[:-1]), _word_forms(words[-1])]))
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def _split(value: str) -> list[str]:
    return [v for v in (value or "").split(LIST_SEPARATOR) if v]


def screen(records: pd.DataFrame, criteria: Criteria) -> pd.DataFrame:
    """Add ``decision`` (include, screen or exclude), ``reason`` and ``stage`` columns to a
    copy of ``records``."""
    patterns = {group: term_pattern(terms) for group, terms in criteria.required_terms.items()}
    uncertain = {group: term_pattern(terms) for group, terms in criteria.uncertain_terms.items() if terms}
    excluded_types = {t.lower() for t in criteria.exclude_publication_types}
    languages = {lang.lower() for lang in criteria.languages}
    outcomes = [_outcome(row, criteria, excluded_types, languages, patterns, uncertain) for row in records.itertuples(index=False)]
    screened = records.copy()
    screened["reason"] = [reason for _, reason, _ in outcomes]
    screened["stage"] = [stage for _, _, stage in outcomes]
    screened["decision"] = [decision for decision, _, _ in outcomes]
    return screened


AUTOMATION, SCREENING = "automation", "screening"
INCLUDE, SCREEN, EXCLUDE = "include", "screen", "exclude"


def _outcome(row, criteria: Criteria, excluded_types: set, languages: set, patterns: dict, uncertain: dict) -> tuple[str, str, str]:
    """(decision, reason, stage): the first criterion the record fails, or why the rules
    leave it to the reviewers; ("include", "", "") when it meets them all."""
    if criteria.years:
        low, high = criteria.years
        if pd.isna(row.year):
            return EXCLUDE, "publication year unknown", AUTOMATION
        if not low <= int(row.year) <= high:
            return EXCLUDE, f"published outside {low}-{high}", AUTOMATION
    if languages:
        found = {lang.lower() for lang in _split(row.language)}
        if found and not found & languages:
            return EXCLUDE, f"language not {'/'.join(sorted(languages))}", AUTOMATION
    for kind in _split(row.publication_types):
        if kind.lower() in excluded_types:
            return EXCLUDE, f"publication type: {kind}", AUTOMATION
    text = " ".join(str(v) for v in (row.title, row.abstract, row.mesh_terms) if isinstance(v, str))
    has_abstract = isinstance(row.abstract, str) and bool(row.abstract.strip())
    doubts = []
    for group, pattern in patterns.items():
        if pattern.search(text):
            continue
        weak = uncertain[group].search(text) if group in uncertain else None
        if weak:
            doubts.append(f"{group} only as '{weak.group()}'")
        elif has_abstract:
            return EXCLUDE, f"no {group} term", SCREENING
        else:
            doubts.append(f"no {group} term in the title (no abstract)")
    if doubts:
        return SCREEN, "uncertain: " + "; ".join(doubts), SCREENING
    return INCLUDE, "", ""

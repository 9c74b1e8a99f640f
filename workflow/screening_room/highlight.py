"""A record's text as HTML with the configured criteria's terms marked."""

from __future__ import annotations

import html
import re

from workflow.literature.screen import Criteria, term_pattern


def patterns(criteria: Criteria) -> list[tuple[str, re.Pattern]]:
    """(CSS class, pattern) per concept group: ``required`` terms, then ``uncertain`` ones."""
    found = [("required", term_pattern(terms)) for terms in criteria.required_terms.values() if terms]
    return found + [("uncertain", term_pattern(terms)) for terms in criteria.uncertain_terms.values() if terms]


def highlight(text: str, marks: list[tuple[str, re.Pattern]]) -> str:
    """``text`` escaped for HTML, each term wrapped in ``<mark class=...>`` (the first pattern wins where matches overlap)."""
    spans: list[tuple[int, int, str]] = []
    for css, pattern in marks:
        for match in pattern.finditer(text):
            if match.end() > match.start() and not any(s < match.end() and match.start() < e for s, e, _ in spans):
                spans.append((match.start(), match.end(), css))
    out, last = [], 0
    for start, end, css in sorted(spans):
        out += [html.escape(text[last:start]), f'<mark class="{css}">{html.escape(text[start:end])}</mark>']
        last = end
    return "".join(out) + html.escape(text[last:])

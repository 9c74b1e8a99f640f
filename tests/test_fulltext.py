"""Reviewers' full-text decisions fill the PRISMA boxes; a malformed file gets named errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workflow.literature import fulltext
from workflow.literature.fulltext import FullTextError, read_decisions
from workflow.literature.prisma import prisma2020_template
from workflow.report import figures

REASONS = ["wrong population", "no deep learning", "not a primary study"]
CANDIDATES = {f"R{i:06d}" for i in range(1, 11)}


def _write(tmp_path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path = tmp_path / "fulltext.csv"
    pd.DataFrame(rows, columns=list(fulltext.COLUMNS)).to_csv(path, index=False)
    return path


def test_decisions_fill_every_full_text_box(tmp_path: Path):
    path = _write(tmp_path, [
        ("R000001", "yes", "yes", ""), ("R000002", "yes", "no", "no deep learning"), ("R000003", "no", "", ""),
        ("R000004", "Yes", "No", "wrong population"), ("R000005", "yes", "no", "no deep learning"),
        ("R000006", "yes", "yes", ""), ("R000006", "yes", "yes", ""),  # the same decision twice counts once
    ])
    result = fulltext.counts(read_decisions(path, CANDIDATES, REASONS))
    assert result == {
        "sought": 6, "not_retrieved": 1, "assessed": 5, "excluded": 3,
        "excluded_by_reason": {"no deep learning": 2, "wrong population": 1}, "included": 2,
    }
    counts = {
        "identified": 12, "identified_by_source": {"PubMed": 12}, "malformed_set_aside": 0, "duplicates_removed": 2,
        "excluded_automatic": 0, "excluded_automatic_by_reason": {}, "screened": 10, "excluded": 2,
        "excluded_by_reason": {"no method term": 2}, "to_screen": 3, "included": 5, "fulltext": result,
    }
    template = prisma2020_template(counts).set_index("data")["n"]
    assert template[["dbr_sought_reports", "dbr_notretrieved_reports", "dbr_assessed", "new_studies", "total_studies"]].tolist() == [6, 1, 5, 2, 2]
    assert template["dbr_excluded"] == "no deep learning, 2; wrong population, 1"
    figures.prisma_flow(counts, [tmp_path / "prisma.png", tmp_path / "prisma.svg"])
    svg = (tmp_path / "prisma.svg").read_text()
    assert "Reports assessed for eligibility" in svg and "not assessed" not in svg and "no deep learning (n = 2)" in svg


def test_without_decisions_the_full_text_boxes_say_not_assessed(tmp_path: Path):
    counts = {
        "identified": 3, "identified_by_source": {"PubMed": 3}, "malformed_set_aside": 0, "duplicates_removed": 0,
        "excluded_automatic": 0, "excluded_automatic_by_reason": {}, "screened": 3, "excluded": 1,
        "excluded_by_reason": {"no method term": 1}, "to_screen": 1, "included": 1, "fulltext": None,
    }
    template = prisma2020_template(counts).set_index("data")["n"]
    assert template["dbr_sought_reports"] == 1 and template[["dbr_assessed", "dbr_excluded", "total_studies"]].tolist() == ["", "", ""]
    figures.prisma_flow(counts, [tmp_path / "p.png", tmp_path / "p.svg"])
    assert "not assessed" in (tmp_path / "p.svg").read_text()


def test_every_problem_of_a_malformed_file_is_named_with_its_row(tmp_path: Path):
    path = _write(tmp_path, [
        ("R999999", "yes", "yes", ""),                   # row 2: not a record the rules kept
        ("R000002", "maybe", "", ""),                    # row 3
        ("R000003", "yes", "no", "too old"),             # row 4: not a configured reason
        ("R000004", "yes", "no", ""),                    # row 5: no reason
        ("R000005", "yes", "yes", ""),                   # rows 6 and 7 disagree
        ("R000005", "yes", "no", "no deep learning"),
        ("R000006", "no", "yes", ""),                    # row 8: decided without the report
    ])
    with pytest.raises(FullTextError) as error:
        read_decisions(path, CANDIDATES, REASONS)
    message = str(error.value)
    for expected in (
        "row 2: unknown record 'R999999'",
        "row 3: retrieved is 'maybe', not yes or no",
        "row 4: reason 'too old' is not one of the configured reasons",
        "row 5: reason '' is not one of the configured reasons",
        "rows 6, 7: record R000005 has conflicting decisions",
        "row 8: a report not retrieved has no full-text decision",
    ):
        assert expected in message, message
    assert message.startswith(str(path))


def test_a_file_without_the_columns_is_refused(tmp_path: Path):
    path = tmp_path / "f.csv"
    path.write_text("id,decision\nR000001,yes\n")
    with pytest.raises(FullTextError, match="no column record_id, retrieved, included, reason"):
        read_decisions(path, CANDIDATES, REASONS)

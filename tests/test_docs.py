"""The documentation's Faults table against the test suite: every test it names exists,
and its totals count the test cases those tests run."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

OPERATIONS = REPO / "docs" / "operations.md"


def _faults_section() -> str:
    text = OPERATIONS.read_text()
    return text[text.index("## Faults") : text.index("## Where results land")]


def _named_tests() -> list[str]:
    return sorted(set(re.findall(r"`(test_\w+\.py::test_\w+)`", _faults_section())))


def _functions(path: Path) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_faults_table_names_exists():
    named = _named_tests()
    assert len(named) >= 30
    missing = [name for name in named if name.split("::")[1] not in _functions(REPO / "tests" / name.split("::")[0])]
    assert missing == []


def test_the_faults_totals_count_the_cases_those_tests_run():
    node_ids = [f"tests/{name}" for name in _named_tests()]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *node_ids],
        capture_output=True, text=True, cwd=REPO,
    )
    cases = [line for line in collected.stdout.splitlines() if "::" in line]
    totals = re.search(r"Totals: (\d+) tests, (\d+) test cases", _faults_section())
    assert totals, "the Faults section states its totals"
    assert (int(totals[1]), int(totals[2])) == (len(node_ids), len(cases))

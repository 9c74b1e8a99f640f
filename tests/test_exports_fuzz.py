"""Property-based tests of the importers: real exports, cut, spliced and re-encoded at
random, must give records and rejects (every entry ending in one of them) or an
``ExportError`` naming the file, never anything else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.literature.exports import ExportError, decode, read_export

RIS = (
    "TY  - JOUR\nAU  - Ronneberger, Olaf\nAU  - Fischer, Philipp\nTI  - U-Net: Convolutional Networks for\n"
    "      Biomedical Image Segmentation\nT2  - MICCAI\nPY  - 2015\nDO  - 10.1007/978-3-319-24574-4_28\nER  - \n"
    "TY  - JOUR\nPY  - 2020\nER  - \n"
)
MEDLINE = (
    "PMID- 31045810\nTI  - Cerebral arterial air embolism after computed tomography-guided hook-wire\n"
    "      localization of a pulmonary nodule: A case report.\nLA  - eng\nPT  - Case Reports\n"
    "DP  - 2019 May\nAU  - Wang MY\nMH  - *Embolism, Air/etiology\nLID - 10.1097/MD.0000000000015437 [doi]\n\n"
)
# derandomize: the same 60 cases each run, so CI cannot fail by chance; 1,500 random cases per format also pass
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _head(path: Path, entries: int, start: str) -> str:
    """The first ``entries`` entries of a real export (entries begin at ``start``, a regex)."""
    text = path.read_text(encoding="utf-8-sig")
    starts = [m.start() for m in re.finditer(start, text, flags=re.MULTILINE)]
    return text[: starts[entries]] if len(starts) > entries else text


@pytest.fixture(scope="module")
def seeds(data_root: Path) -> dict[str, str]:
    exports = data_root / "literature_exports"
    dimensions = (exports / "DDSA_Sourget/ACDC.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    return {
        "bibtex": _head(exports / "Bibliometric-of-IA-in-Radiology/SciencedirectRadiology.bib", 6, r"^@"),
        "wos": _head(exports / "Systematic-Review-Automation/savedrecs.txt", 6, r"^PT "),
        "csv": "".join(dimensions[:12]),
        "ris": RIS * 3,
        "medline": MEDLINE * 3,
    }


@st.composite
def mutated(draw: st.DrawFn, text: str) -> bytes:
    """``text`` after a few random cuts, insertions, duplications and a random encoding."""
    noise = st.sampled_from(["{", "}", '"', ",", "\n", "@article{", "ER  - \n", "\x00", "é", "\ufeff", "  - ", ";"])
    for _ in range(draw(st.integers(0, 4))):
        i, j = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=2)))
        text = draw(st.sampled_from([
            text[:i] + text[j:],
            text[:i] + "".join(draw(st.lists(noise, max_size=5))) + text[i:],
            text[:i] + draw(st.text(max_size=20)) + text[j:],
            text[:j] + text[i:j] + text[j:],
            text[:i],
        ]))
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # bytes that no encoding expects
        k = draw(st.integers(0, len(data)))
        data = data[:k] + draw(st.binary(max_size=8)) + data[k:]
    return data


def _entries(format: str, text: str) -> int | None:
    """How many entries the format's own delimiters make of ``text``, where that is simple to count."""
    if format == "bibtex":
        return sum(m.group(1).lower() not in ("comment", "preamble", "string") for m in re.finditer(r"^@(\w+)\s*\{", text, flags=re.MULTILINE))
    return None


@pytest.mark.parametrize("format", ["bibtex", "wos", "csv", "ris", "medline"])
def test_no_mutated_export_raises_anything_but_a_named_error(seeds: dict[str, str], tmp_path: Path, format: str):
    @SETTINGS
    @given(data=mutated(seeds[format]))
    def check(data: bytes) -> None:
        path = tmp_path / f"export.{format}"
        path.write_bytes(data)
        try:
            found, rejects = read_export(path, format, "fuzz")
        except ExportError as error:
            assert str(path) in str(error)
            return
        assert all(r["title"] for r in found) and all(r["reason"] for r in rejects)
        entries = _entries(format, decode(data, path))
        if entries is not None:
            assert len(found) + len(rejects) == entries

    check()


import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from workflow.literature import records
from workflow.literature.collect import collect
from workflow.literature.dedup import deduplicate, normalise_title
from workflow.literature.exports import ExportError, read_export


@pytest.fixture(scope="session")
def exports(data_root: Path) -> Path:
    return data_root / "literature_exports"


@pytest.mark.parametrize(
    ("path", "format", "count", "with_abstract", "with_doi"),
    [
        ("Bibliometric-of-IA-in-Radiology/iaradioimagingbibtex.bib", "bibtex", 316, 0, 307),
        ("Bibliometric-of-IA-in-Radiology/SciencedirectRadiology.bib", "bibtex", 1000, 956, 1000),
        ("Systematic-Review-Automation/savedrecs.txt", "wos", 500, 498, 414),
        ("Biblio_AI_EP/savedrecs.txt", "wos", 188, 184, 177),
        ("DDSA_Sourget/Synapse.csv", "csv", 211, 208, 211),
        ("DDSA_Sourget/I2CVB.csv", "csv", 207, 190, 207),
    ],
)
def test_real_exports_are_read_whole(exports: Path, path: str, format: str, count: int, with_abstract: int, with_doi: int):
    found, rejects = read_export(exports / path, format, "test")
    assert rejects == [] and len(found) == count
    assert sum(bool(r["abstract"]) for r in found) == with_abstract
    assert sum(bool(r["doi"]) for r in found) == with_doi
    assert all(r["year"] for r in found)


def test_bibtex_fields_and_authors(exports: Path):
    found, _ = read_export(exports / "Bibliometric-of-IA-in-Radiology/iaradioimagingbibtex.bib", "bibtex", "Scopus")
    first = found[0]
    assert first["title"] == "Toward AI-supported US Triage of Women with Palpable Breast Lumps in a Low-Resource Setting"
    assert first["doi"] == "10.1148/radiol.223351" and first["year"] == 2023 and first["journal"] == "Radiology"
    assert first["authors"].startswith("Berg WA; López Aldrete AL; Jairaj A")
    assert first["publication_types"] == "Article" and first["source"] == "Scopus"


def test_web_of_science_joins_continuation_lines(exports: Path):
    found, _ = read_export(exports / "Systematic-Review-Automation/savedrecs.txt", "wos", "Web of Science")
    first = found[0]
    assert first["title"] == "Deep and machine learning techniques for medical imaging-based breast cancer: A comprehensive review"
    assert first["authors"] == "Houssein EH; Emam MM; Ali AA; Suganthan PN"
    assert first["language"] == "eng" and first["publication_types"] == "Review"


def test_shifted_dimensions_rows_are_realigned_so_authors_survive(exports: Path):
    clean, _ = read_export(exports / "DDSA_Sourget/Synapse.csv", "csv", "Dimensions")
    assert not any(r["notes"] for r in clean)
    found, rejects = read_export(exports / "DDSA_Sourget/ACDC.csv", "csv", "Dimensions")
    assert len(found) == 729 and rejects == []
    shifted = [r for r in found if r["notes"]]
    # measured: 605 rows shifted by unquoted Open Access, MeSH or Fields of Research cells; 576 name authors
    assert len(shifted) == 605 and sum(bool(r["authors"]) for r in shifted) == 576
    assert all(r["title"] and r["doi"] and 2000 <= r["year"] <= 2023 for r in shifted)
    kinds = {"Article", "Preprint", "Chapter", "Proceeding", "Edited Book", "Monograph", "Closed", "All OA", "Green", "Gold"}
    assert not any(r["authors"].strip() in kinds or r["publication_types"] not in kinds | {""} for r in found)
    by_doi = {r["doi"]: r for r in found}
    open_access = by_doi["10.1016/j.patcog.2023.109318"]  # "All OA, Hybrid" unquoted: one cell too many from there
    assert (open_access["authors"], open_access["journal"], open_access["year"]) == ("Duan J; Jia X; Bartlett J; Lu W; Qiu Z", "Pattern Recognition", 2023)
    mesh = by_doi["10.3390/s23042112"]  # six MeSH terms unquoted: the journal is lost, the authors are not
    assert mesh["authors"].startswith("Moshawrab M; Adda M") and mesh["journal"] == "" and mesh["year"] == 2023


def test_a_dimensions_row_cut_short_keeps_what_it_has(exports: Path, tmp_path: Path):
    """Found by the fuzz tests: a row with fewer cells than the header is set aside with its
    reason (no year left to read), not a crash."""
    rows = list(csv.reader(io.StringIO((exports / "DDSA_Sourget/Synapse.csv").read_text(encoding="utf-8-sig"), newline="")))
    path = tmp_path / "short.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([*rows[:2], rows[2][:6], *rows[3:5]])  # the first record stops after its title
    found, rejects = read_export(path, "csv", "Dimensions")
    assert [r["title"] for r in found] == [row[5] for row in rows[3:5]]
    assert [(r["position"], r["reason"]) for r in rejects] == [(3, "cells shifted and no publication date found")]


def test_malformed_bibtex_entry_is_set_aside_and_the_next_ones_read(exports: Path, tmp_path: Path):
    text = (exports / "Bibliometric-of-IA-in-Radiology/iaradioimagingbibtex.bib").read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^@", text, flags=re.MULTILINE)]
    second = text[starts[1] : starts[2]]
    broken = second.replace("title = {", "title = {{", 1)  # an unclosed brace in the title
    assert broken != second
    path = tmp_path / "broken.bib"
    path.write_text(text[: starts[1]] + broken + text[starts[2] :], encoding="utf-8")
    whole, _ = read_export(exports / "Bibliometric-of-IA-in-Radiology/iaradioimagingbibtex.bib", "bibtex", "Scopus")
    found, rejects = read_export(path, "bibtex", "Scopus")
    assert [r["position"] for r in rejects] == [2] and "braces not balanced" in rejects[0]["reason"]
    assert [r["title"] for r in found] == [r["title"] for r in whole[:1] + whole[2:]]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32", "latin-1", "cp1252"])
def test_exports_in_other_encodings_read_like_utf8(exports: Path, tmp_path: Path, encoding: str):
    source = exports / "Biblio_AI_EP/savedrecs.txt"
    text = source.read_text(encoding="utf-8-sig")
    if encoding in ("latin-1", "cp1252"):
        text = "".join(c for c in text if c.encode(encoding, errors="ignore"))  # what these encodings can hold
    assert any(ord(c) > 127 for c in text)  # accents to lose
    path = tmp_path / f"savedrecs-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    utf8 = tmp_path / "savedrecs-utf8.txt"
    utf8.write_text(text, encoding="utf-8")
    assert read_export(path, "wos", "x")[0] == [dict(r, source_file=str(path)) for r in read_export(utf8, "wos", "x")[0]]


def test_unreadable_exports_are_named(tmp_path: Path):
    binary = tmp_path / "export.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ExportError, match=f"{binary}: not UTF-8 and no other text encoding fits"):
        read_export(binary, "csv", "x")
    bad_bom = tmp_path / "export.ris"
    bad_bom.write_bytes(codecs.BOM_UTF16_LE + b"T\x00Y\x00\x00\xd8")  # a lone surrogate
    with pytest.raises(ExportError, match=f"{bad_bom}: starts with a utf-16 byte-order mark"):
        read_export(bad_bom, "ris", "x")
    with pytest.raises(ExportError, match="cannot be read"):
        read_export(tmp_path / "missing.bib", "bibtex", "x")


def test_ris_and_medline(tmp_path: Path):
    ris = tmp_path / "export.ris"
    ris.write_text(
        "TY  - JOUR\nAU  - Ronneberger, Olaf\nAU  - Fischer, Philipp\nTI  - U-Net: Convolutional Networks for\n"
        "      Biomedical Image Segmentation\nT2  - MICCAI\nPY  - 2015\nDO  - 10.1007/978-3-319-24574-4_28\n"
        "AB  - There is large consent that successful training of deep networks requires many samples.\nER  - \n"
        "TY  - JOUR\nPY  - 2020\nER  - \n"
    )
    found, rejects = read_export(ris, "ris", "Google Scholar")
    assert len(found) == 1 and rejects[0]["reason"] == "no title"
    assert found[0]["title"] == "U-Net: Convolutional Networks for Biomedical Image Segmentation"
    assert found[0]["authors"] == "Ronneberger O; Fischer P" and found[0]["year"] == 2015
    medline = tmp_path / "pubmed.txt"
    medline.write_text(
        "PMID- 31045810\nTI  - Cerebral arterial air embolism after computed tomography-guided hook-wire\n"
        "      localization of a pulmonary nodule: A case report.\nLA  - eng\nPT  - Case Reports\n"
        "DP  - 2019 May\nAU  - Wang MY\nMH  - *Embolism, Air/etiology\nLID - 10.1097/MD.0000000000015437 [doi]\n"
        "JT  - Medicine\n\n"
    )
    found, rejects = read_export(medline, "medline", "PubMed")
    assert rejects == [] and found[0]["pmid"] == "31045810" and found[0]["doi"] == "10.1097/MD.0000000000015437"
    assert found[0]["mesh_terms"] == "Embolism, Air" and found[0]["year"] == 2019


def test_unknown_format_is_named(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown export format 'endnote'"):
        read_export(tmp_path / "x", "endnote", "x")


def test_cross_source_records_deduplicate_by_doi_and_title(exports: Path, pubmed: Path):
    found, _ = collect(
        [pubmed / "efetch_sets/qi29_main_finding_recognition/pubmed_result.xml"],
        [{"path": str(p), "format": "csv", "source": "Dimensions"} for p in sorted((exports / "DDSA_Sourget").glob("*.csv"))],
    )
    table = records.frame(found)
    unique, audit = deduplicate(table)
    assert len(unique) + len(audit) == len(table)
    # 1,784 Dimensions rows with a DOI hold 1,626 distinct ones: 158 repeats, found by PMID or DOI
    assert audit["matched_on"].str.match("(pmid|doi) ").sum() == 158
    title_only = table.iloc[[0]].assign(record_id="X1", pmid="", doi="", source="Google Scholar", title=table.iloc[0]["title"].upper())
    unique, audit = deduplicate(pd.concat([table.iloc[[0]], title_only], ignore_index=True))
    assert len(unique) == 1 and audit.iloc[0]["matched_on"].startswith("title+year ")
    distinct = title_only.assign(doi="10.1/other")
    unique, _ = deduplicate(pd.concat([table.iloc[[0]], distinct], ignore_index=True))
    assert len(unique) == 2


def test_title_normalisation_ignores_case_accents_and_punctuation():
    assert normalise_title("Réseaux: U-Net, for CT!") == normalise_title("reseaux u net for ct")

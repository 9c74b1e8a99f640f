from pathlib import Path

import pytest

from workflow.literature.collect import collect
from workflow.literature.pubmed_xml import read_file

AIR_EMBOLISM = "efetch_sets/qi29_main_finding_recognition/pubmed_result.xml"


def test_reads_every_record_of_a_real_efetch_set(pubmed: Path):
    records, rejects = read_file(pubmed / AIR_EMBOLISM)
    assert len(records) == 121 and rejects == []
    first = records[0]
    assert first["pmid"] == "31045810"
    assert first["doi"] == "10.1097/MD.0000000000015437"
    assert first["year"] == 2019
    assert first["journal"] == "Medicine"
    assert first["title"].startswith("Cerebral arterial air embolism")
    assert first["abstract"].startswith("RATIONALE: Cranial arterial air embolism")
    assert "Case Reports" in first["publication_types"]
    assert first["authors"].split("; ")[0] == "Wang MY"
    assert sum(bool(r["abstract"]) for r in records) == 102
    assert sum(bool(r["mesh_terms"]) for r in records) == 112


def test_inline_markup_is_flattened_into_text(pubmed: Path):
    records, _ = read_file(pubmed / "biopython_Tests_Entrez/pubmed7.xml")
    (record,) = records
    assert record["abstract"] and "<" not in record["abstract"]


def test_record_without_pmid_is_set_aside_and_the_rest_kept(pubmed: Path, tmp_path: Path):
    text = (pubmed / AIR_EMBOLISM).read_text()
    broken = text.replace('<PMID Version="1">31045810</PMID>', "<PMID Version=\"1\"></PMID>", 1)
    path = tmp_path / "broken.xml"
    path.write_text(broken)
    records, rejects = read_file(path)
    assert len(records) == 120
    assert rejects == [{"source_file": str(path), "position": 1, "pmid": "", "reason": "no valid PMID (found '')"}]


def test_truncated_file_keeps_records_before_the_fault(pubmed: Path, tmp_path: Path):
    text = (pubmed / AIR_EMBOLISM).read_text()
    cut = text.index("<PubmedArticle>", len(text) // 2)
    path = tmp_path / "truncated.xml"
    path.write_text(text[: cut + 200])
    records, rejects = read_file(path)
    assert 0 < len(records) < 121
    assert len(rejects) == 1 and "not well-formed" in rejects[0]["reason"]
    assert f"{len(records)} records before it kept" in rejects[0]["reason"]


def test_html_instead_of_xml_is_rejected_with_a_reason(pubmed: Path):
    records, rejects = read_file(pubmed / "biopython_Tests_Entrez/pubmed3.html")
    assert records == [] and len(rejects) == 1
    assert rejects[0]["reason"] == "no PubmedArticle records in file (root element <html>)"


@pytest.mark.parametrize(
    "declaration",
    [
        pytest.param(' [<!ENTITY e SYSTEM "file://{secret}">]', id="external-entity"),
        pytest.param("", id="entity-only-the-unread-dtd-could-declare"),
    ],
)
def test_record_with_an_entity_reference_is_set_aside_and_the_others_read(pubmed: Path, tmp_path: Path, declaration: str):
    """The entity is not expanded, so nothing of the local file reaches a record; its record
    is set aside naming the entity, and the other 120 records of the file are read."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = (pubmed / AIR_EMBOLISM).read_text()
    text = text.replace('pubmed_190101.dtd">', f'pubmed_190101.dtd"{declaration.format(secret=secret)}>', 1)
    title = text.index("<ArticleTitle>", text.index("</PubmedArticle>")) + len("<ArticleTitle>")
    path = tmp_path / "entity.xml"
    path.write_text(text[:title] + "&e; " + text[title:])
    records, rejects = read_file(path)
    assert all("TOP-SECRET" not in str(r) for r in records + rejects)
    assert len(records) == 120 and "16923984" not in {r["pmid"] for r in records}
    reason = "entity reference &e; not expanded (no DTD or external entity is loaded)"
    assert rejects == [{"source_file": str(path), "position": 2, "pmid": "16923984", "reason": reason}]


def test_snapshot_numbers_records_across_files(pubmed: Path):
    files = sorted((pubmed / "efetch_sets/kchemorion_BioCurator").glob("*.xml"))
    records, rejects = collect(files, [])
    assert len(records) == 200 and rejects == []
    assert [r["record_id"] for r in records[:2]] == ["R000001", "R000002"]
    assert len({r["record_id"] for r in records}) == 200

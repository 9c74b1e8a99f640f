from pathlib import Path

import pandas as pd
import pytest

from workflow.literature import records
from workflow.literature.dedup import deduplicate
from workflow.literature.prisma import counts, prisma2020_template
from workflow.literature.collect import collect
from workflow.literature.screen import Criteria, screen


@pytest.fixture(scope="module")
def overlapping(pubmed: Path) -> pd.DataFrame:
    files = sorted((pubmed / "efetch_sets/kchemorion_BioCurator").glob("*.xml"))
    found, _ = collect(files, [])
    return records.frame(found)


def test_overlapping_real_sets_deduplicate_on_pmid(overlapping: pd.DataFrame):
    unique, audit = deduplicate(overlapping)
    assert len(unique) == 103 and len(audit) == 97
    assert unique["pmid"].is_unique
    assert audit["matched_on"].str.startswith("pmid ").all()
    kept = set(unique["record_id"])
    assert set(audit["duplicate_of"]) <= kept


def test_doi_duplicates_are_caught_after_pmid(overlapping: pd.DataFrame):
    table = overlapping.head(3).copy()
    table.loc[2, "pmid"] = "999"
    table.loc[2, "doi"] = "https://doi.org/" + table.loc[0, "doi"].upper()
    unique, audit = deduplicate(table)
    assert len(unique) == 2
    assert audit.iloc[0]["duplicate_of"] == table.loc[0, "record_id"]
    assert audit.iloc[0]["matched_on"] == f"doi {table.loc[0, 'doi'].lower()}"


def _table(**columns) -> pd.DataFrame:
    base = {
        "record_id": "R1", "source": "PubMed", "pmid": "1", "doi": "", "title": "", "abstract": "",
        "journal": "", "year": 2020, "authors": "", "mesh_terms": "", "publication_types": "Journal Article",
        "language": "eng", "source_file": "x.xml",
    }
    return records.frame([{**base, **columns}])


CRITERIA = Criteria(
    years=(2015, 2025),
    languages=("eng",),
    exclude_publication_types=("Case Reports",),
    required_terms={"method": ("deep learning", "U-Net"), "imaging": ("MRI", "computed tomography", "images")},
    uncertain_terms={"method": ("network",), "imaging": ("scan",)},
)


@pytest.mark.parametrize(
    ("second_authors", "merged"),
    [("", True), ("{surname}, B.; Other, C.", True), ("Someone-Else, A.; {surname}, B.", False)],
    ids=["no-authors", "same-first-author", "other-first-author"],
)
def test_title_and_year_match_only_when_first_authors_agree(overlapping: pd.DataFrame, second_authors: str, merged: bool):
    """Two records without identifiers, the same title and year: one work unless both
    name a first author and the surnames differ."""
    table = overlapping.head(2).copy()
    table.loc[1, ["title", "year"]] = table.loc[0, ["title", "year"]]
    table[["pmid", "doi"]] = ""
    surname = table.loc[0, "authors"].split(";")[0].split(",")[0]
    table.loc[1, "authors"] = second_authors.format(surname=surname)
    unique, audit = deduplicate(table)
    assert len(unique) == (1 if merged else 2)
    if merged:
        assert audit.iloc[0]["matched_on"].startswith("title+year ")


@pytest.mark.parametrize(
    ("columns", "decision", "reason"),
    [
        ({"year": 2010}, "exclude", "published outside 2015-2025"),
        ({"year": None}, "exclude", "publication year unknown"),
        ({"language": "chi"}, "exclude", "language not eng"),
        ({"publication_types": "Journal Article; Case Reports"}, "exclude", "publication type: Case Reports"),
        ({"title": "Deep learning for everything", "abstract": "We classify tweets."}, "exclude", "no imaging term"),
        ({"title": "MRI of the knee", "abstract": "A cohort study of cartilage."}, "exclude", "no method term"),
        ({"abstract": "nonMRI deep learningish"}, "exclude", "no method term"),
        ({"title": "Deep-learning segmentation", "mesh_terms": "Magnetic Resonance Imaging; MRI"}, "include", ""),
        ({"abstract": "a U-Net on computed tomography"}, "include", ""),
        ({"abstract": "a u net on Computed  Tomography"}, "include", ""),
        ({"abstract": "deep learning on cine-MRIs"}, "include", ""),  # a hyphenated compound, plural
        ({"abstract": "U-Nets for computed tomographies"}, "include", ""),  # plurals of both terms
        ({"abstract": "deep learning finds the organs in each image segment"}, "include", ""),  # "images" in the singular
        ({"abstract": "a segmentation network based on the attention mechanism, on MRI"}, "screen", "uncertain: method only as 'network'"),
        ({"abstract": "deep learning on every scan"}, "screen", "uncertain: imaging only as 'scan'"),
        ({"title": "Deep learning for everything"}, "screen", "uncertain: no imaging term in the title (no abstract)"),
    ],
)
def test_each_decision_has_its_reason(columns: dict, decision: str, reason: str):
    screened = screen(_table(**columns), CRITERIA)
    assert (screened.loc[0, "decision"], screened.loc[0, "reason"]) == (decision, reason)
    stage = "" if decision == "include" else "automation" if not reason.startswith(("no ", "uncertain")) else "screening"
    assert screened.loc[0, "stage"] == stage


def test_prisma_counts_add_up(overlapping: pd.DataFrame):
    unique, audit = deduplicate(overlapping)
    screened = screen(unique, Criteria(years=(2023, 2023)))
    rejects = pd.DataFrame([{"source_file": "f", "position": 1, "pmid": "", "reason": "x"}])
    result = counts(overlapping, rejects, audit, screened)
    assert result["identified"] == 200 and result["duplicates_removed"] == 97 and result["malformed_set_aside"] == 1
    assert result["excluded_automatic"] == result["excluded_automatic_by_reason"]["published outside 2023-2023"]
    assert result["screened"] == 103 - result["excluded_automatic"] == result["included"] + result["to_screen"] + result["excluded"]
    assert result["excluded"] == 0 and result["included"] == int((unique["year"] == 2023).sum())
    template = prisma2020_template(result).set_index("data")["n"]
    assert template["duplicates"] == 97 and template["excluded_other"] == 1
    assert template["database_results"] == "PubMed, 200" and template["dbr_assessed"] == ""


def test_record_table_round_trips_identifiers(tmp_path: Path, overlapping: pd.DataFrame):
    path = tmp_path / "records.csv"
    records.write(overlapping, path)
    again = records.read(path)
    assert again["pmid"].tolist() == overlapping["pmid"].tolist()
    assert again["year"].tolist() == overlapping["year"].tolist()

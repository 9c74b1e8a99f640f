"""PubMed retrieval against a real HTTP server on 127.0.0.1 replaying E-utilities answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from Bio import Entrez

from replay import ESEARCH_HEAD, EUtils, articles, local_urlopen, serve
from workflow.literature import pubmed_search
from workflow.literature.pubmed_search import Search, SearchError, run
from workflow.literature.collect import collect

@pytest.fixture
def eutils(pubmed: Path, monkeypatch: pytest.MonkeyPatch):
    EUtils.articles = articles(pubmed / "efetch_sets/kchemorion_BioCurator/pubmed_articles.xml")
    EUtils.count, EUtils.faults, EUtils.requests, EUtils.esearch_body, EUtils.efetch_faults = 100, [], [], None, {}
    with serve(EUtils) as base:
        monkeypatch.setattr(Entrez, "urlopen", local_urlopen(base))
        monkeypatch.setattr(pubmed_search, "BACKOFF", 0.01)
        yield EUtils


def test_records_are_fetched_in_batches_from_the_history_server(eutils, tmp_path: Path):
    summary = run(Search("deep learning", email="test@example.org", batch_size=40), tmp_path / "pubmed", tmp_path / "manifest.json")
    assert summary["count"] == summary["fetched"] == 100 and len(summary["files"]) == 3
    fetches = [r for r in eutils.requests if r["path"].endswith("efetch.fcgi")]
    assert [(r["retstart"], r["retmax"]) for r in fetches] == [("0", "40"), ("40", "40"), ("80", "20")]
    assert all(r["webenv"] == "MCID_0_99" and r["query_key"] == "1" for r in fetches)
    records, rejects = collect(summary["files"], [])
    assert len(records) == 100 and rejects == []
    assert json.loads((tmp_path / "manifest.json").read_text())["query_translation"] == "replayed"
    state = json.loads((tmp_path / "pubmed" / "search.json").read_text())
    assert state["search"]["query"] == "deep learning" and state["esearch"]["WebEnv"] == "MCID_0_99" and state["started"]


def test_rate_limit_and_server_errors_are_retried(eutils, tmp_path: Path):
    eutils.faults = [
        (429, {"Content-Type": "application/json", "Retry-After": "0"}, b'{"error":"API rate limit exceeded","count":"11"}'),
        (500, {}, b"oops"),
        (502, {}, b"bad gateway"),
    ]
    summary = run(Search("deep learning", email="test@example.org", batch_size=100), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 100 and len(eutils.requests) == 5


def test_dropped_connection_and_429_without_retry_after_are_retried(eutils, pubmed: Path, tmp_path: Path):
    body = (pubmed / "errors/ncbi_docs_example_429_body.json").read_bytes()
    eutils.faults = [(0, {}, b""), (429, {"Content-Type": "application/json"}, body), (0, {}, b"")]
    summary = run(Search("deep learning", email="test@example.org", batch_size=50), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 100 and len(eutils.requests) == 3 + 3
    records, rejects = collect(summary["files"], [])
    assert len({r["pmid"] for r in records}) == 100 and rejects == []


def test_persistent_failure_stops_and_names_the_batch(eutils, tmp_path: Path):
    eutils.faults = [(503, {}, b"down")] * 10
    with pytest.raises(SearchError, match="esearch: gave up after 5 attempts"):
        run(Search("deep learning", email="test@example.org"), tmp_path / "pubmed", tmp_path / "m.json")


def test_truncated_batch_stops_keeping_earlier_batches_and_a_rerun_resumes(eutils, tmp_path: Path):
    folder = tmp_path / "pubmed"
    search = Search("deep learning", email="test@example.org", batch_size=40)
    good = EUtils.articles
    EUtils.articles = good[:40] + [good[40][:300]] + good[41:]
    with pytest.raises(SearchError, match="efetch records 41-80: got 0 readable records of 40 .*not well-formed.*rerun to resume"):
        run(search, folder, tmp_path / "m.json")
    assert sorted(p.name for p in folder.glob("*.xml")) == ["batch_000000.xml"]
    EUtils.articles, eutils.requests = good, []
    summary = run(search, folder, tmp_path / "m.json")
    assert summary["fetched"] == 100
    assert [r["retstart"] for r in eutils.requests if r["path"].endswith("efetch.fcgi")] == ["40", "80"]


def test_error_inside_http_200_stops_with_ncbi_message(eutils, tmp_path: Path):
    eutils.esearch_body = (ESEARCH_HEAD + "<eSearchResult><ERROR>Invalid query syntax</ERROR></eSearchResult>").encode()
    with pytest.raises(SearchError, match="NCBI rejected the query 'x\\[zz\\]': Invalid query syntax"):
        run(Search("x[zz]", email="test@example.org"), tmp_path / "pubmed", tmp_path / "m.json")


def test_html_instead_of_xml_is_an_error_that_keeps_earlier_batches(eutils, pubmed: Path, tmp_path: Path):
    html = (pubmed / "biopython_Tests_Entrez/pubmed3.html").read_bytes()
    eutils.esearch_body = html
    with pytest.raises(SearchError, match="esearch did not answer with E-utilities XML"):
        run(Search("x", email="test@example.org"), tmp_path / "a", tmp_path / "m.json")
    eutils.esearch_body = None
    eutils.efetch_faults = {"50": html}
    with pytest.raises(SearchError, match=r"efetch records 51-100: got 0 readable records of 50 \(no PubmedArticle records in file \(root element <html>\)\)"):
        run(Search("deep learning", email="test@example.org", batch_size=50), tmp_path / "b", tmp_path / "m.json")
    assert [p.name for p in (tmp_path / "b").glob("*.xml")] == ["batch_000000.xml"]


def test_zero_hits_give_an_empty_snapshot(eutils, tmp_path: Path):
    eutils.count = 0
    summary = run(Search("abcXYZ", email="test@example.org"), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 0 and summary["files"] == []


def test_searches_above_the_esearch_cap_are_split_into_date_windows(eutils, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pubmed_search, "MAX_RESULTS", 30)
    search = Search("deep learning", email="test@example.org", batch_size=20, mindate="2023", maxdate="2023/04")
    summary = run(search, tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["count"] == summary["fetched"] == 100
    windows = summary["windows"]
    assert all(w["count"] <= 30 for w in windows) and sum(w["count"] for w in windows) == 100
    assert windows[0]["mindate"] == "2023/01/01" and windows[-1]["maxdate"] == "2023/04/30"
    records, _ = collect(summary["files"], [])
    assert [r["pmid"] for r in records] == [re.search(r"<PMID[^>]*>(\d+)", a).group(1) for a in eutils.articles]


def test_a_single_day_above_the_cap_is_refused(eutils, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pubmed_search, "MAX_RESULTS", 0)
    with pytest.raises(SearchError, match="on the single day 2023/01/01: narrow the query"):
        run(Search("x", email="test@example.org", mindate="2023/01/01", maxdate="2023/01/01"), tmp_path / "p", tmp_path / "m.json")


def test_api_key_is_sent_but_never_written(eutils, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NCBI_API_KEY", "secret-key-123")
    run(Search("deep learning", email="test@example.org", batch_size=100), tmp_path / "pubmed", tmp_path / "m.json")
    assert all(r.get("api_key") == "secret-key-123" for r in eutils.requests)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"secret-key-123" not in path.read_bytes(), path

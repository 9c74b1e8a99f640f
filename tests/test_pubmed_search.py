"""PubMed retrieval against a real HTTP server on 127.0.0.1 replaying E-utilities answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from Bio import Entrez

from replay import ESEARCH_HEAD, EUtils, Fault, articles, local_urlopen, pubmed_set, serve
from workflow.literature import pubmed_search
from workflow.literature.pubmed_search import Search, SearchError, run
from workflow.literature.collect import collect

# NCBI's answer when the history server has lost a WebEnv (shape of a real efetch error, values ours)
EFETCH_ERROR = b"""<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE eEfetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">
<eFetchResult>
	<ERROR>Cannot retrieve history data. query_key: 1, WebEnv: MCID_0_99, retstart: 40, retmax: 20</ERROR>
	<ERROR>Can't fetch uids from history because of: NCBI C++ Exception:
    Error: UNK_MODULE(CException::eInvalid) "UNK_FILE", line 18446744073709551615: UNK_FUNC ---
</ERROR>
</eFetchResult>
"""


@pytest.fixture
def eutils(pubmed: Path, monkeypatch: pytest.MonkeyPatch):
    EUtils.articles = articles(pubmed / "efetch_sets/kchemorion_BioCurator/pubmed_articles.xml")
    EUtils.count, EUtils.faults, EUtils.requests, EUtils.esearch_body = 100, [], [], None
    with serve(EUtils) as base:
        monkeypatch.setattr(Entrez, "urlopen", local_urlopen(base))
        monkeypatch.setattr(pubmed_search, "BACKOFF", 0.01)
        yield EUtils


TRANSIENT = ["dropped connection", "connection dropped mid-answer", "429 with Retry-After", "429 without Retry-After", "500", "502", "503"]


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
        Fault("esearch", 429, b'{"error":"API rate limit exceeded","count":"11"}', {"Content-Type": "application/json", "Retry-After": "0"}),
        Fault("esearch", 500, b"oops"),
        Fault("esearch", 502, b"bad gateway"),
    ]
    summary = run(Search("deep learning", email="test@example.org", batch_size=100), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 100 and len(eutils.requests) == 5


def test_dropped_connection_and_429_without_retry_after_are_retried(eutils, pubmed: Path, tmp_path: Path):
    body = (pubmed / "errors/ncbi_docs_example_429_body.json").read_bytes()
    eutils.faults = [Fault("esearch", 0), Fault("esearch", 429, body, {"Content-Type": "application/json"}), Fault("esearch", 0)]
    summary = run(Search("deep learning", email="test@example.org", batch_size=50), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 100 and len(eutils.requests) == 3 + 3
    records, rejects = collect(summary["files"], [])
    assert len({r["pmid"] for r in records}) == 100 and rejects == []


@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_transient_fault_in_a_middle_batch_is_retried_and_every_record_arrives(eutils, pubmed: Path, tmp_path: Path, kind: str):
    eutils.faults = [_transient(kind, pubmed)]
    summary = run(Search("deep learning", email="test@example.org", batch_size=20), tmp_path / "pubmed", tmp_path / "m.json")
    assert eutils.faults == [] and _efetched(eutils) == ["0", "20", "40", "40", "60", "80"]
    records, rejects = collect(summary["files"], [])
    assert summary["count"] == summary["fetched"] == len({r["pmid"] for r in records}) == 100 and rejects == []


@pytest.mark.parametrize(
    "kind, message",
    [
        pytest.param("truncated XML", r"got \d+ readable records of 20 \(XML not well-formed", id="truncated XML"),
        pytest.param(
            "HTML page", r"got 0 readable records of 20 \(no PubmedArticle records in file \(root element <html>\)\)", id="HTML page"
        ),
        pytest.param(
            "<ERROR> in an HTTP 200 answer",
            r"NCBI answered with an error: Cannot retrieve history data\. query_key: 1, WebEnv: MCID_0_99, retstart: 40, "
            r"retmax: 20; Can't fetch uids from history because of: NCBI C\+\+ Exception: Error: UNK_MODULE",
            id="<ERROR> in an HTTP 200 answer",
        ),
    ],
)
def test_a_bad_answer_to_a_middle_batch_stops_naming_it_and_a_rerun_fetches_only_the_rest(
    eutils, pubmed: Path, tmp_path: Path, kind: str, message: str
):
    eutils.faults = [_bad_answer(kind, pubmed)]
    folder, search = tmp_path / "pubmed", Search("deep learning", email="test@example.org", batch_size=20)
    with pytest.raises(SearchError, match=f"^efetch records 41-60: {message}.*; batches already fetched are kept, rerun to resume$"):
        run(search, folder, tmp_path / "m.json")
    assert _efetched(eutils) == ["0", "20", "40"]
    assert sorted(p.name for p in folder.iterdir()) == ["batch_000000.xml", "batch_000020.xml", "search.json"]
    eutils.requests = []
    summary = run(search, folder, tmp_path / "m.json")
    assert _efetched(eutils) == ["40", "60", "80"]
    records, _ = collect(summary["files"], [])
    assert summary["fetched"] == len({r["pmid"] for r in records}) == 100


@pytest.mark.parametrize("at, batch", [("esearch", "esearch"), ("efetch 40", "efetch records 41-60")], ids=["esearch", "efetch"])
def test_persistent_failure_stops_and_names_the_batch(eutils, tmp_path: Path, at: str, batch: str):
    eutils.faults = [Fault(at, 503, b"down")] * 10
    with pytest.raises(SearchError, match=f"^{batch}: gave up after 5 attempts"):
        run(Search("deep learning", email="test@example.org", batch_size=20), tmp_path / "pubmed", tmp_path / "m.json")
    assert len(eutils.faults) == 5


@pytest.mark.parametrize("api_key, limit", [(None, 3), ("secret-key-123", 10)], ids=["without an API key", "with an API key"])
def test_no_second_holds_more_requests_than_ncbi_allows_retries_included(
    eutils, pubmed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_key: str | None, limit: int
):
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    if api_key:
        monkeypatch.setenv("NCBI_API_KEY", api_key)
    eutils.faults = [_transient(kind, pubmed) for kind in ("dropped connection", "500", "429 with Retry-After")]
    summary = run(Search("deep learning", email="test@example.org", batch_size=10), tmp_path / "pubmed", tmp_path / "m.json")
    times = [r["time"] for r in eutils.requests]
    assert summary["fetched"] == 100 and len(times) == 1 + 10 + 3
    assert max(sum(t <= u < t + 1 for u in times) for t in times) <= limit


def test_retry_after_is_waited_even_when_the_backoff_is_shorter(eutils, pubmed: Path, tmp_path: Path):
    eutils.faults = [_transient("429 with Retry-After", pubmed, retry_after="1")]
    run(Search("deep learning", email="test@example.org", batch_size=20), tmp_path / "pubmed", tmp_path / "m.json")
    refused, retried = [r["time"] for r in eutils.requests if r.get("retstart") == "40"]
    assert retried - refused >= 1.0 > pubmed_search.BACKOFF


def test_html_instead_of_xml_from_esearch_is_an_error(eutils, pubmed: Path, tmp_path: Path):
    eutils.esearch_body = (pubmed / "biopython_Tests_Entrez/pubmed3.html").read_bytes()
    with pytest.raises(SearchError, match="esearch did not answer with E-utilities XML"):
        run(Search("x", email="test@example.org"), tmp_path / "a", tmp_path / "m.json")


def test_error_inside_http_200_stops_with_ncbi_message(eutils, tmp_path: Path):
    eutils.esearch_body = (ESEARCH_HEAD + "<eSearchResult><ERROR>Invalid query syntax</ERROR></eSearchResult>").encode()
    with pytest.raises(SearchError, match="NCBI rejected the query 'x\\[zz\\]': Invalid query syntax"):
        run(Search("x[zz]", email="test@example.org"), tmp_path / "pubmed", tmp_path / "m.json")


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


def _transient(kind: str, pubmed: Path, retry_after: str = "0") -> Fault:
    """A fault of ``kind`` (one of TRANSIENT) at efetch retstart 40; a 429 carries NCBI's documented body."""
    if kind == "dropped connection":
        return Fault("efetch 40", 0)
    if kind == "connection dropped mid-answer":  # the headers announce the whole batch; half of it comes
        body = pubmed_set(EUtils.articles[40:60])
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        return Fault("efetch 40", 0, head + body[: len(body) // 2])
    if kind.startswith("429"):
        body = (pubmed / "errors/ncbi_docs_example_429_body.json").read_bytes()
        wait = {"Retry-After": retry_after} if kind == "429 with Retry-After" else {}
        return Fault("efetch 40", 429, body, {"Content-Type": "application/json", **wait})
    return Fault("efetch 40", int(kind), f"<html><body>HTTP {kind}</body></html>".encode(), {"Content-Type": "text/html"})


def _bad_answer(kind: str, pubmed: Path) -> Fault:
    """An HTTP 200 answer to efetch retstart 40 that holds no whole batch: cut short, an HTML page, or NCBI's <ERROR>."""
    if kind == "truncated XML":
        body = pubmed_set(EUtils.articles[40:60])
        return Fault("efetch 40", 200, body[: len(body) // 2])
    if kind == "HTML page":
        return Fault("efetch 40", 200, (pubmed / "biopython_Tests_Entrez/pubmed3.html").read_bytes(), {"Content-Type": "text/html"})
    return Fault("efetch 40", 200, EFETCH_ERROR)


def _efetched(eutils) -> list[str]:
    """The retstart of each efetch request, in order."""
    return [r["retstart"] for r in eutils.requests if r["path"].endswith("efetch.fcgi")]

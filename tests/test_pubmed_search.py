"""PubMed retrieval against a real HTTP server on 127.0.0.1 replaying E-utilities answers."""

from __future__ import annotations

import calendar
import json
import re
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from Bio import Entrez

from replay import ReplayHandler, serve
from workflow.literature import pubmed_search
from workflow.literature.pubmed_search import Search, SearchError, run
from workflow.literature.collect import collect

ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
SET_HEAD = '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2023//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_230101.dtd">\n<PubmedArticleSet>\n'


DAY0 = date(2023, 1, 1)


def _day(value: str, last: bool) -> date:
    """PubMed's date forms (YYYY, YYYY/MM, YYYY/MM/DD) as the first or last day covered."""
    parts = [int(p) for p in value.split("/")]
    year, month = parts[0], parts[1] if len(parts) > 1 else (12 if last else 1)
    day = parts[2] if len(parts) > 2 else (calendar.monthrange(year, month)[1] if last else 1)
    return date(year, month, day)


class EUtils(ReplayHandler):
    """esearch answers with a count and a history key; efetch slices real PubmedArticles.

    Article k counts as published on DAY0 + k days, so date-window searches select real
    subsets; the WebEnv names the window that efetch then serves.
    """

    articles: list[str] = []
    count = 0
    faults: list[tuple[int, dict, bytes]] = []  # answers served before normal ones
    esearch_body: bytes | None = None
    efetch_faults: dict[str, bytes] = {}  # retstart -> body served instead of the records
    requests: list[dict] = []

    def _answer(self) -> None:
        url = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query + "&" + self.rfile.read(length).decode()).items()}
        type(self).requests.append({"path": url.path, **params})
        if self.faults:
            status, headers, body = self.faults.pop(0)
            return self.send(status, body, {"Content-Type": "text/xml", **headers})
        if url.path.endswith("esearch.fcgi"):
            first = (_day(params["mindate"], last=False) - DAY0).days if "mindate" in params else 0
            last = (_day(params["maxdate"], last=True) - DAY0).days if "maxdate" in params else self.count - 1
            first, last = max(first, 0), min(last, self.count - 1)
            count = max(last - first + 1, 0)
            body = self.esearch_body or (
                f"{ESEARCH_HEAD}<eSearchResult><Count>{count}</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
                f"<QueryKey>1</QueryKey><WebEnv>MCID_{first}_{last}</WebEnv><IdList></IdList>"
                "<TranslationSet/><QueryTranslation>replayed</QueryTranslation></eSearchResult>"
            ).encode()
            return self.send(200, body, {"Content-Type": "text/xml"})
        if params["retstart"] in self.efetch_faults:
            return self.send(200, self.efetch_faults[params["retstart"]], {"Content-Type": "text/html"})
        first, last = (int(v) for v in params["webenv"].split("_")[1:])
        selected = self.articles[first : last + 1]
        start, size = int(params["retstart"]), int(params["retmax"])
        body = SET_HEAD + "\n".join(selected[start : start + size]) + "\n</PubmedArticleSet>\n"
        self.send(200, body.encode(), {"Content-Type": "text/xml"})

    do_GET = do_POST = _answer


@pytest.fixture
def eutils(pubmed: Path, monkeypatch: pytest.MonkeyPatch):
    text = (pubmed / "efetch_sets/kchemorion_BioCurator/pubmed_articles.xml").read_text()
    EUtils.articles = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S)
    EUtils.count, EUtils.faults, EUtils.requests, EUtils.esearch_body, EUtils.efetch_faults = 100, [], [], None, {}
    real_urlopen = urllib.request.urlopen
    with serve(EUtils) as base:
        host = urllib.parse.urlsplit(base).netloc

        def local(request, *args, **kwargs):  # Bio.Entrez's own seam: same request, local host
            parts = urllib.parse.urlsplit(request.full_url)
            request.full_url = urllib.parse.urlunsplit(("http", host, *parts[2:]))
            return real_urlopen(request, *args, **kwargs)

        monkeypatch.setattr(Entrez, "urlopen", local)
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


def test_rate_limit_and_server_errors_are_retried(eutils, tmp_path: Path):
    eutils.faults = [
        (429, {"Content-Type": "application/json", "Retry-After": "0"}, b'{"error":"API rate limit exceeded","count":"11"}'),
        (500, {}, b"oops"),
        (502, {}, b"bad gateway"),
    ]
    summary = run(Search("deep learning", email="test@example.org", batch_size=100), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 100 and len(eutils.requests) == 5


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

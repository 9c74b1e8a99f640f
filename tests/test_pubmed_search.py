"""PubMed retrieval against a real HTTP server on 127.0.0.1 replaying E-utilities answers."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from Bio import Entrez

from workflow.literature import pubmed_search
from workflow.literature.pubmed_search import Search, SearchError, run
from workflow.literature.pubmed_xml import read_snapshot

ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
SET_HEAD = '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2023//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_230101.dtd">\n<PubmedArticleSet>\n'


class EUtils(BaseHTTPRequestHandler):
    """esearch answers with a count and a history key; efetch slices real PubmedArticles."""

    articles: list[str] = []
    count = 0
    faults: list[tuple[int, dict, bytes]] = []  # answers served before normal ones
    esearch_body: bytes | None = None
    requests: list[dict] = []

    def _answer(self) -> None:
        url = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query + "&" + self.rfile.read(length).decode()).items()}
        type(self).requests.append({"path": url.path, **params})
        if self.faults:
            status, headers, body = self.faults.pop(0)
            return self._send(status, body, headers.get("Content-Type", "text/xml"), headers)
        if url.path.endswith("esearch.fcgi"):
            body = self.esearch_body or (
                f"{ESEARCH_HEAD}<eSearchResult><Count>{self.count}</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
                "<QueryKey>1</QueryKey><WebEnv>MCID_replay</WebEnv><IdList></IdList>"
                "<TranslationSet/><QueryTranslation>replayed</QueryTranslation></eSearchResult>"
            ).encode()
            return self._send(200, body, "text/xml")
        start, size = int(params["retstart"]), int(params["retmax"])
        body = SET_HEAD + "\n".join(self.articles[start : min(start + size, self.count)]) + "\n</PubmedArticleSet>\n"
        self._send(200, body.encode(), "text/xml")

    do_GET = do_POST = _answer

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            if key != "Content-Type":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def eutils(pubmed: Path, monkeypatch: pytest.MonkeyPatch):
    text = (pubmed / "efetch_sets/kchemorion_BioCurator/pubmed_articles.xml").read_text()
    EUtils.articles = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S)
    EUtils.count, EUtils.faults, EUtils.requests, EUtils.esearch_body = 100, [], [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), EUtils)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real_urlopen = urllib.request.urlopen

    def local(request, *args, **kwargs):  # Bio.Entrez's own seam: same request, local host
        parts = urllib.parse.urlsplit(request.full_url)
        request.full_url = urllib.parse.urlunsplit(("http", f"127.0.0.1:{server.server_port}", *parts[2:]))
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(Entrez, "urlopen", local)
    monkeypatch.setattr(pubmed_search, "BACKOFF", 0.01)
    yield EUtils
    server.shutdown()


def test_records_are_fetched_in_batches_from_the_history_server(eutils, tmp_path: Path):
    summary = run(Search("deep learning", email="test@example.org", batch_size=40), tmp_path / "pubmed", tmp_path / "manifest.json")
    assert summary["count"] == summary["fetched"] == 100 and len(summary["files"]) == 3
    fetches = [r for r in eutils.requests if r["path"].endswith("efetch.fcgi")]
    assert [(r["retstart"], r["retmax"]) for r in fetches] == [("0", "40"), ("40", "40"), ("80", "20")]
    assert all(r["webenv"] == "MCID_replay" and r["query_key"] == "1" for r in fetches)
    records, rejects = read_snapshot(summary["files"])
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


def test_zero_hits_give_an_empty_snapshot(eutils, tmp_path: Path):
    eutils.count = 0
    summary = run(Search("abcXYZ", email="test@example.org"), tmp_path / "pubmed", tmp_path / "m.json")
    assert summary["fetched"] == 0 and summary["files"] == []


def test_searches_above_the_esearch_cap_are_refused(eutils, tmp_path: Path):
    eutils.count = 42249
    with pytest.raises(SearchError, match="matches 42249 records"):
        run(Search("cancer", email="test@example.org"), tmp_path / "pubmed", tmp_path / "m.json")


def test_api_key_is_sent_but_never_written(eutils, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NCBI_API_KEY", "secret-key-123")
    run(Search("deep learning", email="test@example.org", batch_size=100), tmp_path / "pubmed", tmp_path / "m.json")
    assert all(r.get("api_key") == "secret-key-123" for r in eutils.requests)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"secret-key-123" not in path.read_bytes(), path

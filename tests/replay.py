"""Real HTTP servers on 127.0.0.1 for tests and benchmarks of network code.

``EUtils`` replays NCBI E-utilities: esearch answers with a count and a history key,
efetch serves real PubmedArticle records, a :class:`Fault` replaces the answer to a chosen
request, and each request's arrival time is recorded; ``local_urlopen`` points Bio.Entrez
at it through ``Bio.Entrez.urlopen``, the seam Biopython's own tests use.
"""

from __future__ import annotations

import calendar
import contextlib
import re
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator


class ReplayHandler(BaseHTTPRequestHandler):
    """Base handler: subclasses decide the answer and call :meth:`send`."""

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(handler: type[ReplayHandler]) -> Iterator[str]:
    """Run ``handler`` on a free local port; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # polls for shutdown every 0.05 s
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
SET_HEAD = '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2023//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_230101.dtd">\n<PubmedArticleSet>\n'


DAY0 = date(2023, 1, 1)


def pubmed_set(selected: list[str]) -> bytes:
    """An efetch answer holding the given PubmedArticle elements."""
    return (SET_HEAD + "\n".join(selected) + "\n</PubmedArticleSet>\n").encode()


@dataclass
class Fault:
    """An answer served, once, instead of the normal one to the first request ``at`` names.

    ``at`` is ``"esearch"`` or ``"efetch <retstart>"``; status 0 writes ``body`` as raw
    bytes (nothing, or the start of an answer) and drops the connection.
    """

    at: str
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


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
    faults: list[Fault] = []  # each serves one request, then is gone
    esearch_body: bytes | None = None
    requests: list[dict] = []  # each request's parameters, path and arrival ("time", time.monotonic())
    min_interval = 0.0  # seconds; a request sooner than this after the last one gets 429
    last_request = 0.0
    rate_limited = 0

    def _answer(self) -> None:
        now = time.monotonic()
        url = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query + "&" + self.rfile.read(length).decode()).items()}
        type(self).requests.append({"path": url.path, "time": now, **params})
        previous, type(self).last_request = type(self).last_request, now
        if now - previous < self.min_interval:
            type(self).rate_limited += 1
            return self.send(429, b'{"error":"API rate limit exceeded"}', {"Content-Type": "application/json"})
        esearch = url.path.endswith("esearch.fcgi")
        fault = self._take_fault("esearch" if esearch else f"efetch {params['retstart']}")
        if fault and fault.status == 0:
            self.wfile.write(fault.body)
            self.close_connection = True
            return None
        if fault:
            return self.send(fault.status, fault.body, {"Content-Type": "text/xml", **fault.headers})
        if esearch:
            return self._esearch(params)
        first, last = (int(v) for v in params["webenv"].split("_")[1:])
        start, size = int(params["retstart"]), int(params["retmax"])
        self.send(200, pubmed_set(self.articles[first : last + 1][start : start + size]), {"Content-Type": "text/xml"})

    def _take_fault(self, at: str) -> Fault | None:
        """Remove and return the first fault waiting for a request at ``at``."""
        for index, fault in enumerate(self.faults):
            if fault.at == at:
                return self.faults.pop(index)
        return None

    def _esearch(self, params: dict[str, str]) -> None:
        first = (_day(params["mindate"], last=False) - DAY0).days if "mindate" in params else 0
        last = (_day(params["maxdate"], last=True) - DAY0).days if "maxdate" in params else self.count - 1
        first, last = max(first, 0), min(last, self.count - 1)
        count = max(last - first + 1, 0)
        body = self.esearch_body or (
            f"{ESEARCH_HEAD}<eSearchResult><Count>{count}</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
            f"<QueryKey>1</QueryKey><WebEnv>MCID_{first}_{last}</WebEnv><IdList></IdList>"
            "<TranslationSet/><QueryTranslation>replayed</QueryTranslation></eSearchResult>"
        ).encode()
        self.send(200, body, {"Content-Type": "text/xml"})

    do_GET = do_POST = _answer


def articles(path: str | Path) -> list[str]:
    """The PubmedArticle elements of an efetch file, as text."""
    return re.findall(r"<PubmedArticle>.*?</PubmedArticle>", Path(path).read_text(), flags=re.S)


def local_urlopen(base: str) -> Callable:
    """A stand-in for ``Bio.Entrez.urlopen`` that sends the same request to ``base``."""
    host = urllib.parse.urlsplit(base).netloc
    real_urlopen = urllib.request.urlopen

    def urlopen(request, *args, **kwargs):
        parts = urllib.parse.urlsplit(request.full_url)
        request.full_url = urllib.parse.urlunsplit(("http", host, *parts[2:]))
        return real_urlopen(request, *args, **kwargs)

    return urlopen

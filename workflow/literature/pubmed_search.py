"""Search PubMed through NCBI E-utilities (``Bio.Entrez``) into a frozen, resumable snapshot.

``esearch`` runs with ``usehistory`` and the records are fetched in batches with ``efetch``
from the history server; a search above esearch's 9,999-record cap is split into
publication-date windows that each stay under it. Each batch is written atomically as its own XML file,
so a rerun after a failure fetches only the batches that are missing; a manifest records
the query, date, count and parameters (never the API key). Every request, retries included,
keeps NCBI's rate limit (3 requests/s, 10 with a key) with room to spare: Bio.Entrez's own
spacing (exactly 0.1 s with a key) lets 11 requests arrive within one second. Retries with
exponential backoff, honouring ``Retry-After``, are done here because Bio.Entrez retries
without waiting. An ``<ERROR>`` that NCBI puts in an HTTP 200 answer is quoted.
"""

from __future__ import annotations

import calendar
import http.client
import json
import math
import os
import time
import urllib.error
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, TypeVar

from Bio import Entrez
from tqdm import tqdm

from ..errors import DataError
from .pubmed_xml import read_file

API_KEY_ENV = "NCBI_API_KEY"
MAX_RESULTS = 9999  # esearch returns at most retstart + retmax <= 9,999 records
EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"  # where Bio.Entrez sends its requests
BACKOFF = 1.0  # seconds before the first retry; doubled for each further one
RATE_LIMIT = {False: 3, True: 10}  # requests per second NCBI allows without and with an API key
HEADROOM = 1.1  # requests start 1.1 / limit s apart, so arrival jitter cannot fit limit + 1 into a second
T = TypeVar("T")


class SearchError(DataError):
    """The search cannot be completed as asked."""


@dataclass(frozen=True)
class Search:
    query: str
    email: str = ""
    batch_size: int = 500
    mindate: str = ""
    maxdate: str = ""


class _Pace:
    """Spaces the starts of requests to keep NCBI's rate limit (monotonic clock)."""

    def __init__(self) -> None:
        self.last = -math.inf

    def wait(self) -> None:
        """Sleep until the next request may start; every attempt, retries included, calls this."""
        interval = HEADROOM / RATE_LIMIT[bool(Entrez.api_key)]
        time.sleep(max(self.last + interval - time.monotonic(), 0.0))
        self.last = time.monotonic()


_pace = _Pace()


def _retrying(call: Callable[[], T], what: str, attempts: int = 5) -> T:
    """Run ``call``, waiting and retrying on HTTP 429/5xx, dropped connections and timeouts."""
    for attempt in range(attempts):
        _pace.wait()
        try:
            return call()
        except urllib.error.HTTPError as error:
            if error.code != 429 and error.code < 500:
                raise SearchError(f"{what}: HTTP {error.code} {error.reason}") from error
            retry_after = error.headers.get("Retry-After") if error.headers else None
            wait = float(retry_after) if retry_after and retry_after.isdigit() else BACKOFF * 2**attempt
            last: Exception = error
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as error:
            wait, last = BACKOFF * 2**attempt, error
        if attempt + 1 < attempts:
            time.sleep(wait)
    raise SearchError(
        f"{what}: gave up after {attempts} attempts ({last}). Check the connection to {EUTILS}; offline, "
        "point DLMIA_DATA at a data folder holding a PubMed snapshot (literature.snapshot)"
    )


def _configure(search: Search) -> None:
    Entrez.email = search.email or None
    Entrez.tool = "dlmia"
    Entrez.api_key = os.environ.get(API_KEY_ENV) or None
    Entrez.max_tries = 1  # retries (with waiting) are ours


def _esearch(search: Search) -> dict:
    params = {"db": "pubmed", "term": search.query, "usehistory": "y", "retmax": 0}
    if search.mindate or search.maxdate:
        params.update(datetype="pdat", mindate=search.mindate or "1800", maxdate=search.maxdate or "3000")

    def call() -> dict:
        with Entrez.esearch(**params) as handle:
            return Entrez.read(handle)

    try:
        return _retrying(call, "esearch")
    except SearchError:
        raise
    except RuntimeError as error:  # NCBI's <ERROR> inside an HTTP 200 answer
        raise SearchError(f"NCBI rejected the query {search.query!r}: {error}") from error
    except ValueError as error:  # Bio.Entrez: not XML (an HTML error page), or cut short
        raise SearchError(f"esearch did not answer with E-utilities XML ({type(error).__name__}: {error})") from error


def _efetch(result: dict, start: int, size: int) -> bytes:
    def call() -> bytes:
        with Entrez.efetch(
            db="pubmed", retmode="xml", retstart=start, retmax=size,
            webenv=result["WebEnv"], query_key=result["QueryKey"],
        ) as handle:
            data = handle.read()
        return data.encode() if isinstance(data, str) else data

    return _retrying(call, f"efetch records {start + 1}-{start + size}")


def _fetch_batch(result: dict, start: int, size: int, path: Path) -> None:
    """Fetch one batch, check it is whole, then move it into place."""
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(_efetch(result, start, size))
    records, rejects = read_file(partial)
    broken = any("not well-formed" in r["reason"] or "no PubmedArticle" in r["reason"] for r in rejects)
    if broken or len(records) + len(rejects) != size:
        message = _ncbi_error(partial)
        partial.unlink()
        reasons = "; ".join(r["reason"] for r in rejects) or "short batch"
        found = f"NCBI answered with an error: {message}" if message else f"got {len(records)} readable records of {size} ({reasons})"
        raise SearchError(f"efetch records {start + 1}-{start + size}: {found}; batches already fetched are kept, rerun to resume")
    os.replace(partial, path)


def _ncbi_error(path: Path) -> str:
    """The text of the <ERROR> elements under the root of an E-utilities answer ('' if none or not XML)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return ""
    return "; ".join(" ".join("".join(error.itertext()).split()) for error in root.findall("ERROR"))


def _day(value: str, last: bool) -> date:
    """'2015', '2015/06' or '2015/06/30' as the first (or last) day it covers."""
    parts = [int(p) for p in value.split("/")] if value else []
    if not parts:
        return date.today() if last else date(1800, 1, 1)
    year, month, day = (parts + [0, 0])[:3]
    if day:
        return date(year, month, day)
    if month:
        return date(year, month, calendar.monthrange(year, month)[1] if last else 1)
    return date(year, 12, 31) if last else date(year, 1, 1)


def _windows(search: Search, result: dict) -> list[tuple[Search, dict]]:
    """Publication-date windows of ``search``, each within the esearch cap, covering it whole."""
    count = int(result["Count"])
    if count <= MAX_RESULTS:
        return [(search, result)]
    first, last = _day(search.mindate, last=False), _day(search.maxdate, last=True)
    if first >= last:
        raise SearchError(f"{count} records on the single day {first:%Y/%m/%d}: narrow the query")
    middle = first + (last - first) // 2
    halves = [
        replace(search, mindate=f"{first:%Y/%m/%d}", maxdate=f"{middle:%Y/%m/%d}"),
        replace(search, mindate=f"{middle + timedelta(days=1):%Y/%m/%d}", maxdate=f"{last:%Y/%m/%d}"),
    ]
    return [window for half in halves for window in _windows(half, _esearch(half))]


def _fetch_window(search: Search, result: dict, folder: Path, bar: tqdm) -> dict[str, int]:
    """Fetch one window's records into ``folder``, skipping batches already there.

    Returns each batch file with its record count (checked as fetched, or read again for
    a batch that an earlier run left).
    """
    folder.mkdir(parents=True, exist_ok=True)
    count = int(result["Count"])
    state = folder / "search.json"
    expected = {"search": asdict(search), "count": count}
    if state.exists():
        previous = json.loads(state.read_text())
        if {k: previous[k] for k in expected} != expected:
            raise SearchError(
                f"{folder} holds batches of another search ({previous['search']['query']!r}, "
                f"{previous['count']} records); remove it to start this one"
            )
    else:
        esearch = {k: str(result.get(k, "")) for k in ("Count", "QueryKey", "WebEnv", "QueryTranslation")}
        state.write_text(json.dumps({**expected, "esearch": esearch, "started": _now()}, indent=2))
    files: dict[str, int] = {}
    for start in range(0, count, search.batch_size):
        size = min(search.batch_size, count - start)
        path = folder / f"batch_{start:06d}.xml"
        if path.exists():
            found, rejected = read_file(path)
            files[str(path)] = len(found) + len(rejected)
        else:
            _fetch_batch(result, start, size, path)
            files[str(path)] = size
        bar.update(files[str(path)])
    return files


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def run(search: Search, folder: str | Path, manifest: str | Path) -> dict:
    """Fetch every record of ``search`` into ``folder``; write and return the manifest.

    A search above PubMed's 9,999-record cap is split into publication-date windows, each
    fetched into a sub-folder of its own.
    """
    folder = Path(folder)
    _configure(search)
    whole = _esearch(search)
    total = int(whole["Count"])
    windows = _windows(search, whole)
    files: dict[str, int] = {}
    with tqdm(total=total, unit="records", desc="PubMed") as bar:
        for window, result in windows:
            where = folder if len(windows) == 1 else folder / f"{window.mindate}-{window.maxdate}".replace("/", "")
            files.update(_fetch_window(window, result, where, bar))
    fetched = sum(files.values())
    if fetched != total:
        raise SearchError(f"fetched {fetched} records, esearch reported {total}; rerun to fetch the rest")
    summary = {
        "search": asdict(search),
        "count": total,
        "query_translation": whole.get("QueryTranslation", ""),
        "windows": [{"mindate": w.mindate, "maxdate": w.maxdate, "count": int(r["Count"])} for w, r in windows],
        "fetched": fetched,
        "files": list(files),
        "finished": _now(),
    }
    Path(manifest).write_text(json.dumps(summary, indent=2))
    return summary

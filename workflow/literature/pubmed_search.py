"""Search PubMed through NCBI E-utilities (``Bio.Entrez``) into a frozen, resumable snapshot.

``esearch`` runs once with ``usehistory`` and the records are fetched in batches with
``efetch`` from the history server. Each batch is written atomically as its own XML file,
so a rerun after a failure fetches only the batches that are missing; a manifest records
the query, date, count and parameters (never the API key). Bio.Entrez keeps NCBI's rate
limit (3 requests/s, 10 with a key); retries with exponential backoff, honouring
``Retry-After``, are done here because Bio.Entrez retries without waiting.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, TypeVar

from Bio import Entrez
from tqdm import tqdm

from .pubmed_xml import read_file

API_KEY_ENV = "NCBI_API_KEY"
MAX_RESULTS = 9999  # esearch returns at most retstart + retmax <= 9,999 records
BACKOFF = 1.0  # seconds before the first retry; doubled for each further one
T = TypeVar("T")


class SearchError(RuntimeError):
    """The search cannot be completed as asked."""


@dataclass(frozen=True)
class Search:
    query: str
    email: str = ""
    batch_size: int = 500
    mindate: str = ""
    maxdate: str = ""


def _retrying(call: Callable[[], T], what: str, attempts: int = 5) -> T:
    """Run ``call``, waiting and retrying on HTTP 429/5xx, dropped connections and timeouts."""
    for attempt in range(attempts):
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
    raise SearchError(f"{what}: gave up after {attempts} attempts ({last})")


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
    except RuntimeError as error:  # NCBI's <ERROR> inside an HTTP 200 answer
        if isinstance(error, SearchError):
            raise
        raise SearchError(f"NCBI rejected the query {search.query!r}: {error}") from error


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
    broken = [r["reason"] for r in rejects if "not well-formed" in r["reason"]]
    if broken or len(records) + len(rejects) != size:
        partial.unlink()
        raise SearchError(
            f"efetch records {start + 1}-{start + size}: got {len(records)} readable records of {size} "
            f"({'; '.join(broken) or 'short batch'}); batches already fetched are kept, rerun to resume"
        )
    os.replace(partial, path)


def run(search: Search, folder: str | Path, manifest: str | Path) -> dict:
    """Fetch every record of ``search`` into ``folder``; write and return the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _configure(search)
    result = _esearch(search)
    count = int(result["Count"])
    if count > MAX_RESULTS:
        raise SearchError(
            f"the query matches {count} records; PubMed returns at most {MAX_RESULTS} per search. "
            "Narrow it, or set literature.pubmed.mindate/maxdate to fetch it in date ranges"
        )
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
        state.write_text(json.dumps({**expected, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))

    files, fetched = [], 0
    with tqdm(total=count, unit="records", desc="PubMed") as bar:
        for start in range(0, count, search.batch_size):
            size = min(search.batch_size, count - start)
            path = folder / f"batch_{start:06d}.xml"
            if not path.exists():
                _fetch_batch(result, start, size, path)
            records, rejects = read_file(path)
            n = len(records) + len(rejects)
            fetched += n
            files.append(str(path))
            bar.update(n)
    if fetched != count:
        raise SearchError(f"fetched {fetched} records, esearch reported {count}")
    summary = {
        **expected,
        "query_translation": result.get("QueryTranslation", ""),
        "fetched": fetched,
        "files": files,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(manifest).write_text(json.dumps(summary, indent=2))
    return summary

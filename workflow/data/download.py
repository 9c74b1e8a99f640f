"""Downloading a public dataset file: retried, resumed, checked, then moved into place.

The file is written beside its final name (``name.part``) and takes that name only once
it holds every byte the server announced and its MD5 (or another digest, where that is
what a source publishes) is the published one, so an interrupted or corrupt transfer
never leaves a file that looks complete. HTTP 429 and
5xx answers, dropped connections, timeouts and transfers that stop short are retried
with exponential backoff (a ``Retry-After`` header is honoured); a transfer that stopped
short resumes from the bytes it has when the server accepts a ``Range`` request. Other
HTTP errors (403, 404...) and a checksum mismatch stop at once.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from pathlib import Path

from ..errors import DataError


class DownloadError(DataError):
    """A download failed; the message names the URL, the destination and the cause."""


class _ShortTransfer(ConnectionError):
    """The connection closed before the announced number of bytes arrived."""


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    return checksum(path, "md5", chunk)


def checksum(path: str | os.PathLike, algorithm: str, chunk: int = 1 << 20) -> str:
    """The hex digest of a file by any ``hashlib`` algorithm (``md5``, ``sha256``...)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    url: str,
    dest: str | os.PathLike,
    md5: str,
    label: str,
    attempts: int = 4,
    timeout: float = 60.0,
    backoff: float = 2.0,
    algorithm: str = "md5",
) -> Path:
    """Fetch ``url`` to ``dest`` and check it against ``md5`` (the published digest, by
    ``algorithm`` where a source publishes another); raise :class:`DownloadError` naming
    both when every attempt failed (nothing is then left under ``dest``). A ``dest`` that
    already holds the published digest (kept by an attempt that stopped after its
    transfer) is returned as it is."""
    dest = Path(dest)
    if dest.is_file() and checksum(dest, algorithm) == md5:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    partial.unlink(missing_ok=True)  # a leftover of another process: its bytes are not trusted
    for attempt in range(1, attempts + 1):
        wait = backoff * 2 ** (attempt - 1)
        try:
            _transfer(url, partial, timeout, label)
        except urllib.error.HTTPError as error:
            cause = f"HTTP Error {error.code}: {error.reason}"
            if error.code != 429 and error.code < 500:
                break
            wait = max(wait, _retry_after(error))
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as error:
            cause = str(getattr(error, "reason", None) or error)
        else:
            actual = checksum(partial, algorithm)
            if actual == md5:
                os.replace(partial, dest)
                return dest
            cause = f"{algorithm} {actual} does not match the official {md5}"
            break
        if attempt < attempts:
            time.sleep(wait)
    partial.unlink(missing_ok=True)
    raise DownloadError(f"downloading {url} to {dest} failed after {attempt} attempt(s): {cause}")


def place_folder(extracted: str | os.PathLike, target: str | os.PathLike) -> None:
    """Write an ``MD5SUMS`` of every file under ``extracted`` (a folder beside ``target``)
    and rename it to ``target``, so the folder appears complete or not at all."""
    extracted = Path(extracted)
    files = sorted(p for p in extracted.rglob("*") if p.is_file())
    (extracted / "MD5SUMS").write_text("".join(f"{md5sum(p)}  {p.relative_to(extracted)}\n" for p in files))
    os.replace(extracted, target)


def _retry_after(error: urllib.error.HTTPError) -> float:
    """Seconds a 429/503 answer asks to wait (``Retry-After``: seconds or an HTTP date); 0 if none."""
    value = error.headers.get("Retry-After") if error.headers else None
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


def _transfer(url: str, partial: Path, timeout: float, label: str) -> None:
    """Append the rest of ``url`` to ``partial`` (resuming by ``Range`` where it can); raise
    :class:`_ShortTransfer` if the connection closes before the announced length."""
    from tqdm import tqdm

    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have and response.status == 206
        mode, start = ("ab", have) if resumed else ("wb", 0)
        remaining = int(response.headers.get("Content-Length") or 0) or None
        received = 0
        with open(partial, mode) as out, tqdm(total=remaining and start + remaining, initial=start, unit="B", unit_scale=True, desc=label) as bar:
            while block := response.read(1 << 20):
                out.write(block)
                received += len(block)
                bar.update(len(block))
    if remaining is not None and received < remaining:
        raise _ShortTransfer(f"the connection closed after {start + received:,} of {start + remaining:,} bytes")

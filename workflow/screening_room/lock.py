"""One server per review file: an exclusive lock on ``<review>.lock``, released when the process ends however it ends."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .store import ReviewError


@contextmanager
def only_server(review: str | Path) -> Iterator[None]:
    """Hold the review's lock for the block; a second holder gets a ``ReviewError`` naming the file and the first one's pid."""
    path = Path(f"{review}.lock")
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise ReviewError(f"{review}: another screening room server (pid {handle.read().strip() or '?'}) has this review open; stop it or use it") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield

"""Send a job's output and any traceback to its Snakemake log file."""

from __future__ import annotations

import contextlib
import sys
import traceback
from pathlib import Path
from typing import Iterator

from .errors import DataError


@contextlib.contextmanager
def log_to(path: str) -> Iterator[None]:
    """Redirect output to ``path``. A :class:`DataError` (missing, corrupt or undownloadable
    input) ends the job with its message alone, in the log and on the job's stderr; any
    other exception is logged with its traceback and raised."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as log:
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield
        except DataError as error:
            for stream in (log, sys.stderr):
                print(f"error: {error}", file=stream, flush=True)
            raise SystemExit(1) from None
        except Exception:
            traceback.print_exc(file=log)
            raise

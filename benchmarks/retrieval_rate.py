"""PubMed retrieval time against NCBI's rate-limit floor, on a local replay server.

The replay server (tests/replay.py) serves real PubmedArticle records and answers 429
to any request that comes sooner than 1/3 s after the previous one, as NCBI does without
an API key. The floor is the time the requests need at exactly 3 per second:
(requests - 1) / 3 s. The ratio measured / floor shows what the client adds.

    DLMIA_DATA=/path/to/data .venv/bin/python benchmarks/retrieval_rate.py [--records 2000 --batch 200]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from Bio import Entrez  # noqa: E402
from replay import EUtils, articles, local_urlopen, serve  # noqa: E402

from workflow.literature.pubmed_search import Search, run  # noqa: E402

RATE = 3.0  # requests per second without an API key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    real = articles(Path(os.environ["DLMIA_DATA"]) / "pubmed/efetch_sets/kchemorion_BioCurator/pubmed_articles.xml")
    EUtils.articles = [
        re.sub(r'(<PMID Version="1">)(\d+)', lambda m, i=i: f"{m.group(1)}{i}{m.group(2)}", real[i % len(real)], count=1)
        for i in range(args.records)
    ]
    EUtils.count, EUtils.min_interval = args.records, 1 / RATE
    requests = 1 + math.ceil(args.records / args.batch)
    with serve(EUtils) as base, mock.patch.object(Entrez, "urlopen", local_urlopen(base)), tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("NCBI_API_KEY", None)
        began = time.perf_counter()
        summary = run(Search("replayed", email="benchmark@example.org", batch_size=args.batch), Path(tmp) / "pubmed", Path(tmp) / "m.json")
        seconds = time.perf_counter() - began
    floor = (requests - 1) / RATE
    print(json.dumps({
        "records": summary["fetched"],
        "batch_size": args.batch,
        "requests": len(EUtils.requests),
        "requests_needed": requests,
        "answered_429": EUtils.rate_limited,
        "seconds": round(seconds, 2),
        "rate_limit_floor_seconds": round(floor, 2),
        "ratio_to_floor": round(seconds / floor, 2),
    }, indent=2))


if __name__ == "__main__":
    main()

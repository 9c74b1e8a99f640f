"""Parse and deduplicate 100,000 PubMed records, against baselines run in the same process.

The records are the real efetch sets under $DLMIA_DATA/pubmed/efetch_sets, replicated
with altered PMIDs and DOIs; one copy in ten keeps the original identifiers, so the
deduplication has real work. Baselines: Biopython's ``Entrez.read`` for parsing, and
pandas ``drop_duplicates`` on PMID then DOI (no audit, no title pass) for deduplication.

    DLMIA_DATA=/path/to/data .venv/bin/python benchmarks/literature_scale.py [--records 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from Bio import Entrez  # noqa: E402

from workflow.literature import records  # noqa: E402
from workflow.literature.collect import collect  # noqa: E402
from workflow.literature.dedup import deduplicate  # noqa: E402

HEAD = '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2023//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_230101.dtd">\n<PubmedArticleSet>\n'


def replicate(sources: list[Path], n: int, path: Path) -> None:
    articles = [a for s in sources for a in re.findall(r"<PubmedArticle>.*?</PubmedArticle>", s.read_text(), flags=re.S)]
    with open(path, "w") as out:
        out.write(HEAD)
        for i in range(n):
            article = articles[i % len(articles)]
            copy = i // len(articles)
            if copy % 10:  # altered identifiers: a new record
                article = re.sub(r'(<PMID Version="1">)(\d+)', lambda m: f"{m.group(1)}{copy}{m.group(2)}", article, count=1)
                article = re.sub(r'(EIdType="doi"[^>]*>)([^<]+)', lambda m: f"{m.group(1)}{m.group(2)}.{copy}", article)
                article = re.sub(r'(IdType="doi">)([^<]+)', lambda m: f"{m.group(1)}{m.group(2)}.{copy}", article)
            out.write(article + "\n")
        out.write("</PubmedArticleSet>\n")


def timed(function, *args):
    began = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - began


def biopython_parse(path: Path) -> int:
    with open(path, "rb") as handle:
        return len(Entrez.read(handle)["PubmedArticle"])


def pandas_dedup(table):
    table = table.drop_duplicates("pmid")
    with_doi = table[table["doi"] != ""]
    return len(table[table["doi"] == ""]) + len(with_doi.drop_duplicates("doi"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    data = Path(os.environ["DLMIA_DATA"]) / "pubmed" / "efetch_sets"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.xml"
        replicate(sorted(data.glob("*/*.xml")), args.records, path)
        (found, rejects), ours_parse = timed(collect, [path], [])
        baseline_count, baseline_parse = timed(biopython_parse, path)
        table = records.frame(found).fillna({"doi": "", "pmid": ""})
        (unique, audit), ours_dedup = timed(deduplicate, table)
        baseline_unique, baseline_dedup = timed(pandas_dedup, table)
    result = {
        "records": len(found),
        "rejects": len(rejects),
        "unique": len(unique),
        "parse_seconds": round(ours_parse, 2),
        "parse_records_per_second": round(len(found) / ours_parse),
        "biopython_parse_seconds": round(baseline_parse, 2),
        "parse_speedup_vs_biopython": round(baseline_parse / ours_parse, 2),
        "dedup_seconds": round(ours_dedup, 2),
        "pandas_dedup_seconds": round(baseline_dedup, 3),
        "dedup_cost_vs_pandas_keys_only": round(ours_dedup / baseline_dedup, 1),
        "same_unique_as_baseline_on_ids": baseline_unique == len(unique) + int(audit["matched_on"].str.startswith("title").sum()),
        "total_seconds": round(ours_parse + ours_dedup, 2),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }
    assert baseline_count == len(found), (baseline_count, len(found))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

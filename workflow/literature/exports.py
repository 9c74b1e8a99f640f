"""Import exports of other bibliographic databases into the tidy record table.

Formats: BibTeX (Scopus, ScienceDirect), RIS, Web of Science plain text (full records,
``savedrecs.txt``), CSV (Scopus, Dimensions, or any table with title/abstract/DOI/year
columns, e.g. Google Scholar through Publish or Perish) and PubMed's MEDLINE text
(``Bio.Medline``). Every reader returns ``(records, rejects)`` like the PubMed reader:
an entry without a title is rejected with its reason. A CSV row whose cells are shifted
(unquoted multi-valued cells, as in some Dimensions exports) keeps only the columns that
come before the fault plus the first publication date after it, and says so in ``notes``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Callable

from .records import LIST_SEPARATOR

FORMATS = ("bibtex", "ris", "wos", "csv", "medline")
LANGUAGES = {"english": "eng", "chinese": "chi", "german": "ger", "french": "fre", "spanish": "spa", "japanese": "jpn", "portuguese": "por", "russian": "rus", "italian": "ita", "korean": "kor"}
_YEAR = re.compile(r"(1[89]|20)\d{2}")


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()


def _year(value: str) -> int | None:
    match = _YEAR.search(value or "")
    return int(match.group()) if match else None


def _language(value: str) -> str:
    value = _clean(value)
    return LANGUAGES.get(value.lower(), value)


def _record(source: str, path: Path, **fields) -> dict:
    record = {
        "source": source, "pmid": "", "doi": "", "title": "", "abstract": "", "journal": "",
        "year": None, "authors": "", "mesh_terms": "", "publication_types": "", "language": "",
        "notes": "", "source_file": str(path),
    }
    record.update({k: v for k, v in fields.items() if v not in (None, "")})
    return record


def _reject(path: Path, position: int, reason: str, pmid: str = "") -> dict:
    return {"source_file": str(path), "position": position, "pmid": pmid, "reason": reason}


def _keep(records: list, rejects: list, path: Path, position: int, record: dict) -> None:
    if record["title"]:
        records.append(record)
    else:
        rejects.append(_reject(path, position, "no title", record["pmid"]))


# BibTeX ----------------------------------------------------------------------------


def _bibtex_entries(text: str) -> list[tuple[str, dict[str, str]]]:
    """(entry type, fields) for each ``@type{key, name = {value}, ...}`` entry."""
    entries = []
    for match in re.finditer(r"^@(\w+)\s*\{", text, flags=re.MULTILINE):
        kind, position, depth = match.group(1).lower(), match.end(), 1
        end = position
        while end < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        body = text[position : end - 1]
        fields: dict[str, str] = {}
        for field in re.finditer(r"(\w[\w-]*)\s*=\s*", body):
            start = field.end()
            if start < len(body) and body[start] == "{":
                depth, cursor = 1, start + 1
                while cursor < len(body) and depth:
                    depth += {"{": 1, "}": -1}.get(body[cursor], 0)
                    cursor += 1
                value = body[start + 1 : cursor - 1]
            elif start < len(body) and body[start] == '"':
                cursor = body.find('"', start + 1)
                value = body[start + 1 : cursor]
            else:
                value = re.match(r"[^,\n]*", body[start:]).group()
            fields.setdefault(field.group(1).lower(), value)
        entries.append((kind, fields))
    return entries


def _names(value: str, separator: str) -> str:
    """Author lists as 'Surname Initials' joined like PubMed's."""
    people = []
    for person in (p.strip() for p in value.split(separator) if p.strip()):
        if "," in person:
            last, first = (part.strip() for part in person.split(",", 1))
        else:
            *firsts, last = person.split()
            first = " ".join(firsts)
        if re.fullmatch(r"[A-Z]{1,4}", first):  # already initials, as Web of Science writes them
            initials = first
        else:
            initials = "".join(w[0] for w in re.split(r"[\s.-]+", first) if w)
        people.append(f"{_clean(last)} {initials}".strip())
    return LIST_SEPARATOR.join(people)


def read_bibtex(path: Path, source: str) -> tuple[list[dict], list[dict]]:
    records, rejects = [], []
    text = path.read_text(encoding="utf-8-sig")
    for position, (kind, fields) in enumerate(_bibtex_entries(text), start=1):
        if kind in ("comment", "preamble", "string"):
            continue
        record = _record(
            fields.get("source", source) if source == "auto" else source, path,
            doi=_clean(fields.get("doi", "")), title=_clean(fields.get("title", "")),
            abstract=_clean(fields.get("abstract", "")), journal=_clean(fields.get("journal", fields.get("booktitle", ""))),
            year=_year(fields.get("year", "")), authors=_names(fields.get("author", ""), " and "),
            publication_types=_clean(fields.get("type", "")), language=_language(fields.get("language", "")),
        )
        _keep(records, rejects, path, position, record)
    return records, rejects


# Tagged formats: RIS, Web of Science, MEDLINE -----------------------------------------


def _tagged(path: Path, tag: str, end: str, continuation: str) -> list[dict[str, list[str]]]:
    """Records of a tagged text format as {tag: [values]}; continuation lines join the last."""
    entries, current, last = [], {}, None
    pattern = re.compile(tag)
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        match = pattern.match(line)
        if match:
            last = match.group(1)
            if last == end:
                entries.append(current)
                current, last = {}, None
                continue
            current.setdefault(last, []).append((match.group(2) or "").strip())
        elif last and line.startswith(continuation) and line.strip():
            current[last].append(line.strip())
    if current:
        entries.append(current)
    return entries


def read_ris(path: Path, source: str) -> tuple[list[dict], list[dict]]:
    records, rejects = [], []
    for position, tags in enumerate(_tagged(path, r"^([A-Z][A-Z0-9])  -\s?(.*)$", "ER", "      "), start=1):
        first = lambda *keys: next((" ".join(tags[k]) for k in keys if tags.get(k)), "")  # noqa: E731
        record = _record(
            source, path, doi=first("DO"), title=first("TI", "T1"), abstract=" ".join(tags.get("AB", tags.get("N2", []))),
            journal=first("T2", "JO", "JF", "J2"), year=_year(first("PY", "Y1", "DA")),
            authors=_names(";".join(tags.get("AU", tags.get("A1", []))), ";"),
            publication_types=first("M3", "TY"), language=_language(first("LA")),
            pmid=next((v for v in tags.get("AN", []) if v.isdigit()), ""),
        )
        _keep(records, rejects, path, position, record)
    return records, rejects


def read_wos(path: Path, source: str) -> tuple[list[dict], list[dict]]:
    records, rejects = [], []
    entries = _tagged(path, r"^([A-Z][A-Z0-9])(?: (.*))?$", "ER", "   ")
    file_tags = {"FN", "VR", "EF"}  # file header and end, not record fields
    for position, tags in enumerate((t for t in entries if set(t) - file_tags), start=1):
        text = lambda key, sep=" ": sep.join(tags.get(key, []))  # noqa: E731
        record = _record(
            source, path, doi=text("DI"), title=text("TI"), abstract=text("AB"), journal=text("SO"),
            year=_year(text("PY")) or _year(text("EA")), authors=_names(";".join(tags.get("AU", [])), ";"),
            publication_types=text("DT").replace("; ", LIST_SEPARATOR), language=_language(text("LA")),
            pmid=text("PM"), mesh_terms=text("DE"),
        )
        _keep(records, rejects, path, position, record)
    return records, rejects


def read_medline(path: Path, source: str) -> tuple[list[dict], list[dict]]:
    from Bio import Medline

    records, rejects = [], []
    with open(path, encoding="utf-8-sig") as handle:
        for position, entry in enumerate(Medline.parse(handle), start=1):
            doi = next((i.split(" [")[0] for i in entry.get("AID", []) + entry.get("LID", "").split("\n") if i.endswith("[doi]")), "")
            record = _record(
                source, path, pmid=entry.get("PMID", ""), doi=doi, title=entry.get("TI", ""), abstract=entry.get("AB", ""),
                journal=entry.get("JT", entry.get("TA", "")), year=_year(entry.get("DP", "")),
                authors=LIST_SEPARATOR.join(entry.get("AU", [])), mesh_terms=LIST_SEPARATOR.join(m.split("/")[0].lstrip("*") for m in entry.get("MH", [])),
                publication_types=LIST_SEPARATOR.join(entry.get("PT", [])), language=LIST_SEPARATOR.join(entry.get("LA", [])),
            )
            _keep(records, rejects, path, position, record)
    return records, rejects


# CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = {
    "title": ("title", "article title"),
    "abstract": ("abstract",),
    "doi": ("doi",),
    "pmid": ("pmid", "pubmed id", "pubmedid"),
    "year": ("pubyear", "year", "publication year", "py"),
    "journal": ("source title", "source", "journal", "publication"),
    "authors": ("authors", "author"),
    "publication_types": ("document type", "publication type", "type"),
    "mesh_terms": ("mesh terms",),
    "language": ("language of original document", "language"),
}
_DATE = re.compile(r"^(1[89]|20)\d{2}(-\d{2}(-\d{2})?)?$")


def read_csv(path: Path, source: str) -> tuple[list[dict], list[dict]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header_at = next((i for i, row in enumerate(rows[:5]) if any(c.strip().lower() in ("title", "article title") for c in row)), None)
    if header_at is None:
        return [], [_reject(path, 0, "no header row with a Title column in the first 5 lines")]
    header = [c.strip().lower() for c in rows[header_at]]
    named = max(i for i, c in enumerate(header) if c) + 1
    index = {field: next((header.index(n) for n in names if n in header), None) for field, names in CSV_COLUMNS.items()}
    if index["title"] is None:
        return [], [_reject(path, 0, "no Title column")]
    records, rejects = [], []
    for position, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(cell.strip() for cell in row):
            continue
        cell = lambda field: row[index[field]].strip() if index[field] is not None and index[field] < len(row) else ""  # noqa: E731
        year_cell = cell("year")
        shifted = any(c.strip() for c in row[named:]) or (year_cell and not re.fullmatch(r"\d{4}", year_cell))
        fields = {f: cell(f) for f in CSV_COLUMNS}
        notes = ""
        if shifted:
            reliable = index["title"] if index["abstract"] is None else index["abstract"]
            fields = {f: (v if index[f] is not None and index[f] <= reliable else "") for f, v in fields.items()}
            date = next((c for c in row[reliable + 1 :] if _DATE.match(c.strip())), None)
            if date is None:
                rejects.append(_reject(path, position, "cells shifted after the abstract and no publication date found", fields["pmid"]))
                continue
            fields["year"] = date.strip()[:4]
            notes = (
                f"row has {len(row)} cells for {named} columns (unquoted cells shifted it somewhere after "
                f"'{header[reliable]}'): kept the columns up to '{header[reliable]}' and the year of the "
                "first publication date after it"
            )
        authors = _names(fields["authors"], ";") if ";" in fields["authors"] else fields["authors"]
        record = _record(
            source, path,
            **{**fields, "year": _year(fields["year"]), "authors": authors, "language": _language(fields["language"]), "notes": notes},
        )
        _keep(records, rejects, path, position, record)
    return records, rejects


READERS: dict[str, Callable[[Path, str], tuple[list[dict], list[dict]]]] = {
    "bibtex": read_bibtex, "ris": read_ris, "wos": read_wos, "csv": read_csv, "medline": read_medline,
}


def read_export(path: str | Path, format: str, source: str) -> tuple[list[dict], list[dict]]:
    """Records and rejects from one export file in the named format."""
    if format not in READERS:
        raise ValueError(f"unknown export format {format!r}; known: {', '.join(FORMATS)}")
    return READERS[format](Path(path), source)

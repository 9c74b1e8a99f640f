"""Import exports of other bibliographic databases into the tidy record table.

Formats: BibTeX (Scopus, ScienceDirect), RIS, Web of Science plain text (full records,
``savedrecs.txt``), CSV (Scopus, Dimensions, or any table with title/abstract/DOI/year
columns, e.g. Google Scholar through Publish or Perish) and PubMed's MEDLINE text
(``Bio.Medline``). Every reader returns ``(records, rejects)`` like the PubMed reader:
an entry without a title, or a BibTeX entry whose braces do not close before the next
entry, is rejected with its reason and the entries after it are read. Files are decoded
by their byte-order mark (UTF-8, UTF-16, UTF-32), else as UTF-8, else in the encoding
``charset_normalizer`` detects (Latin-1, Windows-1252, ...); a file that cannot be read
as text raises :class:`ExportError` naming it.

A CSV row whose cells are shifted (unquoted multi-valued cells, as Dimensions writes its
Open Access and Fields of Research columns) is realigned: the columns before the fault
are read where they are, those after it at the offset where a recognisable cell (the row's
Dimensions URL) sits, each side as far as its cells look like their columns (years,
dates, counts, links); what lies between is left empty and ``notes`` says so.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Callable

import charset_normalizer

from ..errors import DataError
from .records import LIST_SEPARATOR

FORMATS = ("bibtex", "ris", "wos", "csv", "medline")
LANGUAGES = {"english": "eng", "chinese": "chi", "german": "ger", "french": "fre", "spanish": "spa", "japanese": "jpn", "portuguese": "por", "russian": "rus", "italian": "ita", "korean": "kor"}
_YEAR = re.compile(r"(1[89]|20)\d{2}")


class ExportError(DataError):
    """An export file that cannot be read as text or as its format; the message names it."""


_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def read_text(path: Path) -> str:
    """The text of an export file (see :func:`decode`)."""
    try:
        return decode(path.read_bytes(), path)
    except OSError as error:
        raise ExportError(f"{path}: cannot be read ({error.strerror})") from None


def decode(data: bytes, path: Path) -> str:
    """The bytes of ``path`` as text: decoded by their byte-order mark, else as UTF-8,
    else in the encoding detected from them."""
    for bom, encoding in _BOMS:  # UTF-32 first: its little-endian mark starts like UTF-16's
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise ExportError(f"{path}: starts with a {encoding} byte-order mark but byte {error.start} is not {encoding}; save it again as UTF-8") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise ExportError(f"{path}: not UTF-8 and no other text encoding fits (a binary file?); export it again as UTF-8 text")
    return str(best)


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


_ENTRY = re.compile(r"^@(\w+)\s*\{", flags=re.MULTILINE)


def _bibtex_entries(text: str) -> list[tuple[str, dict[str, str] | None]]:
    """(entry type, fields) for each ``@type{key, name = {value}, ...}`` entry; fields are
    None for an entry whose braces do not close before the next entry starts."""
    entries = []
    starts = list(_ENTRY.finditer(text))
    for match, following in zip(starts, [*starts[1:], None]):
        kind, position, depth = match.group(1).lower(), match.end(), 1
        limit = following.start() if following else len(text)
        end = position
        while end < limit and depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        if depth:
            entries.append((kind, None))
            continue
        entries.append((kind, _bibtex_fields(text[position : end - 1])))
    return entries


def _bibtex_fields(body: str) -> dict[str, str]:
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
            value = body[start + 1 : cursor if cursor >= 0 else len(body)]
        else:
            value = re.match(r"[^,\n]*", body[start:]).group()
        fields.setdefault(field.group(1).lower(), value)
    return fields


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
    for position, (kind, fields) in enumerate(_bibtex_entries(read_text(path)), start=1):
        if kind in ("comment", "preamble", "string"):
            continue
        if fields is None:
            rejects.append(_reject(path, position, f"@{kind} entry: braces not balanced before the next entry"))
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
    for line in read_text(path).splitlines():
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
    with io.StringIO(read_text(path)) as handle:
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
_DAY_PATTERN = r"(1[89]|20)\d{2}(-\d{2}(-\d{2})?)?"
_DATE = re.compile(rf"^{_DAY_PATTERN}$")
_COUNT, _NUMBER, _LINK, _DAY = r"\d*", r"(\d+(\.\d+)?)?", r"(https?://\S+)?", rf"({_DAY_PATTERN})?"
# What a cell of a Dimensions column looks like, for realigning shifted rows.
_DIMENSIONS_CELLS = {
    "doi": r"(10\.\S+)?", "pmid": _COUNT, "publication date": _DAY, "pubyear": r"(1[89]|20)\d{2}",
    "publication date (online)": _DAY, "publication date (print)": _DAY,
    "open access": r"Closed|All OA(; (Gold|Green|Hybrid|Bronze))*",
    "publication type": r"Article|Preprint|Chapter|Proceeding|Edited Book|Monograph",
    "times cited": _COUNT, "recent citations": _COUNT, "rcr": _NUMBER, "fcr": _NUMBER,
    "source linkout": _LINK, "dimensions url": r"https://app\.dimensions\.ai/\S+",
}


def _realign(row: list[str], header: list[str]) -> tuple[dict[int, str], str]:
    """The cells of a shifted Dimensions row that can be placed, by column index, and a note.

    Left of the fault the cells stand where they belong, up to the last checkable column
    (``_DIMENSIONS_CELLS``, or the abstract, which Dimensions quotes) before the first one
    that does not fit; right of it they stand
    at the one offset where the Dimensions URL fits, back to the first checkable column
    that does not fit there. Columns in between are left empty.
    """
    checked = [j for j, name in enumerate(header) if name in _DIMENSIONS_CELLS]
    fits = lambda j, d: 0 <= j + d < len(row) and re.fullmatch(_DIMENSIONS_CELLS[header[j]], row[j + d].strip()) is not None  # noqa: E731
    anchor = checked[-1]
    first_bad = next((j for j in checked if not fits(j, 0)), None)
    if first_bad is None:  # only cells after the last checkable column are out of place
        return {j: row[j] for j in range(min(anchor + 1, len(row)))}, f"kept the columns up to '{header[anchor]}'"
    left_end = max((j for j in checked if j < first_bad), default=-1)
    if "abstract" in header and header.index("abstract") < first_bad:  # title and abstract come quoted
        left_end = max(left_end, header.index("abstract"))
    placed = {j: row[j] for j in range(min(left_end + 1, len(row)))}  # a short row ends early
    kept = f"kept the columns up to '{header[left_end]}' in place" if left_end >= 0 else "kept no column in place"
    offsets = [d for d in range(-anchor, len(row) - anchor) if d and fits(anchor, d)]
    if len(offsets) != 1:
        return placed, kept
    offset, right_start = offsets[0], anchor
    for j in reversed([j for j in checked if first_bad <= j <= anchor]):
        if not fits(j, offset):
            break
        right_start = j
    placed.update({j: row[j + offset] for j in range(right_start, anchor + 1)})
    side = "right" if offset > 0 else "left"
    return placed, f"{kept} and those from '{header[right_start]}' to '{header[anchor]}' {abs(offset)} cell(s) to the {side}"


def read_csv(path: Path, source: str) -> tuple[list[dict], list[dict]]:
    try:
        rows = list(csv.reader(io.StringIO(read_text(path), newline="")))
    except csv.Error as error:
        raise ExportError(f"{path}: not readable as CSV ({error})") from None
    header_at = next((i for i, row in enumerate(rows[:5]) if any(c.strip().lower() in ("title", "article title") for c in row)), None)
    if header_at is None:
        return [], [_reject(path, 0, "no header row with a Title column in the first 5 lines")]
    header = [c.strip().lower() for c in rows[header_at]]
    named = max(i for i, c in enumerate(header) if c) + 1
    header = header[:named]
    index = {field: next((header.index(n) for n in names if n in header), None) for field, names in CSV_COLUMNS.items()}
    if index["title"] is None:
        return [], [_reject(path, 0, "no Title column")]
    dimensions = "dimensions url" in header
    records, rejects = [], []
    for position, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(cell.strip() for cell in row):
            continue
        year_cell = row[index["year"]].strip() if index["year"] is not None and index["year"] < len(row) else ""
        shifted = any(c.strip() for c in row[named:]) or bool(year_cell and not re.fullmatch(r"\d{4}", year_cell))
        if dimensions and not shifted:
            shifted = any(re.fullmatch(pattern, row[header.index(name)].strip() if header.index(name) < len(row) else "") is None
                          for name, pattern in _DIMENSIONS_CELLS.items() if name in header)
        notes = ""
        if not shifted:
            cells = dict(enumerate(row[:named]))
        elif dimensions:
            cells, kept = _realign(row, header)
            notes = f"row has {len(row)} cells for {named} columns, shifted by unquoted cells: {kept}"
        else:
            reliable = index["title"] if index["abstract"] is None else index["abstract"]
            cells = {j: row[j] for j in range(reliable + 1)}
            notes = f"row has {len(row)} cells for {named} columns, shifted by unquoted cells somewhere after '{header[reliable]}': kept the columns up to it"
        fields = {f: cells.get(index[f], "").strip() if index[f] is not None else "" for f in CSV_COLUMNS}
        if shifted and not re.fullmatch(r"\d{4}", fields["year"]):
            after = max(j for j in (index["title"], index["abstract"]) if j is not None) + 1
            date = next((c for c in row[after:] if _DATE.match(c.strip())), None)
            if date is None:
                rejects.append(_reject(path, position, "cells shifted and no publication date found", fields["pmid"]))
                continue
            fields["year"] = date.strip()[:4]
            notes += ", and the year of the first publication date after the abstract"
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

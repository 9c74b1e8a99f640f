"""Read efetch ``PubmedArticleSet`` XML into tidy records, setting malformed ones aside.

Files are streamed through expat into an ElementTree builder. No DTD and no external
entity is ever loaded: a record whose text refers to an external entity, or to an entity
declared only in the unread DTD, is set aside naming the entity, and the records around it
are read as usual. A record without a PMID or a title is rejected with its reason; a file
that stops being well-formed keeps the records read before the fault, and the rest of the
file is rejected with the parser's message and line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from xml.parsers import expat

from .records import LIST_SEPARATOR

SOURCE = "PubMed"
_ARTICLES = ("PubmedArticle", "PubmedBookArticle")
_YEAR = re.compile(r"(1[89]|20)\d{2}")


def _text(element: ET.Element | None) -> str:
    """All text inside an element (inline markup such as <i> or MathML flattened)."""
    if element is None:
        return ""
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def _year(article: ET.Element) -> int | None:
    for path in (
        "MedlineCitation/Article/Journal/JournalIssue/PubDate/Year",
        "MedlineCitation/Article/Journal/JournalIssue/PubDate/MedlineDate",
        "MedlineCitation/Article/ArticleDate/Year",
        "PubmedData/History/PubMedPubDate[@PubStatus='pubmed']/Year",
    ):
        match = _YEAR.search(_text(article.find(path)))
        if match:
            return int(match.group())
    return None


def _abstract(article: ET.Element) -> str:
    parts = []
    for node in article.iterfind("MedlineCitation/Article/Abstract/AbstractText"):
        text = _text(node)
        label = node.get("Label")
        parts.append(f"{label}: {text}" if label and text else text)
    return " ".join(p for p in parts if p)


def _doi(article: ET.Element) -> str:
    for path in (
        "MedlineCitation/Article/ELocationID[@EIdType='doi']",
        "PubmedData/ArticleIdList/ArticleId[@IdType='doi']",
    ):
        value = _text(article.find(path))
        if value:
            return value
    return ""


def _authors(article: ET.Element) -> str:
    names = []
    for author in article.iterfind("MedlineCitation/Article/AuthorList/Author"):
        last, initials = _text(author.find("LastName")), _text(author.find("Initials"))
        name = f"{last} {initials}".strip() or _text(author.find("CollectiveName"))
        if name:
            names.append(name)
    return LIST_SEPARATOR.join(names)


def parse_article(article: ET.Element) -> dict:
    """One ``PubmedArticle`` element as a record; raises ValueError naming what is wrong."""
    pmid = _text(article.find("MedlineCitation/PMID"))
    if not pmid.isdigit():
        raise ValueError(f"no valid PMID (found {pmid!r})")
    title = _text(article.find("MedlineCitation/Article/ArticleTitle")) or _text(
        article.find("MedlineCitation/Article/VernacularTitle")
    )
    if not title:
        raise ValueError("no article title")
    mesh = [_text(d) for d in article.iterfind("MedlineCitation/MeshHeadingList/MeshHeading/DescriptorName")]
    types = [_text(t) for t in article.iterfind("MedlineCitation/Article/PublicationTypeList/PublicationType")]
    languages = [_text(t) for t in article.iterfind("MedlineCitation/Article/Language")]
    return {
        "source": SOURCE,
        "pmid": pmid,
        "doi": _doi(article),
        "title": title,
        "abstract": _abstract(article),
        "journal": _text(article.find("MedlineCitation/Article/Journal/Title")),
        "year": _year(article),
        "authors": _authors(article),
        "mesh_terms": LIST_SEPARATOR.join(m for m in mesh if m),
        "publication_types": LIST_SEPARATOR.join(t for t in types if t),
        "language": LIST_SEPARATOR.join(languages),
    }


class _ArticleReader:
    """Expat feeding a TreeBuilder: hands each article element, with the entity references
    left unexpanded inside it, to ``on_article``."""

    def __init__(self, on_article: Callable[[ET.Element, list[str]], None]) -> None:
        self.on_article = on_article
        self.builder = ET.TreeBuilder()
        self.root = ""
        self.unexpanded: list[str] = []
        self.parser = expat.ParserCreate()
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self.builder.data
        self.parser.ExternalEntityRefHandler = self._external
        self.parser.SkippedEntityHandler = self._skipped

    def read(self, path: Path) -> None:
        with open(path, "rb") as handle:
            self.parser.ParseFile(handle)

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        self.root = self.root or tag
        if tag in _ARTICLES:
            self.unexpanded = []
        self.builder.start(tag, attributes)

    def _end(self, tag: str) -> None:
        element = self.builder.end(tag)
        if tag in _ARTICLES:
            self.on_article(element, self.unexpanded)
            element.clear()

    def _external(self, name: str, base: str | None, system_id: str | None, public_id: str | None) -> int:
        self.unexpanded.append(name)
        return 1  # handled: nothing is loaded

    def _skipped(self, name: str, is_parameter_entity: bool) -> None:
        self.unexpanded.append(name)


def read_file(path: str | Path) -> tuple[list[dict], list[dict]]:
    """Records and rejects from one efetch XML file."""
    path = Path(path)
    records: list[dict] = []
    rejects: list[dict] = []
    position = 0

    def article(element: ET.Element, unexpanded: list[str]) -> None:
        nonlocal position
        position += 1
        pmid = _text(element.find(".//PMID"))
        if element.tag == "PubmedBookArticle":
            rejects.append(_reject(path, position, pmid, "book record (PubmedBookArticle), not a journal article"))
        elif unexpanded:
            names = ", ".join(f"&{name};" for name in dict.fromkeys(unexpanded))
            rejects.append(_reject(path, position, pmid, f"entity reference {names} not expanded (no DTD or external entity is loaded)"))
        else:
            try:
                records.append({**parse_article(element), "source_file": str(path)})
            except ValueError as exc:
                rejects.append(_reject(path, position, pmid, str(exc)))

    reader = _ArticleReader(article)
    try:
        reader.read(path)
    except expat.ExpatError as exc:
        rejects.append(
            _reject(path, position + 1, "", f"XML not well-formed ({exc}); {position} records before it kept, rest of file set aside")
        )
    if not records and not rejects:
        rejects.append(_reject(path, 0, "", f"no PubmedArticle records in file (root element <{reader.root}>)"))
    return records, rejects


def _reject(path: Path, position: int, pmid: str, reason: str) -> dict:
    return {"source_file": str(path), "position": position, "pmid": pmid, "reason": reason}

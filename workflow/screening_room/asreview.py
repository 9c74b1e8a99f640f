"""ASReview LAB's labelled files in and out: a review started in LAB continues here, and goes back.

LAB 3's "export dataset" writes, as CSV, its input's columns, LAB's own record id (a first,
unnamed column: the record's row in LAB's input), ``asreview_label`` (1, 0 or empty for not
seen), ``asreview_time`` (to the second) and ``asreview_note``; older versions wrote
``included``. As RIS, each record carries ``N1`` notes: ``ASReview_relevant``,
``ASReview_irrelevant`` or ``ASReview_not_seen``, ``asreview_group_id: ...``,
``asreview_time: "..."`` and ``asreview_note: "..."``. Imported decisions keep LAB's
order as far as its times tell it (to the second; equal times in file order). Exported
files hold every record with ``asreview_label`` (CSV) or the ``ASReview_*`` note (RIS), which
LAB reads as prior knowledge, with the reasons and notes beside them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import rispy

from .agreement import final_decisions
from .store import Review, ReviewError
from .tables import ALIASES, record_table

LABEL_COLUMNS = ("asreview_label", "included")
LABELS = {"1": "relevant", "0": "irrelevant", "": None, "-1": None}
RIS_LABELS = {"ASReview_relevant": "1", "ASReview_irrelevant": "0", "ASReview_not_seen": ""}
RIS_FIELDS = {"title": "title", "abstract": "abstract", "year": "year", "journal": "journal_name", "doi": "doi", "record_id": "id"}


def read_labelled(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records of a LAB file (``RECORD_FIELDS``) and its decisions (record_id, label, note, decided_at), oldest first."""
    path = Path(path)
    table = _read_ris(path) if path.suffix.lower() in (".ris", ".txt") else _read_csv(path)
    column = next((c for c in LABEL_COLUMNS if c in table.columns), None)
    if column is None:
        raise ReviewError(f"{path}: no asreview_label or included column: not a labelled ASReview file")
    if not any(c in table.columns for c in ALIASES["record_id"]) and "Unnamed: 0" in table.columns:
        table = table.rename(columns={"Unnamed: 0": "record_id"})  # LAB's own record id
    records = record_table(table, path)
    records["pmid"] = records["pmid"].str.replace(r"\.0$", "", regex=True)
    values = table[column].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    unknown = values[~values.isin(list(LABELS))]
    if len(unknown):
        raise ReviewError(f"{path}: record {records['record_id'][unknown.index[0]]!r} has label {unknown.iloc[0]!r} in {column}; ASReview's labels are 1, 0 or empty")
    decisions = pd.DataFrame({
        "record_id": records["record_id"],
        "label": values.map(LABELS),
        "note": table.get("asreview_note", pd.Series("", index=table.index)).astype(str),
        "decided_at": table.get("asreview_time", pd.Series("", index=table.index)).astype(str),
    })
    decisions = decisions[decisions["label"].notna()].sort_values("decided_at", kind="stable")
    return records, decisions.reset_index(drop=True)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ReviewError(f"{path}: not a readable CSV file ({error})") from None


def _read_ris(path: Path) -> pd.DataFrame:
    try:
        entries = rispy.load(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as error:
        raise ReviewError(f"{path}: not a readable RIS file ({error})") from None
    rows = []
    for number, entry in enumerate(entries):
        notes = entry.get("notes", [])
        quoted = {m[1]: m[2] for m in (re.match(r'(asreview_\w+): "?(.*?)"?$', n) for n in notes) if m}
        label = next((RIS_LABELS[n] for n in notes if n in RIS_LABELS), None)
        if label is None:
            raise ReviewError(f"{path}: record {number + 1} ({entry.get('title', 'no title')!r}) has no ASReview_relevant, ASReview_irrelevant or ASReview_not_seen note")
        rows.append({
            "record_id": entry.get("id") or quoted.get("asreview_group_id") or str(number),
            **{field: str(entry.get(key, "")) for field, key in RIS_FIELDS.items() if field != "record_id"},
            "authors": "; ".join(entry.get("authors", [])),
            "asreview_label": label, "asreview_note": quoted.get("asreview_note", ""), "asreview_time": quoted.get("asreview_time", ""),
        })
    if not rows:
        raise ReviewError(f"{path}: no RIS records")
    return pd.DataFrame(rows)


def import_labelled(review: Review, path: str | Path, reviewer: str) -> int:
    """Store a LAB file's decisions as ``reviewer``'s, all or none; returns how many were new (a file imported twice adds nothing)."""
    _, decisions = read_labelled(path)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    return review.add_all(
        {"record_id": d.record_id, "reviewer": reviewer, "label": d.label, "note": d.note, "request": f"asreview:{digest}:{d.record_id}", **({"decided_at": d.decided_at} if d.decided_at else {})}
        for d in decisions.itertuples(index=False)
    )


def export_labelled(review: Review, path: str | Path) -> None:
    """Every record of the review with its final decision, as a LAB file (CSV or RIS by the suffix)."""
    records = review.records()
    final = final_decisions(review).set_index("record_id")
    label = records["record_id"].map(final["label"]).fillna("")
    table = records.assign(
        asreview_label=label.map({"relevant": "1", "irrelevant": "0"}).fillna(""),
        asreview_note=records["record_id"].map(final["note"]).fillna(""),
        exclusion_reason=records["record_id"].map(final["reason"]).fillna(""),
        maybe=(label == "maybe").map({True: "1", False: ""}),
    )
    if Path(path).suffix.lower() == ".ris":
        with open(path, "w", encoding="utf-8") as handle:
            rispy.dump([_ris_entry(row) for row in table.itertuples(index=False)], handle)
    else:
        table.to_csv(path, index=False)


def _ris_entry(row) -> dict:
    state = {"1": "ASReview_relevant", "0": "ASReview_irrelevant"}.get(row.asreview_label, "ASReview_not_seen")
    notes = [state, *(f'{key}: "{value}"' for key, value in (("asreview_note", row.asreview_note), ("exclusion_reason", row.exclusion_reason)) if value), *(["maybe"] if row.maybe else [])]
    entry = {"type_of_reference": "JOUR", **{key: getattr(row, field) for field, key in RIS_FIELDS.items() if getattr(row, field)}, "notes": notes}
    if row.authors:
        entry["authors"] = row.authors.split("; ")
    if row.pmid:
        entry["accession_number"] = row.pmid
    return entry


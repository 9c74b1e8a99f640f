"""A review in one SQLite file: its records and every decision ever made, append-only.

The file is opened in WAL mode; each decision is one row (reviewer, time, label, note,
exclusion reason, the model's rank of the record when it was decided) written in its own
``BEGIN IMMEDIATE`` transaction, so a killed process leaves either the whole row or none.
Rows are never updated or deleted (triggers refuse it): a changed decision is a new row,
an undone one a row labelled ``undone``. Each write carries a request id, unique in the
file, so a request sent twice (a retry after a lost answer, a double click) is stored
once; a write that names the decision it replaces (``expected``) is refused when another
tab or client changed that record's decision in between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

LABELS = ("relevant", "irrelevant", "maybe")
UNDONE = "undone"
SCREEN, RESOLVE = "screen", "resolve"
RECORD_FIELDS = ("record_id", "title", "abstract", "year", "journal", "authors", "doi", "pmid")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    position INTEGER PRIMARY KEY,
    {", ".join(f"{f} TEXT NOT NULL DEFAULT ''" for f in RECORD_FIELDS)},
    UNIQUE (record_id)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL REFERENCES records (record_id),
    reviewer TEXT NOT NULL CHECK (reviewer <> ''),
    role TEXT NOT NULL CHECK (role IN ('{SCREEN}', '{RESOLVE}')),
    label TEXT NOT NULL CHECK (label IN ({", ".join(f"'{label}'" for label in (*LABELS, UNDONE))})),
    note TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    rank INTEGER,
    decided_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_record ON decisions (record_id, reviewer, role);
CREATE TRIGGER IF NOT EXISTS decisions_never_updated BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead'); END;
CREATE TRIGGER IF NOT EXISTS decisions_never_deleted BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a new decision instead'); END;
"""


class ReviewError(ValueError):
    """A request the review refuses; the message names the file and the record."""


class Conflict(ReviewError):
    """The record's decision changed since the client last saw it."""


@dataclass(frozen=True)
class Decision:
    id: int
    request: str
    record_id: str
    reviewer: str
    role: str
    label: str
    note: str
    reason: str
    rank: int | None
    decided_at: str


class Review:
    """One review file: ``Review.create`` makes it from a record table, ``Review(path)`` opens it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise ReviewError(f"{self.path}: no such review file (create it from a record table first)")
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed decision survives a power cut too
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'decisions'").fetchone():
            raise ReviewError(f"{self.path}: not a review file (no decisions table)")

    @classmethod
    def create(cls, path: str | Path, records: pd.DataFrame, double: bool = False, seed: int = 0) -> Review:
        """A new review file over ``records`` (columns of ``RECORD_FIELDS``; ``record_id`` unique)."""
        path = Path(path)
        if path.exists():
            raise ReviewError(f"{path}: a review file is already there; open it instead of creating it")
        ids = records["record_id"].astype(str)
        if (ids == "").any() or ids.duplicated().any():
            bad = ids[(ids == "") | ids.duplicated()].iloc[0]
            raise ReviewError(f"{path}: every record needs its own record_id; {bad!r} is empty or repeated")
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        table = pd.DataFrame({f: records[f].astype(object).where(records[f].notna(), "").astype(str) if f in records else "" for f in RECORD_FIELDS})
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO records (position, {', '.join(RECORD_FIELDS)}) VALUES ({', '.join('?' * (len(RECORD_FIELDS) + 1))})", [(i, *row) for i, row in enumerate(table.itertuples(index=False))])
        db.executemany("INSERT INTO settings VALUES (?, ?)", [("double", str(int(double))), ("seed", str(seed))])
        db.execute("COMMIT")
        db.close()
        return cls(path)

    def close(self) -> None:
        self.db.close()

    @property
    def double(self) -> bool:
        return self.setting("double") == "1"

    @property
    def seed(self) -> int:
        return int(self.setting("seed"))

    def setting(self, key: str) -> str:
        return self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()["value"]

    def records(self) -> pd.DataFrame:
        """The records in their position order (the rows of the feature matrix)."""
        return pd.read_sql_query(f"SELECT {', '.join(RECORD_FIELDS)} FROM records ORDER BY position", self.db)

    def decisions(self, reviewer: str | None = None, role: str | None = None) -> list[Decision]:
        """Every decision row, oldest first (optionally one reviewer's, one role's)."""
        query, args = "SELECT * FROM decisions WHERE 1", []
        for column, value in (("reviewer", reviewer), ("role", role)):
            if value is not None:
                query, args = query + f" AND {column} = ?", [*args, value]
        return [Decision(**dict(row)) for row in self.db.execute(query + " ORDER BY id", args)]

    def current(self, reviewer: str | None = None, role: str = SCREEN) -> list[Decision]:
        """Each record's latest decision per reviewer (undone ones left out), in the order those rows were written."""
        latest: dict[tuple[str, str], Decision] = {}
        for decision in self.decisions(reviewer, role):
            latest.pop((decision.record_id, decision.reviewer), None)  # re-inserted last: the order of the latest rows
            latest[(decision.record_id, decision.reviewer)] = decision
        return [d for d in latest.values() if d.label != UNDONE]

    def stored(self, request: str) -> bool:
        """Whether a decision with this request id is in the file."""
        return self.db.execute("SELECT 1 FROM decisions WHERE request = ?", (request,)).fetchone() is not None

    def reviewers(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT DISTINCT reviewer FROM decisions WHERE role = ? ORDER BY reviewer", (SCREEN,))]

    def decide(self, record_id: str, reviewer: str, label: str, request: str, *, note: str = "", reason: str = "", rank: int | None = None, role: str = SCREEN, expected: int | None = None) -> Decision:
        """Store one decision and return its row; the same ``request`` again returns the row stored the first time.

        ``expected``: the id of the decision this one replaces (0: the record was undecided),
        checked against the stored one; None skips the check.
        """
        if label not in (*LABELS, UNDONE):
            raise ReviewError(f"{self.path}: label {label!r} for record {record_id!r} is none of {', '.join(LABELS)}")
        if not reviewer.strip():
            raise ReviewError(f"{self.path}: a decision on record {record_id!r} needs a reviewer's name")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            stored = self.db.execute("SELECT * FROM decisions WHERE request = ?", (request,)).fetchone()
            if stored:
                self.db.execute("COMMIT")
                return Decision(**dict(stored))
            if not self.db.execute("SELECT 1 FROM records WHERE record_id = ?", (record_id,)).fetchone():
                raise ReviewError(f"{self.path}: record {record_id!r} is not in this review")
            previous = self.db.execute("SELECT id, label FROM decisions WHERE record_id = ? AND reviewer = ? AND role = ? ORDER BY id DESC LIMIT 1", (record_id, reviewer, role)).fetchone()
            if expected is not None and (previous["id"] if previous else 0) != expected:
                raise Conflict(f"{self.path}: record {record_id!r} was decided meanwhile by {reviewer} as {previous['label'] if previous else 'nothing'} (in another tab?); reload to see it")
            if label == UNDONE and (previous is None or previous["label"] == UNDONE):
                raise ReviewError(f"{self.path}: record {record_id!r} has no decision by {reviewer} to undo")
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            cursor = self.db.execute(
                "INSERT INTO decisions (request, record_id, reviewer, role, label, note, reason, rank, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (request, record_id, reviewer, role, label, note, reason, rank, now),
            )
            row = self.db.execute("SELECT * FROM decisions WHERE id = ?", (cursor.lastrowid,)).fetchone()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return Decision(**dict(row))

    def add_all(self, decisions: Iterable[dict]) -> int:
        """Store many decisions (``decide``'s keywords each) in one transaction: all or none; returns how many were new."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            known = {row[0] for row in self.db.execute("SELECT record_id FROM records")}
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            added = 0
            for d in decisions:
                if d["record_id"] not in known:
                    raise ReviewError(f"{self.path}: record {d['record_id']!r} is not in this review")
                if d["label"] not in LABELS:
                    raise ReviewError(f"{self.path}: label {d['label']!r} for record {d['record_id']!r} is none of {', '.join(LABELS)}")
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO decisions (request, record_id, reviewer, role, label, note, reason, rank, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d["request"], d["record_id"], d["reviewer"], d.get("role", SCREEN), d["label"], d.get("note", ""), d.get("reason", ""), d.get("rank"), d.get("decided_at", now)),
                )
                added += cursor.rowcount
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added


def decisions_table(review: Review) -> pd.DataFrame:
    """Every decision row of the file, oldest first, as a table (the CSV export)."""
    return pd.DataFrame([d.__dict__ for d in review.decisions()], columns=list(Decision.__dataclass_fields__))

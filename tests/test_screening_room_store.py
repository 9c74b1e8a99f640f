"""The review file: append-only decisions, idempotent requests, refusals that change nothing,
a writer killed mid-write, two clients at once and a second server on the same file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pandas as pd
import pytest

from screening_room_server import REPO, Server
from workflow.screening_room.lock import only_server
from workflow.screening_room.store import Conflict, Review, ReviewError, decisions_table
from workflow.screening_room.tables import read_records


def records(n: int = 20) -> pd.DataFrame:
    return pd.DataFrame({"record_id": [f"r{i}" for i in range(n)], "title": [f"record {i} about {'deep learning' if i % 3 else 'cohorts'}" for i in range(n)], "abstract": ["an abstract"] * n})


@pytest.fixture
def review(tmp_path: Path) -> Review:
    return Review.create(tmp_path / "review.sqlite", records())


def rows(review: Review) -> list[tuple]:
    return [(d.record_id, d.reviewer, d.label, d.note, d.reason) for d in review.decisions()]


def test_a_changed_decision_is_a_new_row_and_rows_are_never_rewritten(review: Review):
    first = review.decide("r1", "alice", "irrelevant", "q1", reason="wrong design", rank=3)
    review.decide("r1", "alice", "relevant", "q2", note="on second thought", expected=first.id)
    assert rows(review) == [("r1", "alice", "irrelevant", "", "wrong design"), ("r1", "alice", "relevant", "on second thought", "")]
    assert [d.label for d in review.current("alice")] == ["relevant"] and review.decisions()[0].rank == 3
    for statement in ("UPDATE decisions SET label = 'maybe'", "DELETE FROM decisions"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            review.db.execute(statement)
    assert review.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_same_request_twice_is_stored_once(review: Review):
    first = review.decide("r2", "alice", "relevant", "same")
    again = review.decide("r2", "alice", "relevant", "same")
    assert again == first and len(review.decisions()) == 1


def test_refused_decisions_name_the_file_and_record_and_change_nothing(review: Review):
    stored = review.decide("r3", "alice", "maybe", "q1")
    before = rows(review)
    with pytest.raises(ReviewError, match=r"review\.sqlite: record 'r999' is not in this review"):
        review.decide("r999", "alice", "relevant", "q2")
    with pytest.raises(Conflict, match=r"review\.sqlite: record 'r3' was decided meanwhile by alice as maybe"):
        review.decide("r3", "alice", "relevant", "q3", expected=0)
    with pytest.raises(ReviewError, match="label 'yes' for record 'r3'"):
        review.decide("r3", "alice", "yes", "q4", expected=stored.id)
    with pytest.raises(ReviewError, match="'r4' has no decision by alice to undo"):
        review.decide("r4", "alice", "undone", "q5")
    with pytest.raises(ReviewError, match="record 'r404' is not in this review"):
        review.add_all([{"record_id": "r5", "reviewer": "bob", "label": "relevant", "request": "b1"}, {"record_id": "r404", "reviewer": "bob", "label": "relevant", "request": "b2"}])
    assert rows(review) == before  # the import's valid first row was rolled back too


def test_undone_decisions_leave_the_current_ones(review: Review):
    first = review.decide("r1", "alice", "relevant", "a")
    review.decide("r2", "alice", "irrelevant", "b")
    review.decide("r1", "alice", "undone", "c", expected=first.id)
    assert [(d.record_id, d.label) for d in review.current("alice")] == [("r2", "irrelevant")]
    assert decisions_table(review)["label"].tolist() == ["relevant", "irrelevant", "undone"]


def test_a_review_file_is_created_once_from_unique_ids(tmp_path: Path):
    table = records(3)
    Review.create(tmp_path / "a.sqlite", table)
    with pytest.raises(ReviewError, match=r"a\.sqlite: a review file is already there"):
        Review.create(tmp_path / "a.sqlite", table)
    with pytest.raises(ReviewError, match="'r0' is empty or repeated"):
        Review.create(tmp_path / "b.sqlite", pd.concat([table, table.head(1)]))
    with pytest.raises(ReviewError, match=r"missing\.sqlite: no such review file"):
        Review(tmp_path / "missing.sqlite")


def test_record_tables_are_read_under_their_column_names(tmp_path: Path, data_root: Path):
    donners = read_records(data_root / "screening" / "synergy_v1" / "Donners_2021" / "Donners_2021.csv")
    assert len(donners) == 258 and donners["record_id"].str.startswith("https://openalex.org/W").all()
    assert donners["year"].str.fullmatch(r"\d{4}").all() and (donners["journal"] != "").mean() > 0.9
    kwok = read_records(data_root / "screening" / "asreview_test_fixtures" / "Kwok_2020.csv")
    assert kwok["record_id"].tolist()[:3] == ["1", "2", "3"]
    (tmp_path / "bad.csv").write_text("name,abstract\nx,y\n")
    with pytest.raises(ReviewError, match=r"bad\.csv: no title column"):
        read_records(tmp_path / "bad.csv")


WRITER = """
import sys
from workflow.screening_room.store import Review
review = Review(sys.argv[1])
for i in range(100_000):
    review.decide(f"r{i % 20}", "alice", ("relevant", "irrelevant")[i % 2], f"q{i}", note="x" * 2000)
    print(i, flush=True)
"""


def test_a_writer_killed_mid_write_leaves_whole_rows_and_loses_no_committed_one(review: Review):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(review.path)], cwd=REPO, stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(REPO)})
    confirmed = -1
    while confirmed < 200:  # let it write for a while, then kill it wherever it is
        confirmed = int(writer.stdout.readline())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    confirmed = max([confirmed, *(int(line) for line in writer.stdout.read().split())])
    reopened = Review(review.path)
    assert reopened.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    requests = [d.request for d in reopened.decisions()]
    assert requests == [f"q{i}" for i in range(len(requests))]  # a prefix: whole rows, no gap
    assert len(requests) >= confirmed + 1  # every write it reported is there
    assert all(len(d.note) == 2000 for d in reopened.decisions())
    for i in range(len(requests) + 5):  # the client resends everything: the missing ones are added, none twice
        reopened.decide(f"r{i % 20}", "alice", ("relevant", "irrelevant")[i % 2], f"q{i}", note="x" * 2000)
    assert [d.request for d in reopened.decisions()] == [f"q{i}" for i in range(len(requests) + 5)]


def test_two_clients_at_once_lose_and_duplicate_nothing(tmp_path: Path):
    Review.create(tmp_path / "review.sqlite", records(60)).close()
    server = Server(tmp_path / "review.sqlite").start()
    answers: dict[str, list[int]] = {"alice": [], "bob": []}

    def client(name: str, start: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for i in range(start, start + 30):
                body = {"reviewer": name, "record_id": f"r{i}", "label": "relevant" if i % 4 == 0 else "irrelevant", "request": f"{name}-{i}"}
                answers[name] += [http.post("/api/decisions", json=body).status_code, http.post("/api/decisions", json=body).status_code]  # each sent twice

    try:
        threads = [threading.Thread(target=client, args=(name, start)) for name, start in (("alice", 0), ("bob", 30))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    stored = Review(tmp_path / "review.sqlite").decisions()
    assert set(answers["alice"] + answers["bob"]) == {200}
    assert sorted(d.request for d in stored) == sorted(f"{n}-{i}" for n, s in (("alice", 0), ("bob", 30)) for i in range(s, s + 30))


def test_a_second_server_on_the_same_review_is_refused_by_name(tmp_path: Path):
    Review.create(tmp_path / "review.sqlite", records()).close()
    first = Server(tmp_path / "review.sqlite").start()
    try:
        second = subprocess.run([sys.executable, "-m", "workflow.screening_room", "serve", str(tmp_path / "review.sqlite"), "--port", "1"], cwd=REPO, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)}, timeout=120)
        assert second.returncode != 0
        assert f"{tmp_path / 'review.sqlite'}: another screening room server (pid {first.process.pid}) has this review open" in second.stderr
    finally:
        first.stop()
    with only_server(tmp_path / "review.sqlite"):  # free again once the first has stopped
        assert Path(f"{tmp_path / 'review.sqlite'}.lock").read_text() == str(os.getpid())

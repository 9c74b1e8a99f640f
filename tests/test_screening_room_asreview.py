"""ASReview LAB's labelled files: read, imported all or none, refused by name when malformed, and a
round trip through ASReview LAB 3.0.8 itself (its web API, in the screening benchmark's environment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from screening_room_server import DONNERS, REPO
from workflow.literature.active_learning import LabelledReview, prior_records
from workflow.screening_room.asreview import export_labelled, import_labelled, read_labelled
from workflow.screening_room.room import Room
from workflow.screening_room.store import Review, ReviewError

LAB = REPO / "benchmarks" / ".venv-asreview" / "bin" / "python"

# As LAB 3.0.8 writes an export: its record id first (an unnamed column), the input's columns,
# then its own; relevant records first, not seen, irrelevant; times to the second.
LAB_CSV = """,title,abstract,asreview_group_id,asreview_label,asreview_time,asreview_note
3,CNN for MRI,deep learning,3,1,2025-01-02 10:00:05,"kept, clearly"
0,U-Net on CT,segmentation,0,1,2025-01-02 10:00:01,
1,Cohort study,no images,1,,,
2,Survey of nurses,questionnaire,2,0,2025-01-02 10:00:03,
4,Letter,a letter,4,0,2025-01-02 10:00:05,
"""


def test_a_lab_export_is_read_with_its_decisions_in_labelling_order(tmp_path: Path):
    path = tmp_path / "lab.csv"
    path.write_text(LAB_CSV)
    records, decisions = read_labelled(path)
    assert records["record_id"].tolist() == ["3", "0", "1", "2", "4"] and records["title"][0] == "CNN for MRI"
    assert decisions[["record_id", "label", "note"]].values.tolist() == [["0", "relevant", ""], ["2", "irrelevant", ""], ["3", "relevant", "kept, clearly"], ["4", "irrelevant", ""]]


def test_an_import_is_stored_once_and_a_bad_one_not_at_all(tmp_path: Path):
    path = tmp_path / "lab.csv"
    path.write_text(LAB_CSV)
    review = Review.create(tmp_path / "r.sqlite", read_labelled(path)[0])
    assert import_labelled(review, path, "ana") == 4 and import_labelled(review, path, "ana") == 0
    before = [d.id for d in review.decisions()]
    unknown = tmp_path / "other.csv"
    unknown.write_text(LAB_CSV.replace("\n4,Letter", "\n99,Letter").replace(",4,0,", ",99,0,"))
    with pytest.raises(ReviewError, match=r"r\.sqlite: record '99' is not in this review"):
        import_labelled(review, unknown, "ana")
    assert [d.id for d in review.decisions()] == before


@pytest.mark.parametrize(("content", "message"), [
    ("title,abstract\nA,B\n", r"lab\.csv: no asreview_label or included column: not a labelled ASReview file"),
    (LAB_CSV.replace(",2,0,2025", ",2,2,2025"), r"lab\.csv: record '2' has label '2' in asreview_label"),
    ('title,asreview_label\n"unclosed,1\n', r"lab\.csv: not a readable CSV file"),
    ("abstract,asreview_label\nB,1\n", r"lab\.csv: no title column"),
])
def test_a_malformed_lab_csv_is_named(tmp_path: Path, content: str, message: str):
    (tmp_path / "lab.csv").write_text(content)
    with pytest.raises(ReviewError, match=message):
        read_labelled(tmp_path / "lab.csv")


def test_a_ris_without_asreview_labels_is_named(tmp_path: Path):
    (tmp_path / "lab.ris").write_text("TY  - JOUR\nTI  - A record\nER  - \n")
    with pytest.raises(ReviewError, match=r"lab\.ris: record 1 \('A record'\) has no ASReview_relevant"):
        read_labelled(tmp_path / "lab.ris")


def test_the_export_carries_labels_reasons_and_notes_in_csv_and_ris(tmp_path: Path):
    path = tmp_path / "lab.csv"
    path.write_text(LAB_CSV)
    review = Review.create(tmp_path / "r.sqlite", read_labelled(path)[0])
    review.decide("2", "ana", "irrelevant", "a", reason="not imaging", note="survey")
    review.decide("0", "ana", "relevant", "b")
    review.decide("1", "ana", "maybe", "c")
    for suffix in ("csv", "ris"):
        export_labelled(review, tmp_path / f"back.{suffix}")
        records, decisions = read_labelled(tmp_path / f"back.{suffix}")
        assert len(records) == 5 and decisions.set_index("record_id")["label"].to_dict() == {"2": "irrelevant", "0": "relevant"}
    assert 'N1  - exclusion_reason: "not imaging"' in (tmp_path / "back.ris").read_text()
    table = pd.read_csv(tmp_path / "back.csv", dtype=str, keep_default_na=False).set_index("record_id")
    assert table.loc["2", ["asreview_label", "exclusion_reason", "asreview_note"]].tolist() == ["0", "not imaging", "survey"] and table.loc["1", "maybe"] == "1"


def lab(folder: Path, *args: str) -> None:
    """LAB in ``folder`` (it leaves a dataset cache in its working directory)."""
    result = subprocess.run([str(LAB), str(REPO / "benchmarks" / "asreview_lab_export.py"), *args], cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.skipif(not LAB.exists(), reason="needs ASReview LAB 3.0.8 in benchmarks/.venv-asreview (benchmarks/screening_vs_asreview.py creates it)")
def test_a_review_started_in_asreview_lab_continues_here_and_goes_back(tmp_path: Path, data_root: Path):
    source = pd.read_csv(data_root / DONNERS, dtype=str, keep_default_na=False)
    labels = LabelledReview.read(data_root / DONNERS, "Donners_2021").labels
    source.drop(columns=["label_included"]).to_csv(tmp_path / "records.csv", index=False)
    pd.DataFrame({"label": labels}).to_csv(tmp_path / "labels.csv", index=False)
    priors = [str(p) for p in prior_records(labels, 0)]
    lab(tmp_path, str(tmp_path / "records.csv"), str(tmp_path / "lab"), "--labels", str(tmp_path / "labels.csv"), "--priors", *priors, "--screen", "10")

    _, from_csv = read_labelled(tmp_path / "lab.csv")
    _, from_ris = read_labelled(tmp_path / "lab.ris")  # LAB's RIS names records by its row number
    assert [(source["openalex_id"][int(r)], label) for r, label in zip(from_ris["record_id"], from_ris["label"])] == list(zip(from_csv["record_id"], from_csv["label"]))
    review = tmp_path / "review.sqlite"
    imported = subprocess.run([sys.executable, "-m", "workflow.screening_room", "import-asreview", str(review), str(tmp_path / "lab.csv"), "--reviewer", "ana"], cwd=REPO, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)})
    assert imported.returncode == 0 and "12 decisions" in imported.stdout, imported.stderr
    room = Room(Review(review))
    label_of = dict(zip(source["openalex_id"], np.where(labels == 1, "relevant", "irrelevant")))
    assert {d.record_id: d.label for d in room.review.current("ana")}.items() <= label_of.items()
    for step in range(10):  # the reviewer goes on here, the model trained on LAB's decisions
        shown = room.state("ana")["record"]
        assert shown["decision"] is None and shown["rank"] is not None
        room.decide("ana", shown["record_id"], label_of[shown["record_id"]], f"here-{step}", expected=shown["expected"])
    ours = {d.record_id: d.label for d in room.review.current("ana")}
    assert len(ours) == 22

    export_labelled(room.review, tmp_path / "back.csv")
    lab(tmp_path, str(tmp_path / "back.csv"), str(tmp_path / "again"))  # LAB reads our labels as its prior knowledge and exports them
    _, again = read_labelled(tmp_path / "again.csv")
    assert dict(zip(again["record_id"], again["label"])) == ours


def test_a_file_exported_by_asreview_lab_3_0_8_imports_continues_and_exports_back(tmp_path: Path, data_root: Path):
    """tests/data/asreview_lab_3.0.8_donners_2021.csv is LAB 3.0.8's own export of SYNERGY's
    Donners 2021 (CC0) after 2 priors and 10 records screened in LAB
    (benchmarks/asreview_lab_export.py, as the test above drives it), its abstract, author,
    venue, type and MeSH columns dropped to keep it small; every other byte as LAB wrote it."""
    exported = REPO / "tests" / "data" / "asreview_lab_3.0.8_donners_2021.csv"
    review = tmp_path / "review.sqlite"
    imported = subprocess.run([sys.executable, "-m", "workflow.screening_room", "import-asreview", str(review), str(exported), "--reviewer", "ana"],
                              cwd=REPO, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)})
    assert imported.returncode == 0 and "12 decisions" in imported.stdout, imported.stderr
    source = pd.read_csv(data_root / DONNERS, dtype=str, keep_default_na=False)
    label_of = dict(zip(source["openalex_id"], np.where(source["label_included"] == "1", "relevant", "irrelevant")))
    room = Room(Review(review))
    lab_decisions = {d.record_id: d.label for d in room.review.current("ana")}
    assert len(lab_decisions) == 12 and lab_decisions.items() <= label_of.items()  # LAB's labels, kept record by record
    for step in range(10):
        shown = room.state("ana")["record"]
        assert shown["record_id"] not in lab_decisions
        room.decide("ana", shown["record_id"], label_of[shown["record_id"]], f"here-{step}", expected=shown["expected"])
    export_labelled(room.review, tmp_path / "back.csv")
    _, back = read_labelled(tmp_path / "back.csv")
    ours = {d.record_id: d.label for d in room.review.current("ana")}
    assert len(ours) == 22 and dict(zip(back["record_id"], back["label"])) == ours

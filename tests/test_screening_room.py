"""The screening room's logic without a browser: the simulation's order, the stopping advice,
highlighting, blinded double screening with Cohen's kappa and resolutions, and the
workflow reading the decisions (priority, PRISMA)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import cohen_kappa_score

from conftest import REPO
from workflow.literature import reviewer_decisions
from workflow.literature.active_learning import LabelledReview, features, prior_records, simulate
from workflow.literature.prisma import counts
from workflow.literature.screen import Criteria
from workflow.literature.stopping import StoppingRules, more_to_screen
from workflow.screening_room.agreement import agreement, final_decisions
from workflow.screening_room.highlight import highlight, patterns
from workflow.screening_room.room import Room
from workflow.screening_room.store import Review
from workflow.screening_room.tables import read_records

WORDS = {1: "relevant", 0: "irrelevant"}
requests = (f"q{i}" for i in itertools.count())


@pytest.fixture(scope="module")
def kwok(data_root: Path) -> tuple[Path, np.ndarray]:
    path = data_root / "screening" / "asreview_test_fixtures" / "Kwok_2020.csv"
    return path, LabelledReview.read(path, "Kwok_2020").labels


def screen_from_labels(room: Room, labels: np.ndarray, seed: int, stop: int | None = None) -> list[int]:
    """A scripted reviewer: the seed's priors opened by id, then each record shown, answered from the labels."""
    ids = room.records["record_id"].tolist()
    shown = prior_records(labels, seed)
    for position in shown:
        room.decide("alice", ids[position], WORDS[labels[position]], next(requests))
    state = room.state("alice")
    while labels[shown].sum() < labels.sum() and len(shown) != stop:
        position = room.position[state["record"]["record_id"]]
        shown.append(position)
        state = room.decide("alice", ids[position], WORDS[labels[position]], next(requests), expected=state["record"]["expected"])
    return shown


@pytest.mark.parametrize("seed", [0, 3])
def test_the_room_shows_the_simulations_order_and_the_stopping_rules_advice(tmp_path: Path, kwok, seed: int):
    path, labels = kwok
    rules = StoppingRules(recall=0.9)
    room = Room(Review.create(tmp_path / "r.sqlite", read_records(path), seed=seed), rules=rules)
    shown = screen_from_labels(room, labels, seed)
    order = simulate(features(LabelledReview.read(path, "k").texts), labels, seed=seed)
    assert shown == order[: len(shown)].tolist()
    progress = room.state("alice")["progress"]
    assert progress["stop"]["more"] == more_to_screen(labels[shown], len(labels), rules)
    assert progress["found"] == np.cumsum(labels[shown]).tolist() and progress["relevant"] == labels.sum()


def test_a_restarted_room_goes_on_where_it_stopped(tmp_path: Path, kwok):
    path, labels = kwok
    review = Review.create(tmp_path / "r.sqlite", read_records(path))
    first = screen_from_labels(Room(review), labels, 0, stop=12)
    again = Room(Review(review.path))  # a new process would build the same model from the file
    assert again.position[again.state("alice")["record"]["record_id"]] == simulate(features(LabelledReview.read(path, "k").texts), labels, seed=0)[12]
    assert first == simulate(features(LabelledReview.read(path, "k").texts), labels, seed=0)[:12].tolist()


def test_maybe_takes_a_record_out_of_the_queue_without_teaching_the_model(tmp_path: Path, kwok):
    path, labels = kwok
    room = Room(Review.create(tmp_path / "r.sqlite", read_records(path)))
    screen_from_labels(room, labels, 0, stop=4)
    state = room.state("alice")
    record = state["record"]["record_id"]
    after = room.decide("alice", record, "maybe", "m1", note="ask a clinician", expected=state["record"]["expected"])
    assert after["record"]["record_id"] != record
    assert after["progress"]["maybe"] == 1 and after["progress"]["screened"] == 5 and len(after["progress"]["found"]) == 4
    assert room.state("alice", record)["record"]["decision"] == {"id": 5, "label": "maybe", "note": "ask a clinician", "reason": ""}


def test_terms_are_marked_and_the_text_escaped():
    marks = patterns(Criteria(required_terms={"method": ("deep learning", "U-Net")}, uncertain_terms={"method": ("network",)}))
    text = "A <b>UNet</b> & deep-learning networks"
    assert highlight(text, marks) == 'A &lt;b&gt;<mark class="required">UNet</mark>&lt;/b&gt; &amp; <mark class="required">deep-learning</mark> <mark class="uncertain">networks</mark>'


# Two reviewers on ten records; relevant/irrelevant/maybe as three categories. Observed
# agreement 7/10; chance: alice R3 I6 M1, bob R3 I5 M2: (9 + 30 + 2) / 100 = 0.41; kappa = (0.7 - 0.41) / 0.59.
ALICE = ["relevant", "relevant", "relevant", "irrelevant", "irrelevant", "irrelevant", "irrelevant", "irrelevant", "maybe", "irrelevant"]
BOB = ["relevant", "irrelevant", "relevant", "irrelevant", "irrelevant", "relevant", "irrelevant", "maybe", "maybe", "irrelevant"]


@pytest.fixture
def double(tmp_path: Path) -> Room:
    table = pd.DataFrame({"record_id": [f"r{i}" for i in range(12)], "title": [f"record {i}" for i in range(12)], "abstract": ["deep learning on MRI"] * 12})
    room = Room(Review.create(tmp_path / "double.sqlite", table, double=True))
    for i, (a, b) in enumerate(zip(ALICE, BOB)):
        room.decide("alice", f"r{i}", a, next(requests), reason="wrong population" if a == "irrelevant" else "")
        room.decide("bob", f"r{i}", b, next(requests))
    room.decide("alice", "r10", "relevant", next(requests))  # decided by one reviewer only
    return room


def test_double_screening_reports_cohens_kappa_and_the_conflicts(double: Room):
    found = agreement(double.review)
    assert found.both == 10 and found.agreement == pytest.approx(0.7)
    assert found.kappa == pytest.approx((0.7 - 0.41) / 0.59) == pytest.approx(cohen_kappa_score(ALICE, BOB))
    assert [c["record_id"] for c in found.conflicts] == ["r1", "r5", "r7"]
    assert found.conflicts[0]["alice"] == {"label": "relevant", "note": "", "reason": ""} and found.conflicts[0]["bob"]["label"] == "irrelevant"


def test_reviewers_are_blinded_to_each_other(double: Room):
    seen = double.state("bob", "r10")["record"]
    assert seen["decision"] is None and seen["expected"] == 0  # alice decided r10; bob is shown nothing of it
    assert {h["record_id"] for h in double.state("bob")["progress"]["history"]} <= {f"r{i}" for i in range(10)}
    assert double.state("bob")["progress"]["screened"] == 10


def test_resolutions_settle_conflicts_into_the_final_decisions_and_prisma(double: Room):
    assert set(final_decisions(double.review)["record_id"]) == {"r0", "r2", "r3", "r4", "r6", "r8", "r9"}  # agreed; r10 waits for bob
    report = double.resolve("carol", "r1", "relevant", "res1")
    double.resolve("carol", "r5", "irrelevant", "res2", reason="wrong outcome")
    assert [c["record_id"] for c in report["conflicts"]] == ["r5", "r7"] and [c["record_id"] for c in double.agreement()["conflicts"]] == ["r7"]
    final = final_decisions(double.review).set_index("record_id")
    assert final.loc["r1", "reviewer"] == "carol" and final.loc["r5", "reason"] == "wrong outcome" and "r7" not in final.index
    export = double.review.path.with_suffix(".csv")
    final.reset_index().to_csv(export, index=False)
    for source in (double.review.path, export):  # the review file or its CSV export: the same decisions
        decisions = reviewer_decisions.read(source)
        assert decisions["record_id"].tolist() == ["r0", "r2", "r3", "r4", "r6", "r9", "r1", "r5"]  # in the order decided; r8 agreed as maybe
        assert decisions["label"].tolist() == ["1", "1", "0", "0", "0", "0", "1", "0"] and decisions["reviewer"].iloc[0] == "alice; bob"
        screened = pd.DataFrame({"record_id": [f"r{i}" for i in range(12)] + ["x"], "source": "PubMed", "decision": ["screen"] * 12 + ["include"], "stage": [""] * 13, "reason": ["uncertain: ..."] * 12 + [""]})
        applied = reviewer_decisions.apply(screened, decisions)
        prisma = counts(screened, pd.DataFrame(), pd.DataFrame(), applied)
        assert (prisma["included"], prisma["excluded"], prisma["to_screen"]) == (1 + 3, 5, 4)  # r7 (a conflict), r8, r10, r11 wait
        assert prisma["excluded_by_reason"] == {"reviewers: wrong population": 4, "reviewers: wrong outcome": 1}


def test_decision_files_with_unknown_labels_are_named(tmp_path: Path):
    path = tmp_path / "decisions.csv"
    path.write_text("record_id,label\nr1,1\nr2,yes\n")
    with pytest.raises(ValueError, match=r"decisions\.csv: labels \['yes'\]"):
        reviewer_decisions.read(path)


def test_the_workflow_reads_the_rooms_decisions_for_prisma_priority_and_stopping(tmp_path: Path, data_root: Path):
    """The quick profile up to the rules, a few decisions in the room, then the DAG again with the review file as its decisions."""
    def snakemake(*targets: str, config: dict) -> None:
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
        command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--cores", "2", *targets, "--configfile", str(tmp_path / "config.yaml")]
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "DLMIA_DATA": str(data_root)}, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    literature = tmp_path / "results" / "literature"
    snakemake("results/literature/prisma.json", config=config)
    before = json.loads((literature / "prisma.json").read_text())
    room = Room(Review.create(tmp_path / "review.sqlite", read_records(literature / "to_screen.csv")))
    labels = ["relevant", "irrelevant", "irrelevant", "relevant", "maybe", "irrelevant"]
    for label in labels:
        shown = room.state("ana")["record"]
        room.decide("ana", shown["record_id"], label, next(requests), reason="not medical images" if label == "irrelevant" else "", expected=shown["expected"])
    room.review.close()
    config["literature"]["screening"]["decisions"] = str(tmp_path / "review.sqlite")
    snakemake("results/literature/prisma.json", "results/literature/priority.csv", "results/report/screening_stopping.md", config=config)
    after = json.loads((literature / "prisma.json").read_text())
    assert (after["included"], after["excluded"], after["to_screen"]) == (before["included"] + 2, before["excluded"] + 3, before["to_screen"] - 5)
    assert after["excluded_by_reason"]["reviewers: not medical images"] == 3
    assert len(pd.read_csv(literature / "to_screen.csv")) == before["to_screen"]  # the room's records stay the same
    ranked = pd.read_csv(literature / "priority.csv")
    assert ranked["label"].notna().sum() == 5 and ranked["record_id"].is_unique
    assert (tmp_path / "results" / "report" / "screening_stopping.md").read_text().startswith(f"Screened 5 of {len(ranked)} records, 2 relevant.")

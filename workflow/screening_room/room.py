"""The screening room's logic, apart from HTTP: what a reviewer sees, and what a decision does.

Each reviewer has a ``Queue`` (the model learns from that reviewer's decisions alone),
rebuilt from the review file when first used, so a restarted server goes on where it
stopped. Every request is served under one lock: decisions are written and learnt from one
at a time. A reviewer is only ever shown that reviewer's own decisions.
"""

from __future__ import annotations

import threading

import numpy as np

from workflow.literature.active_learning import features
from workflow.literature.screen import Criteria
from workflow.literature.stopping import StoppingRules, more_to_screen

from .agreement import agreement, final_decisions
from .highlight import highlight, patterns
from .queue import TRAINED, Queue
from .store import LABELS, RESOLVE, UNDONE, Review, ReviewError

HISTORY = 8  # recent decisions listed in the progress panel


def record_texts(records) -> list[str]:
    """The text the model reads: title and abstract, as ``LabelledReview`` joins them."""
    return (records["title"].str.strip() + " " + records["abstract"].str.strip()).tolist()


class Room:
    def __init__(self, review: Review, criteria: Criteria = Criteria(), rules: StoppingRules = StoppingRules()):
        self.review, self.rules = review, rules
        self.records = review.records()
        self.position = {r: i for i, r in enumerate(self.records["record_id"])}
        self.x = features(record_texts(self.records))
        self.marks = patterns(criteria)
        self.queues: dict[str, Queue] = {}
        self.lock = threading.Lock()

    def _queue(self, reviewer: str) -> Queue:
        if reviewer not in self.queues:
            self.queues[reviewer] = Queue(self.x, self.review.seed)
            self._replay(reviewer)
        return self.queues[reviewer]

    def _replay(self, reviewer: str) -> None:
        self.queues[reviewer].replay([(self.position[d.record_id], d.label) for d in self.review.current(reviewer)])

    def state(self, reviewer: str, record_id: str | None = None) -> dict:
        """The record to show (``record_id``, or the model's next one) with the reviewer's decision on it, and the progress panel."""
        reviewer = _name(reviewer)
        with self.lock:
            queue = self._queue(reviewer)
            if record_id is not None and record_id not in self.position:
                raise ReviewError(f"{self.review.path}: record {record_id!r} is not in this review")
            position = self.position[record_id] if record_id is not None else queue.next()
            return {"reviewer": reviewer, "double": self.review.double, "record": None if position is None else self._record(reviewer, position), "progress": self._progress(reviewer, queue)}

    def decide(self, reviewer: str, record_id: str, label: str, request: str, note: str = "", reason: str = "", expected: int | None = None) -> dict:
        """Store a decision, teach the reviewer's model, and return the next state."""
        reviewer = _name(reviewer)
        with self.lock:
            queue = self._queue(reviewer)
            position = self.position.get(record_id)
            rank = queue.rank(position) if position is not None else None
            if label not in LABELS:
                raise ReviewError(f"{self.review.path}: label {label!r} for record {record_id!r} is none of {', '.join(LABELS)}")
            known = self.review.stored(request) or (position is not None and queue.decided[position])
            self.review.decide(record_id, reviewer, label, request, note=note, reason=reason, rank=rank, expected=expected)
            if known:
                self._replay(reviewer)  # a change, or a request already stored: the file decides
            else:
                queue.add(position, label)
        return self.state(reviewer)

    def undo(self, reviewer: str, request: str) -> dict:
        """Undo the reviewer's latest decision and show that record again."""
        reviewer = _name(reviewer)
        with self.lock:
            self._queue(reviewer)
            mine = self.review.current(reviewer)
            if not mine:
                raise ReviewError(f"{self.review.path}: {reviewer} has no decision to undo")
            last = mine[-1]
            self.review.decide(last.record_id, reviewer, UNDONE, request, expected=last.id)
            self._replay(reviewer)
        return self.state(reviewer, last.record_id)

    def resolve(self, resolver: str, record_id: str, label: str, request: str, note: str = "", reason: str = "") -> dict:
        """Record how a conflict is settled (by a third person, or the two together) and return the agreement report."""
        with self.lock:
            self.review.decide(record_id, _name(resolver), label, request, note=note, reason=reason, role=RESOLVE)
        return self.agreement()

    def agreement(self) -> dict:
        """Kappa, raw agreement and the unresolved conflicts (with the records' titles), and how many final decisions there are."""
        with self.lock:
            found = agreement(self.review)
            final = final_decisions(self.review)
        titles = dict(zip(self.records["record_id"], self.records["title"]))
        return {
            "reviewers": list(found.reviewers), "both": found.both, "agreement": found.agreement, "kappa": found.kappa,
            "conflicts": [{**c, "title": titles[c["record_id"]]} for c in found.conflicts],
            "final": {label: int(n) for label, n in final["label"].value_counts().items()},
        }

    def _record(self, reviewer: str, position: int) -> dict:
        row = self.records.iloc[position]
        mine = [d for d in self.review.decisions(reviewer) if d.record_id == row["record_id"] and d.role != RESOLVE]
        decision = mine[-1] if mine and mine[-1].label != UNDONE else None
        return {
            "record_id": row["record_id"],
            "title": highlight(row["title"], self.marks),
            "abstract": highlight(row["abstract"], self.marks),
            **{key: row[key] for key in ("year", "journal", "authors", "doi", "pmid")},
            "rank": self.queues[reviewer].rank(position),
            "decision": decision and {"id": decision.id, "label": decision.label, "note": decision.note, "reason": decision.reason},
            "expected": mine[-1].id if mine else 0,
        }

    def _progress(self, reviewer: str, queue: Queue) -> dict:
        labels = queue.labels[queue.order]
        total, screened = len(self.records), int(queue.decided.sum())
        more = more_to_screen(labels, total, self.rules) if len(labels) else total
        last = np.flatnonzero(labels)
        mine = self.review.current(reviewer)
        titles = dict(zip(self.records["record_id"], self.records["title"]))
        return {
            "total": total,
            "screened": screened,
            "relevant": int(labels.sum()),
            "maybe": screened - len(labels),
            "found": np.cumsum(labels).tolist(),  # relevant found after each relevant/irrelevant decision
            "work_saved": 1 - screened / total,  # if screening stopped now
            "stop": {"more": int(more), "reached": bool(more == 0 and labels.any()), "run": int(len(labels) - (last[-1] + 1 if len(last) else 0)),
                     "recall": self.rules.recall, "confidence": self.rules.confidence, "consecutive": self.rules.consecutive_irrelevant},
            "history": [{"record_id": d.record_id, "title": titles[d.record_id], "label": d.label, "id": d.id} for d in mine[::-1][:HISTORY]],
            "model": "ranking" if queue.scores is not None else f"random order until one relevant and one irrelevant decision ({', '.join(TRAINED)})",
        }


def _name(reviewer: str) -> str:
    name = (reviewer or "").strip()
    if not name:
        raise ReviewError("name the reviewer first")
    return name

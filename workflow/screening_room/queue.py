"""Which record a reviewer sees next: the simulation's model, refitted after every decision.

The features, the incremental SVM, its class weights and the naive-Bayes tie-break are those
of ``workflow.literature.active_learning.simulate``, and labels are added and the model fitted
in the same sequence (every label added, a fit after each once both classes are there), so a
reviewer who answers as a labelled review's labels sees the simulation's order. Before the
first relevant and irrelevant decisions the records come in a random order drawn by the
review's seed. ``maybe`` decisions take a record out of the queue without teaching the model.
A changed or undone decision replays the reviewer's decisions from the start.
"""

from __future__ import annotations

import numpy as np
import sklearn

from workflow.literature.active_learning import RATIO, SVM_C, _top, balanced_weights
from workflow.literature.incremental_svm import IncrementalSVM

TRAINED = {"relevant": 1, "irrelevant": 0}


class Queue:
    """One reviewer's model over the review's feature matrix ``x``."""

    def __init__(self, x, seed: int):
        self.x, self.seed = x, seed
        self.random_order = np.random.RandomState(seed).permutation(x.shape[0])
        self.replay([])

    def replay(self, decisions: list[tuple[int, str]]) -> None:
        """Start again from ``decisions`` (record position, label), in the order they were made."""
        self.svm = IncrementalSVM(self.x, SVM_C, lambda y: balanced_weights(y, RATIO["svm"]), self.seed)
        self.labels = np.full(self.x.shape[0], -1)
        self.order: list[int] = []  # trained records in the order they were labelled
        self.decided = np.zeros(self.x.shape[0], dtype=bool)
        self.scores: np.ndarray | None = None
        for position, label in decisions:
            self.add(position, label)

    def add(self, position: int, label: str) -> None:
        """One new decision on an undecided record; the model is refitted when it can be."""
        self.decided[position] = True
        if label not in TRAINED:
            if self.scores is not None:
                self.scores[position] = -np.inf
            return
        self.svm.add(position, TRAINED[label])
        self.labels[position] = TRAINED[label]
        self.order.append(position)
        if {0, 1} <= set(self.labels[self.order]):
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                self.svm.fit()
            self.scores = self.svm.scores()
            self.scores[self.decided] = -np.inf

    def next(self) -> int | None:
        """The record to screen next (None when every record is decided)."""
        if self.decided.all():
            return None
        if self.scores is None:
            return int(next(p for p in self.random_order if not self.decided[p]))
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return _top(self.scores, self.x, np.array(self.order), self.labels, self.seed)

    def rank(self, position: int) -> int | None:
        """The record's place in the model's current ranking of the undecided records (1 = next); None before the model fits or once decided."""
        if self.scores is None or self.decided[position]:
            return None
        return int((self.scores > self.scores[position]).sum()) + 1

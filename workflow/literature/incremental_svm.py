"""ASReview's default classifier refitted after every label, at the cost of a few matrix-vector products.

ELAS u4 fits scikit-learn's ``LinearSVC`` (liblinear: L2 regularisation, squared hinge loss,
the bias a regularised feature of value 1) with per-record costs ``C * weight``. Its dual
is ``min ½ αᵀ(Q + D)α - Σα`` over ``α >= 0``, with ``Q = Y K Y``, ``K`` the Gram matrix of
the labelled records plus 1 (the bias) and ``D = diag(1 / (2 C weight))``. While every
labelled record lies inside the margin (``y f(x) < 1``, the case with ASReview's small C,
checked at every fit) no bound is active and the optimum solves ``(K + D) γ = y`` with
``γ = Yα``; then ``w = Σ γ_i x_i`` and the bias is ``Σ γ_i``, as ``LinearSVC`` finds them.

Each label adds one row and column to ``K`` (one sparse product with the labelled rows)
and changes ``D``; the system is solved by conjugate gradients started from the previous
solution, preconditioned by the diagonal and the bias's rank-one term, to a relative
residual of ``RTOL`` (tighter than liblinear's default stopping rule). When some record
lies on or outside the margin the fit falls back to ``LinearSVC`` itself.

A term found in one record only adds to that record's own score and Gram diagonal, so the
products for the other records leave such terms out: the scores of unlabelled records
are exact, those of labelled records are not computed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve
from sklearn.svm import LinearSVC

RTOL = 1e-5


class IncrementalSVM:
    """Linear SVM (squared hinge, regularised bias) on the labelled rows of ``x``, refitted after every label."""

    def __init__(self, x: sparse.csr_matrix, c: float, weights: Callable[[np.ndarray], np.ndarray], seed: int = 0):
        """``weights(labels)`` gives the per-record weights of the labels so far (a 0/1 array)."""
        self.x, self.c, self.weights, self.seed = sparse.csr_matrix(x, dtype=np.float64), c, weights, seed
        self.shared = np.flatnonzero(np.bincount(self.x.indices, minlength=x.shape[1]) >= 2)  # terms in two records or more
        self.products = self.x[:, self.shared].tocsr()  # the features that link records
        self.norms = np.asarray(self.x.multiply(self.x).sum(axis=1)).ravel()
        self.labelled: list[int] = []
        self.labels: list[int] = []
        self.unlabelled = np.ones(x.shape[0], dtype=bool)
        self._candidates, self._candidate_rows = np.arange(x.shape[0]), self.products  # rows that scores() computes
        self.gram = np.empty((0, 0))
        self.gamma, self.gram_gamma = np.zeros(0), np.zeros(0)  # the last solution and K times it
        self.coef, self.intercept = np.zeros(len(self.shared)), 0.0
        self._row = np.zeros(len(self.shared))  # one record's linking features, dense, zero between uses
        # the labelled rows of ``products`` in labelling order, in arrays with room for every row
        # (rows past the labelled ones empty), shared by a CSR matrix and its transpose
        self._indices, self._data = np.empty_like(self.products.indices), np.empty_like(self.products.data)
        self._indptr = np.zeros_like(self.products.indptr)
        self._rows, self._columns = sparse.csr_matrix(self.products.shape), sparse.csc_matrix(self.products.shape[::-1])
        for matrix in (self._rows, self._columns):
            matrix.indices, matrix.data, matrix.indptr = self._indices, self._data, self._indptr

    def add(self, index: int, label: int) -> None:
        """Label one record: its Gram row with the records labelled before it is appended."""
        n = len(self.labelled)
        if n == self.gram.shape[0]:
            grown = np.empty((max(64, 2 * n), max(64, 2 * n)))
            grown[:n, :n] = self.gram[:n, :n]
            self.gram = grown
        start, end = self.products.indptr[index], self.products.indptr[index + 1]
        columns, values = self.products.indices[start:end], self.products.data[start:end]
        if n:
            self._row[columns] = values
            self.gram[n, :n] = self.gram[:n, n] = (self._rows @ self._row)[:n]
            self._row[columns] = 0.0
        self.gram[n, n] = self.norms[index]
        offset = self._indptr[n]
        self._indices[offset : offset + len(columns)], self._data[offset : offset + len(columns)] = columns, values
        self._indptr[n + 1 :] = offset + len(columns)
        self.labelled.append(index)
        self.labels.append(label)
        self.unlabelled[index] = False

    def fit(self) -> None:
        """The SVM of the labels so far (both classes needed)."""
        n = len(self.labelled)
        labels = np.asarray(self.labels)
        y = 2.0 * labels - 1.0
        diagonal = 1.0 / (2.0 * self.c * self.weights(labels))
        gram = self.gram[:n, :n]
        gamma, gram_gamma = self._start(gram, y, diagonal)
        gamma, gram_gamma = _conjugate_gradients(gram, diagonal, y, gamma, gram_gamma, self._preconditioner(gram, labels, diagonal))
        if np.all(gamma * y > 0):
            self.gamma, self.gram_gamma = gamma, gram_gamma
            self.coef, self.intercept = self._columns @ np.r_[gamma, np.zeros(self.x.shape[0] - n)], float(gamma.sum())
        else:  # a record on or outside the margin: liblinear's own solution
            svm = LinearSVC(C=self.c, random_state=self.seed).fit(self.x[self.labelled], labels, sample_weight=self.weights(labels))
            self.gamma, self.gram_gamma = np.zeros(0), np.zeros(0)
            self.coef, self.intercept = svm.coef_[0][self.shared], float(svm.intercept_[0])

    def _start(self, gram: np.ndarray, y: np.ndarray, diagonal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The previous solution, each record labelled since given its own row's solution, and its product with ``gram``."""
        gamma, product = self.gamma.copy(), self.gram_gamma.copy()
        for k in range(len(gamma), len(y)):
            row = gram[k, : len(gamma)]
            own = (y[k] - row @ gamma - gamma.sum()) / (gram[k, k] + 1.0 + diagonal[k])
            product = np.r_[product + own * gram[: len(gamma), k], row @ gamma + own * gram[k, k]]
            gamma = np.r_[gamma, own]
        return gamma, product

    @staticmethod
    def _preconditioner(gram: np.ndarray, labels: np.ndarray, diagonal: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """The inverse of B + 11ᵀ (Sherman-Morrison), B the diagonal of K + D with the relevant records' block whole."""
        relevant = np.flatnonzero(labels == 1)
        block = cho_factor(gram[np.ix_(relevant, relevant)] + np.diag(diagonal[relevant]), check_finite=False)
        inverse = 1.0 / (np.diag(gram) + diagonal)

        def solve(v: np.ndarray) -> np.ndarray:
            out = inverse * v
            out[relevant] = cho_solve(block, v[relevant], check_finite=False)
            return out

        ones = solve(np.ones(len(labels)))
        shrink = 1.0 / (1.0 + ones.sum())
        return lambda v: (lambda u: u - ones * (u.sum() * shrink))(solve(v))

    def scores(self) -> np.ndarray:
        """Decision values of the unlabelled records, as ``LinearSVC.decision_function`` gives them; -inf for labelled ones."""
        if (~self.unlabelled[self._candidates]).sum() > 0.1 * len(self._candidates):  # rows scored in vain: drop them
            self._candidates = np.flatnonzero(self.unlabelled)
            self._candidate_rows = self.products[self._candidates]
        scores = np.full(len(self.unlabelled), -np.inf)
        scores[self._candidates] = self._candidate_rows @ self.coef + self.intercept
        scores[~self.unlabelled] = -np.inf
        return scores


def _conjugate_gradients(gram, diagonal, y, gamma, gram_gamma, preconditioner) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``(K + 11ᵀ + D) γ = y`` from ``gamma`` (with ``K γ`` given, which saves a product)
    to a relative residual of ``RTOL``; returns γ and ``K γ``."""
    residual = y - (gram_gamma + gamma.sum() + diagonal * gamma)
    target = RTOL * np.linalg.norm(y)
    direction = preconditioner(residual)
    rho = residual @ direction
    for _ in range(10 * len(y)):
        if np.linalg.norm(residual) <= target:
            break
        gram_direction = gram @ direction
        product = gram_direction + direction.sum() + diagonal * direction
        step = rho / (direction @ product)
        gamma, gram_gamma, residual = gamma + step * direction, gram_gamma + step * gram_direction, residual - step * product
        preconditioned = preconditioner(residual)
        rho, previous = residual @ preconditioned, rho
        direction = preconditioned + (rho / previous) * direction
    return gamma, gram_gamma

"""ML-prioritised screening: TF-IDF features, a classifier, and active learning.

The reviewer labels the record the model ranks most likely relevant, the model is
retrained, and so on. ``simulate`` replays that loop on a fully labelled review with
ASReview's simulation protocol (one relevant and one irrelevant prior record drawn by
the seed as ``asreview simulate --n-prior-included 1 --n-prior-excluded 1 --prior-seed``
draws them); the metrics count the records screened after the priors: WSS@95 under
Cohen's definition and asreview-insights', and RRF@10.

The default model is ASReview 3's default (ELAS u4): TF-IDF of unigrams and bigrams
(sublinear tf, max_df 0.95) and a linear SVM (C = 0.11) whose relevant records weigh 9.8
times the irrelevant ones in total, refitted after every label; records whose scores are
equal within the solution's accuracy are ordered by naive Bayes. It screens as ASReview
does at a fraction of its cost: the features are computed without building bigram
strings, and each refit updates the dual solution (``IncrementalSVM``) instead of
solving from scratch.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

from .incremental_svm import IncrementalSVM
from .records import normalise_doi

MODELS = ("svm", "nb", "logistic")
DEFAULT_MODEL = "svm"
TOKEN = re.compile(r"\w\w+")  # the tokens of scikit-learn's default pattern (?u)\b\w\w+\b, found faster
LABEL_COLUMNS = ("label_included", "included", "label", "debug_label")
PRIORS = 2  # one relevant and one irrelevant record, screened before the model ranks
BATCH = 0.05  # irrelevant labels, as a share of those given, that trigger a retrain
# Total weight of the relevant records over the irrelevant ones (ASReview's balanced sampler).
RATIO = {"svm": 9.8, "nb": 1.2, "logistic": 1.0}
SVM_C = 0.11  # ASReview's ELAS u4
# SVM scores this close to the top are equal within the solution's accuracy (about 6e-7 here;
# liblinear's default tolerance leaves 1e-6 to 1e-5): naive Bayes orders them.
TIE = 1e-6


def features(texts: list[str]) -> sparse.csr_matrix:
    """TF-IDF of word unigrams and bigrams, sublinear tf, terms in over 95% of the texts dropped.

    The matrix of scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
    max_df=0.95)`` (ASReview's features), columns in another order: the texts are
    tokenised as it does, and bigrams numbered from their two words' numbers instead of
    joined into strings, which takes a third of the time.
    """
    vocabulary: dict[str, int] = {}  # word -> number: the token count when first seen (numbers with gaps)
    counter = itertools.count()
    words = [np.fromiter(map(vocabulary.setdefault, tokens, counter), dtype=np.int64, count=len(tokens)) for tokens in (TOKEN.findall(text.lower()) for text in texts)]
    size = 1 + sum(map(len, words))  # above every word's number
    bigrams, number = np.unique(np.concatenate([a[:-1] * size + a[1:] for a in words] + [np.zeros(0, np.int64)]), return_inverse=True)
    starts = np.cumsum([0] + [max(len(a) - 1, 0) for a in words])
    terms = [np.concatenate([a, size + number[start:end]]) for a, start, end in zip(words, starts[:-1], starts[1:])]
    rows = np.repeat(np.arange(len(texts)), [len(t) for t in terms])
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, np.concatenate(terms + [np.zeros(0, np.int64)]))), shape=(len(texts), size + len(bigrams)))
    counts.sum_duplicates()
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    kept = np.flatnonzero((frequency > 0) & (frequency <= 0.95 * len(texts)))
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts[:, kept])


def balanced_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """Sample weights summing to ``len(y)`` whose relevant records weigh ``ratio`` times the irrelevant ones in total."""
    relevant = y == 1
    weights = np.where(relevant, 1.0, relevant.sum() / (ratio * max((~relevant).sum(), 1)))
    return weights * len(y) / weights.sum()


def _model(name: str, seed: int):
    if name == "svm":
        return LinearSVC(C=SVM_C, random_state=seed)  # ASReview's ELAS u4
    if name == "nb":
        return MultinomialNB(alpha=3.822)  # ASReview's ELAS u3
    if name == "logistic":
        return LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    raise ValueError(f"unknown screening model {name!r}; known: {', '.join(MODELS)}")


def _scores(model, x) -> np.ndarray:
    return model.predict_proba(x)[:, 1] if hasattr(model, "predict_proba") else model.decision_function(x)


def _fit(x, y: np.ndarray, model: str, seed: int):
    """The classifier trained on labelled rows, with the model's class balance."""
    return _model(model, seed).fit(x, y, sample_weight=balanced_weights(y, RATIO[model]))


def rank(x, labelled: np.ndarray, labels: np.ndarray, model: str = DEFAULT_MODEL, seed: int = 0) -> np.ndarray:
    """Unlabelled record indices, most likely relevant first (ties by index), from the labels given so far."""
    classifier = _fit(x[labelled], labels[labelled], model, seed)
    ranked = np.argsort(-_scores(classifier, x), kind="stable")
    return ranked[~np.isin(ranked, labelled)]


def prior_records(labels: np.ndarray, seed: int) -> list[int]:
    """The relevant and the irrelevant record ``asreview simulate --prior-seed seed`` starts from."""
    return [int(np.random.RandomState(seed).choice(np.flatnonzero(labels == label), 1, replace=False)[0]) for label in (1, 0)]


def simulate(x, labels: np.ndarray, model: str = DEFAULT_MODEL, seed: int = 0, batch: float = BATCH) -> np.ndarray:
    """The order in which an active-learning reviewer would screen every record.

    Starts from ``prior_records``, then screens the top-ranked record each time (ties by
    index). The SVM is refitted after every label, as ASReview does (``IncrementalSVM``),
    and its near-ties are broken by naive Bayes (``_top``);
    the other models are retrained after a relevant label, or once the irrelevant labels
    since the last training reach ``batch`` of all labels (0: after every label). Once
    every relevant record is found the rest follow the last ranking: no metric depends on
    their order.
    """
    labels = np.asarray(labels, dtype=int)
    if model == "svm":
        return _simulate_svm(x, labels, seed)
    order = prior_records(labels, seed)
    found, queue, waiting = 1, [], 0
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):  # checked once is enough
        while found < labels.sum():
            if not queue or labels[order[-1]] == 1 or waiting >= batch * len(order):
                queue, waiting = rank(x, np.array(order), labels, model, seed).tolist()[::-1], 0
            order.append(queue.pop())
            found, waiting = found + labels[order[-1]], waiting + 1
        rest = queue[::-1] or rank(x, np.array(order), labels, model, seed).tolist()  # ranked once if the prior was the only relevant record
    return np.array(order + rest)


def _simulate_svm(x, labels: np.ndarray, seed: int) -> np.ndarray:
    """``simulate`` with the SVM refitted after every label."""
    svm = IncrementalSVM(x, SVM_C, lambda y: balanced_weights(y, RATIO["svm"]), seed)
    order = prior_records(labels, seed)
    for index in order:
        svm.add(index, labels[index])
    found, relevant = labels[order].sum(), labels.sum()
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        while True:
            svm.fit()
            scores = svm.scores()
            if found == relevant:
                break
            index = _top(scores, x, np.array(order), labels, seed)
            order.append(index)
            svm.add(index, labels[index])
            found += labels[index]
    rest = np.flatnonzero(svm.unlabelled)
    return np.array(order + rest[np.argsort(-scores[rest], kind="stable")].tolist())


def _top(scores: np.ndarray, x, labelled: np.ndarray, labels: np.ndarray, seed: int) -> int:
    """The record to screen next: the top-scored one; among records within ``TIE`` of the top,
    the one naive Bayes (ELAS u3's classifier) finds likelier relevant, then the first."""
    near = np.flatnonzero(scores >= scores.max() - TIE)
    if len(near) == 1:
        return int(near[0])
    naive_bayes = _fit(x[labelled], labels[labelled], "nb", seed)
    return int(near[np.argmax(naive_bayes.predict_proba(x[near])[:, 1])])


def recall_curve(order: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of relevant records found after each screened record, priors included."""
    found = np.cumsum(np.asarray(labels)[order])
    return found / found[-1]


def _found(order: np.ndarray, labels: np.ndarray, priors: int) -> np.ndarray:
    """Relevant records found after each record screened past the priors."""
    return np.cumsum(np.asarray(labels)[np.asarray(order)[priors:]])


def wss(order: np.ndarray, labels: np.ndarray, recall: float = 0.95, priors: int = PRIORS) -> float:
    """Cohen's work saved over sampling: of the N records after the priors, the share left
    unscreened when ceil(recall × R) of their R relevant records are found, minus 1 - recall."""
    found = _found(order, labels, priors)
    screened = int(np.argmax(found >= np.ceil(recall * found[-1] - 1e-9))) + 1
    return (len(found) - screened) / len(found) - (1 - recall)


def wss_insights(order: np.ndarray, labels: np.ndarray, recall: float = 0.95, priors: int = PRIORS) -> float:
    """asreview-insights' ``wss``: for the largest k with k/R ≤ recall (at least 1), how many
    records sooner the k-th relevant record comes than on the random curve
    round(linspace(0, R, N)), as a share of the N records after the priors."""
    found = _found(order, labels, priors)
    k = max(1, int(np.floor(recall * found[-1] + 1e-9)))
    random = np.round(np.linspace(0, found[-1], len(found)))
    return float(np.searchsorted(random, k) - np.searchsorted(found, k)) / len(found)


def rrf(order: np.ndarray, labels: np.ndarray, share: float = 0.10, priors: int = PRIORS) -> float:
    """Recall after screening floor(share × N) of the N records after the priors (asreview-insights' recall at ``share``)."""
    found = _found(order, labels, priors)
    screened = int(np.floor(share * len(found) + 1e-9))
    return float(found[screened - 1] / found[-1]) if screened else 0.0


@dataclass(frozen=True)
class LabelledReview:
    name: str
    texts: list[str]
    labels: np.ndarray

    @classmethod
    def read(cls, path, name: str) -> LabelledReview:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        column = next((c for c in LABEL_COLUMNS if c in table.columns), None)
        if column is None:
            raise ValueError(f"{path}: no label column (one of {', '.join(LABEL_COLUMNS)})")
        texts = (table["title"].str.strip() + " " + table.get("abstract", "").str.strip()).tolist()
        labels = pd.to_numeric(table[column]).astype(int).to_numpy()
        return cls(name, texts, labels)


def run_simulation(review: LabelledReview, model: str, seed: int, batch: float = BATCH) -> tuple[dict, np.ndarray]:
    """One simulation: its summary row (metrics, priors, CPU seconds of features and loop) and the screening order."""
    began = time.process_time()
    order = simulate(features(review.texts), review.labels, model, seed, batch)
    cpu = time.process_time() - began
    row = {
        "dataset": review.name,
        "model": model,
        "seed": seed,
        "records": len(review.labels),
        "relevant": int(review.labels.sum()),
        "priors": " ".join(str(i) for i in order[:PRIORS]),
        "wss95": wss(order, review.labels),
        "wss95_insights": wss_insights(order, review.labels),
        "rrf10": rrf(order, review.labels),
        "cpu_s": cpu,
    }
    return row, order


METRICS = ("wss95", "wss95_insights", "rrf10", "cpu_s")


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std (0 for one seed) per review and model of each metric and of the
    stopping rules' columns (``stop_*``) where the runs have them."""
    metrics = [*METRICS, *(c for c in runs.columns if c.startswith("stop_"))]
    summary = runs.groupby(["dataset", "model"], sort=False).agg(
        records=("records", "first"),
        relevant=("relevant", "first"),
        seeds=("seed", "count"),
        **{f"{m}_{s}": (m, s) for m in metrics for s in ("mean", "std")},
    ).reset_index()
    return summary.fillna({f"{m}_std": 0.0 for m in metrics})


def decision_key(decisions: pd.DataFrame) -> tuple[str | None, Callable[[object], str]]:
    """The column that finds each decision's record (``record_id``, ``pmid`` or ``doi``, the
    first there; None when there is none) and how its values are compared (DOIs normalised)."""
    key = next((k for k in ("record_id", "pmid", "doi") if k in decisions.columns), None)
    return key, normalise_doi if key == "doi" else (lambda v: str(v).strip())


def prioritise(records: pd.DataFrame, decisions: pd.DataFrame, model: str = DEFAULT_MODEL, seed: int = 0) -> pd.DataFrame:
    """Rank the records still to screen by predicted relevance, learnt from the decisions so far.

    ``decisions`` holds a ``label`` column (1 relevant, 0 not) and a ``record_id``,
    ``pmid`` or ``doi`` column to find each record. Returns ``records`` with ``label``
    (given, or empty), ``relevance`` (model score) and ``priority`` (1 = screen first).
    """
    key, normalise = decision_key(decisions)
    if key is None or "label" not in decisions.columns:
        raise ValueError("screening decisions need a 'label' column and one of record_id, pmid, doi")
    given = {normalise(k): int(v) for k, v in zip(decisions[key], decisions["label"])}
    labels = records[key].map(lambda v: given.get(normalise(v)) if v else None)
    known = labels.notna().to_numpy()
    if not {0, 1} <= set(labels[known].astype(int)):
        raise ValueError(f"screening decisions match {known.sum()} records; at least one relevant and one irrelevant are needed")
    x = features((records["title"].fillna("") + " " + records["abstract"].fillna("")).tolist())
    y = labels.fillna(-1).astype(int).to_numpy()
    labelled = np.flatnonzero(known)
    classifier = _fit(x[labelled], y[labelled], model, seed)
    ranked = records.assign(label=labels.astype("Int64"), relevance=_scores(classifier, x))
    unscreened = ranked["label"].isna()
    ranked.loc[unscreened, "priority"] = ranked.loc[unscreened, "relevance"].rank(ascending=False, method="first")
    ranked["priority"] = ranked["priority"].astype("Int64")
    return ranked.sort_values(["priority", "relevance"], ascending=[True, False], na_position="last")

"""Occlusion effects of a calibrated gradient-boosting ensemble, computed tree by tree.

A customer's reasons (:func:`churnlab.classifier.drivers.customer_reasons`) are the
features whose typical value lowers their churn probability most. For scikit-learn's
``CalibratedClassifierCV`` over ``HistGradientBoostingClassifier`` pipelines this
module computes every such counterfactual without predicting again:

* Setting feature ``j`` to a constant changes a tree's output only through the nodes
  that split on ``j``. A small tree (the default has 7 leaves, 6 splits) is a
  **decision table**: each row's leaf is a function of the bits "went left at split
  k", so the counterfactual leaf is a look-up of the row's bits with the bits of the
  splits on ``j`` replaced by the constant's. All rows and all features of a tree
  take a few vectorised operations.
* A larger tree (more than :data:`MAX_TABLE_SPLITS` splits) is re-scored with
  scikit-learn's own predictor, only for the rows on ``j``'s risky side.

The counterfactual raw scores go through each fold's calibrator and are averaged
over the folds, as ``CalibratedClassifierCV.predict_proba`` does; the result equals
scoring every counterfactual row with the classifier (``tests/classifier``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import threadpool_limits

__all__ = ["MAX_TABLE_SPLITS", "boosted_parts", "boosted_probability", "tree_effects"]

#: Trees with at most this many splits are evaluated as decision tables (one byte of bits).
MAX_TABLE_SPLITS = 8


def boosted_parts(classifier: Any, X: pd.DataFrame) -> list[tuple[Any, Any, Any]] | None:
    """Return (preprocessing, boosting, calibrator) per calibration fold, or None.

    Only for a :class:`~churnlab.classifier.pipeline.ChurnClassifier` whose model is
    scikit-learn's ``CalibratedClassifierCV`` over binary gradient-boosting pipelines
    with numeric inputs passed through unchanged.
    """
    model = getattr(classifier, "model_", None)
    folds = getattr(model, "calibrated_classifiers_", None)
    if not folds:
        return None
    parts = []
    for fold in folds:
        pipeline = getattr(fold, "estimator", None)
        steps = getattr(pipeline, "steps", None)
        calibrators = getattr(fold, "calibrators", [])
        if not steps or len(calibrators) != 1 or len(fold.classes) != 2:
            return None
        booster = steps[-1][1]
        if type(booster).__name__ != "HistGradientBoostingClassifier":
            return None
        if not hasattr(booster, "_predictors") or booster.n_trees_per_iteration_ != 1:
            return None
        names = list(pipeline[:-1].get_feature_names_out())
        if names != list(X.columns) or getattr(booster, "is_categorical_", None) is not None:
            return None
        parts.append((pipeline[:-1], booster, calibrators[0]))
    return parts


@dataclass(frozen=True)
class _DecisionTable:
    """A small tree as its splits and a look-up table from split bits to leaf value."""

    feature: np.ndarray  # feature of split k
    threshold: np.ndarray
    missing_left: np.ndarray
    leaf_value: np.ndarray  # indexed by the bits "went left at split k"

    @classmethod
    def of(cls, tree: Any) -> _DecisionTable | None:
        nodes = tree.nodes
        is_leaf = nodes["is_leaf"].astype(bool)
        splits = np.flatnonzero(~is_leaf)
        if len(splits) > MAX_TABLE_SPLITS:
            return None
        bit = np.zeros(len(nodes), dtype=np.int64)
        bit[splits] = np.arange(len(splits))
        masks = np.arange(2 ** len(splits), dtype=np.int64)
        node = np.zeros(len(masks), dtype=np.int64)  # the root is node 0
        for _ in range(len(splits)):  # no path is longer than the number of splits
            left = (masks >> bit[node]) & 1 == 1
            step = np.where(left, nodes["left"][node], nodes["right"][node]).astype(np.int64)
            node = np.where(is_leaf[node], node, step)
        return cls(
            feature=nodes["feature_idx"][splits].astype(np.int64),
            threshold=nodes["num_threshold"][splits].astype(float),
            missing_left=nodes["missing_go_to_left"][splits].astype(bool),
            leaf_value=nodes["value"][node].astype(float),
        )

    def bits(self, columns: np.ndarray, has_missing: np.ndarray) -> np.ndarray:
        """Return each row's split bits (``columns`` in Fortran order, one per feature).

        As scikit-learn's predictor decides: left when the value is at most the
        threshold, a missing value goes the split's missing side.
        """
        out = np.zeros(columns.shape[0], dtype=np.uint8)
        for k, f in enumerate(self.feature):
            column = columns[:, f]
            left = column <= self.threshold[k]  # NaN compares False: right
            if has_missing[f] and self.missing_left[k]:
                left |= np.isnan(column)
            out |= left.view(np.uint8) << np.uint8(k)
        return out

    def shift(self, feature: int, value: float) -> np.ndarray | None:
        """Return the change of leaf value when ``feature`` is set to ``value``, per bit pattern.

        Indexed by a row's bits: its splits on ``feature`` are replaced by the ones
        ``value`` takes, the others kept. None when the tree does not split on it.
        """
        which = fixed = 0
        for k in np.flatnonzero(self.feature == feature):
            which |= 1 << int(k)
            left = self.missing_left[k] if np.isnan(value) else value <= self.threshold[k]
            fixed |= int(left) << int(k)
        if not which:
            return None
        bits = np.arange(len(self.leaf_value))
        return self.leaf_value[(bits & ~which) | fixed] - self.leaf_value


def _blocks(n: int, batch: int) -> list[tuple[int, int]]:
    step = max(1_000, batch // 20)
    return [(start, min(n, start + step)) for start in range(0, n, step)]


class _Fold:
    """One calibration fold: preprocessing, trees (decision tables where small), calibrator."""

    def __init__(self, preprocess: Any, booster: Any, calibrator: Any, threads: int) -> None:
        self.preprocess, self.calibrator = preprocess, calibrator
        self.trees = [iteration[0] for iteration in booster._predictors]
        self.tables = [_DecisionTable.of(tree) for tree in self.trees]
        self.baseline = float(np.ravel(booster._baseline_prediction)[0])
        self.categories = booster._bin_mapper.make_known_categories_bitsets()
        self.n_threads = _openmp_effective_n_threads(threads)
        self._shifts: dict[bytes, list[list[tuple[int, np.ndarray]]]] = {}

    def shifts(
        self, positions: np.ndarray, middle: np.ndarray
    ) -> list[list[tuple[int, np.ndarray]]]:
        """Per table, ``(k, shift)`` for each feature ``positions[k]`` it splits on.

        :meth:`_DecisionTable.shift` of the feature set to ``middle[k]``; computed once
        per call.
        """
        key = positions.tobytes() + middle.tobytes()
        if key not in self._shifts:
            self._shifts[key] = [
                []
                if table is None
                else [
                    (k, shift)
                    for k, (p, m) in enumerate(zip(positions, middle, strict=True))
                    if (shift := table.shift(p, m)) is not None
                ]
                for table in self.tables
            ]
        return self._shifts[key]

    def values(self, X: pd.DataFrame) -> np.ndarray:
        """Return the fold's model inputs for ``X``, one column per feature (Fortran order)."""
        return np.asfortranarray(self.preprocess.transform(X), float)

    def scores(
        self,
        values: np.ndarray,
        positions: np.ndarray,
        middle: np.ndarray,
        risky: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw score of each row, and its change when feature ``positions[k]`` is ``middle[k]``.

        The change is filled for the rows where ``risky[:, k]`` (and, through a
        decision table, for every row); ``positions`` may be empty.
        """
        n = values.shape[0]
        has_missing = np.isnan(values).any(axis=0)
        raw = np.full(n, self.baseline)
        shift = np.zeros((len(positions), n))
        changed: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        rows_major: np.ndarray | None = None
        shifts = self.shifts(positions, middle)
        for tree, table, shifts_of in zip(self.trees, self.tables, shifts, strict=True):
            if table is not None:
                bits = table.bits(values, has_missing)
                value = table.leaf_value[bits]
                for k, change in shifts_of:
                    shift[k] += change[bits]
            else:  # a large tree: scikit-learn's predictor, on the changed rows only
                if rows_major is None:
                    rows_major = np.ascontiguousarray(values)
                value = tree.predict(rows_major, *self.categories, self.n_threads)
                splits = tree.nodes["feature_idx"][~tree.nodes["is_leaf"].astype(bool)]
                for k, position in enumerate(positions):
                    if position not in splits:
                        continue
                    if k not in changed:
                        rows = np.flatnonzero(risky[:, k])
                        rows_values = rows_major[rows]
                        rows_values[:, position] = middle[k]
                        changed[k] = rows, rows_values
                    rows, rows_values = changed[k]
                    new = tree.predict(rows_values, *self.categories, self.n_threads)
                    shift[k, rows] += new - value[rows]
            raw += value
        return raw, shift


def _folds(classifier: Any, X: pd.DataFrame) -> list[_Fold] | None:
    parts = boosted_parts(classifier, X)
    if parts is None:
        return None
    threads = getattr(classifier, "n_threads", 1)
    return [
        _Fold(preprocess, booster, calibrator, threads) for preprocess, booster, calibrator in parts
    ]


def boosted_probability(classifier: Any, X: pd.DataFrame, *, batch: int = 500_000) -> Any:
    """Return the calibrated churn probability of each row, or None for other classifiers.

    The same numbers as ``CalibratedClassifierCV.predict_proba`` (the calibrators' mean
    over the folds, of each fold's raw boosting score), with small trees evaluated as
    decision tables on blocks of rows that stay in the processor's cache: about four
    times faster than scikit-learn's predictor, which walks the whole feature matrix
    once per tree.

    Parameters
    ----------
    classifier : fitted ChurnClassifier
    X : pandas.DataFrame
        Rows in the classifier's columns.
    batch : int, default 500000
        Bounds the rows held at once (blocks of ``batch // 20`` rows).

    Returns
    -------
    numpy.ndarray or None
    """
    folds = _folds(classifier, X)
    if folds is None:
        return None
    none = np.zeros(0, dtype=np.int64)
    probability = np.zeros(len(X))
    with threadpool_limits(getattr(classifier, "n_threads", 1)):
        for fold in folds:
            for start, stop in _blocks(len(X), batch):
                values = fold.values(X.iloc[start:stop])
                raw, _ = fold.scores(
                    values, none, none.astype(float), np.zeros((stop - start, 0), bool)
                )
                probability[start:stop] += fold.calibrator.predict(raw)
    return probability / len(folds)


def tree_effects(
    classifier: Any,
    X: pd.DataFrame,
    columns: list[str],
    typical: pd.Series,
    risky: np.ndarray,
    *,
    batch: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the base probability and how much setting each feature to typical lowers it.

    Parameters
    ----------
    classifier : fitted ChurnClassifier
        Of the form :func:`boosted_parts` accepts (else None is returned).
    X : pandas.DataFrame
        Customers, in the classifier's columns.
    columns : list of str
        The features that can be reasons.
    typical : pandas.Series
        The typical value of each of ``columns``.
    risky : numpy.ndarray of bool
        ``(customers, columns)``: only these pairs are filled, the others are NaN.
    batch : int
        Bounds the rows held at once (blocks of ``batch // 20`` rows).

    Returns
    -------
    tuple of numpy.ndarray or None
        ``(base, effects)``: the calibrated churn probability of each customer and
        ``base - counterfactual`` per (customer, feature).
    """
    folds = _folds(classifier, X)
    if folds is None:
        return None
    n = len(X)
    middle = typical.to_numpy(dtype=float)
    positions = np.array([X.columns.get_loc(c) for c in columns], dtype=np.int64)
    base = np.zeros(n)
    counterfactual = np.zeros((n, len(columns)))
    with threadpool_limits(getattr(classifier, "n_threads", 1)):
        for fold in folds:
            for start, stop in _blocks(n, batch):
                block_risky = risky[start:stop]
                values = fold.values(X.iloc[start:stop])
                raw, shift = fold.scores(values, positions, middle, block_risky)
                base[start:stop] += fold.calibrator.predict(raw)
                # every risky (feature, row) pair of the block through the calibrator at once
                pairs = block_risky.T
                if pairs.any():  # an isotonic calibrator refuses an empty input
                    moved = fold.calibrator.predict((raw + shift)[pairs])
                    counterfactual[start:stop].T[pairs] += moved
    base /= len(folds)
    effects = np.where(risky, base[:, None] - counterfactual / len(folds), np.nan)
    return base, effects

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

    def fixed_bits(self, feature: int, value: float) -> tuple[np.uint8, np.uint8]:
        """Return (which bits split on ``feature``, their values when it equals ``value``)."""
        which = fixed = 0
        for k in np.flatnonzero(self.feature == feature):
            which |= 1 << int(k)
            left = self.missing_left[k] if np.isnan(value) else value <= self.threshold[k]
            fixed |= int(left) << int(k)
        return np.uint8(which), np.uint8(fixed)


def _blocks(n: int, batch: int) -> list[tuple[int, int]]:
    step = max(1_000, batch // 20)
    return [(start, min(n, start + step)) for start in range(0, n, step)]


def boosted_probability(classifier: Any, X: pd.DataFrame, *, batch: int = 500_000) -> Any:
    """Return the calibrated churn probability of each row, or None for other classifiers.

    The same numbers as ``CalibratedClassifierCV.predict_proba`` (the calibrators' mean
    over the folds, of each fold's raw boosting score), with small trees evaluated as
    decision tables on blocks of rows that stay in the processor's cache: about five
    times faster than scikit-learn's predictor on a million customers, which walks
    the whole feature matrix once per tree.

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
    parts = boosted_parts(classifier, X)
    if parts is None:
        return None
    probability = np.zeros(len(X))
    with threadpool_limits(getattr(classifier, "n_threads", 1)):
        for preprocess, booster, calibrator in parts:
            trees = [iteration[0] for iteration in booster._predictors]
            tables = [_DecisionTable.of(tree) for tree in trees]
            baseline = float(np.ravel(booster._baseline_prediction)[0])
            none = np.zeros(0, dtype=np.int64)
            for start, stop in _blocks(len(X), batch):
                values = np.asfortranarray(preprocess.transform(X.iloc[start:stop]), float)
                raw, _ = _block_scores(
                    trees, tables, [[]] * len(trees), values, none, none.astype(float),
                    np.zeros((stop - start, 0), dtype=bool), booster, 1,
                )  # fmt: skip
                probability[start:stop] += calibrator.predict(raw + baseline)
    return probability / len(parts)


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
    parts = boosted_parts(classifier, X)
    if parts is None:
        return None
    n = len(X)
    threads = getattr(classifier, "n_threads", 1)
    middle = typical.to_numpy(dtype=float)
    positions = np.array([X.columns.get_loc(c) for c in columns], dtype=np.int64)
    base = np.zeros(n)
    counterfactual = np.zeros((n, len(columns)))
    with threadpool_limits(threads):
        for preprocess, booster, calibrator in parts:
            trees = [iteration[0] for iteration in booster._predictors]
            tables = [_DecisionTable.of(tree) for tree in trees]
            fixed = [
                [
                    table.fixed_bits(p, m) if table else (0, 0)
                    for p, m in zip(positions, middle, strict=True)
                ]
                for table in tables
            ]
            baseline = float(np.ravel(booster._baseline_prediction)[0])
            for start, stop in _blocks(n, batch):
                values = np.asfortranarray(preprocess.transform(X.iloc[start:stop]), float)
                raw, shift = _block_scores(
                    trees, tables, fixed, values, positions, middle, risky[start:stop],
                    booster, threads,
                )  # fmt: skip
                raw += baseline
                base[start:stop] += calibrator.predict(raw)
                block = counterfactual[start:stop]
                for k in range(len(positions)):
                    rows = np.flatnonzero(risky[start:stop, k])
                    block[rows, k] += calibrator.predict(raw[rows] + shift[k, rows])
    base /= len(parts)
    effects = np.where(risky, base[:, None] - counterfactual / len(parts), np.nan)
    return base, effects


def _block_scores(
    trees: list[Any],
    tables: list[_DecisionTable | None],
    fixed: list[list[tuple[Any, Any]]],
    values: np.ndarray,
    positions: np.ndarray,
    middle: np.ndarray,
    risky: np.ndarray,
    booster: Any,
    threads: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw score of each row, and its change when each feature is set to typical."""
    n = values.shape[0]
    has_missing = np.isnan(values).any(axis=0)
    raw = np.zeros(n)
    shift = np.zeros((len(positions), n))
    changed: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for tree, table, bits_of in zip(trees, tables, fixed, strict=True):
        if table is not None:
            bits = table.bits(values, has_missing)
            value = table.leaf_value[bits]
            for k, (which, bit_values) in enumerate(bits_of):
                if which:
                    shift[k] += table.leaf_value[(bits & ~which) | bit_values] - value
        else:  # a large tree: scikit-learn's predictor on the changed rows
            cats, f_idx = booster._bin_mapper.make_known_categories_bitsets()
            n_threads = _openmp_effective_n_threads(threads)
            value = tree.predict(np.ascontiguousarray(values), cats, f_idx, n_threads)
            used = set(tree.nodes["feature_idx"][~tree.nodes["is_leaf"].astype(bool)].tolist())
            for k, position in enumerate(positions):
                if position not in used:
                    continue
                if k not in changed:
                    rows = np.flatnonzero(risky[:, k])
                    rows_values = np.ascontiguousarray(values[rows])
                    rows_values[:, position] = middle[k]
                    changed[k] = rows, rows_values
                rows, rows_values = changed[k]
                shift[k, rows] += tree.predict(rows_values, cats, f_idx, n_threads) - value[rows]
        raw += value
    return raw, shift

"""Classifier drivers as stand-in reasons when customers gave none.

A churn classifier's per-customer drivers (feature contributions to the churn
risk, e.g. SHAP values) are *model evidence*, not what customers said. Records
built from them carry ``evidence = "classifier driver"`` and every summary says so.
"""

from __future__ import annotations

import re

import pandas as pd

from churnlab.classifier.phrases import theme_label
from churnlab.config import CUSTOMER_ID
from churnlab.data.validation import format_examples
from churnlab.exceptions import DataValidationError
from churnlab.reasons.records import CATEGORY, DRIVER, EVIDENCE, NO_EVIDENCE, REASON, STATED

__all__ = ["driver_reasons", "evidence_note"]

_PREFIX = re.compile(r"^[A-Za-z0-9]+__")


def driver_reasons(drivers: pd.DataFrame) -> pd.DataFrame:
    """Turn per-customer classifier drivers into one stand-in reason per customer.

    Parameters
    ----------
    drivers : pandas.DataFrame
        One of three layouts: the output of
        ``churnlab.classifier.drivers.customer_reasons`` (index customer_id,
        ``feature_1``/``effect_1``/``reason_1`` ...); *wide* (index customer_id,
        one column per feature, values = the feature's contribution to churn
        risk); or *long* (columns customer_id, feature, contribution).

    Returns
    -------
    pandas.DataFrame
        Index customer_id; columns category and reason (the feature that pushes
        risk up the most, with pipeline prefixes such as ``num__`` removed),
        contribution, driver_text (the classifier's sentence, when given) and
        evidence (``"classifier driver"``). Customers whose largest contribution
        is not positive are left out.
    """
    text = None
    if {"feature_1", "effect_1"} <= set(drivers.columns):
        ids = drivers.index.astype(str)
        text = pd.Series(
            drivers.get("reason_1", pd.Series("", index=drivers.index)).to_numpy(), index=ids
        )
        drivers = pd.DataFrame(
            {
                CUSTOMER_ID: ids,
                "feature": drivers["feature_1"].to_numpy(),
                "contribution": pd.to_numeric(drivers["effect_1"], errors="coerce").to_numpy(),
            }
        )
        drivers = drivers[drivers["feature"].astype(str) != ""]
    if {"feature", "contribution"} <= set(drivers.columns):
        long = drivers.reset_index() if drivers.index.name == CUSTOMER_ID else drivers
        if CUSTOMER_ID not in long.columns:
            raise DataValidationError(
                "driver_reasons: a long drivers table needs a 'customer_id' column or index "
                "next to 'feature' and 'contribution'."
            )
        long = long[[CUSTOMER_ID, "feature", "contribution"]]
    else:
        numeric = drivers.select_dtypes("number")
        if numeric.empty:
            raise DataValidationError(
                "driver_reasons expects numeric feature contributions (wide: one column per "
                "feature) or columns 'customer_id', 'feature', 'contribution' (long); got "
                f"columns {format_examples(drivers.columns)}."
            )
        long = numeric.rename_axis(CUSTOMER_ID).reset_index()
        long = long.melt(id_vars=CUSTOMER_ID, var_name="feature", value_name="contribution")
    long = long.dropna(subset=["contribution"])
    top = long.sort_values("contribution", ascending=False).drop_duplicates(CUSTOMER_ID)
    top = top[top["contribution"] > 0]
    features = top["feature"].astype(str).str.replace(_PREFIX, "", regex=True)
    names = features.map(theme_label)
    details = pd.Series(features.to_numpy(), index=top[CUSTOMER_ID].astype(str).to_numpy())
    if text is not None:
        details = text.reindex(details.index).where(
            lambda t: t.astype(bool), details.map(theme_label)
        )
    else:
        details = details.map(theme_label)
    out = pd.DataFrame(
        {
            CATEGORY: names.to_numpy(),
            REASON: details.to_numpy(),
            "contribution": top["contribution"].to_numpy(dtype=float),
            EVIDENCE: DRIVER,
        },
        index=pd.Index(top[CUSTOMER_ID].astype(str), name=CUSTOMER_ID),
    )
    out.insert(3, "driver_text", text.reindex(out.index) if text is not None else "")
    return out.sort_index()


def evidence_note(records: pd.DataFrame) -> str:
    """Say in one sentence which kind of evidence a set of churn records holds.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.

    Returns
    -------
    str
        E.g. "All 1,869 reasons are stated by customers (exit survey or
        cancellation records)." or a breakdown when model drivers stand in.
    """
    counts = records[EVIDENCE].value_counts()
    n = len(records)
    stated, driver, none = (int(counts.get(k, 0)) for k in (STATED, DRIVER, NO_EVIDENCE))
    if stated == n:
        return f"All {n:,} reasons are stated by customers (exit survey or cancellation records)."
    parts = [f"{stated:,} of {n:,} reasons are stated by customers"]
    if driver:
        parts.append(
            f"{driver:,} are the churn classifier's top driver for that customer (model "
            "evidence of risk, not what the customer said)"
        )
    if none:
        parts.append(f"{none:,} have no evidence and are shown as 'Unknown reason'")
    return "; ".join(parts) + "."

"""Match cancellation lines to the purchase lines they fully reverse.

A cancellation line (negative quantity) *reverses* a purchase line when both
belong to the same customer and product, the purchase was made at or before the
cancellation, and the purchase quantity equals the cancelled quantity with the
sign flipped. Each cancellation takes the latest such purchase that no earlier
cancellation has taken (last in, first out), and each purchase is taken at most
once. Partial reversals (the quantities differ) are not matched.

The matching is vectorised. Within one (customer, product, quantity) key the
events are sorted by time, purchases before cancellations at the same instant.
A purchase pushes onto a stack and a cancellation pops the top purchase, if any.
The stack depth is a random walk reflected at zero,
``depth_i = cumsum_i - min(0, min_{k <= i} cumsum_k)``; a cancellation pops
when the depth before it is positive, and it pops the latest purchase that
raised the depth to that level. At one level, pushes and pops alternate in
time, so the k-th push and the k-th pop at a level form a pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab import config

_KEY = [config.CUSTOMER_ID, config.PRODUCT_ID, "_size"]


def match_reversals(
    frame: pd.DataFrame, *, purchases: pd.Series, cancellations: pd.Series
) -> pd.DataFrame:
    """Pair each cancellation line with the purchase line it fully reverses.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical columns ``customer_id``, ``product_id``, ``date`` and ``quantity``.
    purchases : pandas.Series of bool
        Rows that may be reversed (aligned with ``frame``); only those with a
        positive quantity are used.
    cancellations : pandas.Series of bool
        Rows that reverse purchases (aligned with ``frame``); only those with a
        negative quantity are used.

    Returns
    -------
    pandas.DataFrame
        One row per matched pair, columns ``purchase`` and ``cancellation`` holding
        index labels of ``frame``; sorted by ``cancellation``. Empty (same columns)
        when nothing matches.

    Notes
    -----
    Rows with a missing customer id, product id, date or quantity never match.
    A cancellation without an earlier full-quantity purchase (for example one
    bought before the log starts, or a partial return) matches nothing.
    """
    quantity = frame[config.QUANTITY]
    usable = (
        frame[[config.CUSTOMER_ID, config.PRODUCT_ID, config.DATE, config.QUANTITY]]
        .notna()
        .all(axis=1)
    )
    is_cancel = (cancellations & usable & (quantity < 0)).to_numpy(dtype=bool)
    is_buy = (purchases & usable & (quantity > 0)).to_numpy(dtype=bool) & ~is_cancel
    # cheap pre-filter: only customers who cancelled something can have a reversal
    cancelling = frame.loc[is_cancel, config.CUSTOMER_ID].unique()
    is_buy &= frame[config.CUSTOMER_ID].isin(cancelling).to_numpy(dtype=bool)
    empty = pd.DataFrame(
        {"purchase": frame.index[:0], "cancellation": frame.index[:0]}, index=pd.RangeIndex(0)
    )
    if not is_cancel.any() or not is_buy.any():
        return empty

    columns = [config.CUSTOMER_ID, config.PRODUCT_ID, config.DATE]
    positions = np.arange(len(frame))
    cancels = frame.loc[is_cancel, columns].assign(
        _size=-quantity[is_cancel].to_numpy(), _pos=positions[is_cancel], _step=-1
    )
    keys = cancels[_KEY].drop_duplicates()
    buys = frame.loc[is_buy, columns].assign(
        _size=quantity[is_buy].to_numpy(), _pos=positions[is_buy], _step=1
    )
    buys = buys.merge(keys, on=_KEY, how="inner")
    if buys.empty:
        return empty

    events = pd.concat([buys, cancels], ignore_index=True)
    events["_group"] = events.groupby(_KEY, sort=False, observed=True).ngroup()
    # purchases (+1) sort before cancellations (-1) at the same instant
    events = events.sort_values(
        ["_group", config.DATE, "_step", "_pos"],
        ascending=[True, True, False, True],
        kind="stable",
        ignore_index=True,
    )
    group = events["_group"]
    walk = events["_step"].groupby(group).cumsum()
    floor = walk.groupby(group).cummin().clip(upper=0)
    depth = walk - floor
    before = depth.groupby(group).shift(1, fill_value=0)
    pushes = events["_step"] == 1
    pops = (events["_step"] == -1) & (before > 0)
    level = depth.where(pushes, before)

    def ranked(mask: pd.Series, name: str) -> pd.DataFrame:
        part = pd.DataFrame(
            {"_group": group[mask], "_level": level[mask], name: events.loc[mask, "_pos"]}
        )
        part["_rank"] = part.groupby(["_group", "_level"], sort=False).cumcount()
        return part

    pairs = ranked(pushes, "purchase").merge(
        ranked(pops, "cancellation"), on=["_group", "_level", "_rank"], how="inner"
    )
    pairs = pairs.sort_values("cancellation", ignore_index=True)
    return pd.DataFrame(
        {
            "purchase": frame.index[pairs["purchase"].to_numpy()],
            "cancellation": frame.index[pairs["cancellation"].to_numpy()],
        }
    )

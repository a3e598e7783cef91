"""The engine: its numeric fetch (one float64 block, in order, nulls as NaN) and its threads."""

from __future__ import annotations

import decimal
import threading

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from churnlab import engine
from churnlab.engine import as_table, execute, execute_floats, settle_array


def test_execute_floats_casts_every_number_and_keeps_the_order() -> None:
    table = ibis.memtable(
        pa.table(
            {
                "customer_id": ["b", "a", "c"],
                "count": pa.array([3, None, 1], pa.int64()),
                "flag": [True, False, None],
                "money": pa.array([decimal.Decimal("1.10"), None, decimal.Decimal("-2.5")]),
                "share": [0.25, float("nan"), None],
            }
        )
    )
    frame = execute_floats(table.order_by(ibis.desc("customer_id")), index="customer_id")
    expected = pd.DataFrame(
        {
            "count": [1.0, 3.0, np.nan],
            "flag": [np.nan, 1.0, 0.0],
            "money": [-2.5, 1.1, np.nan],
            "share": [np.nan, 0.25, np.nan],
        },
        index=pd.Index(["c", "b", "a"], name="customer_id", dtype=object),
    )
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert frame._mgr.nblocks == 1  # one block: no consolidation copy later


def test_execute_floats_equals_execute_on_a_query() -> None:
    table = ibis.memtable({"customer_id": ["x", "y", "x"], "amount": [1.5, 2.0, 4.0]})
    query = table.group_by("customer_id").aggregate(
        n=table.count(), spend=table.amount.sum(), top=table.amount.max()
    ).order_by("customer_id")  # fmt: skip
    plain = execute(query).set_index("customer_id").astype("float64")
    pd.testing.assert_frame_equal(execute_floats(query, index="customer_id"), plain)


def test_settle_array_rounds_in_place_to_twelve_significant_digits() -> None:
    values = np.array([0.1 + 0.2, 0.0, np.nan, np.inf, -1234.5678901234567, 1e-300])
    out = settle_array(values)
    assert out is values
    # 0.30000000000000004 rounds to the double nearest 0.3; the rest are kept or rounded
    np.testing.assert_array_equal(values, [0.3, 0.0, np.nan, np.inf, -1234.56789012, 1e-300])


def test_a_worker_thread_queries_in_memory_tables_on_its_own_connection() -> None:
    table = as_table(pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [1.0, 2.0, 3.0]}))
    main = engine.get_connection()
    second = engine.second_connection()  # made by the thread that owns the main one
    seen = {}

    def worker() -> None:
        with engine.own_connection(second):
            seen["backend"] = engine._backend_of(table)
            seen["total"] = engine.execute(table["amount"].sum())
        seen["after"] = engine._backend_of(table)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["backend"] is second and seen["backend"] is not main and seen["total"] == 6.0
    assert seen["after"] is main  # the connection of its own ends with the block
    assert engine._backend_of(table) is main  # the main thread never had another

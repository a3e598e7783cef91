"""Reusable synthetic transaction logs for the benchmarks.

``synthetic_log(...)`` writes a reproducible log in churnlab's canonical columns
(``customer_id``, ``order_id``, ``date``, ``amount``) to Parquet once and caches it
under ``benchmarks/.cache/`` (git-ignored); later calls return the cached path.

Customers have heterogeneous purchase rates: every customer buys at least once,
the remaining transactions are spread over customers in proportion to a gamma
distributed rate. Each customer's purchases fall uniformly between a random
first-purchase day and the end of the period, at a random time of day, so
several purchases on one day (which RFM merges) occur naturally.

Run ``python benchmarks/_synthetic.py --transactions 1000000`` to pre-build a log.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
START = np.datetime64("2021-01-01T00:00:00", "s")
_CHUNK_CUSTOMERS = 100_000


def synthetic_log(
    n_customers: int = 1_000_000,
    years: float = 3.0,
    *,
    n_transactions: int = 10_000_000,
    random_state: int = 0,
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write (once) a synthetic transaction log to Parquet and return its path.

    Parameters
    ----------
    n_customers : int, default 1_000_000
        Number of distinct customers; each buys at least once.
    years : float, default 3.0
        Length of the observation period, starting 2021-01-01.
    n_transactions : int, default 10_000_000
        Total number of transaction rows (at least ``n_customers``).
    random_state : int, default 0
        Seed of the generator; the same arguments give the same file.
    path : path-like, optional
        Where to write. Default: ``benchmarks/.cache/synthetic_<args>.parquet``.
        An existing file at ``path`` is reused as is.

    Returns
    -------
    pathlib.Path
        The Parquet file, with columns customer_id (string), order_id (string),
        date (timestamp[ns]) and amount (float64).
    """
    if n_transactions < n_customers:
        raise ValueError(
            f"n_transactions ({n_transactions}) must be at least n_customers ({n_customers})."
        )
    if path is None:
        name = f"synthetic_{n_transactions}tx_{n_customers}c_{years:g}y_seed{random_state}.parquet"
        path = CACHE_DIR / name
    path = Path(path)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(random_state)
    rates = rng.gamma(0.8, 1.0, size=n_customers)
    extra = rng.multinomial(n_transactions - n_customers, rates / rates.sum())
    counts = 1 + extra
    span_seconds = int(years * 365.25 * 86400)
    first = rng.integers(0, span_seconds, size=n_customers)
    spend_level = rng.gamma(3.0, 15.0, size=n_customers)

    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("order_id", pa.string()),
            ("date", pa.timestamp("ns")),
            ("amount", pa.float64()),
        ]
    )
    tmp = path.with_suffix(".tmp")
    order_offset = 0
    with pq.ParquetWriter(tmp, schema) as writer:
        for lo in range(0, n_customers, _CHUNK_CUSTOMERS):
            hi = min(lo + _CHUNK_CUSTOMERS, n_customers)
            n = counts[lo:hi]
            total = int(n.sum())
            cust = np.repeat(np.arange(lo, hi), n)
            start = first[cust]
            # the first purchase is at `start`; the others fall uniformly after it
            is_first = np.zeros(total, dtype=bool)
            is_first[np.concatenate([[0], np.cumsum(n)[:-1]])] = True
            offsets = rng.random(total) * (span_seconds - start)
            seconds = np.where(is_first, start, start + offsets).astype(np.int64)
            dates = START + seconds.astype("timedelta64[s]")
            amount = np.round(rng.gamma(2.0, spend_level[cust] / 2.0), 2) + 0.01
            orders = np.arange(order_offset, order_offset + total)
            order_offset += total
            table = pa.table(
                {
                    "customer_id": pa.array(np.char.add("C", np.char.zfill(cust.astype(str), 8))),
                    "order_id": pa.array(np.char.add("O", orders.astype(str))),
                    "date": pa.array(dates.astype("datetime64[ns]")),
                    "amount": pa.array(amount),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)
    os.replace(tmp, path)
    return path


def main() -> None:
    """Build a synthetic log from the command line and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    customers = args.customers or max(1, args.transactions // 10)
    print(
        synthetic_log(
            customers, args.years, n_transactions=args.transactions, random_state=args.seed
        )
    )


if __name__ == "__main__":
    main()

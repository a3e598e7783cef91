"""Bundled sample data: UCI Online Retail, IBM Telco churn and CDNOW (from lifetimes).

Provenance, terms and quirks of the files in ``data/`` are in ``data/README.md``.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.cleaning import CleaningPolicy, CleaningReport
from churnlab.data.io import LoadedTransactions, load_transactions
from churnlab.data.options import source_options
from churnlab.data.readers import read_source
from churnlab.data.tables import load_table
from churnlab.exceptions import ConfigError

ONLINE_RETAIL_FILE = "online_retail.csv.gz"
TELCO_FILE = "telco_customer_churn_extended.csv"
#: Bundled transaction logs accepted by :func:`load_source`.
TRANSACTION_SOURCES: tuple[str, ...] = ("online_retail", "cdnow")
#: ISO currency of each bundled log's amounts (UCI Online Retail is in pounds sterling,
#: CDNOW in US dollars); a user's own file says its currency with ``currency=``.
CURRENCIES: dict[str, str] = {"online_retail": "GBP", "cdnow": "USD"}

#: CDNOW is a clean log: same-day repeats and $0 purchases are real purchases.
CDNOW_POLICY = CleaningPolicy(drop_duplicates=False, drop_nonpositive_amounts=False, name="cdnow")


def _data_file(name: str) -> Path:
    path = Path(config.DATA_DIR) / name
    if not path.exists():
        raise ConfigError(
            f"Bundled data file '{path}' is missing. Set CHURNLAB_DATA_DIR to the folder that "
            f"holds {name}, or reinstall churnlab from its repository."
        )
    return path


def _check_sample_size(sample_customers: int | None) -> int:
    if sample_customers is None:
        return 0
    if isinstance(sample_customers, bool) or not isinstance(sample_customers, int | np.integer):
        raise ConfigError(
            f"sample_customers must be a whole number (0 = all customers), got "
            f"{sample_customers!r}."
        )
    if sample_customers < 0:
        raise ConfigError(
            f"sample_customers must be 0 (all customers) or positive, got {sample_customers}."
        )
    return int(sample_customers)


def sample_customers_from(
    loaded: LoadedTransactions, n: int | None, *, random_state: int | None = 0
) -> LoadedTransactions:
    """Keep ``n`` customers drawn at random (reproducibly) from a cleaned log.

    The report is recomputed for the sampled customers' rows, so it still adds up;
    dropped rows without a customer id belong to no sample and are left out.

    Parameters
    ----------
    loaded : LoadedTransactions
        A cleaned log.
    n : int or None
        Number of customers; ``0`` or ``None`` (or more than there are) keeps all.
    random_state : int, optional
        Seed of the draw.

    Returns
    -------
    LoadedTransactions
    """
    n = _check_sample_size(n)
    customers = np.sort(loaded.data[config.CUSTOMER_ID].unique())
    if n == 0 or n >= len(customers):
        return loaded
    rng = np.random.default_rng(random_state)
    chosen = set(rng.choice(customers, size=n, replace=False))
    data = loaded.data[loaded.data[config.CUSTOMER_ID].isin(chosen)].reset_index(drop=True)
    dropped = loaded.dropped[loaded.dropped[config.CUSTOMER_ID].isin(chosen)]
    counts = dropped["drop_reason"].value_counts()
    by_reason = {r: int(counts.get(r, 0)) for r in loaded.report.dropped}
    report = CleaningReport(
        input_rows=len(data) + len(dropped),
        kept_rows=len(data),
        dropped=by_reason,
        policy=loaded.report.policy,
        date_format=loaded.report.date_format,
    )
    return LoadedTransactions(data, report, dropped)


def read_online_retail_raw() -> pd.DataFrame:
    """Return the bundled Online Retail file as read, one row per invoice line.

    Returns
    -------
    pandas.DataFrame
        541,909 rows; ``InvoiceNo``, ``StockCode`` and ``CustomerID`` as strings.
    """
    return read_source(
        _data_file(ONLINE_RETAIL_FILE), id_columns=["InvoiceNo", "StockCode", "CustomerID"]
    )


def load_online_retail(
    *,
    sample_customers: int | None = None,
    random_state: int | None = 0,
    policy: CleaningPolicy | None = None,
) -> LoadedTransactions:
    """Load UCI Online Retail (2010-12-01 to 2011-12-09), cleaned.

    Parameters
    ----------
    sample_customers : int, optional
        Keep this many customers, drawn with ``random_state``; ``None``/``0`` = all.
    random_state : int, optional
        Seed of the customer sample.
    policy : CleaningPolicy, optional
        Defaults to :meth:`CleaningPolicy.online_retail`: drops missing customer ids,
        cancellations (``C`` invoices), non-product codes, zero/negative prices,
        exact duplicates and the purchases that a cancellation reverses in full
        (``reversed_purchase``; partial reversals are kept).

    Returns
    -------
    LoadedTransactions
        ``quantity`` and ``product_id`` (StockCode) included; amount = Quantity x UnitPrice.
    """
    _check_sample_size(sample_customers)
    loaded = load_transactions(
        read_online_retail_raw(),
        customer_id="CustomerID",
        date="InvoiceDate",
        quantity="Quantity",
        price="UnitPrice",
        order_id="InvoiceNo",
        product_id="StockCode",
        policy=policy or CleaningPolicy.online_retail(),
        observation_end="2011-12-09",
    )
    return sample_customers_from(loaded, sample_customers, random_state=random_state)


def load_telco() -> pd.DataFrame:
    """Load the IBM Telco customer churn snapshot (7,043 customers, extended version).

    Returns
    -------
    pandas.DataFrame
        IBM's column names, indexed by ``customer_id`` (from ``Customer ID``); the
        literal category ``"None"`` (``Offer``, ``Internet Type``) is kept, only
        empty cells are NaN; plus a boolean ``churned`` column from ``Churn Value``.
    """
    table = load_table(
        _data_file(TELCO_FILE),
        customer_id="Customer ID",
        required=("Churn Value",),
        read_options={"keep_default_na": False, "na_values": [""]},
    )
    table[config.CHURNED] = table["Churn Value"].astype("int64").astype(bool)
    return table


def _lifetimes_file(name: str) -> importlib.resources.abc.Traversable:
    try:
        return importlib.resources.files("lifetimes") / "datasets" / name
    except ModuleNotFoundError as exc:  # pragma: no cover - lifetimes is a dependency
        raise ConfigError("CDNOW comes from the lifetimes package: pip install lifetimes") from exc


def load_cdnow(kind: str = "transactions") -> LoadedTransactions | pd.DataFrame:
    """Load CDNOW, the published BG/NBD benchmark, from the lifetimes package.

    Parameters
    ----------
    kind : {"transactions", "summary"}
        ``"transactions"``: lifetimes' ``CDNOW_master.txt`` (69,659 purchases by
        23,570 customers, 1997-01 to 1998-06) as a cleaned log with ``quantity``
        (CDs) and ``amount`` (dollars); nothing is dropped. ``"summary"``: the
        2,357-customer, 39-week calibration summary ``cdnow_customers_summary.csv``
        (frequency, recency and T in weeks) used in Fader, Hardie & Lee (2005).

    Returns
    -------
    LoadedTransactions or pandas.DataFrame
        The summary is indexed by ``customer_id`` with ``attrs["time_unit"] = "W"``.

    Raises
    ------
    ConfigError
        If ``kind`` is not one of the two choices.
    """
    if kind == "transactions":
        with importlib.resources.as_file(_lifetimes_file("CDNOW_master.txt")) as path:
            raw = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": "int64", "date": "str"})
        raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
        return load_transactions(
            raw,
            customer_id="customer_id",
            date="date",
            amount="dollar_value",
            quantity="number_of_cds",
            policy=CDNOW_POLICY,
        )
    if kind == "summary":
        with importlib.resources.as_file(_lifetimes_file("cdnow_customers_summary.csv")) as path:
            summary = load_table(path, customer_id="ID", required=("frequency", "recency", "T"))
        summary = summary[[config.FREQUENCY, config.RECENCY, config.T]].astype("float64")
        summary.attrs["time_unit"] = "W"
        return summary
    raise ConfigError(f"load_cdnow: kind must be 'transactions' or 'summary', got {kind!r}.")


def load_source(
    data_source: str | os.PathLike[str],
    *,
    sample_customers: int | None = 0,
    random_state: int | None = 0,
    **options: object,
) -> LoadedTransactions:
    """Load a transaction log by bundled name or path; the entry point of the notebooks.

    Parameters
    ----------
    data_source : str or os.PathLike
        ``"online_retail"``, ``"cdnow"``, or a path (file, folder or glob) of a
        transaction log. Its columns are mapped with the options below; by
        default churnlab's canonical names (``customer_id``, ``date``, ``amount``
        and optionally ``order_id``, ``quantity``, ``product_id``) are used.
    sample_customers : int, default 0
        Keep this many customers drawn with ``random_state``; 0 = all.
    random_state : int, optional
        Seed of the customer sample.
    **options
        Any of :data:`churnlab.config.SOURCE_OPTIONS`, passed to
        :func:`~churnlab.data.load_transactions`: the column mapping
        (``customer_id``, ``date``, ``amount``, ``quantity``, ``price``,
        ``order_id``, ``product_id``) and ``date_format``, ``dayfirst``,
        ``encoding``, ``sep``, ``decimal``, ``sheet``, ``timezone``. ``None`` means
        "not set". They apply to your own files only, not to the bundled datasets.

    Returns
    -------
    LoadedTransactions

    Raises
    ------
    ConfigError
        If ``data_source`` is neither a bundled log nor an existing path (``"telco"``
        is a customer snapshot, not a transaction log: use :func:`load_telco`), an
        option is unknown or mistyped, or options are given for a bundled dataset.
    """
    _check_sample_size(sample_customers)
    chosen = source_options(options)
    name = os.fspath(data_source)
    if chosen and name in TRANSACTION_SOURCES:
        raise ConfigError(
            f"data_source={name!r} is a bundled dataset, which churnlab already knows how to "
            f"read; the option(s) {', '.join(f'{k}={v!r}' for k, v in chosen.items())} only "
            "apply to your own files. Remove them, or pass the path of your file as "
            "data_source."
        )
    if name == "online_retail":
        return load_online_retail(sample_customers=sample_customers, random_state=random_state)
    if name == "cdnow":
        loaded = load_cdnow("transactions")
        return sample_customers_from(loaded, sample_customers, random_state=random_state)
    is_glob = any(ch in name for ch in "*?[")
    if name == "telco" or not (is_glob or Path(name).expanduser().exists()):
        why = (
            "'telco' is a customer snapshot, not a transaction log (use load_telco())"
            if name == "telco"
            else f"{name!r} is neither a bundled name nor an existing file"
        )
        raise ConfigError(
            f"data_source: {why}. Valid choices: "
            f"{', '.join(repr(s) for s in TRANSACTION_SOURCES)}, or the path of a transaction "
            "log with columns customer_id, date, amount (optionally order_id)."
        )
    loaded = load_transactions(name, **chosen)
    return sample_customers_from(loaded, sample_customers, random_state=random_state)

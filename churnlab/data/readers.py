"""Read any supported source into a pandas DataFrame (no cleaning).

Sources: a pandas DataFrame, a CSV (also ``.csv.gz``), Parquet or Excel path, a
folder of Parquet files, a glob of files, or an Ibis table.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import pandas as pd

from churnlab.data.validation import check_delimiter, check_not_empty
from churnlab.exceptions import DataValidationError

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_SUPPORTED = "CSV (.csv, .csv.gz), Parquet (.parquet), Excel (.xlsx, .xls)"


def _describe(source: object) -> str:
    if isinstance(source, pd.DataFrame):
        return "the DataFrame"
    if isinstance(source, str | os.PathLike):
        return f"'{source}'"
    return f"the {type(source).__name__}"


def _read_path(path: Path, *, id_columns: list[str], options: dict[str, Any]) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES) or path.is_dir():
        return pd.read_parquet(path, **options)
    if name.endswith(_EXCEL_SUFFIXES):
        options = {"dtype": dict.fromkeys(id_columns, "str"), **options}
        return pd.read_excel(path, **options)
    if name.endswith(_CSV_SUFFIXES):
        options = {"dtype": dict.fromkeys(id_columns, "str"), **options}
        if name.endswith(".tsv"):
            options.setdefault("sep", "\t")
        try:
            frame = pd.read_csv(path, **options)
        except pd.errors.EmptyDataError as exc:
            raise DataValidationError(
                f"'{path}' is empty: it has no header and no rows. "
                "Check that you passed the right file and that it was fully written."
            ) from exc
        except pd.errors.ParserError as exc:
            header = pd.read_csv(path, header=None, nrows=1, sep="\x1f", dtype="str").iloc[0, 0]
            check_delimiter(pd.DataFrame(columns=[str(header)]), where=f"'{path}'")
            raise DataValidationError(
                f"'{path}' is not a well-formed CSV: {exc}. Check its separator, quoting and "
                "encoding, and pass them with read_options (e.g. {'sep': ';'})."
            ) from exc
        if "sep" not in options and "delimiter" not in options:
            check_delimiter(frame, where=f"'{path}'")
        return frame
    raise DataValidationError(
        f"Cannot read '{path}': unknown file type {path.suffix!r}. Supported: {_SUPPORTED}, "
        "a folder or glob of Parquet files, a pandas DataFrame or an Ibis table."
    )


def read_source(
    source: object,
    *,
    id_columns: list[str] | None = None,
    read_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Read any supported source into a pandas DataFrame, without cleaning it.

    Parameters
    ----------
    source : DataFrame, LoadedTransactions, str, os.PathLike or ibis.Table
        A DataFrame (or a ``LoadedTransactions``, whose ``data`` is used), a
        CSV/CSV.gz/Parquet/Excel path, a Parquet folder, a glob such as
        ``"logs/*.parquet"``, or an Ibis table (executed on its backend).
    id_columns : list of str, optional
        Columns read as strings from CSV and Excel (keeps leading zeros and
        prefixes such as Online Retail's ``C`` invoices).
    read_options : dict, optional
        Extra keyword arguments for the pandas reader, e.g. ``{"sep": ";"}``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataValidationError
        If the path does not exist, the type is unknown, the file is empty or
        evidently uses another delimiter.
    """
    options = dict(read_options or {})
    id_columns = [c for c in (id_columns or []) if c]
    if isinstance(source, tuple) and "data" in getattr(source, "_fields", ()):
        source = source.data  # a LoadedTransactions
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            paths = sorted(glob.glob(text, recursive=True))
            if not paths:
                raise DataValidationError(
                    f"No file matches the pattern '{text}'. Check the folder and the pattern."
                )
            frames = [_read_path(Path(p), id_columns=id_columns, options=options) for p in paths]
            frame = pd.concat(frames, ignore_index=True)
        else:
            path = Path(text).expanduser()
            if not path.exists():
                raise DataValidationError(
                    f"File not found: '{path}'. Check the path (relative paths start from "
                    f"{Path.cwd()})."
                )
            frame = _read_path(path, id_columns=id_columns, options=options)
    elif type(source).__module__.startswith("ibis."):
        frame = source.to_pandas()  # type: ignore[attr-defined]
    else:
        raise DataValidationError(
            f"Cannot read a source of type {type(source).__name__}. Pass a pandas DataFrame, "
            f"a path to {_SUPPORTED}, a Parquet folder or glob, or an Ibis table."
        )
    check_not_empty(frame, where=_describe(source))
    check_delimiter(frame, where=_describe(source))
    return frame

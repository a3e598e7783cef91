"""Read any supported source into a pandas DataFrame (no cleaning).

Sources: a pandas DataFrame, a CSV (also ``.csv.gz``), Parquet or Excel path, a
folder of CSV or Parquet files, a glob of files, or an Ibis table. Files that
cannot be read (wrong encoding, truncated or mislabelled compression, no
permission, a repeated header column, a workbook with several sheets and no
``sheet=``) raise :class:`~churnlab.exceptions.DataValidationError` naming the
file and the fix.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import lzma
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from churnlab.data.excel import read_excel
from churnlab.data.messages import format_examples, option_hint
from churnlab.data.validation import check_delimiter, check_header, check_not_empty
from churnlab.exceptions import ConfigError, DataValidationError

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_SUPPORTED = "CSV (.csv, .csv.gz), Parquet (.parquet), Excel (.xlsx, .xls)"
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MANGLED = re.compile(r"(.+)\.\d+")
#: read_csv options that shape how the header line is split, passed to the header check.
_HEADER_OPTIONS = ("sep", "delimiter", "encoding", "quotechar", "skiprows", "comment")


def describe_source(source: object) -> str:
    """Return how messages name a source: ``'path'``, "the DataFrame", ...

    Parameters
    ----------
    source : object
        What was passed to a loader.

    Returns
    -------
    str
    """
    if isinstance(source, pd.DataFrame):
        return "the DataFrame"
    if isinstance(source, str | os.PathLike):
        return f"'{os.fspath(source)}'"
    return f"the {type(source).__name__}"


def _sniff_text(path: Path, encoding: str | None) -> None:
    """Refuse UTF-16 text read as UTF-8, and binary files named like text, before pandas."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    if path.suffix.lower() == ".zip":
        return
    with opener(path, "rb") as handle:
        head = handle.read(4096)
    for magic, kind, suffix in (
        (b"PK\x03\x04", "an Excel workbook (or another zip)", ".xlsx"),
        (b"PAR1", "a Parquet file", ".parquet"),
    ):
        if head.startswith(magic):
            raise DataValidationError(
                f"'{path}' is named like a text file but is {kind}. Rename it to end in "
                f"'{suffix}', or export it as CSV."
            )
    if encoding is not None and "16" in codecs.lookup(encoding).name:
        return
    # UTF-16 without a BOM: ASCII text has a zero byte at every other position
    no_bom = len(head) >= 8 and max(head[0::2].count(0), head[1::2].count(0)) > 0.9 * len(head) / 2
    if head.startswith(_UTF16_BOMS) or no_bom:
        raise DataValidationError(
            f"'{path}' is UTF-16 text (as Excel's 'Unicode text' and some Windows tools write "
            f"it), which churnlab does not read as {encoding or 'UTF-8'}. Pass "
            f"{option_hint('encoding', 'utf-16')}, or save the file as UTF-8 CSV."
        )


def _read_csv(path: Path, *, options: dict[str, Any]) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(".tsv"):
        options.setdefault("sep", "\t")
    _sniff_text(path, options.get("encoding"))
    try:
        frame = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(
            f"'{path}' is empty: it has no header and no rows. "
            "Check that you passed the right file and that it was fully written."
        ) from exc
    except UnicodeDecodeError as exc:
        encoding = options.get("encoding") or "UTF-8"
        raise DataValidationError(
            f"'{path}' is not {encoding} text: it holds bytes such as "
            f"{exc.object[exc.start : exc.start + 1]!r} that {encoding} cannot decode. Pass its "
            f"encoding, e.g. {option_hint('encoding', 'latin-1')} for Western European "
            "files from Excel or older systems (or 'cp1252'), or save it as UTF-8 CSV."
        ) from None
    except pd.errors.ParserError as exc:
        header_options = {k: options[k] for k in ("encoding",) if k in options}
        header = pd.read_csv(
            path, header=None, nrows=1, sep="\x1f", dtype="str", **header_options
        ).iloc[0, 0]
        check_delimiter(pd.DataFrame(columns=[str(header)]), where=f"'{path}'")
        raise DataValidationError(
            f"'{path}' is not a well-formed CSV: {exc}. Check its separator, quoting and "
            f"encoding, and pass them, e.g. {option_hint('sep', ';')}."
        ) from exc
    if "sep" not in options and "delimiter" not in options:
        check_delimiter(frame, where=f"'{path}'")
    if "names" not in options and options.get("header", "infer") in ("infer", 0):
        kept = {k: options[k] for k in _HEADER_OPTIONS if k in options}
        check_header(
            path, frame, lambda: pd.read_csv(path, header=None, nrows=1, dtype="str", **kept)
        )
    return frame


def _concat(frames: list[pd.DataFrame], paths: list[Path], *, where: str) -> pd.DataFrame:
    """Stack the files of a folder or glob; they must share their columns."""
    first = list(map(str, frames[0].columns))
    for frame, path in zip(frames[1:], paths[1:], strict=True):
        columns = list(map(str, frame.columns))
        if set(columns) != set(first):
            missing = [c for c in first if c not in columns]
            extra = [c for c in columns if c not in first]
            diff = "; ".join(
                part
                for part in (
                    f"it lacks {format_examples(missing)}" if missing else "",
                    f"it has extra {format_examples(extra)}" if extra else "",
                )
                if part
            )
            raise DataValidationError(
                f"The files of {where} do not share their columns: '{path.name}' differs from "
                f"'{paths[0].name}' ({diff}). Read files with the same columns together, or "
                "fix the odd file (e.g. move it out of the folder)."
            )
    return pd.concat(frames, ignore_index=True)


def _read_folder(path: Path, *, read: Any, options: dict[str, Any]) -> pd.DataFrame:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
    csvs = [p for p in files if p.name.lower().endswith(_CSV_SUFFIXES)]
    parquets = [p for p in files if p.name.lower().endswith(_PARQUET_SUFFIXES)]
    if csvs and parquets:
        raise DataValidationError(
            f"The folder '{path}' holds both CSV ({len(csvs)}) and Parquet ({len(parquets)}) "
            f"files. Pass one kind with a glob, e.g. '{path / '*.csv'}'."
        )
    if csvs:
        return _concat([read(p) for p in csvs], csvs, where=f"the folder '{path}'")
    if not parquets and not any(p.is_dir() for p in path.iterdir()):
        raise DataValidationError(
            f"The folder '{path}' holds no CSV or Parquet files. Pass a folder of .csv or "
            ".parquet files, a single file, or a glob such as 'logs/*.csv'."
        )
    return _read_parquet(path, options=options)


def _read_parquet(path: Path, *, options: dict[str, Any]) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, **options)
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        if isinstance(exc, PermissionError):
            raise
        raise DataValidationError(
            f"'{path}' is not a readable Parquet file or dataset ({exc}). Check that it was "
            "fully written (a copy cut short loses the footer), or write it again."
        ) from None


def _read_path(
    path: Path,
    *,
    id_columns: list[str],
    options: dict[str, Any],
    text_options: dict[str, str],
    sheet: str | int | None,
) -> pd.DataFrame:
    name = path.name.lower()
    is_excel = name.endswith(_EXCEL_SUFFIXES)
    is_text = name.endswith(_CSV_SUFFIXES) or (path.is_dir() and not name.endswith(".parquet"))
    if sheet is not None and not is_excel:
        raise ConfigError(
            f"sheet={sheet!r} only applies to Excel workbooks (.xlsx, .xls), and '{path}' is "
            "not one. Leave sheet out (CLI: drop --sheet)."
        )
    for option, value in text_options.items():
        if not is_text:
            raise ConfigError(
                f"{option}={value!r} only applies to text files (CSV), and '{path}' is not "
                f"one. Leave {option} out (CLI: drop --{option})."
            )
    typed = {"dtype": dict.fromkeys(id_columns, "str"), **options, **text_options}
    try:
        if path.is_dir():
            return _read_folder(
                path,
                read=lambda p: _read_path(
                    p,
                    id_columns=id_columns,
                    options=options,
                    text_options=text_options,
                    sheet=None,
                ),
                options=options,
            )
        if name.endswith(_PARQUET_SUFFIXES):
            return _read_parquet(path, options=options)
        if is_excel:
            return read_excel(path, options=typed, sheet=sheet)
        if name.endswith(_CSV_SUFFIXES):
            return _read_csv(path, options=typed)
    except PermissionError as exc:
        raise DataValidationError(
            f"Cannot read '{path}': permission denied ({exc.strerror or exc}). Ask for read "
            "access (e.g. chmod u+r), or copy the file to a folder you can read."
        ) from None
    except LookupError as exc:
        raise ConfigError(
            f"Cannot read '{path}': {exc}. Pass a known encoding, e.g. "
            f"{option_hint('encoding', 'utf-8')} or {option_hint('encoding', 'latin-1')}."
        ) from None
    except gzip.BadGzipFile as exc:
        raise DataValidationError(
            f"'{path}' is named .gz but is not gzip-compressed ({exc}). If it is plain text, "
            f"rename it to '{path.stem}'; otherwise compress it again with gzip."
        ) from None
    except (EOFError, zipfile.BadZipFile, lzma.LZMAError, OSError) as exc:
        if name.endswith((".gz", ".bz2", ".xz", ".zip")):
            raise DataValidationError(
                f"'{path}' is a damaged or truncated compressed file ({exc}): it ends before "
                "its data does, usually because a download or copy was cut short. Fetch or "
                "write it again (gzip -t checks a .gz file)."
            ) from None
        raise
    raise DataValidationError(
        f"Cannot read '{path}': unknown file type {path.suffix!r}. Supported: {_SUPPORTED}, "
        "a folder of CSV or Parquet files, a glob of files, a pandas DataFrame or an Ibis "
        "table."
    )


def read_source(
    source: object,
    *,
    id_columns: list[str] | None = None,
    read_options: dict[str, Any] | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Read any supported source into a pandas DataFrame, without cleaning it.

    Parameters
    ----------
    source : DataFrame, LoadedTransactions, str, os.PathLike or ibis.Table
        A DataFrame (or a ``LoadedTransactions``, whose ``data`` is used), a
        CSV/CSV.gz/Parquet/Excel path, a folder of CSV files (read together; they
        must share their columns) or of Parquet files, a glob such as
        ``"logs/*.parquet"``, or an Ibis table (executed on its backend).
    id_columns : list of str, optional
        Columns read as strings from CSV and Excel (keeps leading zeros and
        prefixes such as Online Retail's ``C`` invoices).
    read_options : dict, optional
        Extra keyword arguments for the pandas reader, e.g. ``{"sep": ";"}``.
    encoding : str, optional
        Text encoding of CSV files, e.g. ``"latin-1"`` or ``"utf-16"``; UTF-8 by default.
    sheet : str or int, optional
        Sheet of an Excel workbook, by name or position (0 = first). Needed when
        the workbook has more than one sheet.
    sep, decimal : str, optional
        Column separator (e.g. ``";"``) and decimal mark (``","``) of CSV files.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataValidationError
        If the path does not exist or cannot be read (permission, encoding,
        damaged compression), the type is unknown, the file is empty, evidently
        uses another delimiter or repeats a header column, or a workbook has
        several sheets and ``sheet`` is not given (or names none of them).
    ConfigError
        If ``encoding`` is unknown, or ``sheet`` or a text option (``encoding``,
        ``sep``, ``decimal``) is given for a source it does not apply to.
    """
    options = dict(read_options or {})
    id_columns = [c for c in (id_columns or []) if c]
    if isinstance(source, tuple) and "data" in getattr(source, "_fields", ()):
        source = source.data  # a LoadedTransactions
    text_options = {
        k: v for k, v in (("encoding", encoding), ("sep", sep), ("decimal", decimal)) if v
    }
    if not isinstance(source, str | os.PathLike):
        for option, value in (*text_options.items(), ("sheet", sheet)):
            if value is not None:
                raise ConfigError(
                    f"{option}={value!r} only applies to files, and the source is "
                    f"{describe_source(source)}. Leave {option} out."
                )
    if isinstance(source, pd.DataFrame):
        frame = source
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        if repeated:
            raise DataValidationError(
                f"The DataFrame has more than one column named {format_examples(repeated)}, "
                "so churnlab cannot tell which holds the data. Rename or drop the copies, "
                "e.g. df.loc[:, ~df.columns.duplicated()]."
            )
    elif isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        read = {
            "id_columns": id_columns,
            "options": options,
            "text_options": text_options,
            "sheet": sheet,
        }
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            paths = [Path(p) for p in sorted(glob.glob(text, recursive=True))]
            if not paths:
                raise DataValidationError(
                    f"No file matches the pattern '{text}'. Check the folder and the pattern."
                )
            frames = [_read_path(p, **read) for p in paths]
            frame = _concat(frames, paths, where=f"the pattern '{text}'")
        else:
            path = Path(text).expanduser()
            if not path.exists():
                raise DataValidationError(
                    f"File not found: '{path}'. Check the path (relative paths start from "
                    f"{Path.cwd()})."
                )
            frame = _read_path(path, **read)
    elif type(source).__module__.startswith("ibis."):
        frame = source.to_pandas()  # type: ignore[attr-defined]
    else:
        raise DataValidationError(
            f"Cannot read a source of type {type(source).__name__}. Pass a pandas DataFrame, "
            f"a path to {_SUPPORTED}, a folder or glob of files, or an Ibis table."
        )
    check_not_empty(frame, where=describe_source(source))
    check_delimiter(frame, where=describe_source(source))
    return frame

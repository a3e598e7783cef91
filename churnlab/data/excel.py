"""Read Excel workbooks: one sheet, named or numbered, never guessed."""

from __future__ import annotations

import difflib
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from churnlab.data.messages import option_hint
from churnlab.data.validation import check_header
from churnlab.exceptions import DataValidationError


def choose_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    """Return the sheet to read; refuse when it is not clear which one is meant.

    Parameters
    ----------
    path : pathlib.Path
        The workbook, for messages.
    names : list of str
        Its sheet names, in order.
    sheet : str, int or None
        The caller's choice: a name, a position (0 = first; digits in a string
        count as a position unless a sheet has that name), or None.

    Returns
    -------
    str
        The sheet name.

    Raises
    ------
    DataValidationError
        If the workbook has several sheets and ``sheet`` is None, or ``sheet``
        names no sheet; lists the sheets.
    """
    listed = ", ".join(repr(n) for n in names)
    if sheet is None:
        if len(names) == 1:
            return names[0]
        raise DataValidationError(
            f"'{path}' has {len(names)} sheets ({listed}) and churnlab will not guess which "
            f"holds the data. Pass the sheet to read by name, e.g. "
            f"{option_hint('sheet', names[0])}, or by position (sheet=0 is the first)."
        )
    if isinstance(sheet, str) and sheet in names:
        return sheet
    if isinstance(sheet, str) and sheet.strip().isdigit():
        sheet = int(sheet)
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, int):
        why = f"no sheet at position {sheet} (it has {len(names)}, numbered from 0)"
    else:
        close = difflib.get_close_matches(sheet, names, n=1, cutoff=0.5)
        why = f"no sheet named {sheet!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    raise DataValidationError(
        f"'{path}' has {why}. Its sheets: {listed}. Pass one of them, e.g. "
        f"{option_hint('sheet', names[0])}."
    )


def read_excel(path: Path, *, options: dict[str, Any], sheet: str | int | None) -> pd.DataFrame:
    """Read one sheet of an Excel workbook.

    Parameters
    ----------
    path : pathlib.Path
        The workbook.
    options : dict
        Keyword arguments for :func:`pandas.read_excel` (``sheet_name`` is
        taken as ``sheet`` when ``sheet`` is None).
    sheet : str, int or None
        See :func:`choose_sheet`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataValidationError
        If the file is not a readable workbook, its reader is not installed,
        the sheet is unclear or missing, or its header repeats a column.
    """
    if sheet is None and "sheet_name" in options:
        sheet = options.pop("sheet_name")
    options.pop("sheet_name", None)
    try:
        book = pd.ExcelFile(path)
    except ImportError as exc:
        raise DataValidationError(
            f"Reading '{path}' needs an Excel reader that is not installed ({exc}). Install "
            "it, or save the workbook as .xlsx or CSV."
        ) from None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        if isinstance(exc, PermissionError):
            raise
        raise DataValidationError(
            f"'{path}' is not a readable Excel workbook ({exc}). Check that the file was "
            "fully written and is really .xlsx/.xls, or export it as CSV."
        ) from None
    with book:
        chosen = choose_sheet(path, list(map(str, book.sheet_names)), sheet)
        frame = pd.read_excel(book, sheet_name=chosen, **options)
        if "names" not in options and options.get("header", 0) == 0:
            check_header(
                path,
                frame,
                lambda: pd.read_excel(book, sheet_name=chosen, header=None, nrows=1),
            )
    return frame

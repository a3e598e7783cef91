"""Small helpers for plain-English error messages (imports nothing from churnlab)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable


def format_examples(values: Iterable[object], *, limit: int = 5) -> str:
    """Return up to ``limit`` distinct example values as a short, readable string.

    Parameters
    ----------
    values : iterable
        The offending values.
    limit : int, default 5
        How many distinct examples to show.

    Returns
    -------
    str
        For example ``"'abc', '2021-13-01' (and 12 more)"``.
    """
    distinct = list(dict.fromkeys(repr(v) for v in values))
    shown = ", ".join(distinct[:limit])
    rest = len(distinct) - limit
    return shown + (f" (and {rest} more)" if rest > 0 else "")


def option_hint(name: str, value: object) -> str:
    """Return how to pass a reading option in the API and on the command line.

    Parameters
    ----------
    name : str
        The option, e.g. ``"date_format"``.
    value : object
        An example value; ``True`` gives the bare CLI flag.

    Returns
    -------
    str
        For example ``"date_format='%d/%m/%Y' (CLI: --date-format '%d/%m/%Y')"``.
    """
    flag = "--" + name.replace("_", "-")
    if value is True:
        return f"{name}=True (CLI: {flag})"
    shown = value
    if value == "\t":
        shown = "'\\t'"  # what a shell user types for a tab
    elif isinstance(value, str) and (shlex.quote(value) != value or " " in value or "%" in value):
        shown = f"'{value}'"  # quoted for the shell: ';' would end the command
    return f"{name}={value!r} (CLI: {flag} {shown})"

"""Headline KPIs that notebooks record for the run's manifest and index page.

A notebook calls :func:`record_kpis` in a cell; the value travels inside the
executed notebook as a display output with its own MIME type, which the runner
reads back (:func:`extract_kpis`) and removes before the HTML export. No files,
no extra parameters.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from churnlab.exceptions import ConfigError

__all__ = ["KPI_MIMETYPE", "extract_kpis", "record_kpis"]

KPI_MIMETYPE = "application/vnd.churnlab.kpis+json"


def _plain(name: str, value: object) -> float | int | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) else number
    raise ConfigError(
        f"record_kpis: KPI '{name}' must be a number or a string, got {type(value).__name__}."
    )


def record_kpis(kpis: Mapping[str, object] | None = None, /, **more: object) -> dict[str, object]:
    """Record headline KPIs of the running notebook for the report index.

    Parameters
    ----------
    kpis : mapping, optional
        KPI name -> number or short text, e.g. ``{"customers": 4338}``.
    **more
        Further KPIs as keyword arguments.

    Returns
    -------
    dict
        The recorded KPIs (numbers as plain Python floats/ints).

    Raises
    ------
    ConfigError
        If a value is not a number or a string.
    """
    from IPython.display import display

    values = {str(k): _plain(str(k), v) for k, v in {**dict(kpis or {}), **more}.items()}
    display({KPI_MIMETYPE: values, "text/plain": ""}, raw=True)
    return values


def extract_kpis(nb: object) -> dict[str, object]:
    """Collect the KPIs recorded in an executed notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.

    Returns
    -------
    dict
        Every recorded KPI; later records win.
    """
    found: dict[str, object] = {}
    for cell in getattr(nb, "cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if KPI_MIMETYPE in data and isinstance(data[KPI_MIMETYPE], Mapping):
                found.update(data[KPI_MIMETYPE])
    return found


def strip_kpi_outputs(nb: object) -> None:
    """Remove KPI outputs from a notebook in place (they are not for readers)."""
    for cell in getattr(nb, "cells", []):
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if KPI_MIMETYPE not in o.get("data", {})]

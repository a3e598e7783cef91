"""Fixtures of the report tests: tiny stand-in notebooks and a stand-in data loader."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

PARAMS = 'data_source = "online_retail"\nsample_customers = 0\nrandom_state = 42'


def write_notebook(
    folder: Path, name: str, cells: list[str], *, params: str = PARAMS, tags: dict | None = None
) -> Path:
    """Write ``folder/name.ipynb``: imports cell, parameters cell, then ``cells``.

    A cell starting with ``#`` followed by a space is written as markdown. ``tags``
    maps a cell index (in ``cells``) to its tags.
    """
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    body = []
    for i, text in enumerate(cells):
        cell = (
            nbformat.v4.new_markdown_cell(text)
            if text.startswith("# ") or text.startswith("## ")
            else nbformat.v4.new_code_cell(text)
        )
        cell.metadata["tags"] = list((tags or {}).get(i, []))
        body.append(cell)
    params_cell = nbformat.v4.new_code_cell(params)
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_code_cell("import pandas as pd"), params_cell, *body]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def fake_data(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Replace the runner's data loader; records the calls it receives."""
    from churnlab.report import runner

    calls: dict = {"sources": []}

    def load(source, *, snapshot=False, sample_customers=0, random_state=0):
        calls["sources"].append((source, snapshot, sample_customers))
        if source == "missing.csv":
            raise FileNotFoundError(source)
        return pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                "amount": [1.0, 2.0],
            }
        )

    monkeypatch.setattr(runner, "load_data", load)
    return calls


@pytest.fixture(scope="session")
def make_notebook():
    """The :func:`write_notebook` helper, as a fixture."""
    return write_notebook

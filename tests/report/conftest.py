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

    def load(source, *, snapshot=False, sample_customers=0, random_state=0, options=None):
        calls["sources"].append((source, snapshot, sample_customers))
        if Path(source).name == "missing.csv":
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


EVIL_ID = "<script>alert(1)</script>"
ALPHA_CELLS = [
    "# Alpha report\n\nIntro text.",
    "## Customers",
    f"pd.DataFrame({{'customer_id': [{EVIL_ID!r}, 'b&q'], 'amount': [1.5, 2.0]}})",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
    "print('SECRET-REMOVED-CELL')",
    "import sys\nprint('NOISE-ON-STDERR', file=sys.stderr)",
    "from IPython.display import HTML\n"
    "HTML('<b onmouseover=alert(5)>bold</b><script>alert(6)</script>')",
    "## Headline numbers",
    "from churnlab.report import record_kpis\nrecord_kpis(customers=2, revenue=3.5)",
]


def patch_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the runner's data validation use a one-row stand-in frame."""
    from churnlab.report import runner

    def load(source, *, snapshot=False, sample_customers=0, random_state=0, options=None):
        return pd.DataFrame({"customer_id": ["a"], "amount": [1.0]})

    monkeypatch.setattr(runner, "load_data", load)


@pytest.fixture(scope="session")
def fake_loader():
    """The :func:`patch_loader` helper, as a fixture."""
    return patch_loader


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory):
    """One successful run of two tiny notebooks (one shows a ``<script>`` customer id)."""
    from churnlab.report import ReportConfig, ReportParameters, run_report

    root = tmp_path_factory.mktemp("report")
    notebooks = root / "notebooks"
    write_notebook(notebooks, "00-alpha", ALPHA_CELLS, tags={4: ["remove-cell"]})
    write_notebook(notebooks, "10-beta", ["# Beta\n\nNothing much.", "1 + 1"])
    config = ReportConfig(
        notebooks_dir=notebooks,
        output_dir=root / "reports",
        parameters=ReportParameters(sample_customers=5),
        progress=False,
    )
    with pytest.MonkeyPatch.context() as mp:
        patch_loader(mp)
        return run_report(config)


class FullRuns:
    """Two full ``churnlab report`` runs of every real notebook on the same 300-customer sample.

    The second run reads the first as its previous run, so "change since the previous
    run" must be exactly zero. Failures are kept, not raised, so each test reports them.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self._results: list[object] | None = None

    def _run(self) -> object:
        from churnlab import config
        from churnlab.exceptions import ChurnlabError
        from churnlab.report import ReportConfig, ReportParameters, run_report

        run_config = ReportConfig(
            notebooks_dir=config.NOTEBOOKS_DIR,
            output_dir=self.output_dir,
            parameters=ReportParameters(sample_customers=300),
            cell_timeout=300,
            progress=False,
        )
        try:
            return run_report(run_config)
        except ChurnlabError as exc:
            return exc

    @property
    def results(self) -> list[object]:
        """The two RunResults (or the exceptions), in run order."""
        if self._results is None:
            self._results = [self._run(), self._run()]
        return self._results

    def run_dir(self, index: int = 0) -> Path:
        """The folder of run ``index``, failing the test when that run failed."""
        result = self.results[index]
        if isinstance(result, Exception):
            pytest.fail(f"churnlab report failed: {result}")
        return result.run_dir


@pytest.fixture(scope="session")
def full_runs(tmp_path_factory: pytest.TempPathFactory) -> FullRuns:
    """Shared full report runs (used by the notebook, consistency and browser tests)."""
    return FullRuns(tmp_path_factory.mktemp("full-runs"))

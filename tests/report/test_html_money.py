"""Dollar amounts in a page's Markdown are money, not LaTeX (nbconvert reads $...$ as math)."""

from __future__ import annotations

import nbformat

from churnlab.report.html import RunContext, export_report_html


def test_dollar_amounts_keep_their_bold_and_digits(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("Markdown(text)")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/markdown": "Worth **$9,655,261**, of which **$2,159,938** is at risk."},
            execution_count=1,
        )
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Summary"), cell]
    context = RunContext(
        run_id="r", started_at="2026-12-01T00:00:00+00:00", parameters={}, data={},
        versions={}, reproduce="churnlab report",
    )  # fmt: skip
    page = export_report_html(nb, tmp_path / "p.html", context=context).read_text()
    assert "<strong>$9,655,261</strong>" in page and "<strong>$2,159,938</strong>" in page

"""The executive summary (page 90) is short: brief caveats, top segments, top actions."""

from __future__ import annotations

import re

from churnlab.report.narrative import _first_clause


def test_first_clause_keeps_the_point_of_each_caveat():
    assert _first_clause(
        "No purchase model fits this data well. The purchase model (BG/NBD) found no evidence"
    ) == ("No purchase model fits this data well.")
    assert _first_clause(
        "The spend model (Gamma-Gamma) is unreliable on this data: The spend model found that"
    ) == ("The spend model (Gamma-Gamma) is unreliable on this data.")
    text = "The classifier's probabilities are off by 7.1% on average, so read them as a ranking."
    assert _first_clause(text) == text  # one sentence: kept whole
    assert _first_clause("P(alive) is 0.5 at most. Rest") == "P(alive) is 0.5 at most."


def test_summary_page_is_short(full_runs) -> None:
    page = (full_runs.run_dir(0) / "90-executive-summary.html").read_text(encoding="utf-8")
    assert 'class="churnlab-toc"' not in page
    caveats = re.search(r'class="churnlab-caveat".*?</div>', page, re.S)
    if caveats:  # brief: one short clause per problem
        items = re.findall(r"<li>(.*?)</li>", caveats.group(0), re.S)
        assert items and all(len(item) <= 160 for item in items), items
    assert re.search(r"<details class=\"churnlab-glossary\"><summary>How to read", page)
    tables = re.findall(r"<table.*?</table>", page, re.S)
    actions = next(t for t in tables if "What to do" in t)
    assert len(re.findall(r"<tr>", actions.split("</thead>")[1])) <= 3
    segments = next(t for t in tables if "Other segments" in t or ">Segment<" in t)
    assert len(re.findall(r"<tr>", segments.split("</thead>")[1])) <= 6  # top 5 + the rest


def test_a_tie_to_the_decimals_shown_is_called_a_tie():
    from churnlab.report.narrative import _compared

    words = ("higher (worse)", "lower (better)")
    assert _compared(0.0901, 0.0899, words) == "the same"  # both shown as 0.090
    assert _compared(0.206, 0.222, words) == "lower (better)"
    assert _compared(0.744, 0.735, words) == "higher (worse)"

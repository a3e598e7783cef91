"""What a stakeholder reads: no scientific notation, no code names, no raw floats."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_DROP = re.compile(
    r"<(style|script|header|footer)\b.*?</\1\s*>|<img\b[^>]*>|<details\b.*?</details>", re.S | re.I
)
_SCIENTIFIC = re.compile(r"\b\d+(\.\d+)?[eE][+-]?\d+\b")
_IDENTIFIER = re.compile(r"\b[a-z]+(_[a-z0-9]+)+\b")
_RAW_FLOAT = re.compile(r"^-?[\d,]*\.\d{3,}$")


def _body(page: Path) -> str:
    return _DROP.sub(" ", page.read_text(encoding="utf-8"))


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def _pages(full_runs) -> list[Path]:
    return sorted(full_runs.run_dir(0).glob("[0-9][0-9]-*.html"))


def test_no_scientific_notation(full_runs) -> None:
    for page in _pages(full_runs):
        found = _SCIENTIFIC.findall(_text(_body(page)))
        assert not found, f"{page.name}: scientific notation {found[:5]}"


def test_no_code_names_in_the_text(full_runs) -> None:
    for page in _pages(full_runs):
        body = _body(page)
        code = re.findall(r"<code>(.*?)</code>", body, re.S)
        assert not code, f"{page.name}: backticked identifiers {code[:5]}"
        names = {m.group(0) for m in _IDENTIFIER.finditer(_text(body))}
        assert not names, f"{page.name}: variable names in the text {sorted(names)[:8]}"


def test_table_numbers_are_formatted(full_runs) -> None:
    for page in _pages(full_runs):
        cells = [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", _body(page), re.S)]
        raw = [c for c in cells if _RAW_FLOAT.match(c)]
        assert not raw, f"{page.name}: unformatted numbers {raw[:5]}"

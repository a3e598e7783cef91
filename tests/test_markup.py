"""Escaping of data text for Markdown and HTML (:mod:`churnlab.markup`)."""

from __future__ import annotations

import html

import mistune
import pytest

from churnlab.markup import escape_html, escape_markdown

HOSTILE = [
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "[click](javascript:alert(1))",
    '<a href="&#106;avascript:alert(2)">x</a>',
    "**bold** _it_ `code` # heading",
    "line one\n# injected heading\n- list",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_markdown_renders_as_the_typed_text(text: str) -> None:
    # mistune is the Markdown renderer nbconvert uses for the stakeholder pages.
    rendered = mistune.html(escape_markdown(text)).strip().removeprefix("<p>").removesuffix("</p>")
    assert "<" not in rendered  # no tag at all: every bracket is an entity
    assert html.unescape(rendered) == " ".join(text.split())  # the reader sees what was typed


def test_escape_html_quotes_attributes() -> None:
    assert escape_html('"><script>') == "&quot;&gt;&lt;script&gt;"

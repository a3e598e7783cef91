"""The allow-list sanitiser of published pages (:mod:`churnlab.report.sanitise`)."""

from __future__ import annotations

import pytest

from churnlab.report.sanitise import CONTENT_SECURITY_POLICY, sanitise_fragment, sanitise_page

PNG = "data:image/png;base64,iVBORw0KGgo="

# Each payload ran script (or made a request) in Chromium before the allow-list.
PAYLOADS = [
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<a href="&#106;avascript:alert(2)">x</a>',
    '<a href="javascript:alert(3)">x</a>',
    "<script>alert(4)</script>",
    "<img src=x onerror=alert(5)>",
    '<svg onload="alert(6)"></svg>',
    '<object data="data:text/html,<script>alert(7)</script>"></object>',
    '<a href="data:text/html,<script>alert(8)</script>">x</a>',
    '<form action="https://example.invalid"><input name=q></form>',
    '<div onmouseover="alert(9)">hover</div>',
    '<img src="https://example.invalid/track.png">',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_markup_is_removed(payload: str) -> None:
    clean = sanitise_fragment(f"<p>before</p>{payload}<p>after</p>").lower()
    needles = ("<script", "<iframe", "<object", "<svg", "<form", "<input", "onerror", "onload",
               "onmouseover", "javascript:", "data:text", "example.invalid")  # fmt: skip
    for needle in needles:
        assert needle not in clean, (payload, clean)
    assert "before" in clean and "after" in clean


def test_report_markup_is_kept() -> None:
    markup = (
        '<h2 id="Customers">Customers<a class="anchor-link" href="#Customers">¶</a></h2>'
        '<table class="dataframe" border="1"><thead><tr><th scope="col">id</th></tr></thead>'
        '<tbody><tr><td colspan="1">&lt;script&gt;</td></tr></tbody></table>'
        f'<img src="{PNG}" alt="figure"><a href="https://example.org/x">link</a>'
        "<details><summary>more</summary><code>x</code></details>"
    )
    clean = sanitise_fragment(markup)
    for kept in ('id="Customers"', 'href="#Customers"', 'class="dataframe"', f'src="{PNG}"',
                 "&lt;script&gt;", "<details>", "https://example.org/x"):  # fmt: skip
        assert kept in clean


def test_page_keeps_its_styles_and_gains_a_content_security_policy() -> None:
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>"
        "<style>body { color: #222; }</style><script>alert(1)</script></head>"
        '<body class="jp-Notebook" onload="alert(2)"><p>text</p>'
        '<iframe srcdoc="&lt;script&gt;alert(3)&lt;/script&gt;"></iframe></body></html>'
    )
    clean = sanitise_page(page)
    assert "body { color: #222; }" in clean
    assert CONTENT_SECURITY_POLICY in clean
    assert "alert" not in clean
    assert '<body class="jp-Notebook">' in clean and clean.endswith("</body></html>")

"""The allow-list sanitiser every published HTML page goes through (``nh3``, i.e. ammonia).

Escaping data text where it enters Markdown or HTML (:mod:`churnlab.markup`) is
the first line of defence; this is the second. The body of a page keeps only the
tags and attributes a report needs (text, headings, tables, figures as ``data:``
images, links to ``http(s)``, ``mailto`` and in-page anchors): ``script``,
``iframe``, ``object``, forms, event handlers and ``javascript:`` URLs (also when
written with character references) are removed. The head, which churnlab's
template writes, loses any script, and gains a Content-Security-Policy that
forbids scripts and every network request, so a page stays inert and offline
even if something slipped through.
"""

from __future__ import annotations

import re

import nh3

__all__ = ["CONTENT_SECURITY_POLICY", "sanitise_page"]

#: No scripts, no frames, no requests: images only as data: URIs, inline styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "nav",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "style", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"class", "id", "title", "role", "lang", "dir", "aria-label"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "table": {"border"},
    "col": {"span"},
    "ol": {"start"},
    "details": {"open"},
    "style": {"type"},
}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.I)
_BODY = re.compile(r"(<body\b[^>]*>)(.*)(</body\s*>)", re.I | re.S)
_HEAD_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)
_HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.I)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Allow ``data:`` URLs only as raster image sources, and images only as ``data:``."""
    is_data = value.lower().startswith("data:")
    if tag == "img" and attribute == "src":
        return value if _DATA_IMAGE.match(value) else None
    return None if is_data else value


def sanitise_fragment(markup: str) -> str:
    """Return an HTML fragment with everything outside the allow-list removed.

    Parameters
    ----------
    markup : str
        Body HTML.

    Returns
    -------
    str
    """
    return nh3.clean(
        markup,
        tags=_TAGS,
        clean_content_tags={"script"},
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_attribute_filter,
    )


def sanitise_page(document: str) -> str:
    """Sanitise a whole HTML page: the body by allow-list, the head of scripts, plus a CSP.

    Parameters
    ----------
    document : str
        A complete HTML document (``<html><head>...</head><body>...</body></html>``).

    Returns
    -------
    str
        The same page, inert.
    """
    match = _BODY.search(document)
    if match is None:
        return sanitise_fragment(document)
    head, body = document[: match.start()], match.group(2)
    head = _HEAD_SCRIPT.sub("", head)
    csp = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
    head, added = _HEAD_OPEN.subn(lambda m: m.group(0) + csp, head, count=1)
    if not added:
        head += csp
    body_tag = re.sub(r"\s+on[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", "", match.group(1))
    return head + body_tag + sanitise_fragment(body) + match.group(3) + document[match.end() :]

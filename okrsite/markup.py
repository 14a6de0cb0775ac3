"""Author Markdown → safe HTML.

Python-Markdown renders; nh3 (the Rust `ammonia` sanitiser) then keeps only an
allow-list of tags, attributes and URL schemes, so nothing an author writes can
run script in a reader's browser. Sites whose authors are all trusted may set
`raw_html = "trust"` in okrsite.toml; `"escape"` shows raw HTML as text.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_MARKDOWN_CHARS = 200_000


class _DemoteHeadings(Treeprocessor):
    """Author `#` headings become h3..h6: the page owns h1 and h2."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                element.tag = f"h{min(6, int(element.tag[1]) + 2)}"


class MarkdownRenderer:
    """One configured Python-Markdown instance, reused (reset) for every body."""

    def __init__(self, raw_html: str = "sanitize"):
        self.raw_html = raw_html
        self._md = markdown.Markdown(
            extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
        )
        self._md.treeprocessors.register(_DemoteHeadings(self._md), "demote_headings", 1)
        if raw_html == "escape":
            self._md.preprocessors.deregister("html_block")
            self._md.inlinePatterns.deregister("html")

    def render(self, text: str) -> Markup:
        if not text or not text.strip():
            return Markup("")
        if len(text) > MAX_MARKDOWN_CHARS:
            text = text[:MAX_MARKDOWN_CHARS]
        html = self._md.reset().convert(text)
        if self.raw_html != "trust":
            html = nh3.clean(
                html,
                tags=ALLOWED_TAGS,
                attributes=ALLOWED_ATTRIBUTES,
                url_schemes=URL_SCHEMES,
                link_rel="noopener noreferrer",
                strip_comments=True,
            )
        return Markup(html)

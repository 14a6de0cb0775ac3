"""Author Markdown → safe HTML.

Python-Markdown renders; nh3 (the Rust `ammonia` sanitiser) then keeps only an
allow-list of tags, attributes and URL schemes, so nothing an author writes can
run script in a reader's browser. Sites whose authors are all trusted may set
`raw_html = "trust"` in okrsite.toml; `"escape"` shows raw HTML as text.
"""

from __future__ import annotations

import html as html_lib
import re
import xml.etree.ElementTree as etree

import markdown
import nh3
from markdown import util
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markupsafe import Markup

from okrsite.packed import Packed, pack, text_key, unpack

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

# Limits that keep Python-Markdown fast (see docs/security.md). Its inline
# patterns rescan a block from every unmatched `[` or `<`, so a block of n of
# them costs ~n² (2,000 `[` take 0.7 s, 16,000 take a minute); nested lists or
# quotes recurse once per level (300 levels raise RecursionError).
MAX_MARKDOWN_CHARS = 200_000
MAX_BRACKET_WORK = 1_000_000  # sum over blocks of (number of '[' and '<')²: ~0.4 s at worst
MAX_NESTING = 32  # levels of '>' quotes, or of list indentation (4 columns a level)
_QUOTES = re.compile(r"^(?:[ \t]*>)+")


def markdown_problem(text: str) -> tuple[int, str] | None:
    """Why `text` is too big or too costly to render, with the 0-based line of the
    trouble; None when it is fine. Validation reports it (OKR008); rendering
    never hangs on it either (see `MarkdownRenderer.render`)."""
    if len(text) > MAX_MARKDOWN_CHARS:
        return 0, (
            f"is {len(text):,} characters; the limit is {MAX_MARKDOWN_CHARS:,}: "
            "split it or move detail elsewhere"
        )
    work = brackets = block_start = 0
    for number, line in enumerate(text.split("\n")):
        if not line.strip():
            brackets, block_start = 0, number + 1
            continue
        indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip(" "))
        quotes = _QUOTES.match(line)
        depth = quotes.group().count(">") if quotes else 0
        if indent > 4 * MAX_NESTING or depth > MAX_NESTING:
            return number, (
                f"nests deeper than {MAX_NESTING} levels (quotes or list indentation); flatten it"
            )
        count = line.count("[") + line.count("<")
        if count:
            work += (brackets + count) ** 2 - brackets**2
            brackets += count
            if work > MAX_BRACKET_WORK:
                return block_start, (
                    "has too many '[' or '<' in one paragraph to render quickly; "
                    "separate paragraphs with blank lines or escape them as \\[ and &lt;"
                )
    return None


class _DemoteHeadings(Treeprocessor):
    """Author `#` headings become h3..h6: the page owns h1 and h2."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                element.tag = f"h{min(6, int(element.tag[1]) + 2)}"


# What each of Python-Markdown's inline patterns cannot match without, found by
# reading its expression (recorded here: the pattern is only skipped while its
# expression is still this one): one of a set of characters, or a text.
Trigger = frozenset[str] | str
_TRIGGERS: dict[str, tuple[str, Trigger]] = {
    "backtick": (r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)", frozenset("`")),
    "escape": (r"\\(.)", frozenset("\\")),
    "reference": (r"(?<!\!)\[", frozenset("[")),
    "link": (r"(?<!\!)\[", frozenset("[")),
    "image_link": (r"\!\[", "!["),
    "image_reference": (r"\!\[", "!["),
    "short_reference": (r"(?<!\!)\[", frozenset("[")),
    "short_image_ref": (r"\!\[", "!["),
    "autolink": (r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>", frozenset("<")),
    "automail": (r"<([^<> !]+@[^@<> ]+)>", frozenset("<")),
    "linebreak": (r"  \n", "  \n"),
    "html": (
        "(<(\\/?+[a-zA-Z][^\\s\"'<>@]*+(?:\\s+[^\\s\"'=<>]++(?:\\s*+=\\s*+(?:\"[^\"]*+\"|'[^']*+'|[^\\s\"'=<>]++))?+)*+\\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\\[CDATA\\[(?:(?!<!\\[CDATA\\[|\\]\\]>).)*\\]\\])>)",
        frozenset("<"),
    ),
    "entity": (r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)", frozenset("&")),
    "em_strong": (r"\*|_", frozenset("*_")),
}


class _SkippingInlineProcessor(InlineProcessor):
    """Python-Markdown's inline stage, skipping the patterns that cannot match.

    For every run of text it tries each of its 14 inline patterns in turn: about
    200 tries for a check-in's narrative, most of them on text without a `[`, `<`,
    `*` or backtick. Trying a pattern whose trigger (`_TRIGGERS`) is not in the
    text finds nothing, so skipping it gives the same HTML (tests/test_markup.py
    compares with Python-Markdown's own on the example site and on random text).
    A 100-team site's texts render in 0.68 of the time (sanitising included).
    Where Python-Markdown's private methods are not the ones overridden here,
    `MarkdownRenderer` keeps its own inline stage."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self._patterns: list = []  # the registry's, in order, when `_needs` was made
        self._needs: list[Trigger | None] = []

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = list(self.inlinePatterns)
        if patterns != self._patterns:
            self._patterns, self._needs = patterns, _needs(self.inlinePatterns)
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        """Python-Markdown's own loop (`__handleInline`), but for the skip."""
        if isinstance(data, util.AtomicString):
            return data
        apply = self._InlineProcessor__applyPattern
        patterns, needs = self._patterns, self._needs
        characters = set(data)
        index, start = patternIndex, 0
        while index < len(patterns):
            need = needs[index]
            if need is not None and (
                need.isdisjoint(characters) if type(need) is frozenset else need not in data
            ):
                index, start = index + 1, 0  # as a pattern that did not match
                continue
            data, matched, start = apply(patterns[index], data, index, start)
            if matched:
                characters = set(data)
            else:
                index += 1
        return data


def _needs(registry: util.Registry) -> list[Trigger | None]:
    """The triggers of each pattern, in order; None: try it on every text."""
    found = []
    patterns = list(registry)  # first: it sorts the registry's private list of names
    for item, pattern in zip(registry._priority, patterns, strict=True):
        expected = _TRIGGERS.get(item.name)
        regex = getattr(pattern, "compiled_re", None)
        found.append(expected[1] if expected and regex and regex.pattern == expected[0] else None)
    return found


def _can_skip() -> bool:
    return all(
        hasattr(InlineProcessor, f"_InlineProcessor__{name}")
        for name in ("handleInline", "applyPattern")
    )


class MarkdownRenderer:
    """One configured Python-Markdown instance, reused (reset) for every body."""

    def __init__(self, raw_html: str = "sanitize"):
        self.raw_html = raw_html
        self.memo: dict[bytes, Packed] = {}  # packed.text_key(Markdown text) -> its HTML, packed
        self._md = markdown.Markdown(
            extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
        )
        self._md.treeprocessors.register(_DemoteHeadings(self._md), "demote_headings", 1)
        if _can_skip():
            self._md.treeprocessors.register(_SkippingInlineProcessor(self._md), "inline", 20)
        if raw_html == "escape":
            self._md.preprocessors.deregister("html_block")
            self._md.inlinePatterns.deregister("html")

    def render(self, text: str) -> Markup:
        """The safe HTML of `text`, rendered once per text: `memo` keeps every result
        (preloaded by okrsite/cache.py from its on-disk cache)."""
        return Markup(unpack(self.packed(text)))

    def packed(self, text: str, key: bytes | None = None) -> Packed:
        """`render(text)` as `packed.pack` keeps it (`key`: text_key(text), if known)."""
        key = key or text_key(text)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = pack(self._render(text))
        return found

    def _render(self, text: str) -> str:
        if not text or not text.strip():
            return ""
        if markdown_problem(text) is not None:  # validation reports it; never hang here
            return _plain(text)
        try:
            html = self._md.reset().convert(text)
        except RecursionError:  # pragma: no cover - markdown_problem keeps nesting low
            return _plain(text)
        if self.raw_html != "trust":
            html = nh3.clean(
                html,
                tags=ALLOWED_TAGS,
                attributes=ALLOWED_ATTRIBUTES,
                url_schemes=URL_SCHEMES,
                link_rel="noopener noreferrer",
                strip_comments=True,
            )
        return html


def _plain(text: str) -> str:
    """All of the text, shown as it was written: no content is ever dropped."""
    return f'<pre class="raw">{html_lib.escape(text)}</pre>'

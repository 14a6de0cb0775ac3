"""Author Markdown (okrsite/markup.py): the inline stage that skips patterns which
cannot match gives exactly Python-Markdown's own HTML."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import InlineProcessor

from okrsite import markup
from okrsite.markup import MarkdownRenderer
from tests.test_xss import PAYLOADS

REPO = Path(__file__).resolve().parent.parent
MODES = ("sanitize", "escape", "trust")

# Every inline construct, and near misses: what each pattern needs and more.
TRICKY = [
    "plain words only, nothing to match at all",
    "`code` and ``two `ticks` `` and \\`not code\\` and \\\\`code after escapes`",
    "\\*not em\\* \\[not a link\\] \\\\ back \\& amp",
    "[link](http://example.com 'title') and [ref][r] and [short] and [r]\n\n[r]: /x\n",
    "![image](/a.png) ![ref img][r] ![r] !not [a](b) ! [c](d)\n\n[r]: /i.png",
    "<http://example.com> <https://x.y/z?q=1&b=2> <me@example.com> <not a link>",
    "line with two spaces  \nthen a break, and a tab\t\nnone",
    "<b>bold</b> <span class='x'>s</span> <!-- comment --> <?php x ?> <![CDATA[c]]>",
    "&amp; &#38; &#x26; &copy; & alone &nope",
    "*em* **strong** ***both*** _em_ __strong__ snake_case_word 2 * 3 * 4 _ lone",
    "*a [link *inside*](http://x) `code *not em*`* and **[b](c)**",
    "# Heading\n\n## Second\n\n- item *one*\n- item [two](t)\n\n1. first\n2. `second`",
    "| a | b |\n|---|---|\n| *x* | [y](z) |\n",
    "```python\nx = '*not em*' [not link]\n```\n\nafter <b>fence</b>",
    "> quote with _em_ and <i>html</i>\n> > nested `code`",
]


def reference(mode: str) -> MarkdownRenderer:
    """A renderer with Python-Markdown's own inline stage."""
    renderer = MarkdownRenderer(mode)
    renderer._md.treeprocessors.register(InlineProcessor(renderer._md), "inline", 20)
    return renderer


def example_texts() -> list[str]:
    """The bodies of the example site's files (after their front matter)."""
    files = sorted((REPO / "content").rglob("*.md"))
    return [path.read_text(encoding="utf-8").split("\n---", 1)[-1] for path in files]


def test_the_skipping_stage_is_in_use() -> None:
    """Else the comparisons below would compare Python-Markdown with itself."""
    for mode in MODES:
        stage = MarkdownRenderer(mode)._md.treeprocessors["inline"]
        assert type(stage) is markup._SkippingInlineProcessor
    assert type(reference("sanitize")._md.treeprocessors["inline"]) is InlineProcessor


@pytest.mark.parametrize("mode", MODES)
def test_same_html_as_python_markdown(mode: str) -> None:
    ours, theirs = MarkdownRenderer(mode), reference(mode)
    texts = TRICKY + PAYLOADS + example_texts()
    assert len(texts) > 100
    for text in texts:
        assert ours._render(text) == theirs._render(text), text


# Text made of the characters the patterns look for, and of words around them.
PIECES = st.sampled_from(
    ["a", "b c", " ", "  ", "\n", "\n\n", "\t", "`", "``", "\\", "[", "]", "(", ")", "!",
     "<", ">", "&", ";", "#", "*", "**", "_", "__", "-", ":", "/", "@", "'", '"', "=",
     "http://x.y", "mail@x.y", "amp", "#38", "b>", "/b", "|", "1.", "é"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_same_html_as_python_markdown_on_random_text(text: str) -> None:
    assert MarkdownRenderer()._render(text) == reference("sanitize")._render(text)


def needs_by_name(renderer: MarkdownRenderer) -> dict[str, markup.Trigger | None]:
    registry = renderer._md.inlinePatterns
    needs = markup._needs(registry)  # sorts the registry, as using it does
    return dict(zip([item.name for item in registry._priority], needs, strict=True))


def test_a_pattern_whose_expression_changed_is_tried_on_every_text() -> None:
    """The triggers were read off each pattern's expression: a Python-Markdown whose
    expression differs gets no skip for that pattern."""
    ours, theirs = MarkdownRenderer(), reference("sanitize")
    needs = needs_by_name(ours)
    assert needs["link"] == frozenset("[") and needs["em_strong"] == frozenset("*_")
    for renderer in (ours, theirs):
        link = type(renderer._md.inlinePatterns["link"])(r"\[|\{", renderer._md)
        renderer._md.inlinePatterns.register(link, "link", 160)
    needs = needs_by_name(ours)
    assert needs["link"] is None and needs["reference"] == frozenset("[")
    for text in [*TRICKY, "{x [y](z)", "{ no bracket"]:
        assert ours._render(text) == theirs._render(text), text

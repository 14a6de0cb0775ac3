"""axe-core finds no violations on the main kinds of page, in light and dark mode."""

from __future__ import annotations

import pytest

from tests.browser import axe_violations, format_violations
from tests.example_build import built_example

PAGES = {
    "dashboard": "index.html",
    "team": "teams/sales/index.html",
    "team in a cycle": "cycles/2026-Q4/sales/index.html",
    "objective": "cycles/2026-Q4/sales/objectives/pipeline/index.html",
    "key result": "cycles/2026-Q4/sales/key-results/pipeline-value/index.html",
    "alignment map": "cycles/2026-Q4/_alignment/index.html",
    "person": "people/daniel-reyes/index.html",
    "closed cycle": "cycles/2026-Q3/index.html",
    "search": "search/index.html?q=pipeline",
    "running cycle": "cycles/2026-Q4/index.html",
    "cycle archive": "cycles/index.html",
    "check-in": "cycles/2026-Q4/sales/checkins/2026-11-20/index.html",
    "team timeline": "teams/sales/checkins/index.html",
    "people": "people/index.html",
    "not found": "404.html",
}


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations(browser, scheme: str) -> None:
    site = built_example()
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        found = {}
        for name, rel in PAGES.items():
            path, _, query = rel.partition("?")
            assert (site / path).is_file(), rel
            page.goto((site / path).as_uri() + (f"?{query}" if query else ""))
            # Open every <details> so axe also checks folded content (lint hints, data).
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            violations = axe_violations(page)
            if violations:
                found[name] = format_violations(violations)
        assert not found, "\n\n".join(f"{name}:\n{text}" for name, text in found.items())
    finally:
        context.close()


@pytest.mark.browser
def test_keyboard_reaches_skip_link_switcher_and_folds(page) -> None:
    site = built_example()
    page.goto((site / "cycles/2026-Q4/_alignment/index.html").as_uri())
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0  # shown
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # the cycle switcher opens from the keyboard and lists every cycle
    page.focus(".switcher summary")
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('.switcher details').open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "2026-Q4"
    # a branch of the alignment map folds and unfolds with the keyboard
    page.focus(".align-tree details summary")
    page.keyboard.press("Enter")
    assert not page.evaluate("document.querySelector('.align-tree details').open")
    page.keyboard.press("Space")
    assert page.evaluate("document.querySelector('.align-tree details').open")

"""Screenshots of the dashboard and a team page, light and dark, phone and desktop.

They land in screenshots/ (git-ignored) for a person to look at; the test checks
only that each was written and that nothing overflows the phone viewport sideways.
"""

from __future__ import annotations

import pytest

from tests.example_build import REPO_ROOT, built_example

OUT = REPO_ROOT / "screenshots"
PAGES = {"dashboard": "index.html", "team": "cycles/2026-Q4/sales/index.html"}
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(browser, scheme: str) -> None:
    site = built_example()
    OUT.mkdir(exist_ok=True)
    for width_name, width in WIDTHS.items():
        context = browser.new_context(
            viewport={"width": width, "height": 900}, color_scheme=scheme, device_scale_factor=1
        )
        try:
            page = context.new_page()
            for name, rel in PAGES.items():
                page.goto((site / rel).as_uri())
                target = OUT / f"{name}-{width_name}-{scheme}.png"
                page.screenshot(path=str(target), full_page=True)
                assert target.stat().st_size > 10_000
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{rel} scrolls sideways at {width}px ({overflow}px)"
        finally:
            context.close()


@pytest.mark.browser
def test_cycle_page_prints_as_a_clean_report(browser) -> None:
    """Print media hides navigation, search, switcher and folds; the report stays."""
    site = built_example()
    OUT.mkdir(exist_ok=True)
    context = browser.new_context(color_scheme="dark")  # print must not inherit dark colours
    try:
        page = context.new_page()
        page.goto((site / "cycles/2026-Q3/index.html").as_uri())
        page.emulate_media(media="print")
        hidden = page.evaluate(
            """() => ['.site-nav', '.search-form', '.switcher', '.foot', '.actions']
                .map(s => getComputedStyle(document.querySelector(s)).display)"""
        )
        assert hidden == ["none"] * 5
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") in (
            "rgb(255, 255, 255)",
            "rgba(0, 0, 0, 0)",
        )
        assert page.locator("h2#final-checkins").is_visible()
        page.pdf(path=str(OUT / "cycle-2026-Q3-print.pdf"), format="A4")
        page.screenshot(path=str(OUT / "cycle-2026-Q3-print.png"), full_page=True)
    finally:
        context.close()

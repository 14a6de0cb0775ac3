"""`okrsite serve` in a real browser: headless Chromium sees every save by itself.

Only the file on disk changes; the test never touches the page (no reload,
no click): the injected script must bring the new content, the error overlay
and its removal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from okrsite.build import check_site
from okrsite.diagnostics import format_text
from okrsite.serve import PreviewServer
from tests.sites import TODAY, make_site

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect

CHECKIN = "content/cycles/2026-Q4/sales/2026-11-07.md"
WAIT = 15_000  # ms: generous, bounded


def contrast(page, selector_js: str) -> float:
    """WCAG contrast ratio of an element's text against its background."""
    return page.evaluate(
        """(sel) => {
          const el = eval(sel);
          const cs = getComputedStyle(el);
          const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const lum = ([r, g, b]) => {
            const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const a = lum(rgb(cs.color)), b = lum(rgb(cs.backgroundColor));
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector_js,
    )


def test_edit_break_fix_without_touching_the_browser(preview: PreviewServer, page) -> None:
    checkin = preview.site_dir / CHECKIN
    good = checkin.read_text(encoding="utf-8")
    page.goto(preview.url + "cycles/2026-Q4/sales/")
    main = page.locator("main")
    expect(main).to_contain_text("320,000 USD")

    # 1. Edit the team's check-in: the page shows the new value by itself.
    checkin.write_text(good.replace("320000", "345678"), encoding="utf-8")
    expect(main).to_contain_text("345,678 USD", timeout=WAIT)

    # 2. Break it: the overlay names the file, line and code, as `okrsite check` does.
    broken = good.replace("320000", "345678").replace("author: Dana Ruiz", "author: [Dana")
    checkin.write_text(broken, encoding="utf-8")
    expected = [format_text(d) for d in check_site(preview.site_dir, TODAY).diagnostics]
    assert any(line.startswith(CHECKIN + ":") and " OKR0" in line for line in expected)
    overlay = page.get_by_role("alert")
    expect(overlay).to_be_visible(timeout=WAIT)
    for line in expected:
        expect(overlay).to_contain_text(line)
    expect(overlay).to_contain_text(re.compile(re.escape(CHECKIN) + r":\d+: OKR\d{3} "))
    expect(main).to_contain_text("345,678 USD")  # the last good page stays readable
    assert (
        contrast(
            page,
            "document.querySelector('#okrsite-overlay').shadowRoot"
            ".querySelector('pre').parentElement",
        )
        >= 4.5
    )

    # 3. Fix it (with a new value): the overlay goes and the page shows the fix.
    checkin.write_text(good.replace("320000", "356789"), encoding="utf-8")
    expect(page.locator("#okrsite-overlay")).to_have_count(0, timeout=WAIT)
    expect(main).to_contain_text("356,789 USD", timeout=WAIT)


def test_overlay_is_readable_in_dark_mode(preview: PreviewServer, browser) -> None:
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(preview.url)
        checkin = preview.site_dir / CHECKIN
        checkin.write_text("---\nupdates: [\n---\n", encoding="utf-8")
        expect(page.get_by_role("alert")).to_contain_text(CHECKIN, timeout=WAIT)
        ratio = contrast(
            page,
            "document.querySelector('#okrsite-overlay').shadowRoot.querySelector('.box')",
        )
        assert ratio >= 4.5
        bg = page.evaluate(
            "getComputedStyle(document.querySelector('#okrsite-overlay').shadowRoot"
            ".querySelector('.box')).backgroundColor"
        )
        assert bg == "rgb(43, 22, 20)"  # the dark palette, not the light one
    finally:
        context.close()


def test_pages_reload_after_a_server_restart(tmp_path: Path, page) -> None:
    site = make_site(tmp_path / "site")
    first = PreviewServer(site, port=0, today=TODAY)
    first.start_background()
    port = first.port
    try:
        page.goto(first.url + "teams/sales/")
        expect(page.locator("h1")).to_contain_text("Sales")
        page.evaluate("window.__untouched = true")
    finally:
        first.stop()
    (site / "content/teams/sales.md").write_text(
        (site / "content/teams/sales.md").read_text().replace("name: Sales", "name: Sales & Co"),
        encoding="utf-8",
    )
    second = PreviewServer(site, port=port, today=TODAY)
    second.start_background()
    try:
        expect(page.locator("h1")).to_contain_text("Sales & Co", timeout=WAIT)
        assert page.evaluate("window.__untouched") is None
    finally:
        second.stop()


class ScriptedBuilder:
    """Each rebuild writes the next step's files: exact control of `written`."""

    PAGE = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<link rel="stylesheet" href="/assets/style.css">'
        '<link rel="alternate" type="application/atom+xml" href="/feed.atom">'
        "</head><body><main><p id=text>{text}</p></main></body></html>"
    )

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.steps: list[tuple[dict[str, str], bool]] = []

    def _write(self, files: dict[str, str]) -> None:
        for rel, text in files.items():
            path = self.out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def build(self):
        from okrsite.incremental import BuildReport

        files = {
            "index.html": self.PAGE.format(title="Home", text="home v0"),
            "other/index.html": self.PAGE.format(title="Other", text="other v0"),
            "assets/style.css": "body { color: #111 }",
            "feed.atom": "<feed/>",
        }
        self._write(files)
        return BuildReport(ok=True, diagnostics=[], written=list(files), full=True)

    def rebuild(self, changed):
        from okrsite.incremental import BuildReport

        files, full = self.steps.pop(0)
        self._write(files)
        return BuildReport(ok=True, diagnostics=[], written=list(files), full=full)


def test_only_pages_that_changed_update(tmp_path: Path, browser) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = ScriptedBuilder(out)
    server = PreviewServer(site, port=0, out_dir=out, builder=builder)
    server.start_background()
    context = browser.new_context()
    try:
        home, other = context.new_page(), context.new_page()
        home.goto(server.url)
        other.goto(server.url + "other/")
        for p in (home, other):
            p.evaluate("window.__marker = 1")

        def save(files: dict[str, str], full: bool = False) -> None:
            builder.steps.append((files, full))
            touched = site / "content/teams/sales.md"
            touched.write_text(touched.read_text() + "\n", encoding="utf-8")
            assert server.rebuilder.wait_idle(quiet=0.3)

        def marker(p) -> int | None:
            return p.evaluate("window.__marker")

        # Only home's HTML changed: home gets the new body in place, other is left alone.
        save({"index.html": builder.PAGE.format(title="Home 1", text="home v1")})
        expect(home.locator("#text")).to_have_text("home v1", timeout=WAIT)
        expect(home).to_have_title("Home 1")
        assert marker(home) == 1  # swapped, not reloaded
        other.wait_for_timeout(300)
        assert marker(other) == 1
        expect(other.locator("#text")).to_have_text("other v0")

        # A file no page loads (a feed): nothing happens anywhere.
        save({"feed.atom": "<feed>1</feed>"})
        home.wait_for_timeout(300)
        assert marker(home) == 1 and marker(other) == 1

        # The stylesheet both use: both reload.
        save({"assets/style.css": "body { color: #222 }"})
        home.wait_for_function("window.__marker === undefined", timeout=WAIT)
        other.wait_for_function("window.__marker === undefined", timeout=WAIT)
        for p in (home, other):
            p.evaluate("window.__marker = 2")

        # A full rebuild: everything reloads, even with nothing listed.
        save({}, full=True)
        home.wait_for_function("window.__marker === undefined", timeout=WAIT)
        other.wait_for_function("window.__marker === undefined", timeout=WAIT)
    finally:
        context.close()
        server.stop()


def test_hidden_tabs_let_go_of_their_stream_and_catch_up(preview: PreviewServer, page) -> None:
    page.goto(preview.url + "cycles/2026-Q4/sales/")
    main = page.locator("main")
    expect(main).to_contain_text("320,000 USD")
    visibility = """(hidden) => {
      Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
      document.dispatchEvent(new Event('visibilitychange'));
    }"""
    page.evaluate(visibility, True)
    checkin = preview.site_dir / CHECKIN
    checkin.write_text(checkin.read_text().replace("320000", "333333"), encoding="utf-8")
    assert preview.rebuilder.wait_idle()
    page.wait_for_timeout(500)
    expect(main).to_contain_text("320,000 USD")  # no stream while hidden
    page.evaluate(visibility, False)
    expect(main).to_contain_text("333,333 USD", timeout=WAIT)

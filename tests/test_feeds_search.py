"""Atom feeds (site-wide and per team), the search index and the search box."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from okrsite.build import build_site
from tests.example_build import built_example
from tests.sites import TODAY, make_site

ATOM = "{http://www.w3.org/2005/Atom}"
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def built(tmp_path):
    site = make_site(
        tmp_path / "site",
        {
            "content/teams/sales.md": f"""
                ---
                name: "Sales {EVIL}"
                parent: company
                lead: "Dana {EVIL}"
                ---
            """,
            "content/cycles/2026-Q4/sales/2026-12-01.md": """
                ---
                updates:
                  pipeline-value: {value: 400000}
                ---
                Not yet.
            """,
        },
    )
    out = tmp_path / "out"
    assert build_site(site, out, TODAY).published
    return out


def load_index(out) -> list[dict]:
    text = (out / "search/search-index.js").read_text()
    assert text.startswith("window.OKRSITE_SEARCH = ") and text.rstrip().endswith(";")
    return json.loads(text.removeprefix("window.OKRSITE_SEARCH = ").rstrip().rstrip(";"))


def test_site_feed_is_atom_with_counted_checkins(built):
    root = ET.parse(built / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    # two counted check-ins; the one dated after today is left out until then
    assert len(entries) == 2
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles[0].startswith("Company check-in") or titles[0].startswith("Acme")
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith("urn:okrsite:checkin:2026-Q4:")
        assert entry.find(f"{ATOM}updated").text.endswith("T00:00:00Z")
        href = entry.find(f"{ATOM}link").get("href")
        assert (built / href).is_file()  # relative to the feed at the site root
    assert root.find(f"{ATOM}updated").text == "2026-11-10T00:00:00Z"


def test_team_feed_holds_only_that_team_and_escapes(built):
    text = (built / "teams/sales/feed.xml").read_text()
    assert "<script>" not in text
    root = ET.fromstring(text)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert EVIL in entry.find(f"{ATOM}title").text  # escaped in XML, intact as text
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "Two enterprise deals" in content.text and "Sales check-in." in content.text
    href = entry.find(f"{ATOM}link").get("href")
    assert (built / "teams/sales" / href).resolve().is_file()


def test_feeds_use_base_url_when_set(tmp_path):
    site = make_site(
        tmp_path / "site",
        {"okrsite.toml": '[site]\ntitle = "Acme"\nbase_url = "https://okrs.example.com/"\n'},
    )
    out = tmp_path / "out"
    assert build_site(site, out, TODAY).published
    root = ET.parse(out / "teams/sales/feed.xml").getroot()
    link = root.find(f"{ATOM}entry/{ATOM}link").get("href")
    assert link == "https://okrs.example.com/cycles/2026-Q4/sales/checkins/2026-11-07/index.html"
    sitemap = ET.parse(out / "sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://okrs.example.com/index.html" in locs
    assert all(loc.endswith(".html") and "404" not in loc for loc in locs)
    assert len(locs) == len(list(out.rglob("*.html"))) - 1


def test_no_sitemap_without_base_url(built):
    assert not (built / "sitemap.xml").exists()


def test_search_index_finds_every_kind_and_escapes(built):
    text = (built / "search/search-index.js").read_text()
    assert "<" not in text and ">" not in text and "&" not in text.replace("\\u0026", "")
    items = load_index(built)
    kinds = {item["k"] for item in items}
    assert kinds == {"team", "person", "cycle", "objective", "key result"}
    for item in items:
        assert (built / item["u"]).is_file(), item
    assert any(item["t"] == f"Sales {EVIL}" for item in items)


@pytest.mark.browser
def test_search_box_works_offline_from_disk(browser):
    site = built_example()
    context = browser.new_context()
    try:
        page = context.new_page()
        # from a page in a sub-folder, submit the header search form
        page.goto((site / "cycles/2026-Q4/sales/index.html").as_uri())
        page.fill("#site-search", "pipeline")
        page.press("#site-search", "Enter")
        page.wait_for_selector("#search-results li")
        assert "search/index.html?q=pipeline" in page.url
        results = page.locator("#search-results li a")
        assert results.count() >= 2
        assert "pipeline" in results.first.inner_text().lower()
        assert "match" in page.inner_text("#search-status")
        # typing narrows the results live; a person is found by name
        page.fill("#search-box", "daniel reyes")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#search-results .result-kind')]"
            ".some(e => e.textContent === 'person')"
        )
        page.locator("#search-results li", has_text="person").first.locator("a").click()
        page.wait_for_load_state()
        assert page.url.endswith("people/daniel-reyes/index.html")
        assert page.inner_text("h1") == "Daniel Reyes"
        page.goto((site / "search/index.html").as_uri() + "?q=zzzznothing")
        assert "No matches" in page.inner_text("#search-status")
    finally:
        context.close()

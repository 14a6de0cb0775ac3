"""`okrsite serve`: a live-reloading preview of a site for its authors.

The site is built into a temporary folder (removed on exit) and served from
there by a threaded HTTP server bound to 127.0.0.1. watchdog watches
`content/`, the site's `themes/`, the built-in themes when they live in a
source checkout, and `okrsite.toml`. Bursts of events (an editor's atomic
save, a `git checkout` touching 200 files) are debounced and coalesced into
one `Builder.rebuild(changed)` on a single worker thread, so rebuilds never
overlap. Editor droppings (`.swp`, `~`, `4913`, `.#lock`, `.tmp`, hidden
files) are ignored outright.

Open pages learn about rebuilds through Server-Sent Events
(`/__okrsite__/events`). The server injects one `<script>` into the HTML it
sends (never into files on disk); it carries the server's build id, the
generation the page was served at and the page's output path. After each
rebuild every page gets a message saying what changed *for it*, and acts:

* its own HTML was rewritten: the script fetches the page and swaps in the
  new <body> (no navigation: faster, keeps the scroll position); pages with
  scripts of their own, or whose <head> changed, reload instead;
* a file the page loads changed (stylesheet, script, image): it reloads;
* a full rebuild (config, theme), or a new server process (another build
  id, seen when EventSource reconnects after a restart): it reloads;
* nothing it shows changed (another team's page, a feed, the JSON export):
  it is left alone, so an author's other tabs keep their state. When the build fails the message
carries the same `path:line: CODE message` lines `okrsite check` prints, and
every page shows them in an overlay until a rebuild succeeds.

Requests are confined to the built site: encoded slashes, backslashes, NUL
bytes, `..` (also percent-encoded), empty segments and absolute-form targets
get 400; dotfiles, symlinks leading outside the folder and missing files get
404. Unless `--host` opened the server to the network, requests whose Host
header is not localhost, 127.0.0.1 or [::1] are refused (DNS rebinding).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import json
import mimetypes
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from okrsite.diagnostics import Diagnostic, counts, format_text, sorted_diagnostics
from okrsite.incremental import Builder, BuildReport
from okrsite.load import is_ignored as content_ignored
from okrsite.render import builtin_themes_dir

PREFIX = "/__okrsite__/"
EVENTS_PATH = PREFIX + "events"
SCRIPT_PATH = PREFIX + "livereload.js"

DEBOUNCE = 0.05  # seconds of quiet after the last event before rebuilding
MAX_DELAY = 1.0  # ...but never wait longer than this after the first event
MAX_CONNECTIONS = 512  # open connections served at once; beyond that, 503
REQUEST_TIMEOUT = 10.0  # seconds a client may take to send a request / read a reply
KEEPALIVE = 15.0  # seconds between SSE comments that keep idle streams open

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json",
}

# Files editors write next to the real one while saving; never a reason to rebuild.
DROPPING_SUFFIXES = (
    "~",
    ".swp",
    ".swo",
    ".swx",
    ".swpx",
    ".tmp",
    ".temp",
    ".bak",
    ".orig",
    ".part",
    ".crdownload",
    "___jb_tmp___",
    "___jb_old___",
)
DROPPING_NAMES = frozenset({"4913", "5036", ".DS_Store", "Thumbs.db", "desktop.ini"})

# Event types that mean "the file changed". Opening and reading a file (the
# build does so) must not count, or every build would trigger the next one.
CHANGE_EVENTS = frozenset({"created", "modified", "deleted", "moved", "closed"})


def livereload_js() -> bytes:
    return (resources.files("okrsite") / "livereload.js").read_bytes()


def is_dropping(name: str) -> bool:
    """True for hidden files and editors' swap, backup and temporary files."""
    return (
        not name
        or name.startswith(".")
        or name in DROPPING_NAMES
        or name.endswith(DROPPING_SUFFIXES)
        or (name.startswith("#") and name.endswith("#"))  # Emacs autosave
    )


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# --------------------------------------------------------------------------- state


class LiveState:
    """What open pages need to know, shared by the worker and the SSE streams.

    `gen` counts published builds. `pages` maps an HTML output path to the last
    generation that rewrote (or deleted) it, `assets` does the same for every
    other output file, and `all_gen` is the last generation after which every
    page must reload (the first build, a full rebuild).
    """

    MAX_ASSETS = 200  # more changed assets than this: every page reloads

    def __init__(self) -> None:
        self.build_id = secrets.token_hex(8)
        self.cond = threading.Condition()
        self.gen = 0
        self.ok = True
        self.lines: list[str] = []
        self.summary = ""
        self.pages: dict[str, int] = {}
        self.assets: dict[str, int] = {}
        self.all_gen = 0
        self.closed = False

    def publish(self, report: BuildReport, out_dir: Path) -> None:
        written = [_output_rel(p, out_dir) for p in report.written]
        with self.cond:
            self.gen += 1
            self.ok = report.ok
            diagnostics = sorted_diagnostics(list(report.diagnostics))
            self.lines = [format_text(d) for d in diagnostics]
            errors, warnings = counts(diagnostics)
            self.summary = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
            if report.ok:
                if report.full or self.gen == 1:
                    self.all_gen = self.gen
                for path in written:
                    kind = self.pages if path.endswith((".html", ".htm")) else self.assets
                    kind[path] = self.gen
            self.cond.notify_all()

    def message(self, path: str, page_gen: int) -> dict[str, Any]:
        """The event for a page showing output `path` as served at `page_gen`.

        `page`: the page's own HTML changed since (the script swaps in the new
        body); `assets`: other files that changed since (the script reloads if
        the page uses one: a stylesheet, script or image); `hard`: reload
        outright (full rebuild, or too many changes to list).
        """
        with self.cond:
            everything = self.all_gen > page_gen
            own = self.pages.get(path, 0) > page_gen
            assets = sorted(p for p, g in self.assets.items() if g > page_gen)
            if len(assets) > self.MAX_ASSETS:
                everything, assets = True, []
            ok = self.ok
            return {
                "build": self.build_id,
                "gen": self.gen,
                "ok": ok,
                "reload": bool((everything or own) and ok),
                "hard": bool(everything and ok),
                "page": bool(own and ok),
                "assets": assets if ok else [],
                "summary": self.summary,
                "lines": self.lines if not ok else [],
            }

    def wait(self, seen: int, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.gen != seen or self.closed, timeout)
            return self.gen

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _output_rel(path: str | os.PathLike[str], out_dir: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        with contextlib.suppress(ValueError):
            return p.relative_to(out_dir).as_posix()
    return p.as_posix()


# --------------------------------------------------------------------------- HTTP


class BadRequest(Exception):
    pass


def split_target(target: str) -> tuple[list[str], str]:
    """Request target → (decoded path segments, query). Raises BadRequest.

    "/a/b/" gives ["a", "b", ""]: a trailing empty segment means "a folder".
    """
    if not target.startswith("/") or target.startswith("//"):
        raise BadRequest("request target must be a path starting with one /")
    raw_path, _, query = target.partition("?")
    raw_path = raw_path.partition("#")[0]
    lowered = raw_path.lower()
    if "\\" in raw_path or "%5c" in lowered or "%2f" in lowered or "%00" in lowered:
        raise BadRequest("encoded slashes, backslashes and NUL bytes are not allowed")
    try:
        path = urllib.parse.unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("path is not UTF-8") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in path) or "\\" in path:
        raise BadRequest("control characters in path")
    segments = path[1:].split("/")
    for i, segment in enumerate(segments):
        if segment in (".", ".."):
            raise BadRequest("dot segments are not allowed")
        if segment == "" and i != len(segments) - 1:
            raise BadRequest("empty path segment")
    return segments, query


def inject(page: bytes, tag: bytes) -> bytes:
    """`page` with `tag` placed before its last </body> (or at the end)."""
    at = page.lower().rfind(b"</body>")
    if at < 0:
        return page + tag
    return page[:at] + tag + page[at:]


class PreviewHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        out_dir: Path,
        state: LiveState,
        allowed_hosts: frozenset[str] | None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.out_dir = out_dir
        self.state = state
        self.allowed_hosts = allowed_hosts
        self.script = livereload_js()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, PreviewHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\nRetry-After: 1\r\n\r\n"
                )
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:  # no thread started (not Ctrl-C after it did): give back the slot
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # resets, broken pipes, timeouts: the client left
            return
        super().handle_error(request, client_address)


class PreviewHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "okrsite-serve"
    sys_version = ""
    timeout = REQUEST_TIMEOUT
    # Headers and body go out in two writes; with Nagle's algorithm the second
    # waits for the client's delayed ACK (40 ms on Linux) on every response.
    disable_nagle_algorithm = True
    server: PreviewHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    # -- responses

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        head: bool = False,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Used by the base class for malformed request lines and headers.
        self.close_connection = True
        text = f"{code} {message or HTTPStatus(code).phrase}\n".encode("utf-8", "replace")
        with contextlib.suppress(OSError):
            self._send(code, text, head=self.command == "HEAD")

    def _plain(self, status: HTTPStatus, text: str, head: bool) -> None:
        self._send(status, f"{status.value} {status.phrase}: {text}\n".encode(), head=head)

    def _script_tag(self, rel_path: str, gen: int) -> bytes:
        state = self.server.state
        tag = (
            f'<script src="{SCRIPT_PATH}" data-build="{state.build_id}" data-gen="{gen}" '
            f'data-path="{html.escape(rel_path, quote=True)}"></script>\n'
        )
        return tag.encode("utf-8")

    def _not_found(self, rel_path: str, head: bool) -> None:
        """An HTML 404 that reloads itself once the page exists (after a fix)."""
        gen = self.server.state.gen
        body = (
            "<!doctype html>\n<html lang=en><meta charset=utf-8>"
            "<title>Not found · okrsite serve</title>\n<body>"
            f"<h1>Not found</h1><p>No page at /{html.escape(rel_path)} in the built site.</p>"
            '<p><a href="/">Dashboard</a></p>\n</body></html>\n'
        ).encode()
        self._send(
            HTTPStatus.NOT_FOUND,
            inject(body, self._script_tag(rel_path, gen)),
            "text/html; charset=utf-8",
            head,
        )

    # -- routing

    def _host_ok(self) -> bool:
        allowed = self.server.allowed_hosts
        if allowed is None:
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        return host in allowed

    def _dispatch(self, head: bool) -> None:
        if not self._host_ok():
            self.close_connection = True
            self._plain(HTTPStatus.FORBIDDEN, "unexpected Host header", head)
            return
        try:
            segments, query = split_target(self.path)
        except BadRequest as exc:
            self.close_connection = True
            self._plain(HTTPStatus.BAD_REQUEST, str(exc), head)
            return
        if segments and segments[0] == PREFIX.strip("/"):
            self._internal(segments[1:], query, head)
            return
        self._file(segments, head)

    def _internal(self, rest: list[str], query: str, head: bool) -> None:
        if rest == ["livereload.js"]:
            self._send(HTTPStatus.OK, self.server.script, "text/javascript; charset=utf-8", head)
        elif rest == ["events"] and not head:
            self._events(query)
        else:
            self._plain(HTTPStatus.NOT_FOUND, "no such endpoint", head)

    def _file(self, segments: list[str], head: bool) -> None:
        if any(s.startswith(".") for s in segments):
            self._plain(HTTPStatus.NOT_FOUND, "no such file", head)
            return
        gen = self.server.state.gen  # read before the file: a page may only be newer
        out_dir = self.server.out_dir
        for _ in range(50):  # a rebuild swaps the whole folder: wait out that instant
            if out_dir.is_dir():
                break
            time.sleep(0.01)
        root = os.path.realpath(out_dir)
        wanted = [s for s in segments if s]
        target = os.path.realpath(os.path.join(root, *wanted))
        if target != root and not target.startswith(root + os.sep):
            self._plain(HTTPStatus.NOT_FOUND, "no such file", head)
            return
        if os.path.isdir(target):
            if segments and segments[-1] != "":
                location = urllib.parse.quote("/" + "/".join(segments)) + "/"
                self._send(
                    HTTPStatus.MOVED_PERMANENTLY, b"", headers=[("Location", location)], head=head
                )
                return
            target = os.path.join(target, "index.html")
            wanted.append("index.html")
        rel_path = "/".join(wanted)
        try:
            with open(target, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            if wanted and wanted[-1].endswith((".html", ".htm")):
                self._not_found(rel_path, head)
            elif not wanted or "." not in wanted[-1]:  # a folder that may appear later
                self._not_found("/".join([*wanted, "index.html"]), head)
            else:
                self._plain(HTTPStatus.NOT_FOUND, "no such file", head)
            return
        except OSError:
            self._plain(HTTPStatus.FORBIDDEN, "cannot read that file", head)
            return
        suffix = os.path.splitext(target)[1].lower()
        content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(target)[0]
        content_type = content_type or "application/octet-stream"
        if suffix in (".html", ".htm"):
            data = inject(data, self._script_tag(rel_path, gen))
        self._send(HTTPStatus.OK, data, content_type, head)

    def _events(self, query: str) -> None:
        params = urllib.parse.parse_qs(query)
        path = params.get("path", [""])[0][:2048]
        try:
            page_gen = int(params.get("gen", ["0"])[0])
        except ValueError:
            page_gen = 0
        state = self.server.state
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b"retry: 500\n\n")
            seen = -1
            while not state.closed:
                gen = state.wait(seen, KEEPALIVE)
                if state.closed:
                    break
                if gen == seen:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    seen = gen
                    data = json.dumps(state.message(path, page_gen), ensure_ascii=False)
                    self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()
        except OSError:
            pass


# --------------------------------------------------------------------------- watching


class SiteWatcher:
    """watchdog handler: relevant source changes → `on_change(paths)`."""

    def __init__(self, site_dir: Path, on_change: Callable[[list[str]], None]) -> None:
        from watchdog.observers import Observer

        self.site_dir = site_dir
        self.on_change = on_change
        self.config = site_dir / "okrsite.toml"
        self.content = site_dir / "content"
        self.roots: list[Path] = [self.content, site_dir / "themes"]
        builtin = builtin_themes_dir().resolve()
        in_checkout = not {"site-packages", "dist-packages"} & set(builtin.parts)
        if in_checkout and builtin.is_dir() and builtin != (site_dir / "themes").resolve():
            self.roots.append(builtin)
        self.observer = Observer()
        self.observer.daemon = True
        self._watched: set[Path] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.observer.schedule(self, str(self.site_dir), recursive=False)
        for root in self.roots:
            self._watch(root)
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        with contextlib.suppress(RuntimeError):
            self.observer.join(timeout=5)

    def _watch(self, root: Path) -> None:
        with self._lock:
            if root in self._watched or not root.is_dir():
                return
            self._watched.add(root)
        with contextlib.suppress(OSError):
            self.observer.schedule(self, str(root), recursive=True)

    def relevant(self, raw: str | bytes, is_directory: bool, event_type: str) -> bool:
        path = Path(os.fsdecode(raw))
        if path == self.config:
            return not is_directory
        for root in self.roots:
            if path == root:
                if is_directory and event_type in ("created", "moved"):
                    self._watch(root)  # content/ or themes/ appeared after start
                    return True
                return is_directory and event_type == "deleted"
            try:
                parts = path.relative_to(root).parts
            except ValueError:
                continue
            if any(is_dropping(part) for part in parts):
                return False
            if is_directory:
                return event_type not in ("modified", "closed")
            # In content/ only what the build reads counts (Markdown, not `sed -i`'s
            # sedXXXXXX or other temp files): the same rule as load.discover.
            return root != self.content or not content_ignored(parts[-1])
        return False

    def dispatch(self, event: Any) -> None:  # watchdog's entry point
        if event.event_type not in CHANGE_EVENTS:
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        hits = [
            os.fsdecode(p)
            for p in paths
            if p and self.relevant(p, event.is_directory, event.event_type)
        ]
        if hits:
            self.on_change(hits)


# --------------------------------------------------------------------------- rebuilding


class Rebuilder(threading.Thread):
    """One worker: waits for a quiet moment, then rebuilds once for all changes."""

    def __init__(
        self,
        builder: Builder,
        on_report: Callable[[list[Path], BuildReport], None],
        debounce: float = DEBOUNCE,
        max_delay: float = MAX_DELAY,
    ) -> None:
        super().__init__(name="okrsite-rebuild", daemon=True)
        self.builder = builder
        self.on_report = on_report
        self.debounce = debounce
        self.max_delay = max_delay
        self.cond = threading.Condition()
        self.pending: set[str] = set()
        self.first_event = 0.0
        self.last_event = 0.0
        self.stopping = False
        self.busy = False
        self.rebuilds = 0

    def notify(self, paths: Iterable[str]) -> None:
        with self.cond:
            now = time.monotonic()
            if not self.pending:
                self.first_event = now
            self.pending.update(paths)
            self.last_event = now
            self.cond.notify_all()

    def stop(self, timeout: float = 30.0) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.is_alive():
            self.join(timeout)

    def wait_idle(self, quiet: float = 0.3, timeout: float = 30.0) -> bool:
        """For tests: True once nothing is pending or building for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        idle_since: float | None = None
        while time.monotonic() < deadline:
            with self.cond:
                idle = not self.pending and not self.busy
            now = time.monotonic()
            if idle:
                idle_since = idle_since or now
                if now - idle_since >= quiet:
                    return True
            else:
                idle_since = None
            time.sleep(0.01)
        return False

    def run(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.pending or self.stopping)
                while not self.stopping:
                    now = time.monotonic()
                    left = min(
                        self.last_event + self.debounce - now,
                        self.first_event + self.max_delay - now,
                    )
                    if left <= 0:
                        break
                    self.cond.wait(left)
                if self.stopping:
                    return
                changed = sorted(self.pending)
                self.pending.clear()
                self.busy = True
            try:
                paths = [Path(p) for p in changed]
                try:
                    report = self.builder.rebuild(paths)
                except Exception as exc:  # a bug must not take the preview down
                    traceback.print_exc()
                    report = BuildReport(
                        ok=False,
                        diagnostics=[
                            Diagnostic("okrsite", 0, "OKR001", f"rebuild crashed: {exc!r}")
                        ],
                    )
                self.rebuilds += 1
                self.on_report(paths, report)
            finally:
                with self.cond:
                    self.busy = False


# --------------------------------------------------------------------------- the server


class PreviewServer:
    """Build, serve, watch and live-reload one site. Usable in-process (tests).

    `out_dir` None means a fresh temporary folder, removed by `stop()`.
    """

    def __init__(
        self,
        site_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        today: dt.date | None = None,
        out_dir: Path | None = None,
        log: TextIO | None = None,
        debounce: float = DEBOUNCE,
        watch: bool = True,
        builder: Builder | None = None,
    ) -> None:
        self.site_dir = Path(site_dir).resolve()
        self.host = host
        self.log = log
        self.watch = watch
        self._tmp: Path | None = None
        if out_dir is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="okrsite-serve-"))
            out_dir = self._tmp / "site"
        self.out_dir = Path(out_dir).absolute()
        self.state = LiveState()
        self.builder = builder or Builder(self.site_dir, self.out_dir, today)
        self.rebuilder = Rebuilder(self.builder, self._report, debounce)
        self.reports: list[tuple[list[Path], BuildReport]] = []
        self.watcher: SiteWatcher | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        try:
            self.httpd = PreviewHTTPServer((host, port), self.out_dir, self.state, None)
        except BaseException:
            self._remove_tmp()
            raise
        if is_loopback(host):  # anything else: --host opened the server up on purpose
            bound = self.httpd.server_address[1]
            self.httpd.allowed_hosts = frozenset(
                name for h in LOOPBACK_NAMES for name in (h, f"{h}:{bound}")
            )
        self.port = self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://{url_host(host)}:{self.port}/"

    def _say(self, text: str) -> None:
        if self.log is not None:
            print(text, file=self.log, flush=True)

    # -- lifecycle

    def start(self) -> BuildReport:
        """Start watching, build once, start the rebuild worker. Does not serve yet."""
        if self.watch:
            self.watcher = SiteWatcher(self.site_dir, self.rebuilder.notify)
            self.watcher.start()
        started = time.perf_counter()
        try:
            report = self.builder.build()
        except Exception as exc:
            traceback.print_exc()
            report = BuildReport(
                ok=False,
                diagnostics=[Diagnostic("okrsite", 0, "OKR001", f"build crashed: {exc!r}")],
            )
        report.duration = report.duration or time.perf_counter() - started
        if self.log is not None:
            for d in sorted_diagnostics(list(report.diagnostics)):
                print(format_text(d), file=self.log)
        self._report([], report)
        self.rebuilder.start()
        return report

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.1)

    def start_background(self) -> PreviewServer:
        self.start()
        self._thread = threading.Thread(
            target=self.serve_forever, name=f"okrsite-serve:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.watcher is not None:
            self.watcher.stop()
        self.state.close()
        self.rebuilder.stop(timeout=1.0)
        if self.rebuilder.is_alive():
            # Deleting the output under a running build could leave files behind.
            self._say("okrsite serve: waiting for the running rebuild to finish...")
            self.rebuilder.join(timeout=60)
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
        self.httpd.server_close()
        close = getattr(self.builder, "close", None)  # the engine may save its cache
        if close is not None and not self.rebuilder.is_alive():
            try:
                close()
            except Exception:
                traceback.print_exc()
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> PreviewServer:
        return self.start_background()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reporting

    def _report(self, changed: list[Path], report: BuildReport) -> None:
        self.reports.append((changed, _slim(report)))
        self.state.publish(report, self.out_dir)
        self._say(self.describe(changed, report))

    def describe(self, changed: list[Path], report: BuildReport) -> str:
        """The one terminal line for a build."""
        clock = time.strftime("%H:%M:%S")
        errors, warnings = counts(list(report.diagnostics))
        problems = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
        if not changed:
            what = "first build;"
        else:
            first = _site_rel(changed[0], self.site_dir)
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            what = f"rebuilt after {first}{more} changed;"
        took = f"{report.duration:.2f}s"
        if report.ok:
            kind = "full" if report.full else "incremental"
            return (
                f"okrsite serve: {clock} {what} {kind}, {report.rendered} rendered, "
                f"{len(report.written)} written in {took}; {problems}"
            )
        first_error = next(
            (format_text(d) for d in sorted_diagnostics(list(report.diagnostics)) if d.is_error),
            "",
        )
        kept = (
            "the last good site stays up"
            if any(r.ok for _, r in self.reports)
            else "nothing to show until it builds"
        )
        return (
            f"okrsite serve: {clock} {what} FAILED in {took}; {problems}; pages show the "
            f"errors, {kept}: {first_error}"
        )


def _slim(report: BuildReport) -> BuildReport:
    """The report without the model it may carry: a long session keeps every report."""
    heavy = {"model": None, "rollups": {}}
    drop = {k: v for k, v in heavy.items() if getattr(report, k, None)}
    return dataclasses.replace(report, **drop) if drop else report


def _site_rel(path: Path, site_dir: Path) -> str:
    with contextlib.suppress(ValueError):
        return path.relative_to(site_dir).as_posix()
    return str(path)


def serve(
    site_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    today: dt.date | None = None,
    open_browser: bool = False,
    log: TextIO = sys.stderr,
) -> int:
    """`okrsite serve`: runs until Ctrl-C or SIGTERM; exit status 0."""
    if not Path(site_dir).is_dir():
        print(f"okrsite serve: {site_dir} is not a folder", file=log)
        return 2
    try:
        preview = PreviewServer(site_dir, host=host, port=port, today=today, log=log)
    except OSError as exc:
        print(
            f"okrsite serve: cannot listen on {url_host(host)}:{port}: {exc.strerror or exc}",
            file=log,
        )
        return 2

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    previous: dict[int, Any] = {}
    if main_thread:
        # SIGINT too: a shell starts background jobs with SIGINT ignored, and
        # Python then installs no KeyboardInterrupt handler of its own.
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, terminate)
    try:
        preview.start()
        if not is_loopback(host):
            print(
                f"okrsite serve: listening on {url_host(host)}:{preview.port}, reachable "
                "from other machines; Host header checks are off",
                file=log,
            )
        print(
            f"okrsite serve: serving {preview.site_dir} at {preview.url} (Ctrl-C to stop)",
            file=log,
            flush=True,
        )
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(preview.url,), daemon=True).start()
        preview.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not skip the cleanup that removes the temp folder.
        if main_thread:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        preview.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("okrsite serve: stopped", file=log, flush=True)
    return 0

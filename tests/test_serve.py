"""`okrsite serve`: the preview server's HTTP surface, watching and lifecycle.

Servers run in-process on a free port. The HTTP tests use a stub builder that
writes a fixed tree, so they test the server and not the pipeline; the
injection, SSE and subprocess tests use the real Builder on `make_site`.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from okrsite import serve as serve_mod
from okrsite.cli import make_parser
from okrsite.incremental import BuildReport
from okrsite.serve import PreviewServer, is_dropping, split_target
from tests.sites import TODAY, make_site

REPO = Path(__file__).resolve().parent.parent
SECRET = b"TOP SECRET: outside the built site"

STUB_FILES = {
    "index.html": b"<!doctype html><html><head><title>Home</title></head>"
    b"<body><h1>Home</h1></body></html>",
    "teams/sales/index.html": b"<!doctype html><title>Sales</title><BODY><p>Sales</p></BODY>",
    "assets/style.css": b"body { color: black }",
    "assets/app.js": b"console.log('</body>')",
    "api/2026-Q4.json": b'{"cycle": "2026-Q4", "html": "</body>"}',
    "charts/progress.svg": b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    "feed.xml": b"<?xml version='1.0'?><feed/>",
    "feed.atom": b"<?xml version='1.0'?><feed/>",
    "export.csv": b"team,progress\nsales,0.5\n",
    "logo.png": b"\x89PNG\r\n\x1a\n",
    "readme.txt": b"plain",
    "blob.unknownext": b"\x00\x01",
    ".hidden": b"dotfile",
    "assets/.secret": b"dotfile",
}


class StubBuilder:
    """Writes STUB_FILES into out_dir; records every rebuild's changed paths."""

    def __init__(self, out_dir: Path, outside: Path) -> None:
        self.out_dir = out_dir
        self.outside = outside
        self.calls: list[list[Path]] = []

    def build(self) -> BuildReport:
        for rel, data in STUB_FILES.items():
            path = self.out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, target in [
            ("escape.txt", self.outside / "secret.txt"),
            ("linkdir", self.outside),
        ]:
            link = self.out_dir / name
            if not link.is_symlink():
                link.symlink_to(target)
        return BuildReport(ok=True, diagnostics=[], written=list(STUB_FILES), full=True)

    def rebuild(self, changed) -> BuildReport:
        self.calls.append(list(changed))
        return self.build()


def stub_server(tmp_path: Path) -> PreviewServer:
    """A started server whose builder is StubBuilder, beside a secret outside the site."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    out = tmp_path / "out"
    builder = StubBuilder(out, outside)
    server = PreviewServer(make_site(tmp_path / "site"), port=0, out_dir=out, builder=builder)
    server.start_background()
    server.stub = builder
    return server


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory):
    """One stub-built server for the read-only HTTP tests of this module."""
    server = stub_server(tmp_path_factory.mktemp("stub"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live(preview):
    """The real builder on a small valid site (conftest's `preview`)."""
    return preview


def raw(server: PreviewServer, target: str, host: str | None = "default", method: str = "GET"):
    """Send one request with an exact target; returns (status, headers, body)."""
    if host == "default":
        host = f"127.0.0.1:{server.port}"
    lines = [f"{method} {target} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines.append("Connection: close")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def get(server: PreviewServer, path: str, timeout: float = 10):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- paths

TRAVERSALS = [
    "/../secret.txt",
    "/../outside/secret.txt",
    "/teams/../../outside/secret.txt",
    "/teams/sales/../../../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/.%2e/outside/secret.txt",
    "/%2e./outside/secret.txt",
    "/teams/%2e%2e/%2e%2e/outside/secret.txt",
    "/%252e%252e/outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/teams%2F..%2F..%2Foutside%2Fsecret.txt",
    "/%2f..%2foutside/secret.txt",
    "/..\\outside\\secret.txt",
    "/teams\\..\\..\\outside\\secret.txt",
    "/%5c..%5coutside%5csecret.txt",
    "/%5C..%5Coutside%5Csecret.txt",
    "//outside/secret.txt",
    "///etc/passwd",
    "/etc/passwd",
    "/proc/self/environ",
    "http://127.0.0.1/../outside/secret.txt",
    "outside/secret.txt",
    "C:\\outside\\secret.txt",
    "\\\\server\\share",
    "/index.html%00.txt",
    "/index.html\x00",
    "/%00",
    "/%c0%ae%c0%ae/outside/secret.txt",
    "/%c0%afoutside",
    "/%ff",
    "/escape.txt",
    "/linkdir/secret.txt",
    "/linkdir/",
    "/linkdir",
    "/.hidden",
    "/%2ehidden",
    "/assets/.secret",
    "/assets/%2esecret",
    "/./index.html",
    "/teams/./sales/",
    "/.git/config",
    "/%0d%0aSet-Cookie:x=1",
    "/__okrsite__/../outside/secret.txt",
    "/__okrsite__/nope",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_is_refused(stub: PreviewServer, tmp_path: Path, target: str) -> None:
    status, headers, body = raw(stub, target)
    assert status in (400, 404), (target, status)
    assert SECRET not in body
    assert b"dotfile" not in body
    assert headers.get("x-content-type-options") == "nosniff"
    assert "set-cookie" not in headers


def test_stub_secret_is_really_reachable_on_disk(stub: PreviewServer) -> None:
    # Guard against a vacuous traversal matrix: the escapes exist and resolve.
    assert (stub.out_dir / "escape.txt").read_bytes() == SECRET
    assert (stub.out_dir / "linkdir" / "secret.txt").read_bytes() == SECRET


def test_split_target_unit() -> None:
    assert split_target("/") == ([""], "")
    assert split_target("/a/b/?x=1") == (["a", "b", ""], "x=1")
    assert split_target("/caf%C3%A9.html") == (["café.html"], "")
    for bad in ["/a/../b", "/%2e%2e", "/a%2fb", "/a\\b", "//a", "a", "/a%00", "/a//b", "/%ff"]:
        with pytest.raises(serve_mod.BadRequest):
            split_target(bad)


# --------------------------------------------------------------------------- Host header


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("LOCALHOST", True),
        ("evil.example", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("evil.example:{port}", False),
        ("localhost:1", False),
        ("", False),
        (None, False),
    ],
)
def test_host_header_check(stub: PreviewServer, host: str | None, allowed: bool) -> None:
    candidates: list[str | None] = [host]
    if host and "{port}" not in host and ":" not in host.replace("[::1]", ""):
        candidates.append(f"{host}:{stub.port}")  # with the server's port: same verdict
    for h in candidates:
        if h is not None:
            h = h.format(port=stub.port)
        status, _, body = raw(stub, "/", host=h)
        if allowed:
            assert status == 200, h
            assert b"<h1>Home</h1>" in body
        else:
            assert status == 403, h
            assert b"Home" not in body


def test_host_check_applies_to_events_and_script(stub: PreviewServer) -> None:
    for target in ["/__okrsite__/livereload.js", "/__okrsite__/events?gen=0&path=index.html"]:
        status, _, _ = raw(stub, target, host="evil.example")
        assert status == 403


def test_binds_loopback_by_default(tmp_path: Path) -> None:
    args = make_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    assert args.port == 8000
    site = make_site(tmp_path / "site")
    server = PreviewServer(site, port=0, watch=False)
    try:
        assert server.httpd.server_address[0] == "127.0.0.1"
    finally:
        server.stop()


def test_host_option_opens_it_up(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    out = tmp_path / "out"
    site = make_site(tmp_path / "site")
    server = PreviewServer(
        site, host="0.0.0.0", port=0, out_dir=out, builder=StubBuilder(out, outside), watch=False
    )
    server.start_background()
    try:
        assert server.httpd.server_address[0] == "0.0.0.0"
        status, _, body = raw(server, "/", host="okrs.lan:8000")
        assert status == 200 and b"Home" in body
        assert raw(server, "/../outside/secret.txt", host="okrs.lan")[0] == 400
    finally:
        server.stop()


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/teams/sales/", "text/html; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/api/2026-Q4.json", "application/json"),
        ("/charts/progress.svg", "image/svg+xml"),
        ("/feed.xml", "application/xml"),
        ("/feed.atom", "application/atom+xml"),
        ("/export.csv", "text/csv; charset=utf-8"),
        ("/logo.png", "image/png"),
        ("/readme.txt", "text/plain; charset=utf-8"),
        ("/blob.unknownext", "application/octet-stream"),
        ("/__okrsite__/livereload.js", "text/javascript; charset=utf-8"),
    ],
)
def test_content_types(stub: PreviewServer, path: str, content_type: str) -> None:
    status, headers, body = get(stub, path)
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert int(headers["Content-Length"]) == len(body)


def test_non_html_is_served_byte_for_byte(stub: PreviewServer) -> None:
    for rel in ["assets/app.js", "api/2026-Q4.json", "charts/progress.svg", "logo.png"]:
        assert get(stub, "/" + rel)[2] == STUB_FILES[rel]


def test_html_gets_the_script_before_body_end(stub: PreviewServer) -> None:
    body = get(stub, "/teams/sales/")[2]
    tag = b'<script src="/__okrsite__/livereload.js" data-build="'
    assert body.count(tag) == 1
    assert body.index(tag) < body.index(b"</BODY>")
    assert b'data-path="teams/sales/index.html"' in body
    assert (stub.out_dir / "teams/sales/index.html").read_bytes() == STUB_FILES[
        "teams/sales/index.html"
    ]


def test_directories_without_slash_redirect_and_never_list(stub: PreviewServer) -> None:
    status, headers, _ = raw(stub, "/teams/sales")
    assert status == 301 and headers["location"] == "/teams/sales/"
    status, _, body = raw(stub, "/assets/")  # a folder without index.html
    assert status == 404
    assert b"style.css" not in body


def test_head_and_other_methods(stub: PreviewServer) -> None:
    status, headers, body = raw(stub, "/index.html", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) > 0
    assert raw(stub, "/index.html", method="POST")[0] == 501
    assert raw(stub, "/index.html", method="PUT")[0] == 501


def test_missing_page_is_a_404_that_reloads_when_it_appears(stub: PreviewServer) -> None:
    status, headers, body = raw(stub, "/teams/new-team/")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert b'data-path="teams/new-team/index.html"' in body
    status, headers, body = raw(stub, "/assets/missing.css")
    assert status == 404 and headers["content-type"].startswith("text/plain")


# --------------------------------------------------------------------------- load


def test_200_concurrent_requests_all_succeed(stub: PreviewServer) -> None:
    n = 200
    barrier = threading.Barrier(n)
    paths = ["/", "/teams/sales/", "/assets/style.css", "/api/2026-Q4.json"]

    expected = {
        "/": b"<h1>Home</h1>",
        "/teams/sales/": b"<p>Sales</p>",
        "/assets/style.css": STUB_FILES["assets/style.css"],
        "/api/2026-Q4.json": STUB_FILES["api/2026-Q4.json"],
    }

    def one(i: int) -> tuple[int, bool]:
        barrier.wait(timeout=30)
        path = paths[i % len(paths)]
        status, _, body = get(stub, path, timeout=30)
        return status, expected[path] in body

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    assert [s for s, _ in results] == [200] * n
    assert all(ok for _, ok in results)


def test_slow_clients_do_not_block_others(stub: PreviewServer, monkeypatch) -> None:
    monkeypatch.setattr(serve_mod.PreviewHandler, "timeout", 1.0)
    slow = []
    for _ in range(30):  # each sends half a request line and then nothing
        sock = socket.create_connection(("127.0.0.1", stub.port), timeout=10)
        sock.sendall(b"GET /index.ht")
        slow.append(sock)
    try:
        started = time.monotonic()
        for _ in range(10):
            assert get(stub, "/", timeout=5)[0] == 200
        assert time.monotonic() - started < 2.0
        # ...and the server hangs up on them after its socket timeout.
        for sock in slow:
            sock.settimeout(5)
            assert sock.recv(100) == b""
    finally:
        for sock in slow:
            sock.close()
    assert get(stub, "/")[0] == 200


def test_many_event_streams_and_a_stalled_reader(stub: PreviewServer) -> None:
    streams = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", stub.port), timeout=10)
        sock.sendall(
            f"GET /__okrsite__/events?gen=0&path=index.html HTTP/1.1\r\nHost: localhost:{stub.port}"
            "\r\n\r\n".encode()
        )
        streams.append(sock)
    try:
        for sock in streams:
            assert b"text/event-stream" in sock.recv(4096)
        assert get(stub, "/", timeout=5)[0] == 200
    finally:
        for sock in streams:
            sock.close()
    assert get(stub, "/")[0] == 200


# --------------------------------------------------------------------------- live reload


def read_events(server: PreviewServer, query: str, count: int, timeout: float = 10) -> list[dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    conn.request("GET", f"/__okrsite__/events?{query}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    events = []
    try:
        while len(events) < count:
            line = response.fp.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
    finally:
        conn.close()
    return events


def test_injection_only_in_served_html_never_on_disk(live: PreviewServer, tmp_path: Path) -> None:
    body = get(live, "/")[2]
    assert b"/__okrsite__/livereload.js" in body
    assert body.count(b"/__okrsite__/livereload.js") == 1
    on_disk = [p for p in live.out_dir.rglob("*") if p.is_file()]
    assert on_disk
    for path in on_disk:
        assert b"__okrsite__" not in path.read_bytes(), path
    # `okrsite build` output has no trace of it either.
    out = tmp_path / "built"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "okrsite",
            "build",
            "--site",
            str(live.site_dir),
            "--out",
            str(out),
            "--today",
            TODAY.isoformat(),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert b"__okrsite__" not in path.read_bytes(), path


def test_events_tell_pages_to_reload_after_a_rebuild(live: PreviewServer) -> None:
    body = get(live, "/teams/sales/")[2].decode()
    gen = int(body.split('data-gen="')[1].split('"')[0])
    [first] = read_events(live, f"gen={gen}&path=teams/sales/index.html", 1)
    assert first["build"] == live.state.build_id
    assert first["ok"] is True and first["reload"] is False

    results: list[dict] = []
    reader = threading.Thread(
        target=lambda: results.extend(
            read_events(live, f"gen={gen}&path=teams/sales/index.html", 2)
        )
    )
    reader.start()
    time.sleep(0.3)
    checkin = live.site_dir / "content/cycles/2026-Q4/sales/2026-11-07.md"
    checkin.write_text(checkin.read_text().replace("320000", "330000"))
    reader.join(timeout=20)
    assert len(results) == 2
    assert results[1]["ok"] is True
    assert results[1]["reload"] is True
    assert results[1]["gen"] == gen + 1


def test_broken_content_keeps_serving_and_reports_check_lines(live: PreviewServer) -> None:
    checkin = live.site_dir / "content/cycles/2026-Q4/sales/2026-11-07.md"
    good = checkin.read_text()
    checkin.write_text(good.replace("author: Dana Ruiz", "author: [Dana Ruiz"))
    assert live.rebuilder.wait_idle()
    [event] = read_events(live, "gen=1&path=index.html", 1)
    assert event["ok"] is False and event["reload"] is False
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "okrsite",
            "check",
            "--site",
            str(live.site_dir),
            "--today",
            TODAY.isoformat(),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    expected = [line for line in check.stderr.splitlines() if not line.startswith("okrsite")]
    assert expected and event["lines"] == expected
    assert any("content/cycles/2026-Q4/sales/2026-11-07.md:" in line for line in event["lines"])
    # The last good site is still served.
    assert get(live, "/")[0] == 200
    checkin.write_text(good)
    assert live.rebuilder.wait_idle()
    [event] = read_events(live, "gen=1&path=index.html", 1)
    assert event["ok"] is True and event["lines"] == []


# --------------------------------------------------------------------------- watching


def test_is_dropping() -> None:
    for name in [
        ".sales.md.swp",
        "sales.md~",
        "4913",
        ".#sales.md",
        "sales.md.tmp",
        "#sales.md#",
        ".hidden",
        "sales.md.swx",
        ".DS_Store",
        "sales.md___jb_tmp___",
    ]:
        assert is_dropping(name), name
    for name in ["sales.md", "2026-11-07.md", "style.css", "team.html", "okrsite.toml"]:
        assert not is_dropping(name), name


@pytest.fixture
def watched(tmp_path: Path):
    """A stub-built server that really watches a site; counts rebuilds."""
    server = stub_server(tmp_path)
    time.sleep(0.2)  # let inotify settle
    try:
        yield server
    finally:
        server.stop()


def test_200_file_touches_make_one_rebuild(watched: PreviewServer) -> None:
    folder = watched.site_dir / "content/cycles/2026-Q4/sales"
    for i in range(200):  # as a git checkout would
        (folder / f"2026-10-{i % 28 + 1:02d}-{i}.md").write_text(f"---\nn: {i}\n---\n")
    assert watched.rebuilder.wait_idle()
    assert len(watched.stub.calls) == 1
    assert len(watched.stub.calls[0]) == 200


def test_atomic_saves_make_one_rebuild(watched: PreviewServer) -> None:
    site = watched.site_dir
    target = site / "content/cycles/2026-Q4/sales/2026-11-07.md"
    # vim: probe file 4913, backup~, write, drop the backup
    probe = target.parent / "4913"
    probe.write_text("")
    probe.unlink()
    backup = target.with_name(target.name + "~")
    os.rename(target, backup)
    target.write_text("new text")
    backup.unlink()
    assert watched.rebuilder.wait_idle()
    # write-to-temp-then-rename (VS Code, JetBrains, most libraries)
    temp = target.with_name(".2026-11-07.md.tmp.1234")
    temp.write_text("newer text")
    os.replace(temp, target)
    assert watched.rebuilder.wait_idle()
    # `sed -i`: a temp file sedXXXXXX renamed over the file
    sed_temp = target.with_name("sedAb12Cd")
    sed_temp.write_text("newest text")
    os.replace(sed_temp, target)
    assert watched.rebuilder.wait_idle()
    assert len(watched.stub.calls) == 3
    for call in watched.stub.calls:
        assert call == [target], call


def test_editor_droppings_make_no_rebuild(watched: PreviewServer) -> None:
    folder = watched.site_dir / "content/cycles/2026-Q4/sales"
    for name in [
        ".2026-11-07.md.swp",
        "2026-11-07.md~",
        "4913",
        ".#2026-11-07.md",
        "2026-11-07.md.tmp",
        "#2026-11-07.md#",
        ".hidden",
    ]:
        (folder / name).write_text("x")
        (folder / name).unlink()
        (folder / name).write_text("y")
    (watched.site_dir / "content/.git").mkdir()
    (watched.site_dir / "content/.git/index").write_text("z")
    (watched.site_dir / "okrsite.toml~").write_text("z")
    (folder / "notes.txt").write_text("not content: the build reads only .md files")
    (watched.site_dir / "README.md").write_text("not watched")
    assert watched.rebuilder.wait_idle(quiet=0.5)
    assert watched.stub.calls == []


def test_config_theme_and_new_folders_trigger_rebuilds(watched: PreviewServer) -> None:
    site = watched.site_dir
    config = site / "okrsite.toml"
    config.write_text(config.read_text() + "\n")
    assert watched.rebuilder.wait_idle()
    assert watched.stub.calls[-1] == [config]
    theme = site / "themes/mine/templates/base.html"
    theme.parent.mkdir(parents=True)  # themes/ did not exist when the server started
    assert watched.rebuilder.wait_idle()
    time.sleep(0.1)
    theme.write_text("<html></html>")
    assert watched.rebuilder.wait_idle()
    assert any(theme in call for call in watched.stub.calls)


def test_a_rebuild_that_crashes_keeps_the_server_up(watched: PreviewServer, monkeypatch) -> None:
    def boom(changed):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(watched.stub, "rebuild", boom)
    (watched.site_dir / "content/teams/sales.md").write_text("x")
    assert watched.rebuilder.wait_idle()
    assert watched.state.ok is False
    assert "engine bug" in watched.state.lines[0]
    assert get(watched, "/")[0] == 200


# --------------------------------------------------------------------------- lifecycle


def start_cli(
    site: Path, tmpdir: Path, ignore_sigint: bool = False
) -> tuple[subprocess.Popen, str, list[str]]:
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "okrsite",
            "serve",
            "--site",
            str(site),
            "--port",
            "0",
            "--today",
            TODAY.isoformat(),
        ],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        # As `okrsite serve &` in a shell script: SIGINT starts out ignored.
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if ignore_sigint
        else None,
    )
    lines: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        for line in proc.stderr:
            lines.append(line)
            if " at http://" in line and not url:
                url.append(line.split(" at ")[1].split()[0])
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    assert ready.wait(30), "".join(lines)
    assert url, "".join(lines)
    return proc, url[0], lines


@pytest.mark.parametrize(
    ("sig", "ignore_sigint"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sigint", "sigterm", "sigint-in-background-job"],
)
def test_cli_stops_cleanly_and_leaves_no_temp_files(
    tmp_path: Path, sig: int, ignore_sigint: bool
) -> None:
    site = make_site(tmp_path / "site")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc, url, lines = start_cli(site, tmpdir, ignore_sigint)
    try:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1].strip("/"))
        assert os.listdir(tmpdir), "the site is built into a temp folder"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        # An open event stream must not hold up the shutdown.
        stream = socket.create_connection(("127.0.0.1", port), timeout=10)
        stream.sendall(b"GET /__okrsite__/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0, "".join(lines)
        stream.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert os.listdir(tmpdir) == []
    assert not any("Traceback" in line for line in lines), "".join(lines)
    assert any("okrsite serve: stopped" in line for line in lines)


def test_cli_reports_a_busy_port(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "TMPDIR": str(tmp_path)}
        proc = subprocess.run(
            [sys.executable, "-m", "okrsite", "serve", "--site", str(site), "--port", str(port)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_in_process_stop_removes_its_temp_folder(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    server = PreviewServer(site, port=0, today=TODAY)
    server.start_background()
    tmp = server.out_dir.parent
    assert tmp.is_dir() and (server.out_dir / "index.html").is_file()
    server.stop()
    assert not tmp.exists()
    shutil.rmtree(tmp, ignore_errors=True)


def test_live_state_tells_each_page_what_to_do(tmp_path: Path) -> None:
    state = serve_mod.LiveState()
    out = tmp_path / "out"

    def publish(written, ok=True, full=False):
        state.publish(BuildReport(ok=ok, diagnostics=[], written=written, full=full), out)

    publish(["index.html", "a/index.html", "assets/style.css"], full=True)  # gen 1
    assert state.message("index.html", 1)["reload"] is False
    assert state.message("index.html", 0)["hard"] is True  # served before the first build
    publish(["a/index.html", "api/2026-Q4.json"])  # gen 2
    a, home = state.message("a/index.html", 1), state.message("index.html", 1)
    assert (a["page"], a["hard"], a["assets"]) == (True, False, ["api/2026-Q4.json"])
    assert (home["page"], home["hard"], home["reload"]) == (False, False, False)
    publish([], ok=False)  # gen 3: broken, nothing written
    m = state.message("a/index.html", 1)
    assert m["ok"] is False and m["reload"] is False and m["assets"] == []
    publish([str(out / "index.html")])  # absolute paths are accepted too
    assert state.message("index.html", 3)["page"] is True
    publish([f"assets/{i}.png" for i in range(300)])  # too many to list: reload all
    assert state.message("index.html", 4)["hard"] is True


def test_stop_waits_for_a_running_rebuild_before_removing_the_output(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    finished = threading.Event()

    class Slow:
        def __init__(self) -> None:
            self.out_dir: Path | None = None

        def build(self) -> BuildReport:
            return BuildReport(ok=True, diagnostics=[], written=[])

        def rebuild(self, changed) -> BuildReport:
            time.sleep(1.5)
            assert self.out_dir is not None
            self.out_dir.mkdir(parents=True, exist_ok=True)  # as a publish would
            (self.out_dir / "late.html").write_text("late")
            finished.set()
            return BuildReport(ok=True, diagnostics=[], written=["late.html"])

    slow = Slow()
    server = PreviewServer(site, port=0, builder=slow)
    slow.out_dir = server.out_dir
    server.start_background()
    time.sleep(0.2)
    (site / "content/teams/sales.md").write_text("x")
    deadline = time.monotonic() + 10
    while not server.rebuilder.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop()
    assert finished.is_set()
    assert not server.out_dir.parent.exists()


def test_a_long_session_does_not_keep_every_model(live: PreviewServer) -> None:
    # The engine's reports may carry the whole model; the server keeps reports only slim.
    for _, report in live.reports:
        assert getattr(report, "model", None) is None
        assert not getattr(report, "rollups", None)
    assert live.reports[0][1].ok

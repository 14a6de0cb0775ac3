"""No script injection: XSS payloads through every text field, checked in every output file.

One site holds P payloads in P extra teams; team i puts payload (i + f) % P in
field f, so every payload goes through every field (a Latin square). Then every
file of the output tree is parsed by its type — HTML with a real parser
(html.parser), XML/SVG/Atom with xml.etree (and the HTML inside Atom
`type="html"` content), JSON with json, generated JavaScript as JSON data —
and must hold no script beyond the theme's own, no event-handler attribute and
no javascript:/data:/vbscript: URL. New outputs are covered automatically: a
file type the checker does not know fails the test until it learns it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from okrsite.build import build_site
from okrsite.markup import ALLOWED_TAGS
from tests.sites import TODAY, make_site, tree

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href='javascript:alert(1)'><text x='1' y='1'>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<math href='javascript:alert(1)'>x</math>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">a</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">ent</a>',
    '<a href="JaVaScRiPt:alert(1)">case</a>',
    "[md](javascript:alert(1))",
    "[md](JAVASCRIPT:alert(1))",
    "[md](&#106;avascript:alert(1))",
    "[md](<javascript:alert(1)>)",
    '[md]( javascript:alert(1) "t")',
    "![img](javascript:alert(1))",
    '![img](x" onerror="alert(1))',
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="data:text/html,<script>alert(1)</script>">data</a>',
    "[vb](vbscript:msgbox(1))",
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    '"><script>alert(1)</script>',
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<form><button formaction=javascript:alert(1)>go</button></form>",
    "<input autofocus onfocus=alert(1)>",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "]]><script>alert(1)</script>",
    '<a href="https://ok.example/" title="x" onclick="alert(1)">ok</a>',
    "{{ 7*7 }}{% print(1) %}{{ ''.__class__ }}",
    '=HYPERLINK("http://evil.example/","x")',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]
P = len(PAYLOADS)

URL_ATTRIBUTES = {
    "href", "src", "xlink:href", "action", "formaction", "data", "poster", "background",
    "cite", "codebase", "ping", "lowsrc", "dynsrc", "longdesc", "manifest", "icon",
    "srcset", "imagesrcset", "archive", "classid", "profile", "usemap", "itemtype",
}  # fmt: skip
FORBIDDEN_ATTRIBUTES = {"srcdoc", "formaction"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")


def payload(i: int, f: int) -> str:
    return PAYLOADS[(i + f) % P]


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def poisoned_files(raw_html: str = "sanitize") -> dict[str, str]:
    title = " ".join(PAYLOADS[:6])
    files: dict[str, str] = {
        "okrsite.toml": (
            f"[site]\ntitle = {q(title)}\nraw_html = {q(raw_html)}\n"
            'repo_url = "https://git.example.com/acme/okrs"\n'
            f"edit_uri = {q(chr(34) + '><svg onload=alert(1)>/')}\n"
        )
    }
    for i in range(P):
        team = f"t{i:02d}"
        files[f"content/teams/{team}.md"] = (
            f"---\nname: {q(payload(i, 0))}\nparent: company\nlead: {q(payload(i, 1))}\n"
            f"members: [{q(payload(i, 2))}, {q(payload(i, 3))}]\n---\n{payload(i, 4)}\n"
        )
        files[f"content/cycles/2026-Q4/{team}.md"] = (
            "---\nobjectives:\n"
            f"  - id: o{i}\n    title: {q(payload(i, 5))}\n    owner: {q(payload(i, 6))}\n"
            f"    description: {q(payload(i, 7))}\n    aligns_to: company/revenue\n"
            "    key_results:\n"
            f"      - id: {team}-a\n        title: {q(payload(i, 8))}\n"
            f"        start: 0\n        target: 10\n        unit: {q(payload(i, 9))}\n"
            f"        owner: {q(payload(i, 10))}\n"
            f"      - id: {team}-b\n        title: {q(payload(i, 12))}\n        type: milestone\n"
            f"---\n{payload(i, 11)}\n"
        )
        files[f"content/cycles/2026-Q4/{team}/2026-11-10.md"] = (
            f"---\nauthor: {q(payload(i, 13))}\nupdates:\n"
            f"  {team}-a: {{value: 4, confidence: 0.5, note: {q(payload(i, 14))}}}\n"
            f"  {team}-b: {{progress: 0.5}}\n---\n{payload(i, 15)}\n"
        )
    return files


# --- the checker ---------------------------------------------------------------


def dangerous_url(value: str) -> bool:
    # Browsers drop ASCII whitespace and control characters anywhere in a scheme.
    squashed = re.sub(r"[\x00-\x20\x7f]+", "", value).lower()
    return squashed.startswith(DANGEROUS_SCHEMES)


class HtmlCheck(HTMLParser):
    """Collects what matters for script injection in one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.scripts: list[tuple[str, str]] = []  # (src, inline body)
        self.problems: list[str] = []
        self._script: list[str] | None = None
        self._src = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name in FORBIDDEN_ATTRIBUTES:
                self.problems.append(f"<{tag} {name}> attribute")
            if name in URL_ATTRIBUTES and any(
                dangerous_url(part) for part in [value, *value.split(",")]
            ):
                self.problems.append(f"<{tag} {name}={value!r}> dangerous URL")
            if name == "style" and re.search(
                r"javascript|expression\(|behavior|binding|url\(", value, re.I
            ):
                self.problems.append(f"<{tag} style={value!r}>")
            if (
                name == "content"
                and "url=" in value.lower()
                and dangerous_url(value.lower().split("url=", 1)[1])
            ):
                self.problems.append(f"<{tag} content={value!r}> refresh to script")
        if tag in ("script", "style"):
            self._script = []
            self._src = dict(attrs).get("src") or "" if tag == "script" else f"<{tag}>"

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._script is not None:
            self.scripts.append((self._src, "".join(self._script)))
            self._script = None


def check_html(text: str) -> HtmlCheck:
    checker = HtmlCheck()
    checker.feed(text)
    checker.close()
    return checker


ATOM = "{http://www.w3.org/2005/Atom}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def check_xml(data: bytes) -> tuple[list[str], list[str]]:
    """(problems, embedded HTML texts) of an XML, SVG or Atom file."""
    root = ET.fromstring(data)  # must be well-formed: a breakout would break it
    problems, html = [], []
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1].lower()
        if local in ("script", "foreignobject", "iframe", "object", "embed"):
            problems.append(f"<{local}> element in XML")
        for name, value in element.attrib.items():
            local_name = name.rsplit("}", 1)[-1].lower()
            if local_name.startswith("on"):
                problems.append(f"<{local} {name}> event handler")
            if (local_name in URL_ATTRIBUTES or name == XLINK_HREF) and dangerous_url(value):
                problems.append(f"<{local} {name}={value!r}> dangerous URL")
        if element.get("type") == "html" and element.text:
            html.append(element.text)
        if element.get("type") == "xhtml":
            html.append(ET.tostring(element, encoding="unicode"))
    return problems, html


GENERATED_JS = re.compile(r"^window\.[A-Za-z_][A-Za-z0-9_]* = (?P<json>.*);\s*$", re.S)


def check_tree(out: Path, clean: dict[str, bytes]) -> list[str]:
    """Every problem in the output tree `out`; `clean` is a payload-free build."""
    clean_scripts = {
        s for path, data in clean.items() if path.endswith(".html")
        for s in check_html(data.decode()).scripts
    }  # fmt: skip
    clean_tags = {
        t for path, data in clean.items() if path.endswith(".html")
        for t in check_html(data.decode()).tags
    }  # fmt: skip
    problems: list[str] = []
    files = tree(out)
    assert files, "empty output"
    for path, data in files.items():
        where = f"{path}: "
        suffix = path.rsplit(".", 1)[-1]
        if suffix == "html":
            result = check_html(data.decode("utf-8"))
            problems += [where + p for p in result.problems]
            for script in result.scripts:
                if script not in clean_scripts:
                    problems.append(f"{where}script not in the theme: {script!r:.200}")
            extra = result.tags - clean_tags - ALLOWED_TAGS
            if extra:
                problems.append(f"{where}tags beyond theme and sanitiser: {sorted(extra)}")
        elif suffix in ("xml", "svg"):
            found, embedded = check_xml(data)
            problems += [where + p for p in found]
            for html in embedded:
                result = check_html(html)
                problems += [f"{where}(embedded HTML) {p}" for p in result.problems]
                if result.scripts:
                    problems.append(f"{where}(embedded HTML) script {result.scripts!r:.200}")
                extra = result.tags - ALLOWED_TAGS
                if extra:
                    problems.append(f"{where}(embedded HTML) tags {sorted(extra)}")
        elif suffix == "json":
            json.loads(data)
            if b"</" in data or b"<!--" in data:
                problems.append(f"{where}'</' or '<!--' unescaped in JSON")
        elif suffix == "js":
            if clean.get(path) == data:
                continue  # the theme's own script, byte for byte
            match = GENERATED_JS.match(data.decode("utf-8"))
            if not match:
                problems.append(f"{where}generated script is not `window.X = <JSON>;`")
                continue
            json.loads(match["json"])
            if "</" in match["json"] or "<!--" in match["json"]:
                problems.append(f"{where}'</' unescaped in a script")
        elif suffix == "csv":  # and no spreadsheet formula (CSV injection)
            for row in csv.reader(io.StringIO(data.decode("utf-8"))):
                for cell in row:
                    if re.match(r"^[=+@\t\r]|^-[^0-9.]", cell):
                        problems.append(f"{where}cell may run as a formula: {cell!r:.80}")
        elif suffix in ("css", "txt", "ico", "png", "woff2"):
            if path in clean and clean[path] != data and suffix == "css":
                problems.append(f"{where}stylesheet changed by content")
        else:
            problems.append(f"{where}unknown output type: teach tests/test_xss.py to check it")
    return problems


# --- the tests -----------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("clean")
    site = make_site(root / "site")
    result = build_site(site, root / "out", TODAY)
    assert result.published, [str(d) for d in result.diagnostics]
    return tree(root / "out")


def build_poisoned(root: Path, raw_html: str) -> Path:
    site = make_site(root / "site", poisoned_files(raw_html))
    result = build_site(site, root / "out", TODAY)
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert result.published, errors
    return root / "out"


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory) -> Path:
    return build_poisoned(tmp_path_factory.mktemp("poisoned"), "sanitize")


def test_corpus_size() -> None:
    assert P >= 30 and len(set(PAYLOADS)) == P


def test_no_script_reaches_any_output(poisoned: Path, clean_tree) -> None:
    problems = check_tree(poisoned, clean_tree)
    assert not problems, "\n".join(problems[:40])


def test_no_script_with_raw_html_escape(tmp_path: Path, clean_tree) -> None:
    out = build_poisoned(tmp_path, "escape")
    problems = check_tree(out, clean_tree)
    assert not problems, "\n".join(problems[:40])
    # "escape" shows the author's HTML as text
    page = (out / "teams/t00/index.html").read_text()
    assert "&lt;" in page


def test_payloads_stay_intact_as_data(poisoned: Path) -> None:
    """Escaping is for output formats; the JSON export keeps the exact text."""
    data = json.loads((poisoned / "api/2026-Q4.json").read_text())
    teams = {t["id"]: t for t in data["teams"]}
    for i in range(P):
        team = teams[f"t{i:02d}"]
        assert team["name"] == payload(i, 0).strip()
        assert team["lead"] == payload(i, 1).strip()
        objective = team["objectives"][0]
        assert objective["title"] == payload(i, 5).strip()
        assert objective["owner"] == payload(i, 6).strip()
        kr = objective["key_results"][0]
        assert (kr["title"], kr["unit"], kr["owner"]) == (
            payload(i, 8).strip(),
            payload(i, 9).strip(),
            payload(i, 10).strip(),
        )
    # Template syntax in content is text, never evaluated.
    assert any("{{ 7*7 }}" in t["name"] for t in data["teams"])
    assert b">49<" not in b"".join(tree(poisoned).values())


def test_checker_catches_injections() -> None:
    """The checker itself: each of these must be flagged."""
    bad = [
        "<p><script>alert(1)</script></p>",
        '<img src="x" onerror="alert(1)">',
        '<a href="  JaVa&#x09;Script:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
        '<meta http-equiv="refresh" content="0; URL=javascript:alert(1)">',
        '<iframe srcdoc="x"></iframe>',
    ]
    clean: dict[str, bytes] = {"index.html": b"<p>hi</p>"}
    for html in bad:
        result = check_html(html)
        extra = result.tags - {"p"} - ALLOWED_TAGS
        assert result.problems or result.scripts or extra, html
    assert check_xml(b'<svg xmlns="http://www.w3.org/2000/svg" onload="x"/>')[0]
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="html">'
        b"&lt;img src=x onerror=alert(1)&gt;</content></entry></feed>"
    )
    assert check_html(check_xml(atom)[1][0]).problems
    assert clean


@pytest.mark.browser
def test_no_dialog_in_chromium(poisoned: Path, page, static_server, tmp_path: Path) -> None:
    """Load every poisoned page (and the search page with queries) in headless
    Chromium: no alert/confirm/prompt may fire."""
    server = static_server(poisoned)
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # Every page kind; for the per-team kinds that show the most fields (team,
    # team-in-cycle, check-in) every team, for the others the first four teams.
    every = re.compile(
        r"^(teams/t\d\d/index|cycles/2026-Q4/t\d\d/(index|checkins/[^/]+/index))\.html$"
    )
    pages = sorted(
        p
        for p in tree(poisoned)
        if p.endswith(".html")
        and (every.match(p) or not re.search(r"t\d\d|people/.", p) or re.search(r"t0[0-3]", p))
    )
    extra = [f"search/index.html?q={q_}" for q_ in ("alert", "script", "onerror", "javascript")]
    for path in pages + extra:
        page.goto(server.url_for(path), wait_until="load")
        page.evaluate("() => { document.querySelectorAll('details').forEach(d => d.open = true) }")
    # focus, hover and click the links a reader might touch
    page.goto(server.url_for("teams/t00/index.html"), wait_until="load")
    for link in page.locator("main a").all()[:40]:
        link.hover()
    page.wait_for_timeout(300)
    assert not dialogs, dialogs[:5]
    assert len(pages) > 50
    # The detector works: an unsanitised page does fire a dialog.
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "index.html").write_text("<!doctype html><img src=x onerror=alert(1)>")
    page.goto(static_server(canary).url_for("index.html"), wait_until="load")
    page.wait_for_timeout(100)
    assert dialogs, "the dialog detector did not see a real alert()"

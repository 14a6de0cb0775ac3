"""Hostile structure: each input ends in a clear error or a success, fast.

Oversized or deeply nested front matter, YAML alias bombs and self-reference,
pathological Markdown that makes Python-Markdown quadratic, and keys that
collide with library internals. Front-matter cases run `okrsite check` as a
subprocess, so a crash of libyaml (a segfault once did) fails one test
instead of killing pytest. Limits are documented in docs/security.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from okrsite.build import build_site, check_site
from okrsite.markup import MAX_MARKDOWN_CHARS, MarkdownRenderer, markdown_problem
from tests.sites import TODAY, make_site, tree

REPO = Path(__file__).resolve().parent.parent
SECONDS = 2.0  # for the work itself; subprocesses get interpreter start-up on top
OPS = "content/teams/ops.md"


def ops(front: str, body: str = "") -> dict[str, str]:
    return {OPS: f"---\n{front}\n---\n{body}"}


def billion_laughs() -> str:
    lines = ['lol0: "lol"']
    lines += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "name: Ops\nparent: company\n" + "\n".join(lines).replace("*l0", "lol0")


FRONT_MATTER_CASES = {
    "100kb-of-[": ("name: Ops\nparent: company\nlead: " + "[" * 100_000, "OKR008", 4),
    "100kb-of-{": ("name: Ops\nparent: company\nlead: " + "{" * 100_000, "OKR008", 4),
    "100kb-of-[{": ("name: Ops\nparent: company\nlead: " + "[{" * 50_000, "OKR008", 4),
    "closed-nesting-40": ("name: Ops\nparent: company\nlead: " + "[" * 40 + "]" * 40, "OKR008", 4),
    "compact-seq-50000": ("- " * 50_000 + "x", "OKR008", 2),
    "complex-keys-50000": ("? " * 50_000 + "x", "OKR008", 2),
    "block-nesting-700": (
        "name: Ops\nparent: company\nx:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 700)),
        "OKR008",
        36,
    ),
    "billion-laughs": (billion_laughs(), "OKR007", 6),  # the first alias, not its anchor
    "self-reference": ("name: Ops\nparent: company\nmembers: &m [*m]", "OKR007", 4),
    "undefined-alias": ("name: Ops\nparent: company\nlead: *nobody", "OKR007", 4),
    "second-document": ("name: Ops\nparent: company\n--- !!map\nlead: x", "OKR004", 4),
    "20000-anchors": ("name: Ops\nparent: company\nlead: " + "&x " * 20_000 + "y", "OKR004", 4),
    "300kb-front-matter": ("name: Ops\nparent: company\nlead: " + "x" * 300_000, "OKR008", 2),
    "5000-unknown-keys": (
        "name: Ops\nparent: company\n" + "".join(f"k{i}: v\n" for i in range(5000)),
        "OKR013",
        4,
    ),
    "lists-where-text": ("name: Ops\nparent: company\nlead: " + "[" * 30 + "]" * 30, "OKR011", 4),
}


def run_check(site: Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "okrsite", "check", "--site", str(site), "--today", str(TODAY)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started


@pytest.mark.parametrize("case", sorted(FRONT_MATTER_CASES))
def test_hostile_front_matter(case: str, tmp_path: Path) -> None:
    front, code, line = FRONT_MATTER_CASES[case]
    site = make_site(tmp_path / "site", ops(front))
    status, output, seconds = run_check(site)
    assert status == 1, f"exit {status} (negative: killed by a signal)\n{output[-2000:]}"
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    assert f"{OPS}:{line}: {code} " in output, output[:2000]
    assert seconds < SECONDS + 3, f"took {seconds:.1f}s"


@pytest.mark.parametrize("case", sorted(FRONT_MATTER_CASES))
def test_hostile_front_matter_in_process_is_fast(case: str, tmp_path: Path) -> None:
    front, code, _ = FRONT_MATTER_CASES[case]
    site = make_site(tmp_path / "site", ops(front))
    started = time.perf_counter()
    result = check_site(site, TODAY)
    assert time.perf_counter() - started < SECONDS
    assert code in {d.code for d in result.diagnostics if d.path == OPS}


# --- pathological Markdown ---------------------------------------------------------

MARKDOWN_CASES = {
    "100k-[": "[" * 100_000,
    "30k-<a": "<a " * 30_000,
    "50k-![": "![" * 50_000,
    "40k-[x](": "[x](" * 40_000,
    "paragraphs-of-[": "\n\n".join(["[" * 900] * 150),
    "nested-list-300": "".join("    " * i + "- x\n" for i in range(300)),
    "nested-quote-20000": "> " * 20_000 + "x",
    "html-nesting-15000": "<div>" * 15_000 + "x" + "</div>" * 15_000,
    "too-long": "All quiet on the metrics front. " * 7_000,
}


@pytest.mark.parametrize("case", sorted(MARKDOWN_CASES))
def test_pathological_markdown_body_is_a_clear_error(case: str, tmp_path: Path) -> None:
    body = MARKDOWN_CASES[case]
    site = make_site(tmp_path / "site", ops("name: Ops\nparent: company", "Intro.\n\n" + body))
    started = time.perf_counter()
    result = check_site(site, TODAY)
    assert time.perf_counter() - started < SECONDS
    found = [d for d in result.diagnostics if d.path == OPS]
    assert [d.code for d in found] == ["OKR008"], [str(d) for d in found]
    assert found[0].line >= 5 and "Markdown body" in found[0].message  # at the body, not line 1


@pytest.mark.parametrize("case", sorted(MARKDOWN_CASES))
def test_renderer_never_hangs_or_drops_text(case: str) -> None:
    """Defence in depth: the renderer itself shows hostile text, escaped, in full."""
    body = MARKDOWN_CASES[case]
    renderer = MarkdownRenderer()
    started = time.perf_counter()
    html = renderer.render(body)
    assert time.perf_counter() - started < SECONDS
    assert markdown_problem(body) is not None
    assert html.startswith('<pre class="raw">')
    assert len(html) >= len(body.strip())


def test_description_is_checked_too(tmp_path: Path) -> None:
    front = (
        "objectives:\n  - id: o\n    title: Customers can rely on us\n"
        f"    aligns_to: company/revenue\n    description: '{'[' * 9000}'\n"
        "    key_results:\n      - id: a\n        title: A rises\n        start: 0\n"
        "        target: 1\n"
    )
    site = make_site(
        tmp_path / "site",
        {
            **ops("name: Ops\nparent: company"),
            "content/cycles/2026-Q4/ops.md": f"---\n{front}---\n",
        },
    )
    started = time.perf_counter()
    result = check_site(site, TODAY)
    assert time.perf_counter() - started < SECONDS
    assert [f"{d.path}:{d.line}: {d.code}" for d in result.diagnostics if d.is_error] == [
        "content/cycles/2026-Q4/ops.md:6: OKR008"
    ]


def test_big_but_fair_markdown_builds_whole(tmp_path: Path) -> None:
    """Near the limits, real content renders fully and fast: nothing is cut off."""
    links = "\n".join(f"- see [link {i}](https://x.example/{i})" for i in range(900))
    prose = "Steady progress. " * ((MAX_MARKDOWN_CHARS - 50_000) // 17) + "THE-LAST-WORDS"
    site = make_site(
        tmp_path / "site",
        {
            **ops("name: Ops\nparent: company", links),
            "content/teams/sales.md": (
                "---\nname: Sales\nparent: company\nlead: Dana Ruiz\n---\n" + prose + "\n"
            ),
        },
    )
    started = time.perf_counter()
    result = build_site(site, tmp_path / "out", TODAY)
    took = time.perf_counter() - started
    assert result.published, [str(d) for d in result.diagnostics]
    team = (tmp_path / "out/teams/ops/index.html").read_text()
    assert team.count('href="https://x.example/') == 900
    assert "THE-LAST-WORDS" in (tmp_path / "out/teams/sales/index.html").read_text()
    assert took < 15, took


# --- keys and ids that collide with library internals -------------------------------

INTERNAL_NAMES = [
    "__class__", "__init__", "__dict__", "items", "keys", "values", "get", "self",
    "line", "raw", "key_lines", "line_of", "update", "copy", "pop", "constructor",
]  # fmt: skip


def test_internal_key_names_are_unknown_fields(tmp_path: Path) -> None:
    front = "name: Ops\nparent: company\n" + "".join(f"{k}: x\n" for k in INTERNAL_NAMES)
    site = make_site(tmp_path / "site", ops(front.rstrip("\n")))
    result = check_site(site, TODAY)
    got = sorted((d.line, d.code) for d in result.diagnostics if d.path == OPS)
    assert got == [(4 + i, "OKR013") for i in range(len(INTERNAL_NAMES))]


def test_internal_names_work_as_ids(tmp_path: Path) -> None:
    """Ids like items, keys, constructor are ordinary ids everywhere."""
    ids = ["items", "keys", "values", "get", "self", "constructor", "prototype", "copy"]
    files: dict[str, str] = {}
    for team in ids:
        files[f"content/teams/{team}.md"] = f"---\nname: Team {team}\nparent: company\n---\n"
        files[f"content/cycles/2026-Q4/{team}.md"] = (
            f"---\nobjectives:\n  - id: {team}\n    title: Customers love {team}\n"
            "    aligns_to: company/revenue\n    key_results:\n"
            f"      - id: {team}-kr\n        title: Use of {team} rises\n"
            "        start: 0\n        target: 10\n"
            f"      - id: {team}-done\n        title: {team} is live\n        type: milestone\n"
            "---\n"
        )
        files[f"content/cycles/2026-Q4/{team}/2026-11-10.md"] = (
            f"---\nupdates:\n  {team}-kr: {{value: 5}}\n  {team}-done: {{done: true}}\n---\n"
        )
    site = make_site(tmp_path / "site", files)
    result = build_site(site, tmp_path / "out", TODAY)
    assert result.published, [str(d) for d in result.diagnostics if d.is_error]
    data = json.loads((tmp_path / "out/api/2026-Q4.json").read_text())
    teams = {t["id"]: t for t in data["teams"]}
    for team in ids:
        assert teams[team]["objectives"][0]["id"] == team
        assert teams[team]["objectives"][0]["progress"] == 0.75
    assert all(f"teams/{team}/index.html" in tree(tmp_path / "out") for team in ids)

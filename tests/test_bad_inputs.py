"""The bad-input corpus (tests/bad_inputs/): every case gives its exact messages.

Each case is a small site: tests/sites.BASE overlaid with the case's files.
`okrsite check` runs in-process (fast) for every case and must report exactly
the expected `path:line: CODE` lines (plus a stable fragment of each message),
exit with the expected status and never show a traceback or an internal error.
A few cases also run `okrsite build`, and some run as real subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from okrsite.cli import main
from okrsite.diagnostics import CODES
from tests.sites import TODAY, make_site, tree

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
REPO = CORPUS.parent.parent
LINE = re.compile(r"^(?P<where>\S.*?(?::\d+)?): (?P<code>OKR\d{3}) (?P<message>.*)$")


@dataclass(frozen=True)
class Expected:
    exit: int
    lines: tuple[tuple[str, str, str], ...]  # (path:line, CODE, fragment)


def read_expected(case: str) -> Expected:
    text = (CORPUS / case / "expected.txt").read_text(encoding="utf-8")
    rows = [r for r in text.splitlines() if r.strip() and not r.startswith("#")]
    status = int(rows[0].removeprefix("exit:").strip())
    lines = []
    for row in rows[1:]:
        match = LINE.match(row)
        assert match, f"{case}/expected.txt: bad line {row!r}"
        lines.append((match["where"], match["code"], match["message"].strip()))
    return Expected(status, tuple(lines))


def cases() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "expected.txt").is_file())


# --- cases that need the file system ------------------------------------------


def _special(case: str, site: Path) -> None:
    teams = site / "content" / "teams"
    if case == "symlink-loop":
        os.symlink("loop-b.md", teams / "loop-a.md")
        os.symlink("loop-a.md", teams / "loop-b.md")
    elif case == "symlink-out-of-site":
        outside = site.parent / f"{site.name}-secret.md"
        outside.write_text("---\nname: Secret\nparent: company\n---\nPayroll data.\n")
        os.symlink(outside, teams / "secret.md")
    elif case == "symlink-folder":
        outside = site.parent / f"{site.name}-cycles"
        (outside / "2026-Q4").mkdir(parents=True)
        os.symlink(outside, site / "content" / "cycles" / "linked")
    elif case == "fifo":
        os.mkfifo(teams / "ops.md")  # reading it would block forever
    elif case == "folder-named-md":
        (teams / "ops.md").mkdir()
        (teams / "ops.md" / "notes.md").write_text("---\nname: Notes\n---\n")
    elif case == "huge-file-10mb":
        body = ("All work and no play makes Jack a dull boy. " * 23 + "\n") * 10_500
        (teams / "ops.md").write_text("---\nname: Ops\nparent: company\n---\n" + body)
        assert (teams / "ops.md").stat().st_size >= 10 * 1024 * 1024
    elif case == "unreadable-as-nobody":
        (teams / "ops.md").write_text("---\nname: Ops\nparent: company\n---\n")
        (teams / "ops.md").chmod(0)
    else:  # pragma: no cover
        raise AssertionError(f"no builder for special case {case}")


def build_case(case: str, root: Path) -> tuple[Path, list[str]]:
    """Write the case's site under `root`; returns the site and extra CLI args."""
    site = make_site(root)
    folder = CORPUS / case
    files = folder / "files"
    if files.is_dir():
        for path in sorted(files.rglob("*")):
            if path.is_file():
                target = site / path.relative_to(files)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    if (folder / "delete.txt").is_file():
        for rel in (folder / "delete.txt").read_text().split():
            (site / rel).unlink()
    if not files.is_dir():
        _special(case, site)
    args = (folder / "args.txt").read_text().split() if (folder / "args.txt").is_file() else []
    return site, args


def parse_output(text: str) -> list[tuple[str, str, str]]:
    found = []
    for row in text.splitlines():
        match = LINE.match(row)
        if match and not row.startswith(("okrsite ", "okrsite:")):
            found.append((match["where"], match["code"], match["message"]))
    return found


def assert_matches(case: str, expected: Expected, status: int, output: str) -> None:
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    got = parse_output(output)
    want = sorted((w, c) for w, c, _ in expected.lines)
    assert sorted((w, c) for w, c, _ in got) == want, f"{case}:\n{output}"
    for where, code, fragment in expected.lines:
        messages = [m for w, c, m in got if (w, c) == (where, code)]
        assert any(fragment in m for m in messages), (
            f"{case}: no {where}: {code} message containing {fragment!r} in:\n{output}"
        )
    assert status == expected.exit, f"{case}: exit {status}, want {expected.exit}\n{output}"


def run_in_process(site: Path, command: str, args: list[str], capsys) -> tuple[int, str]:
    argv = [command, "--site", str(site), "--today", TODAY.isoformat(), *args]
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


# --- the corpus ---------------------------------------------------------------


def test_corpus_is_big_enough():
    assert len(cases()) >= 60


@pytest.mark.parametrize("case", [c for c in cases() if c != "unreadable-as-nobody"])
def test_check(case: str, tmp_path: Path, capsys) -> None:
    expected = read_expected(case)
    site, args = build_case(case, tmp_path / "site")
    status, output = run_in_process(site, "check", args, capsys)
    assert_matches(case, expected, status, output)


BUILD_CASES = [
    "bom-works",
    "crlf-works",
    "yaml-duplicate-key",
    "yaml-anchor-alias",
    "not-utf8-latin1",
    "parent-loop",
    "fifo",
    "huge-file-10mb",
    "symlink-out-of-site",
    "warning-strict",
]


@pytest.mark.parametrize("case", BUILD_CASES)
def test_build_same_messages_and_keeps_old_site(case: str, tmp_path: Path, capsys) -> None:
    """`build` reports what `check` reports; on error the previous site stays."""
    expected = read_expected(case)
    site, args = build_case(case, tmp_path / "site")
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("previous site")
    before = tree(out)
    status, output = run_in_process(site, "build", [*args, "--out", str(out)], capsys)
    assert_matches(case, expected, status, output)
    if status:
        assert tree(out) == before
    else:
        assert (out / "api" / "2026-Q4.json").is_file()
    assert not (REPO / "secret.md").exists()
    if case == "symlink-out-of-site":  # nothing from outside the site is published
        assert not any(b"Payroll" in data for data in tree(out).values())


SUBPROCESS_CASES = ["yaml-tab-indent", "crlf-error-line", "fifo", "symlink-loop", "empty-file"]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_subprocess_smoke(case: str, tmp_path: Path) -> None:
    expected = read_expected(case)
    site, _ = build_case(case, tmp_path / "site")
    proc = subprocess.run(
        [sys.executable, "-m", "okrsite", "check", "--site", str(site), "--today", str(TODAY)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert_matches(case, expected, proc.returncode, proc.stdout + proc.stderr)


def _nobody() -> tuple[int, int] | None:
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
    except (ImportError, KeyError):
        return None
    return entry.pw_uid, entry.pw_gid


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    """A file the reader may not open (chmod 000). Root reads anything, so as root
    the check runs in a subprocess that drops to the user `nobody` first."""
    case = "unreadable-as-nobody"
    expected = read_expected(case)
    ids = _nobody() if os.geteuid() == 0 else None
    if os.geteuid() == 0 and ids is None:
        pytest.skip("running as root and there is no user 'nobody' to drop to")
    root = Path(tempfile.mkdtemp(prefix="okrsite-unreadable-"))  # not under root's 0700 tmp
    try:
        root.chmod(0o755)
        site, _ = build_case(case, root / "site")
        for path in [site, *site.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
            elif path.name != "ops.md":
                path.chmod(0o644)

        # The interpreter lives under /root (0700), so drop privileges inside Python,
        # after importing okrsite, right before the check runs.
        script = (
            "import os, sys\n"
            "import okrsite.cli, okrsite.build, okrsite.config, okrsite.load, okrsite.lint\n"
            "import encodings.utf_8_sig  # the stdlib under /root is out of reach after setuid\n"
            f"ids = {ids!r}\n"
            "if ids:\n"
            "    os.setgroups([]); os.setgid(ids[1]); os.setuid(ids[0])\n"
            "    assert os.geteuid() != 0\n"
            "sys.exit(okrsite.cli.main(sys.argv[1:]))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", script, "check", "--site", str(site), "--today", str(TODAY)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
        assert_matches(case, expected, proc.returncode, proc.stdout + proc.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- what the working cases mean ----------------------------------------------


def _model(case: str, tmp_path: Path):
    from okrsite.build import check_site

    site, _ = build_case(case, tmp_path / "site")
    result = check_site(site, TODAY)
    assert not [d for d in result.diagnostics if d.is_error]
    return result.model


def test_yaml12_text_stays_text(tmp_path: Path) -> None:
    team = _model("yaml11-no-on-are-text", tmp_path / "a").teams["ops"]
    assert (team.name, team.lead, team.members) == ("no", "on", ("yes", "off", "y"))
    okrs = _model("yaml11-version-unit-is-text", tmp_path / "b").okrs[("2026-Q4", "ops")]
    assert okrs.objectives[0].key_results[1].unit == "1.10"
    okrs = _model("yaml11-date-title-is-text", tmp_path / "c").okrs[("2026-Q4", "ops")]
    assert okrs.objectives[0].key_results[1].title == "2026-11-14"


def test_bom_and_line_endings_keep_content(tmp_path: Path) -> None:
    for i, case in enumerate(("bom-works", "crlf-works", "cr-only-works")):
        team = _model(case, tmp_path / str(i)).teams["ops"]
        assert (team.name, team.lead, team.body.strip()) == ("Ops", "Olu Ade", "Ops runs things.")


def test_negative_numbers_work(tmp_path: Path) -> None:
    okrs = _model("negative-start-works", tmp_path).okrs[("2026-Q4", "ops")]
    kr = okrs.objectives[0].key_results[1]
    assert (kr.start, kr.target) == (-40, -10)


# --- recording (for reviewing new cases by hand) ----------------------------


def record_all() -> None:  # pragma: no cover - a maintainer's tool
    import contextlib
    import io

    for case in cases() + [
        c.name for c in CORPUS.iterdir() if c.is_dir() and not (c / "expected.txt").exists()
    ]:
        if case == "unreadable-as-nobody":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            site, args = build_case(case, Path(tmp) / "site")
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
                status = main(["check", "--site", str(site), "--today", str(TODAY), *args])
            print(f"== {case}\nexit: {status}")
            for row in err.getvalue().splitlines():
                if not row.startswith("okrsite check:"):
                    print(row)


# --- every command, and the last-resort guard -------------------------------------


@pytest.mark.parametrize("case", [c for c in cases() if c != "unreadable-as-nobody"])
def test_export_never_crashes(case: str, tmp_path: Path, capsys) -> None:
    expected = read_expected(case)
    site, _ = build_case(case, tmp_path / "site")
    status = main(["export", "--site", str(site), "--today", str(TODAY), "--cycle", "2026-Q4"])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output and "internal error" not in output, output
    has_errors = any(CODES[code].severity == "error" for _, code, _ in expected.lines)
    assert status == (1 if has_errors else 0), output[-2000:]
    if not has_errors:
        assert json.loads(captured.out)["cycle"]["id"] == "2026-Q4"


def test_internal_error_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    """A bug (here: a stage that raises) prints one line and exits 1, no traceback."""
    import okrsite.cli

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(okrsite.cli, "check_site", broken)
    site = make_site(tmp_path / "site")
    assert main(["check", "--site", str(site)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("okrsite: internal error at test_bad_inputs.py:")
    assert "ValueError: boom" in err and "Traceback" not in err and err.count("\n") == 1
    monkeypatch.setenv("OKRSITE_DEBUG", "1")
    with pytest.raises(ValueError, match="boom"):
        main(["check", "--site", str(site)])


@pytest.mark.parametrize(
    "argv",
    [
        ["new", "{tmp}/afile/x"],
        ["new", "/proc/okrsite-cannot-be-here"],
        ["check", "--site", "{tmp}/afile"],
        ["check", "--site", "{tmp}/missing"],
        ["build", "--site", "{site}", "--out", "{tmp}/afile"],
        ["build", "--site", "{site}", "--out", "{tmp}/afile/x"],
        ["build", "--site", "{site}", "--out", "{site}"],
        ["export", "--site", "{site}", "--cycle", "../../etc"],
        ["export", "--site", "{tmp}/afile", "--cycle", "2026-Q4"],
    ],
)
def test_cli_misuse_is_a_message(argv: list[str], tmp_path: Path, capsys) -> None:
    site = make_site(tmp_path / "site")
    (tmp_path / "afile").write_text("not a folder")
    args = [a.format(tmp=tmp_path, site=site) for a in argv]
    status = main([*args, "--today", str(TODAY)] if argv[0] != "new" else args)
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert status in (1, 2), output
    assert "Traceback" not in output and "internal error" not in output, output
    assert output.strip()

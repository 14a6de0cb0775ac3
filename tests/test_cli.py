"""The command line: exit codes, messages, and the published site kept safe."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from okrsite import __version__
from okrsite.cli import main, write_scaffold
from tests.sites import make_site, tree

TODAY = ["--today", "2026-11-14"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse: --help, --version, usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert (code, out.strip()) == (0, f"okrsite {__version__}")


@pytest.mark.parametrize("command", ["build", "check", "export", "new"])
def test_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and out.startswith(f"usage: okrsite {command}")


def test_module_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "okrsite", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"okrsite {__version__}"


def test_check_exit_codes(tmp_path, capsys):
    site = str(make_site(tmp_path))
    assert run(capsys, "check", "--site", site, *TODAY)[0] == 0
    late = ["--today", "2026-11-30"]  # both teams stale: warnings only
    code, _, err = run(capsys, "check", "--site", site, *late)
    assert code == 0 and "0 errors, 2 warnings in 6 files" in err
    assert run(capsys, "check", "--site", site, *late, "--strict")[0] == 1
    assert run(capsys, "check", "--site", site, "--today", "14/11/2026")[0] == 2
    assert run(capsys, "check", "--site", site, "--bogus")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2


def test_errors_come_before_warnings_with_a_summary(tmp_path, capsys):
    site = make_site(
        tmp_path, {"content/teams/sales.md": "---\nname: Sales\nparent: company\nlaed: x\n---\n"}
    )
    code, _, err = run(capsys, "check", "--site", str(site), "--today", "2026-11-30")
    lines = err.splitlines()
    assert code == 1
    assert lines[0].startswith("content/teams/sales.md:4: OKR013 unknown field 'laed'")
    assert lines[1].startswith("content/cycles/2026-Q4/company.md:1: OKR108")
    assert lines[-1] == "okrsite check: 1 error, 1 warning in 6 files"


def test_missing_config(tmp_path, capsys):
    code, _, err = run(capsys, "check", "--site", str(tmp_path))
    assert code == 1 and "OKR026 no okrsite.toml" in err


BROKEN = {
    "yaml-error": (
        {"content/teams/sales.md": "---\nname: Sales\nparent: company\nmembers: [a, b\n---\n"},
        "content/teams/sales.md:5: OKR004 YAML syntax error",
    ),
    "unknown-field": (
        {"content/teams/sales.md": "---\nname: Sales\nparent: company\ncolour: red\n---\n"},
        "content/teams/sales.md:4: OKR013 unknown field 'colour'",
    ),
    "dangling-aligns-to": (
        {
            "content/cycles/2026-Q4/sales.md": "---\nobjectives:\n  - id: pipeline\n    title: T\n"
            "    aligns_to: company/nope\n    key_results:\n"
            "      - {id: a, title: A rises, start: 0, target: 1}\n"
            "      - {id: b, title: B rises, start: 0, target: 1}\n---\n",
            "content/cycles/2026-Q4/sales/2026-11-07.md": None,
        },
        "content/cycles/2026-Q4/sales.md:3: OKR017 aligns_to 'company/nope'",
    ),
    "start-equals-target": (
        {
            "content/cycles/2026-Q4/sales.md": "---\nobjectives:\n  - id: pipeline\n    title: T\n"
            "    aligns_to: company/revenue\n    key_results:\n"
            "      - id: calls\n        title: Calls per rep\n        start: 3\n        target: 3\n"
            "      - {id: b, title: B rises, start: 0, target: 1}\n---\n",
            "content/cycles/2026-Q4/sales/2026-11-07.md": None,
        },
        "content/cycles/2026-Q4/sales.md:10: OKR012 key result 'calls' has start == target (3); "
        "a metric needs a change",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_failed_build_leaves_the_site_untouched(tmp_path, capsys, case):
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    assert run(capsys, "build", "--site", str(site), "--out", str(out), *TODAY)[0] == 0
    before = tree(out)
    assert "index.html" in before
    files, expected = BROKEN[case]
    make_site(site, files)
    for rel, text in files.items():
        if text is None:
            (site / rel).unlink()
    code, _, err = run(capsys, "build", "--site", str(site), "--out", str(out), *TODAY)
    assert code == 1
    assert expected in err
    assert "nothing written" in err
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out", "site"]


def test_default_output_folder(tmp_path, capsys):
    site = make_site(tmp_path)
    assert run(capsys, "build", "--site", str(site), *TODAY)[0] == 0
    assert (site / "site" / "index.html").is_file()


def test_new_site_builds_without_warnings(tmp_path, capsys):
    target = tmp_path / "x"
    code, out, _ = run(capsys, "new", str(target))
    assert code == 0 and "created" in out
    code, _, err = run(capsys, "build", "--site", str(target), "--strict")
    assert code == 0, err
    assert "0 errors, 0 warnings" in err
    assert run(capsys, "new", str(target))[0] == 2  # not empty: refuses


@pytest.mark.parametrize("day", [dt.date(2026, 1, 1), dt.date(2027, 6, 30), dt.date(2028, 12, 31)])
def test_scaffold_is_clean_on_any_day(tmp_path, capsys, day):
    write_scaffold(tmp_path, day)
    code, _, err = run(
        capsys, "check", "--site", str(tmp_path), "--strict", "--today", day.isoformat()
    )
    assert code == 0, err

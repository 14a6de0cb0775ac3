"""Authoring in git (issue 7): last-changed dates, --history, --as-of, CI formats.

Every test builds its own git repository in tmp_path, with commits whose
author and dates are set, and never touches the repository okrsite lives in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from okrsite import gitinfo, urls
from okrsite.cli import main
from okrsite.gitinfo import last_changes
from tests.browser import validate_html
from tests.sites import BASE, TODAY, make_site, tree

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
    reason="git is not installed",
)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config (signing, hooks, names) leaks into the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)


class Repo:
    """A scratch git repository: write files, commit them with a chosen author and date."""

    def __init__(self, root: Path, site: str = ""):
        self.root = root
        self.site = root / site if site else root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def write(self, files: dict[str, str | None]) -> None:
        for rel_path, text in files.items():
            path = self.site / rel_path
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def edit(self, rel_path: str, old: str, new: str) -> None:
        path = self.site / rel_path
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (rel_path, old)
        path.write_text(text.replace(old, new), encoding="utf-8")

    def commit(self, message: str, date: str, author: str = "Dana Ruiz") -> str:
        email = author.lower().replace(" ", ".") + "@example.com"
        when = f"{date}T10:00:00+00:00" if "T" not in date else date
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": when,
        }
        self.git("add", "-A", ".")
        self.git("commit", "-q", "--no-verify", "-m", message, env=env)
        return self.git("rev-parse", "HEAD").strip()


def site_repo(tmp_path: Path, site: str = "", **toml: str) -> Repo:
    """A repository holding the tests' BASE site, committed before 2026-Q4 began."""
    repo = Repo(tmp_path / "repo", site)
    settings = "".join(f'{key} = "{value}"\n' for key, value in toml.items())
    make_site(repo.site, {"okrsite.toml": f'[site]\ntitle = "Acme OKRs"\n{settings}'})
    repo.commit("Plan 2026-Q4", "2026-09-25", "Ada Lovelace")
    return repo


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def check(capsys, site: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "check", "--site", str(site), "--today", str(TODAY), *extra)


def build(capsys, site: Path, out: Path, *extra: str) -> tuple[int, str]:
    status, _, err = run(
        capsys, "build", "--site", str(site), "--out", str(out), "--today", str(TODAY), *extra
    )
    return status, err


def html(out: Path, page: str) -> str:
    return (out / page).read_text(encoding="utf-8")


def line_of(site: Path, rel_path: str, needle: str) -> int:
    lines = (site / rel_path).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


GITHUB = re.compile(
    r"^::(?P<kind>error|warning) file=(?P<file>[^,]+),line=(?P<line>\d+)(?:,col=\d+)?,"
    r"title=(?P<code>OKR\d{3})::(?P<message>.*)$"
)


# --- last changed, per page, from one git log pass ------------------------------


def test_last_changes_come_from_one_git_log_pass(tmp_path, monkeypatch, capsys):
    repo = site_repo(
        tmp_path, repo_url="https://git.example.com/acme/okrs", edit_uri="-/edit/main/"
    )
    repo.edit("content/cycles/2026-Q4/sales/2026-11-07.md", "value: 320000", "value: 330000")
    repo.commit("Sales check-in fix", "2026-11-08", "Lee Chen")
    repo.write(
        {
            "content/cycles/2026-Q4/company/2026-11-12.md": """
        ---
        updates:
          arr: {value: 1600000}
        ---
    """
        }
    )
    repo.commit("Company check-in", "2026-11-12T18:30:00-05:00", "Ada Lovelace")

    changed = last_changes(repo.site)
    assert changed["content/teams/sales.md"].author == "Ada Lovelace"
    assert changed["content/teams/sales.md"].day.isoformat() == "2026-09-25"
    assert changed["content/cycles/2026-Q4/sales/2026-11-07.md"].author == "Lee Chen"
    company = changed["content/cycles/2026-Q4/company/2026-11-12.md"]
    assert company.day.isoformat() == "2026-11-12"  # the author's own date, not UTC's
    assert company.sha == repo.git("rev-parse", "HEAD").strip()

    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args, *rest, **kwargs):
        calls.append(list(args))
        return real_run(args, *rest, **kwargs)

    monkeypatch.setattr(gitinfo.subprocess, "run", counting_run)
    out = tmp_path / "out"
    status, err = build(capsys, repo.site, out)
    assert status == 0, err
    logs = [c for c in calls if "log" in c]
    assert len(logs) == 1, logs  # one pass for the whole repository, not one per file
    assert "--name-only" in logs[0]

    sales = html(out, "cycles/2026-Q4/sales/index.html")
    assert 'Last changed <time datetime="2026-09-25T10:00:00+00:00">25 Sep 2026</time>' in sales
    assert (
        'href="https://git.example.com/acme/okrs/-/edit/main/content/cycles/2026-Q4/sales.md"'
        in sales
    )
    checkin = html(out, "cycles/2026-Q4/sales/checkins/2026-11-07/index.html")
    assert "8 Nov 2026</time> by Lee Chen" in checkin
    assert "-/edit/main/content/cycles/2026-Q4/sales/2026-11-07.md" in checkin
    team = html(out, "teams/sales/index.html")
    assert "-/edit/main/content/teams/sales.md" in team
    # A page made of many files shows the latest change among them.
    assert "12 Nov 2026</time> by Ada Lovelace" in html(out, "index.html")

    # Every page shows when its source last changed; every page made from one
    # file links to it for editing.
    pages = [p for p in out.rglob("*.html")]
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Last changed <time" in text, page
    single = {
        "teams/company/index.html": "content/teams/company.md",
        "cycles/2026-Q4/company/index.html": "content/cycles/2026-Q4/company.md",
        "cycles/2026-Q4/company/checkins/2026-11-12/index.html": (
            "content/cycles/2026-Q4/company/2026-11-12.md"
        ),
    }
    for page, source in single.items():
        assert (
            f'class="edit-this" href="https://git.example.com/acme/okrs/-/edit/main/{source}"'
            in (html(out, page))
        )


def test_a_build_after_a_commit_equals_a_fresh_build(tmp_path, capsys):
    """A commit changes the "last changed" line of the pages made from its files,
    and no other: a person's page shows the latest change among the files that
    name them, and the build after the commit re-renders it like a fresh one."""
    repo = site_repo(tmp_path)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert build(capsys, repo.site, out)[0] == 0
    repo.edit("content/cycles/2026-Q4/sales/2026-11-07.md", "value: 320000", "value: 330000")
    repo.commit("Sales check-in fix", "2026-11-08", "Lee Chen")
    assert build(capsys, repo.site, out)[0] == 0
    shutil.rmtree(repo.site / ".okrsite-cache")
    assert build(capsys, repo.site, fresh)[0] == 0
    assert tree(out) == tree(fresh)
    assert "8 Nov 2026</time> by Lee Chen" in html(out, "people/dana-ruiz/index.html")
    assert "by Ada Lovelace" in html(out, "people/ada-lovelace/index.html")  # not named there
    assert "8 Nov 2026</time> by Lee Chen" in html(out, "index.html")  # made from every file


def test_outside_git_the_date_is_left_out_and_builds_are_reproducible(tmp_path, capsys):
    site = make_site(
        tmp_path / "site",
        {"okrsite.toml": '[site]\ntitle = "Acme"\nrepo_url = "https://example.com/r"\n'},
    )
    assert last_changes(site) == {}
    first, second = tmp_path / "one", tmp_path / "two"
    assert build(capsys, site, first)[0] == 0
    for path in site.rglob("*.md"):  # new mtimes must not change a byte
        os.utime(path, (1_900_000_000, 1_900_000_000))
    assert build(capsys, site, second)[0] == 0
    assert tree(first) == tree(second)
    page = html(first, "cycles/2026-Q4/sales/index.html")
    assert "Last changed" not in page
    assert 'class="edit-this" href="https://example.com/r/content/cycles/2026-Q4/sales.md"' in page


def test_uncommitted_files_have_no_date_and_a_site_may_live_in_a_subfolder(tmp_path, capsys):
    repo = site_repo(tmp_path, site="okrs")
    (repo.root / "README.md").write_text("top\n", encoding="utf-8")
    repo.write(
        {
            "content/cycles/2026-Q4/sales/2026-11-13.md": """
        ---
        updates:
          pipeline-value: {value: 400000}
        ---
    """
        }
    )
    changed = last_changes(repo.site)
    assert "content/teams/sales.md" in changed  # relative to the site, not the repository
    assert "content/cycles/2026-Q4/sales/2026-11-13.md" not in changed
    out = tmp_path / "out"
    assert build(capsys, repo.site, out)[0] == 0
    assert "Last changed" not in html(out, "cycles/2026-Q4/sales/checkins/2026-11-13/index.html")
    assert "Last changed" in html(out, "cycles/2026-Q4/sales/index.html")


# --- check --format github | json ----------------------------------------------


BROKEN_SALES = BASE["content/cycles/2026-Q4/sales.md"].replace(
    "start: 0\n                target: 500000", "start: 7\n                target: 7"
)


def test_check_github_annotations_land_on_the_right_line(tmp_path, capsys):
    site = make_site(tmp_path, {"content/cycles/2026-Q4/sales.md": BROKEN_SALES})
    status, out, _ = check(capsys, site, "--format", "github")
    assert status == 1
    found = [GITHUB.match(line) for line in out.splitlines()]
    assert found and all(found), out
    errors = [m for m in found if m["kind"] == "error"]
    assert [(m["file"], m["code"]) for m in errors] == [
        ("content/cycles/2026-Q4/sales.md", "OKR012")
    ]
    assert int(errors[0]["line"]) == line_of(site, "content/cycles/2026-Q4/sales.md", "target: 7")
    assert "start == target" in errors[0]["message"]


def test_check_json_prints_one_object_per_message(tmp_path, capsys):
    site = make_site(tmp_path, {"content/cycles/2026-Q4/sales.md": BROKEN_SALES})
    status, out, _ = check(capsys, site, "--format", "json")
    assert status == 1
    items = [json.loads(line) for line in out.splitlines()]
    assert items
    for item in items:
        assert set(item) == {"file", "line", "column", "code", "severity", "message"}
    error = next(i for i in items if i["severity"] == "error")
    assert error["code"] == "OKR012"
    assert error["file"] == "content/cycles/2026-Q4/sales.md"
    assert error["line"] == line_of(site, error["file"], "target: 7")


def test_github_paths_are_from_the_repository_root(tmp_path, capsys):
    repo = site_repo(tmp_path, site="okrs")
    repo.write({"content/cycles/2026-Q4/sales.md": BROKEN_SALES})
    status, out, _ = check(capsys, repo.site, "--format", "github")
    assert status == 1
    files = {GITHUB.match(line)["file"] for line in out.splitlines()}
    assert "okrs/content/cycles/2026-Q4/sales.md" in files


def test_pre_commit_hook_definition():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "okrsite-check")
    assert hook["entry"] == "okrsite check"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("content/cycles/2026-Q4/sales.md")
    assert files.search("okrsite.toml")
    assert not files.search("README.md")
    assert not files.search("okrsite/cli.py")


# --- build --history: how goals moved ------------------------------------------


def goalpost_repo(tmp_path: Path) -> Repo:
    repo = site_repo(tmp_path)
    sales = "content/cycles/2026-Q4/sales.md"
    company = "content/cycles/2026-Q4/company.md"
    # Before the cycle starts, plans may change freely.
    repo.edit(sales, "target: 500000", "target: 450000")
    repo.commit("Tighten the pipeline plan", "2026-09-28", "Dana Ruiz")
    # During the cycle: harder targets and a new title are shown, not flagged.
    repo.edit(company, "target: 2000000", "target: 2500000")
    repo.edit(company, "title: Annual recurring revenue reaches $2M", "title: ARR reaches $2.5M")
    repo.commit("Raise the ARR bar", "2026-10-20", "Lee Chen")
    # Easier targets after the start: moved goalposts (one rising, one falling metric).
    repo.edit(sales, "target: 450000", "target: 400000")
    repo.edit(company, "target: 3\n", "target: 4\n")
    repo.commit("Adjust targets", "2026-11-03", "Dana Ruiz")
    return repo


def test_history_flags_moved_goalposts_with_commit_and_author(tmp_path, capsys):
    repo = goalpost_repo(tmp_path)
    adjust = repo.git("rev-parse", "HEAD").strip()
    sales, company = "content/cycles/2026-Q4/sales.md", "content/cycles/2026-Q4/company.md"

    status, out, _ = check(capsys, repo.site, "--history", "--format", "github")
    assert status == 0
    moved = {
        (m["file"], int(m["line"])): m["message"]
        for m in map(GITHUB.match, out.splitlines())
        if m["code"] == "OKR110"
    }
    assert set(moved) == {
        (sales, line_of(repo.site, sales, "id: pipeline-value")),
        (company, line_of(repo.site, company, "id: churn")),
    }
    message = moved[(sales, line_of(repo.site, sales, "id: pipeline-value"))]
    assert "450000 to 400000" in message  # from the target at the start, not at planning
    assert "Dana Ruiz" in message and adjust[:10] in message and "2026-11-03" in message

    # Without --history nothing reads the history.
    status, out, _ = check(capsys, repo.site, "--format", "json")
    assert "OKR110" not in out

    out_dir = tmp_path / "out"
    status, err = build(capsys, repo.site, out_dir, "--history")
    assert status == 0, err
    assert "OKR110" in err
    sales_page = html(out_dir, "cycles/2026-Q4/sales/index.html")
    assert "moved goalpost</span>" in sales_page
    assert "450,000 USD → 400,000 USD <strong>(made easier)</strong>" in sales_page
    assert f"by Dana Ruiz <code>{adjust[:10]}</code>" in sales_page
    company_page = html(out_dir, "cycles/2026-Q4/company/index.html")
    assert "title “Annual recurring revenue reaches $2M” → “ARR reaches $2.5M”" in company_page
    assert "by Lee Chen" in company_page
    assert "2,000,000 USD → 2,500,000 USD" in company_page
    assert company_page.count("moved goalpost</span>") == 1  # churn only

    if hasattr(urls, "key_result_page"):  # the key result's own page shows it too
        kr_page = html(out_dir, urls.key_result_page("2026-Q4", "sales", "pipeline-value"))
        assert "moved goalpost</span>" in kr_page and "by Dana Ruiz" in kr_page
    errors = validate_html(
        [out_dir / "cycles/2026-Q4/sales/index.html", out_dir / "cycles/2026-Q4/company/index.html"]
    )
    assert errors == []

    # A plain build shows no history.
    plain = tmp_path / "plain"
    assert build(capsys, repo.site, plain)[0] == 0
    assert "kr-history" not in html(plain, "cycles/2026-Q4/sales/index.html")


def test_restored_target_and_disabled_code_are_not_flagged(tmp_path, capsys):
    repo = goalpost_repo(tmp_path)
    repo.edit("content/cycles/2026-Q4/sales.md", "target: 400000", "target: 450000")
    repo.commit("Restore the pipeline target", "2026-11-05", "Dana Ruiz")
    status, out, _ = check(capsys, repo.site, "--history", "--format", "json")
    assert status == 0
    flagged = [json.loads(line) for line in out.splitlines()]
    assert [(d["file"], d["code"]) for d in flagged if d["code"] == "OKR110"] == [
        ("content/cycles/2026-Q4/company.md", "OKR110")
    ]
    repo.edit(
        "okrsite.toml",
        'title = "Acme OKRs"\n',
        'title = "Acme OKRs"\n[rules]\ndisable = ["OKR110"]\n',
    )
    _status, out, _ = check(capsys, repo.site, "--history", "--format", "json")
    assert "OKR110" not in out


def test_uncommitted_moved_goalpost_is_caught_before_commit(tmp_path, capsys):
    repo = site_repo(tmp_path)
    repo.edit("content/cycles/2026-Q4/company.md", "target: 2000000", "target: 1500000")
    _status, out, _ = check(capsys, repo.site, "--history", "--format", "json")
    items = [json.loads(line) for line in out.splitlines() if "OKR110" in line]
    assert len(items) == 1
    assert "uncommitted" in items[0]["message"]
    assert check(capsys, repo.site, "--history", "--strict")[0] == 1


# --- build --as-of REV ----------------------------------------------------------


def test_as_of_rebuilds_an_earlier_commit_without_touching_the_working_tree(tmp_path, capsys):
    repo = site_repo(tmp_path)
    repo.git("tag", "kickoff")
    at_kickoff = tmp_path / "at-kickoff"
    assert build(capsys, repo.site, at_kickoff)[0] == 0
    kickoff_json = (at_kickoff / "api/2026-Q4.json").read_bytes()

    repo.edit("content/cycles/2026-Q4/company.md", "target: 2000000", "target: 1800000")
    repo.write(
        {
            "content/cycles/2026-Q4/sales/2026-11-12.md": """
        ---
        updates:
          pipeline-value: {value: 450000, confidence: 0.9}
          partner-program: {done: true}
        ---
    """
        }
    )
    repo.commit("Later changes", "2026-11-12", "Lee Chen")
    repo.edit("content/cycles/2026-Q4/sales/2026-11-12.md", "450000", "460000")  # uncommitted
    head = repo.git("rev-parse", "HEAD").strip()
    before = {
        p: p.read_bytes()
        for p in repo.site.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".okrsite-cache" not in p.parts  # build cache
    }
    status_before = repo.git("status", "--porcelain")

    now = tmp_path / "now"
    assert build(capsys, repo.site, now)[0] == 0
    now_data = json.loads((now / "api/2026-Q4.json").read_text(encoding="utf-8"))
    sales_now = next(t for t in now_data["teams"] if t["id"] == "sales")
    assert sales_now["objectives"][0]["key_results"][0]["current"] == 460000

    for rev in ("kickoff", head[:12] + "~1"):
        old = tmp_path / f"old-{rev.replace('~', '_')}"
        status, err = build(capsys, repo.site, old, "--as-of", rev)
        assert status == 0, err
        assert (old / "api/2026-Q4.json").read_bytes() == kickoff_json
        data = json.loads(kickoff_json)
        sales = next(t for t in data["teams"] if t["id"] == "sales")
        kr = sales["objectives"][0]["key_results"][0]
        assert (kr["current"], kr["target"]) == (320000, 500000)
        assert f"Content as of <code>{rev}</code>" in html(old, "index.html")
        assert "25 Sep 2026</time> by Ada Lovelace" in html(
            old, "cycles/2026-Q4/company/index.html"
        )

    # Nothing in the working tree, the index or HEAD moved.
    assert repo.git("rev-parse", "HEAD").strip() == head
    assert repo.git("status", "--porcelain") == status_before
    after = {
        p: p.read_bytes()
        for p in repo.site.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".okrsite-cache" not in p.parts  # build cache
    }
    assert after == before


def test_as_of_in_a_subfolder_and_bad_revisions(tmp_path, capsys):
    repo = site_repo(tmp_path, site="okrs")
    repo.edit("content/cycles/2026-Q4/company.md", "target: 2000000", "target: 2200000")
    repo.commit("Raise", "2026-10-05", "Lee Chen")
    out = tmp_path / "out"
    status, err = build(capsys, repo.site, out, "--as-of", "HEAD~1", "--history")
    assert status == 0, err
    data = json.loads((out / "api/2026-Q4.json").read_text(encoding="utf-8"))
    company = next(t for t in data["teams"] if t["id"] == "company")
    assert company["objectives"][0]["key_results"][0]["target"] == 2000000
    assert "kr-change" not in html(out, "cycles/2026-Q4/company/index.html")  # no change yet then

    status, err = build(capsys, repo.site, tmp_path / "x", "--as-of", "no-such-tag")
    assert status == 2 and "no-such-tag" in err
    plain = make_site(tmp_path / "plain")
    status, err = build(capsys, plain, tmp_path / "y", "--as-of", "HEAD")
    assert status == 2 and "not in a git repository" in err


def test_history_reads_git_in_a_fixed_number_of_processes(tmp_path, monkeypatch, capsys):
    repo = goalpost_repo(tmp_path)
    for day in range(4, 9):  # more commits must not mean more processes
        repo.edit("content/cycles/2026-Q4/company.md", "title: ARR", "title: The ARR")
        repo.commit(f"Retitle {day}", f"2026-11-{day:02d}", "Lee Chen")
        repo.edit("content/cycles/2026-Q4/company.md", "title: The ARR", "title: ARR")
        repo.commit(f"Back {day}", f"2026-11-{day:02d}T12:00:00+00:00", "Lee Chen")
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args, *rest, **kwargs):
        calls.append(list(args))
        return real_run(args, *rest, **kwargs)

    monkeypatch.setattr(gitinfo.subprocess, "run", counting_run)
    status, err = build(capsys, repo.site, tmp_path / "out", "--history")
    assert status == 0, err
    commands = [next(a for a in c[1:] if not a.startswith("-") and "=" not in a) for c in calls]
    assert commands.count("log") == 2, commands  # --raw for history, --name-only for dates
    assert commands.count("cat-file") == 1, commands
    assert len(calls) <= 4, commands
    page = html(tmp_path / "out", "cycles/2026-Q4/company/index.html")
    assert page.count("kr-change-title") == 11  # the first rename and ten more

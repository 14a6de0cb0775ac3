"""Atomic publishing: the previous site survives every failure, builds never mix.

Covers a failed build, `kill -9` of a real `okrsite build` in the middle of
writing, a full disk (a small tmpfs, when running as root), two builds at
once, stale files of removed teams, leftovers of killed builds, colliding
output paths, and byte-identical output from two builds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from okrsite import incremental, write
from okrsite.build import build_site
from okrsite.cli import main
from okrsite.render import OutputFile
from tests.sites import TODAY, make_site, reference, tree

REPO = Path(__file__).resolve().parent.parent


def build(site: Path, out: Path, capsys=None) -> int:
    status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    if capsys is not None:
        capsys.readouterr()
    return status


def big_site(root: Path, teams: int, title: str = "Acme OKRs", body_kb: int = 0) -> Path:
    """BASE plus `teams` extra teams, each with OKRs and three check-ins."""
    files: dict[str, str | None] = {"okrsite.toml": f'[site]\ntitle = "{title}"\n'}
    filler = ("Steady progress on every front. " * 32 + "\n\n") * body_kb
    for n in range(teams):
        team = f"team-{n:04d}"
        files[f"content/teams/{team}.md"] = (
            f"---\nname: Team {n}\nparent: company\nlead: Lead {n}\n---\nCharter {n}.\n"
        )
        krs = "".join(
            f"      - id: {team}-kr{k}\n        title: Metric {k} of team {n} rises\n"
            f"        start: 0\n        target: {100 + k}\n"
            for k in range(3)
        )
        files[f"content/cycles/2026-Q4/{team}.md"] = (
            "---\nobjectives:\n"
            f"  - id: goal\n    title: Team {n} delights customers\n"
            f"    aligns_to: company/revenue\n    key_results:\n{krs}---\nNarrative {n}.\n"
        )
        for day in (3, 7, 10):
            files[f"content/cycles/2026-Q4/{team}/2026-11-{day:02d}.md"] = (
                f"---\nupdates:\n  {team}-kr0: {{value: {day * 3}, confidence: 0.6}}\n---\n"
                f"Check-in {day} of team {n}.\n\n{filler}"
            )
    return make_site(root, files)


# --- failures leave the previous site ---------------------------------------


def test_failed_build_leaves_previous_site(tmp_path: Path, capsys) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    assert build(site, out, capsys) == 0
    before = tree(out)
    (site / "content/teams/sales.md").write_text("---\nname: [Sales\n---\n")
    assert build(site, out, capsys) == 1
    assert tree(out) == before
    assert not write._leftovers(out)


def test_theme_error_leaves_previous_site(tmp_path: Path, capsys) -> None:
    """An undefined variable in a theme template is OKR028 (StrictUndefined), exit 1."""
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    assert build(site, out, capsys) == 0
    before = tree(out)
    theme = site / "themes" / "broken" / "templates"
    theme.mkdir(parents=True)
    (site / "themes/broken/theme.toml").write_text('extends = "default"\n')
    (theme / "teams.html").write_text("{{ no_such_variable }}\n")
    toml = (site / "okrsite.toml").read_text() + 'theme = "broken"\n'
    (site / "okrsite.toml").write_text(toml)
    status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    err = capsys.readouterr().err
    assert status == 1
    assert "OKR028" in err and "no_such_variable" in err, err
    assert "Traceback" not in err
    assert tree(out) == before


def test_stale_files_of_removed_teams_disappear(tmp_path: Path, capsys) -> None:
    site = big_site(tmp_path / "site", 2)
    out = tmp_path / "out"
    assert build(site, out, capsys) == 0
    assert (out / "teams/team-0001/index.html").is_file()
    assert (out / "cycles/2026-Q4/team-0001/checkins/2026-11-03/index.html").is_file()
    for path in sorted(site.rglob("*team-0001*"), reverse=True):
        if path.is_dir():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        else:
            path.unlink()
    assert build(site, out, capsys) == 0
    assert not [p for p in tree(out) if "team-0001" in p]
    assert b"team-0001" not in b"".join(tree(out).values())


def test_leftovers_of_killed_builds_are_removed(tmp_path: Path, capsys) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    for name in (".out.new-x1y2", ".out.old-z3"):
        (tmp_path / name / "cycles").mkdir(parents=True)
        (tmp_path / name / "cycles" / "index.html").write_text("half")
    (tmp_path / ".other.new-keep").mkdir()  # not ours: left alone
    assert build(site, out, capsys) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.new-keep",
        ".out.lock",
        "out",
        "site",
    ]


def test_output_that_is_a_file_is_refused(tmp_path: Path, capsys) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    out.write_text("not a folder")
    assert build(site, out, capsys) == 1
    assert out.read_text() == "not a folder"


# --- kill -9 in the middle ------------------------------------------------------


def _build_argv(site: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "okrsite",
        "build",
        "--site",
        str(site),
        "--out",
        str(out),
        "--today",
        str(TODAY),
    ]


def _start_build(site: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _build_argv(site, out),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_kill_9_mid_write_leaves_previous_site(tmp_path: Path, capsys) -> None:
    """Kill a real build while it writes its staging folder (seen on disk), many times."""
    site = big_site(tmp_path / "site", 60)
    out = tmp_path / "out"
    assert build(site, out, capsys) == 0
    before = tree(out)
    (site / "okrsite.toml").write_text('[site]\ntitle = "Acme OKRs, new"\n')
    killed_mid_write = 0
    for _attempt in range(3):
        if killed_mid_write:
            break
        proc = _start_build(site, out)
        deadline = time.monotonic() + 60
        staging = []
        while proc.poll() is None and time.monotonic() < deadline:
            staging = [p for p in write._leftovers(out) if p.name.startswith(".out.new-")]
            if staging and any(staging[0].rglob("*.html")):
                proc.kill()  # SIGKILL
                break
            time.sleep(0.0005)
        proc.wait(timeout=30)
        if proc.returncode == -9:
            killed_mid_write += 1
            assert tree(out) == before, "a killed build changed the published site"
            assert write._leftovers(out), "expected the killed build's staging folder"
    assert killed_mid_write >= 1, "never caught the build mid-write; make the site bigger"
    # The next build cleans up, and publishes the new site whole.
    assert build(site, out, capsys) == 0
    assert not write._leftovers(out)
    after = tree(out)
    assert after.keys() == before.keys() and after != before
    assert b"Acme OKRs, new" in after["index.html"]


# --- full disk -----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1.5 MB tmpfs mounted at tmp_path/disk (root only; else skip)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1536k,mode=0755", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_full_disk_leaves_previous_site(tmp_path: Path, small_disk: Path, capsys) -> None:
    site = make_site(tmp_path / "site")
    out = small_disk / "out"
    assert build(site, out, capsys) == 0
    before = tree(out)
    big = "Lots to say. " * 6000 + "\n"  # ~78 KB of Markdown, shown on several pages
    for n in range(6):
        (site / f"content/cycles/2026-Q4/sales/2026-11-0{n + 1}.md").write_text(
            f"---\nupdates:\n  pipeline-value: {{value: {n}}}\n---\n{big}"
        )
    status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "No space left on device" in err and "Traceback" not in err
    assert tree(out) == before
    assert not write._leftovers(out)


# --- two builds at once -------------------------------------------------------------


def test_concurrent_builds_never_mix(tmp_path: Path, capsys) -> None:
    site_a = big_site(tmp_path / "a", 8, title="Site A")
    site_b = big_site(tmp_path / "b", 8, title="Site B")
    ref_a, ref_b = tmp_path / "ref-a", tmp_path / "ref-b"
    assert build(site_a, ref_a, capsys) == 0
    assert build(site_b, ref_b, capsys) == 0
    trees = (tree(ref_a), tree(ref_b))
    assert trees[0] != trees[1]
    out = tmp_path / "out"
    assert build(site_a, out, capsys) == 0
    seen_missing = []
    stop = threading.Event()

    def reader() -> None:  # the output folder must always be there, whole
        while not stop.is_set():
            if not (out / "index.html").is_file():
                seen_missing.append(time.monotonic())
            time.sleep(0.0002)

    watcher = threading.Thread(target=reader, daemon=True)
    watcher.start()
    try:
        for _round in range(2):
            procs = [_start_build(site_a, out), _start_build(site_b, out)]
            assert [p.wait(timeout=120) for p in procs] == [0, 0]
            assert tree(out) in trees
            assert not write._leftovers(out)
    finally:
        stop.set()
        watcher.join()
    assert not seen_missing, "the output folder vanished during a swap"


# --- the spare: blue/green publishing of partial builds ------------------------------


def _edit_checkin(site: Path, value: int) -> None:
    path = site / "content/cycles/2026-Q4/team-0001/2026-11-10.md"
    path.write_text(re.sub(r"value: \d+", f"value: {value}", path.read_text()))


def _fresh(site: Path, tmp_path: Path) -> dict[str, bytes]:
    return reference(site, tmp_path / "ref", TODAY)


def test_spare_is_reused_and_shares_unchanged_files(tmp_path: Path, capsys, monkeypatch) -> None:
    """The second partial build starts from the spare, not from a copy of the output;
    the spare holds the site before, sharing the files that did not change."""
    site = big_site(tmp_path / "site", 3)
    out = tmp_path / "out"
    spare = tmp_path / ".out.spare"
    assert build(site, out, capsys) == 0
    assert not spare.exists()
    _edit_checkin(site, 40)
    before = tree(out)
    assert build(site, out, capsys) == 0
    assert tree(spare) == before  # the replaced site, whole
    assert tree(out) == _fresh(site, tmp_path)
    after = tree(out)
    same = [p for p, data in before.items() if after[p] == data]
    assert same and all(os.path.samefile(out / p, spare / p) for p in same)
    monkeypatch.setattr(write, "_clone", lambda *a: pytest.fail("cloned despite a spare"))
    for value in (50, 60):
        _edit_checkin(site, value)
        previous = tree(out)
        assert build(site, out, capsys) == 0
        assert tree(out) == _fresh(site, tmp_path)
        assert tree(spare) == previous


def test_spare_not_made_by_okrsite_is_not_trusted(tmp_path: Path, capsys) -> None:
    site = big_site(tmp_path / "site", 3)
    out = tmp_path / "out"
    spare = tmp_path / ".out.spare"
    for value in (None, 40, 50):
        if value:
            _edit_checkin(site, value)
        assert build(site, out, capsys) == 0
    # someone puts another folder there (a backup restored, say): it must not be used
    write.remove_tree(spare)
    shutil.copytree(out, spare)
    for path in spare.rglob("*.html"):
        path.write_text("planted")
    _edit_checkin(site, 60)
    assert build(site, out, capsys) == 0
    assert tree(out) == _fresh(site, tmp_path)
    assert b"planted" not in b"".join(tree(spare).values())


def test_output_changed_by_hand_is_rebuilt_whole(tmp_path: Path, capsys) -> None:
    """A page deleted from the output by hand, which the spare is behind on: the
    partial build cannot link it from the output, so it renders everything."""
    site = big_site(tmp_path / "site", 3)
    out = tmp_path / "out"
    for value in (None, 40, 50):
        if value:
            _edit_checkin(site, value)
        assert build(site, out, capsys) == 0
    # a page the last build changed (so the spare holds an older copy) ...
    changed = [p for p, data in tree(out).items() if tree(tmp_path / ".out.spare")[p] != data]
    page = next(p for p in changed if p.endswith(".html") and "team-0001" not in p)
    (out / page).unlink()  # ... deleted by hand; the next edit leaves it alone
    (site / "content/teams/team-0002.md").write_text(
        (site / "content/teams/team-0002.md").read_text() + "More charter.\n"
    )
    assert build(site, out, capsys) == 0
    assert tree(out) == _fresh(site, tmp_path)


def test_failure_while_updating_the_spare_keeps_the_site(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    site = big_site(tmp_path / "site", 3)
    out = tmp_path / "out"
    for value in (None, 40):
        if value:
            _edit_checkin(site, value)
        assert build(site, out, capsys) == 0
    assert (tmp_path / ".out.spare").is_dir()
    before = tree(out)
    real = write.update_tree

    def fail_half_way(root, holds, target, files, live) -> None:
        real(root, holds, target, files[:1], live)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write, "update_tree", fail_half_way)
    monkeypatch.setattr(incremental, "update_tree", fail_half_way)
    _edit_checkin(site, 50)
    assert build(site, out, capsys) == 1
    assert tree(out) == before
    assert not write._leftovers(out)
    monkeypatch.undo()
    assert build(site, out, capsys) == 0
    assert tree(out) == _fresh(site, tmp_path)


# --- the swap itself -------------------------------------------------------------------


def test_rename_exchange_swaps_atomically(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not write._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("b", "a")


def test_two_rename_fallback(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(write, "_exchange", lambda a, b: False)
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    assert build(site, out, capsys) == 0
    (site / "okrsite.toml").write_text('[site]\ntitle = "Second"\n')
    assert build(site, out, capsys) == 0
    assert b"Second" in (out / "index.html").read_bytes()
    assert not write._leftovers(out)


def test_failed_write_keeps_previous(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    write.publish(out, [OutputFile("index.html", b"old")])
    real = write.write_tree

    def fail_half_way(root: Path, files: list[OutputFile]) -> None:
        real(root, files[:1])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write, "write_tree", fail_half_way)
    with pytest.raises(write.PublishError, match="No space left"):
        write.publish(out, [OutputFile("index.html", b"new"), OutputFile("b.html", b"x")])
    assert tree(out) == {"index.html": b"old"}
    assert not write._leftovers(out)


# --- collisions and unsafe output paths --------------------------------------------


def test_case_insensitive_collision_is_okr027(tmp_path: Path, capsys) -> None:
    site = make_site(tmp_path / "site")
    static = site / "themes" / "mine" / "static"
    static.mkdir(parents=True)
    (site / "themes/mine/templates").mkdir()
    (site / "themes/mine/theme.toml").write_text('extends = "default"\n')
    (static / "Logo.svg").write_text("<svg/>")
    (static / "logo.svg").write_text("<svg/>")
    (site / "okrsite.toml").write_text('[site]\ntitle = "Acme"\ntheme = "mine"\n')
    out = tmp_path / "out"
    status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    err = capsys.readouterr().err
    assert status == 1
    assert "OKR027" in err and "assets/Logo.svg" in err and "assets/logo.svg" in err, err
    assert not out.exists()


def test_collisions_found() -> None:
    files = [OutputFile(p, b"") for p in ("a/B.html", "a/b.html", "x", "x/y.html", "ok.html")]
    assert write.find_collisions(files) == [("a/B.html", "a/b.html"), ("x", "x/y.html")]


@pytest.mark.parametrize(
    "path", ["../x.html", "/etc/passwd", "a/../../x", "a//b", "a\\..\\b", "./a", "a/\0b", "C:x"]
)
def test_unsafe_output_paths_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(write.PublishError):
        write.publish(tmp_path / "out", [OutputFile(path, b"x")])
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], [".out.lock"])


# --- reproducible output -----------------------------------------------------------


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    """Same content, theme and --today: the same bytes, whatever the hash seed."""
    site = big_site(tmp_path / "site", 5)
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        proc = subprocess.run(
            _build_argv(site, out),
            cwd=REPO,
            env={
                **os.environ,
                "PYTHONHASHSEED": seed,
                "TZ": "Pacific/Kiritimati" if seed == "2" else "UTC",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        trees.append(tree(out))
    assert trees[0] == trees[1]
    assert len(trees[0]) > 30


def test_in_process_builds_are_identical(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    first = build_site(site, tmp_path / "one", TODAY)
    second = build_site(site, tmp_path / "two", TODAY)
    assert first.published and second.published
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


# --- the output folder must never be something else -----------------------------------


def test_output_folder_that_is_the_site_is_refused(tmp_path: Path, capsys) -> None:
    """`okrsite build --site s --out s` once swapped the site away and deleted it."""
    site = make_site(tmp_path / "site")
    before = tree(site)
    status = main(["build", "--site", str(site), "--out", str(site), "--today", str(TODAY)])
    err = capsys.readouterr().err
    assert status == 1 and "refusing to replace" in err and "holds the site" in err, err
    assert tree(site) == before


def test_output_folder_holding_the_site_is_refused(tmp_path: Path, capsys) -> None:
    site = make_site(tmp_path / "outer" / "site")
    (tmp_path / "outer" / "index.html").write_text("looks like an output")
    before = tree(tmp_path / "outer")
    out = tmp_path / "outer"
    status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    err = capsys.readouterr().err
    assert status == 1 and "holds the site" in err, err
    assert tree(tmp_path / "outer") == before


@pytest.mark.parametrize(
    ("layout", "why"),
    [
        ({"notes.txt": "my notes"}, "no index.html"),
        ({".git/HEAD": "ref: refs/heads/main\n", "index.html": "x"}, "repository"),
        ({"content/x.md": "x", "index.html": "x"}, "site or repository"),
    ],
)
def test_foreign_output_folders_are_refused(tmp_path: Path, capsys, layout, why) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    for rel, text in layout.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    before = tree(out)
    status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    err = capsys.readouterr().err
    assert status == 1 and why in err, err
    assert tree(out) == before


def test_root_home_and_cwd_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for out in (Path("/"), Path.home(), tmp_path, tmp_path.parent):
        with pytest.raises(write.PublishError, match="refusing to replace"):
            write.publish(out, [OutputFile("index.html", b"x")])

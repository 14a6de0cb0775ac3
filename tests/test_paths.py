"""Paths: nothing in the content can write or read outside the output and site folders.

Ids and file names become URL segments and output paths; `edit_uri` becomes a
link; theme names (and a theme's `extends`) pick folders. None of them may
reach outside, and symbolic links in content or themes that point out of the
site are never followed into the output.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from okrsite.build import build_site, check_site
from okrsite.cli import main
from tests.sites import TODAY, make_site, tree

SECRET = b"TOP-SECRET-PAYROLL"


def outside(tmp_path: Path) -> Path:
    """A folder beside the site holding things that must never be published."""
    folder = tmp_path / "outside"
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "templates" / "base.html").write_bytes(SECRET)
    (folder / "secret.md").write_bytes(b"---\nname: Secret\nparent: company\n---\n" + SECRET)
    (folder / "static").mkdir(exist_ok=True)
    (folder / "static" / "leak.css").write_bytes(SECRET)
    return folder


def everything_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def assert_not_published(out: Path) -> None:
    if out.exists():
        assert not any(SECRET in data for data in tree(out).values())


def build(site: Path, out: Path) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["build", "--site", str(site), "--out", str(out), "--today", str(TODAY)])
    return status, err.getvalue()


# --- content ---------------------------------------------------------------------


def allowed(tmp_path: Path, path: Path) -> bool:
    """What a build may create: the output, its lock, the site's own build cache."""
    return (
        path == tmp_path / ".out.lock"
        or path.is_relative_to(tmp_path / "out")
        or path.is_relative_to(tmp_path / "site" / ".okrsite-cache")
    )


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        ("content/teams/..md", None),  # hidden files (a leading dot) are ignored
        ("content/teams/...md", None),
        ("content/cycles/2026-Q4/..%2f..md", None),
        ("content/teams/a..b.md", "OKR014"),
        ("content/teams/%2e%2e.md", "OKR014"),
        ("content/teams/a\\b.md", "OKR014"),
        ("content/teams/a:b.md", "OKR014"),
        ("content/cycles/2026-Q4/sales/..%2f2026-11-01.md", None),
        ("content/cycles/..%2f..%2fetc/x.md", None),
        ("content/cycles/2026-Q4/sales/x%2f..%2f2026-11-01.md", "OKR024"),
        ("content/cycles/x%2f..%2fetc/x.md", "OKR014"),
    ],
)
def test_file_names_cannot_escape(tmp_path: Path, rel: str, code: str | None) -> None:
    site = make_site(tmp_path / "site", {rel: "---\nname: X\nparent: company\n---\n"})
    before = everything_under(tmp_path)
    status, err = build(site, tmp_path / "out")
    assert "Traceback" not in err
    if code is None:
        assert status == 0, err
    else:
        assert status == 1 and f": {code} " in err, err
    assert all(allowed(tmp_path, p) for p in everything_under(tmp_path) - before)


def test_symlinks_out_of_the_site_are_not_followed(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    out_folder = outside(tmp_path)
    os.symlink(out_folder / "secret.md", site / "content/teams/secret.md")
    os.symlink(out_folder, site / "content/cycles/linked")
    status, err = build(site, tmp_path / "out")
    assert status == 1
    assert "content/teams/secret.md:1: OKR001" in err
    assert "content/cycles/linked: OKR001" in err
    assert not (tmp_path / "out").exists()


def test_symlink_inside_the_site_is_read(tmp_path: Path) -> None:
    """A link to another file of the same site is fine (e.g. a shared charter)."""
    site = make_site(tmp_path / "site", {"shared/ops.md": "---\nname: Ops\nparent: company\n---\n"})
    os.symlink(site / "shared/ops.md", site / "content/teams/ops.md")
    result = check_site(site, TODAY)
    assert "ops" in result.model.teams


# --- edit_uri, repo_url -------------------------------------------------------------


def test_edit_uri_is_only_a_link(tmp_path: Path) -> None:
    toml = (
        '[site]\ntitle = "Acme"\nrepo_url = "https://git.example.com/acme/okrs"\n'
        'edit_uri = "../../../../etc/"\n'
    )
    site = make_site(tmp_path / "site", {"okrsite.toml": toml})
    before = everything_under(tmp_path)
    status, err = build(site, tmp_path / "out")
    assert status == 0, err
    assert all(allowed(tmp_path, p) for p in everything_under(tmp_path) - before)
    page = (tmp_path / "out/teams/sales/index.html").read_text()
    assert 'href="https://git.example.com/acme/okrs/../../../../etc/content/teams/sales.md"' in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_repo_url_must_be_web(tmp_path: Path, url: str) -> None:
    site = make_site(
        tmp_path / "site", {"okrsite.toml": f'[site]\ntitle = "A"\nrepo_url = "{url}"\n'}
    )
    status, err = build(site, tmp_path / "out")
    assert status == 1 and "okrsite.toml:3: OKR026 repo_url" in err, err


# --- themes ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside", "/tmp", "a/b", "..", "Default", "x\\y"])
def test_theme_names_are_ids(tmp_path: Path, name: str) -> None:
    outside(tmp_path)
    toml = f'[site]\ntitle = "A"\ntheme = "{name.replace(chr(92), chr(92) * 2)}"\n'
    site = make_site(tmp_path / "site", {"okrsite.toml": toml})
    status, err = build(site, tmp_path / "out")
    assert status == 1 and "okrsite.toml:3: OKR026 theme" in err, err
    assert_not_published(tmp_path / "out")


@pytest.mark.parametrize("extends", ["../../outside", "/etc", "../site/themes/x", 42])
def test_theme_extends_cannot_leave_the_site(tmp_path: Path, extends) -> None:
    outside(tmp_path)
    site = make_site(tmp_path / "site", {"okrsite.toml": '[site]\ntitle = "A"\ntheme = "mine"\n'})
    (site / "themes/mine/templates").mkdir(parents=True)
    value = f'"{extends}"' if isinstance(extends, str) else extends
    (site / "themes/mine/theme.toml").write_text(f"extends = {value}\n")
    status, err = build(site, tmp_path / "out")
    assert status == 1 and "OKR028" in err and "theme name" in err, err
    assert_not_published(tmp_path / "out")


def test_theme_folder_symlinked_out_of_the_site(tmp_path: Path) -> None:
    folder = outside(tmp_path)
    site = make_site(tmp_path / "site", {"okrsite.toml": '[site]\ntitle = "A"\ntheme = "linked"\n'})
    (site / "themes").mkdir()
    os.symlink(folder, site / "themes/linked")
    status, err = build(site, tmp_path / "out")
    assert status == 1 and "OKR028" in err and "out of the site" in err, err
    assert_not_published(tmp_path / "out")


def test_theme_static_symlinks_are_not_published(tmp_path: Path) -> None:
    folder = outside(tmp_path)
    site = make_site(tmp_path / "site", {"okrsite.toml": '[site]\ntitle = "A"\ntheme = "mine"\n'})
    (site / "themes/mine/templates").mkdir(parents=True)
    (site / "themes/mine/theme.toml").write_text('extends = "default"\n')
    static = site / "themes/mine/static"
    static.mkdir()
    os.symlink(folder / "static/leak.css", static / "leak.css")
    os.symlink(folder / "static", static / "linked")
    status, err = build(site, tmp_path / "out")
    assert status == 0, err
    assert_not_published(tmp_path / "out")
    assert not (tmp_path / "out/assets/leak.css").exists()


def test_template_cannot_include_outside(tmp_path: Path) -> None:
    outside(tmp_path)
    site = make_site(tmp_path / "site", {"okrsite.toml": '[site]\ntitle = "A"\ntheme = "mine"\n'})
    templates = site / "themes/mine/templates"
    templates.mkdir(parents=True)
    (site / "themes/mine/theme.toml").write_text('extends = "default"\n')
    (templates / "teams.html").write_text('{% include "../../../../outside/templates/base.html" %}')
    out = tmp_path / "out"
    status, err = build(site, out)
    assert status == 1 and "OKR028" in err, err
    assert_not_published(out)


# --- output paths -----------------------------------------------------------------------


def test_every_output_path_is_inside_and_clean(tmp_path: Path) -> None:
    """Names from content (people's names become page slugs) stay plain segments."""
    files = {
        "content/teams/ops.md": (
            '---\nname: Ops\nparent: company\nlead: "../../../../etc/passwd"\n'
            'members: ["..", "/root", "C:\\\\Windows", "%2e%2e%2f", "Ölaf Ünder"]\n---\n'
        )
    }
    site = make_site(tmp_path / "site", files)
    result = build_site(site, tmp_path / "out", TODAY)
    assert result.published, [str(d) for d in result.diagnostics]
    for f in result.files:
        parts = f.path.split("/")
        assert not f.path.startswith("/") and ".." not in parts and "" not in parts, f.path
        assert "\\" not in f.path and ":" not in f.path and "%" not in f.path, f.path
    assert (tmp_path / "out/people/olaf-under/index.html").is_file()
    assert all(
        p.resolve().is_relative_to((tmp_path / "out").resolve())
        for p in (tmp_path / "out").rglob("*")
    )

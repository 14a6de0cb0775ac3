"""Output is identical whether built cold, warm, incrementally or in parallel.

The reference is the plain pipeline with no cache and no parallelism:
check_site → render_site → publish. Every fast path (okrsite.incremental.Builder
with its on-disk cache, its in-process rebuilds and its worker processes) must
produce the same output tree, byte for byte, and the same diagnostics.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import pickle
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from okrsite import cache, incremental
from okrsite import write as write_module
from okrsite.build import build_site, check_site
from okrsite.incremental import Builder
from tests.sites import TODAY, make_site, reference, tree

GENERATED_TODAY = dt.date(2026, 11, 22)


def _generator():
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("okrsite_bench_generate", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def diagnostics(site: Path, today: dt.date) -> list[str]:
    return [str(d) for d in check_site(site, today).diagnostics]


def write(site: Path, rel: str, text: str) -> Path:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A small generated organisation: 14 teams, two cycles, weekly check-ins."""
    site = tmp_path_factory.mktemp("gen") / "site"
    _generator().generate_site(site, teams=14, seed=3, today=GENERATED_TODAY)
    return site


@pytest.fixture
def gen_site(generated: Path, tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(generated, site)
    return site


def a_checkin(site: Path) -> Path:
    return sorted((site / "content" / "cycles").glob("*/*/*.md"))[-1]


def edit_checkin(path: Path) -> None:
    """Change the first update's value (or progress) and the narrative."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        if "value:" in line or "progress:" in line:
            key = "value:" if "value:" in line else "progress:"
            head, _, rest = line.partition(key)
            number = rest.strip().split(",")[0].split("}")[0]
            new = "0.99" if key == "progress:" else str(float(number) + 7)
            lines[i] = f"{head}{key} {new}{rest.strip()[len(number) :]}\n"
            break
    lines.append("\nOne more line after the edit.\n")
    path.write_text("".join(lines), encoding="utf-8")


# --- cold, parallel, warm ------------------------------------------------------------


def test_cold_build_matches_reference(gen_site: Path, tmp_path: Path) -> None:
    report = Builder(gen_site, tmp_path / "out", GENERATED_TODAY, cache=False, jobs=1).build()
    assert report.ok and report.full
    assert tree(tmp_path / "out") == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)
    assert [str(d) for d in report.diagnostics] == diagnostics(gen_site, GENERATED_TODAY)


def test_parallel_matches_serial(gen_site: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(incremental, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(incremental, "CHUNK_PAGES", 7)
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 1)
    parallel = Builder(gen_site, tmp_path / "par", GENERATED_TODAY, cache=False, jobs=2)
    report = parallel.build()
    assert report.ok
    # the manifest keeps the page list's path strings, not the copies workers sent back
    published = parallel._published
    keys = {id(path) for path in published.manifest}
    assert all(id(spec.path) in keys for spec in published.specs)
    serial = Builder(gen_site, tmp_path / "ser", GENERATED_TODAY, cache=False, jobs=1).build()
    assert serial.ok
    assert tree(tmp_path / "par") == tree(tmp_path / "ser")
    assert [str(d) for d in report.diagnostics] == [str(d) for d in serial.diagnostics]
    # an in-process rebuild that renders many pages also goes through the workers
    edit_checkin(a_checkin(gen_site))
    builder = Builder(gen_site, tmp_path / "par", GENERATED_TODAY, cache=False, jobs=2)
    builder.build()
    write(gen_site, "okrsite.toml", '[site]\ntitle = "Renamed"\n')
    assert builder.rebuild([gen_site / "okrsite.toml"]).ok
    assert tree(tmp_path / "par") == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)


def test_warm_build_with_disk_cache(gen_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = Builder(gen_site, out, GENERATED_TODAY).build()
    assert first.ok and first.full
    assert (gen_site / ".okrsite-cache" / ".gitignore").is_file()
    # no-op: nothing rendered but the site-wide pages, nothing written
    again = Builder(gen_site, out, GENERATED_TODAY).build()
    assert again.ok and not again.full and again.written == []
    assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)
    # one check-in changed: a new process renders only what it affects
    edit_checkin(a_checkin(gen_site))
    warm = Builder(gen_site, out, GENERATED_TODAY).build()
    assert warm.ok and not warm.full
    assert 0 < warm.rendered < first.rendered / 2
    assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)
    # the CLI path (build_site) uses the same cache
    a_checkin(gen_site).unlink()
    result = build_site(gen_site, out, GENERATED_TODAY)
    assert result.published
    assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)


def test_bad_or_old_cache_is_ignored(gen_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert Builder(gen_site, out, GENERATED_TODAY).build().ok
    state = next((gen_site / ".okrsite-cache").glob("state-*.pickle"))
    state.write_bytes(state.read_bytes()[:1000])  # truncated
    edit_checkin(a_checkin(gen_site))
    report = Builder(gen_site, out, GENERATED_TODAY).build()
    assert report.ok and report.full
    assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)
    state.write_bytes(b"not a pickle at all")
    assert Builder(gen_site, out, GENERATED_TODAY).build().ok
    # a cache that does not describe the output folder (someone changed it) is not trusted
    (out / "index.html").write_text("tampered")
    (out / "extra.html").write_text("tampered")
    assert Builder(gen_site, out, GENERATED_TODAY).build().full
    assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)


def test_today_change_renders_everything(gen_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert Builder(gen_site, out, GENERATED_TODAY).build().ok
    later = GENERATED_TODAY + dt.timedelta(days=3)
    report = Builder(gen_site, out, later).build()
    assert report.ok and report.full
    assert tree(out) == reference(gen_site, tmp_path / "ref", later)


# --- in-process rebuilds (the serve path) ----------------------------------------------

CHANGES = [
    "edit-checkin",
    "checkin-author",
    "checkin-drops-update",
    "add-checkin",
    "delete-checkin",
    "edit-okrs",
    "team-body",
    "team-name",
]


@pytest.mark.parametrize("change", CHANGES)
def test_rebuild_matches_cold_build(change: str, gen_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    builder = Builder(gen_site, out, GENERATED_TODAY, cache=False, jobs=1)
    full = builder.build()
    assert full.ok
    checkin = a_checkin(gen_site)
    team = checkin.parent.name
    if change == "edit-checkin":
        edit_checkin(checkin)
        touched = [checkin]
    elif change == "checkin-author":  # a new person, and one check-in less for another
        text = checkin.read_text(encoding="utf-8")
        checkin.write_text(re.sub(r"author: .*", 'author: "Zed Newcomer"', text, count=1))
        touched = [checkin]
    elif change == "checkin-drops-update":  # its key result's latest value is an older one
        text = checkin.read_text(encoding="utf-8")
        first = re.search(r"\n  [a-z0-9-]+: \{.*\}", text)
        assert first and text.count("\n  ") > 1
        checkin.write_text(text.replace(first.group(0), "", 1), encoding="utf-8")
        touched = [checkin]
    elif change == "add-checkin":
        day = (dt.date.fromisoformat(checkin.stem) - dt.timedelta(days=1)).isoformat()
        new = checkin.with_name(f"{day}.md")
        assert not new.exists()
        text = checkin.read_text(encoding="utf-8").replace(f"date: {checkin.stem}", f"date: {day}")
        new.write_text(text, encoding="utf-8")
        touched = [new]
    elif change == "delete-checkin":
        checkin.unlink()
        touched = [checkin]
    elif change == "edit-okrs":
        okrs = checkin.parent.with_suffix(".md")
        okrs.write_text(
            okrs.read_text(encoding="utf-8").replace("title: ", "title: Newly ", 1),
            encoding="utf-8",
        )
        touched = [okrs]
    elif change == "team-body":
        team_file = gen_site / "content" / "teams" / f"{team}.md"
        team_file.write_text(team_file.read_text(encoding="utf-8") + "\nA new charter line.\n")
        touched = [team_file]
    else:
        team_file = gen_site / "content" / "teams" / f"{team}.md"
        text = team_file.read_text(encoding="utf-8")
        team_file.write_text(text.replace("name: ", "name: Renamed ", 1), encoding="utf-8")
        touched = [team_file]
    report = builder.rebuild(touched)
    assert report.ok, [str(d) for d in report.diagnostics if d.is_error]
    assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY)
    assert [str(d) for d in report.diagnostics] == diagnostics(gen_site, GENERATED_TODAY)
    if change not in ("edit-okrs", "team-name"):
        assert not report.full and report.rendered < full.rendered / 2
    if change == "edit-checkin":  # one update changed: one key result's page, one check-in's
        assert len([p for p in report.rendered_paths if "/key-results/" in p]) == 1
        assert len([p for p in report.rendered_paths if "/checkins/20" in p]) == 1
    # only files whose bytes changed are written (or deleted, for a page gone)
    assert report.written and len(report.written) <= report.pages
    assert all((out / p).exists() or change == "delete-checkin" for p in report.written)


def folders(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


@pytest.mark.parametrize("path", ["serve", "cli"])
def test_many_edits_stay_equal_to_cold_builds(
    path: str, gen_site: Path, tmp_path: Path, monkeypatch
) -> None:
    """Many edits in a row, in one preview server (`serve`: one builder, in-process
    rebuilds) or as `okrsite build` after each (`cli`: a new builder that starts from
    the on-disk cache): what is kept between runs (the pieces of summary pages of
    okrsite/fragments.py, the stages' memos, the spare output tree of
    write.staged) never goes stale, including when alignment moves between teams."""
    clones = []
    real_clone = write_module._clone
    monkeypatch.setattr(write_module, "_clone", lambda *a: clones.append(a) or real_clone(*a))
    out = tmp_path / "out"
    builder = Builder(gen_site, out, GENERATED_TODAY, cache=path == "cli", jobs=1)
    assert builder.build().ok
    cycles = sorted((gen_site / "content" / "cycles").iterdir())
    running = sorted(p for p in cycles[-1].glob("*.md") if "aligns_to:" in p.read_text())
    aligned, text = running[-1], running[-1].read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines(keepends=True) if "aligns_to:" in ln)
    closed_checkin = sorted(cycles[0].glob("*/*.md"))[-1]
    gone = sorted(cycles[-1].glob("*/*.md"))[0]
    gone_text = gone.read_text(encoding="utf-8")

    def delete(path: Path) -> None:  # its page and the page's folder go
        path.unlink()

    def restore(path: Path) -> None:
        path.write_text(gone_text, encoding="utf-8")

    def unalign(path: Path) -> None:
        path.write_text(text.replace(line, "", 1), encoding="utf-8")

    def realign(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    def new_owner(path: Path) -> None:  # a new person: the people index gains a row
        owned = path.read_text(encoding="utf-8")
        assert "    owner: " in owned
        head, _, tail = owned.partition("    owner: ")
        path.write_text(f'{head}    owner: "Zed Newcomer"\n{tail.partition(chr(10))[2]}')

    steps = [
        (edit_checkin, a_checkin(gen_site)),
        (unalign, aligned),
        (edit_checkin, sorted(aligned.with_suffix("").glob("*.md"))[0]),
        (realign, aligned),
        (new_owner, aligned),
        (edit_checkin, closed_checkin),  # the closed cycle's final check-ins
        (delete, gone),
        (edit_checkin, a_checkin(gen_site)),
        (restore, gone),
    ]
    for change, edited in steps:
        change(edited)
        if path == "serve":
            report = builder.rebuild([edited])
        else:
            report = Builder(gen_site, out, GENERATED_TODAY, jobs=1).build()
        assert report.ok and not report.full, change.__name__
        assert tree(out) == reference(gen_site, tmp_path / "ref", GENERATED_TODAY), change.__name__
        assert folders(out) == folders(tmp_path / "ref"), change.__name__
    # `okrsite build` copies the output once (hard links); then it reuses the spare
    assert len(clones) == (1 if path == "cli" else 0)


def test_rebuild_after_config_and_template_change(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "okrsite.toml": '[site]\ntitle = "Acme OKRs"\ntheme = "mine"\n',
            "themes/mine/theme.toml": 'extends = "default"\n',
            "themes/mine/templates/footer.html": "<footer>mine v1</footer>\n",
        },
    )
    out = tmp_path / "out"
    builder = Builder(site, out, TODAY, cache=False, jobs=1)
    assert builder.build().ok
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)
    template = write(site, "themes/mine/templates/footer.html", "<footer>mine v2</footer>\n")
    report = builder.rebuild([template])
    assert report.ok and report.full
    assert b"mine v2" in (out / "index.html").read_bytes()
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)
    config = write(site, "okrsite.toml", '[site]\ntitle = "Acme Two"\ntheme = "mine"\n')
    report = builder.rebuild([config])
    assert report.ok and report.full
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)


def test_a_group_coming_back_takes_its_sorted_place(tmp_path: Path) -> None:
    """A team whose only check-in was invalid has no group in the model; when a
    rebuild makes it valid again, the group is back in the place a full build gives
    it (the later stages walk the groups in order)."""
    site = make_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    checkin = site / "content/cycles/2026-Q4/company/2026-11-10.md"  # before sales' group
    good = checkin.read_text(encoding="utf-8")
    checkin.write_text(good.replace("churn:", "chrun:"), encoding="utf-8")
    broken = builder.rebuild([checkin])
    assert ("2026-Q4", "company") not in broken.model.checkins  # type: ignore[union-attr]
    checkin.write_text(good, encoding="utf-8")
    fixed = builder.rebuild([checkin])
    assert fixed.ok
    fresh = check_site(site, TODAY).model
    assert list(fixed.model.checkins) == list(fresh.checkins)  # type: ignore[union-attr]


def test_rebuild_reports_errors_like_a_full_build_and_recovers(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = Builder(site, out, TODAY, cache=False, jobs=1)
    assert builder.build().ok
    before = tree(out)
    checkin = site / "content/cycles/2026-Q4/sales/2026-11-07.md"
    good = checkin.read_text(encoding="utf-8")
    checkin.write_text(good.replace("pipeline-value:", "pipeline-valu:"), encoding="utf-8")
    broken = builder.rebuild([checkin])
    assert not broken.ok and broken.written == []
    assert [str(d) for d in broken.diagnostics] == diagnostics(site, TODAY)
    assert any(d.code == "OKR018" for d in broken.diagnostics)
    assert tree(out) == before  # output untouched
    # a second, unrelated change while broken, then the fix: both must show
    other = site / "content/cycles/2026-Q4/company/2026-11-10.md"
    other.write_text(
        other.read_text(encoding="utf-8").replace("value: 4}", "value: 3.5}"), encoding="utf-8"
    )
    assert not builder.rebuild([other]).ok
    checkin.write_text(good.replace("320000", "330000"), encoding="utf-8")
    fixed = builder.rebuild([checkin])
    assert fixed.ok and not fixed.full
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)
    # YAML that does not parse, then a deleted file
    checkin.write_text("---\nupdates: [\n---\n", encoding="utf-8")
    broken = builder.rebuild([checkin])
    assert not broken.ok
    assert [str(d) for d in broken.diagnostics] == diagnostics(site, TODAY)
    checkin.unlink()
    assert builder.rebuild([checkin]).ok
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)


def test_rebuild_of_new_folder_and_editor_droppings(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = Builder(site, out, TODAY, cache=False, jobs=1)
    assert builder.build().ok
    swap = write(site, "content/cycles/2026-Q4/sales/.2026-11-12.md.swp", "junk")
    assert builder.rebuild([swap]).ok
    new_cycle = write(
        site,
        "content/cycles/2026-Q3/sales.md",
        """
        ---
        objectives:
          - id: pipeline
            title: Build a pipeline for the quarter
            key_results:
              - id: calls
                title: Calls per week reach ten
                start: 2
                target: 10
        ---
        """,
    )
    report = builder.rebuild([new_cycle.parent, new_cycle])
    assert report.ok
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)
    shutil.rmtree(new_cycle.parent)
    assert builder.rebuild([new_cycle.parent]).ok
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)


class _Boom:
    """Unpickling this runs code: what a planted cache file would do."""

    def __reduce__(self):
        return (
            exec,
            ("import pathlib; pathlib.Path(__import__('os').environ['OKRSITE_PWNED']).touch()",),
        )


def test_planted_cache_never_runs_code(tmp_path: Path, monkeypatch) -> None:
    """The cache lives in the site folder; a pickle someone commits there is not trusted."""
    site = make_site(tmp_path / "site")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    marker = tmp_path / "pwned"
    monkeypatch.setenv("OKRSITE_PWNED", str(marker))
    out = tmp_path / "out"
    assert Builder(site, out, TODAY).build().ok
    state = next((site / ".okrsite-cache").glob("state-*.pickle"))
    planted = pickle.dumps(_Boom())
    for content in (planted, b"\0" * 32 + planted):  # bare, and behind a guessed MAC
        state.write_bytes(content)
        report = Builder(site, out, TODAY).build()
        assert report.ok and report.full  # the cache was ignored, not loaded
        assert not marker.exists()
    # The machine key never lands in the site.
    assert (tmp_path / "home-cache" / "okrsite" / "cache-key").stat().st_mode & 0o077 == 0
    assert not any(p.name == "cache-key" for p in site.rglob("*"))


def test_checkin_edits_recheck_only_that_checkin(tmp_path: Path, monkeypatch) -> None:
    """validate's delta path (one edited check-in against the other files as they
    were) reports what a full check reports, for each error a check-in can have."""
    from okrsite import validate as validate_module

    site = make_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    calls = {"frame": 0, "checkin": 0}
    for name, key in (("_check_frame", "frame"), ("_check_checkin", "checkin")):
        real = getattr(validate_module, name)

        def counted(*args, _real=real, _key=key):
            calls[_key] += 1
            return _real(*args)

        monkeypatch.setattr(validate_module, name, counted)
    checkin = site / "content/cycles/2026-Q4/sales/2026-11-07.md"
    good = checkin.read_text(encoding="utf-8")
    edits = [
        good.replace("pipeline-value:", "pipeline-valu:"),  # OKR018 unknown key result
        good.replace("{value: ", "{done: true, value: "),  # OKR011 field of the other type
        good.replace("confidence: 0.7", "confidence: 1.7"),  # an error of the file alone
        good.replace("320000", "330000"),  # fine again, another number
        good.replace("author: Dana Ruiz", "author: Lee Chen"),  # moves between people
        good.replace("author: Dana Ruiz", "author: Nia Okafor"),  # someone new
        good,
    ]
    for text in edits:
        checkin.write_text(text, encoding="utf-8")
        calls.update(frame=0, checkin=0)
        report = builder.rebuild([checkin])
        assert calls == {"frame": 0, "checkin": 1}, text  # before check_site adds its own
        assert [str(d) for d in report.diagnostics] == diagnostics(site, TODAY)
        if report.ok:
            assert tree(tmp_path / "out") == reference(site, tmp_path / "ref", TODAY)
    assert report.ok


def test_page_whose_deps_changed_follows_its_new_deps(tmp_path: Path) -> None:
    """A page that gained a dependency in one rebuild (Lee's page, once Lee owns a
    key result) is re-rendered by a later change to it, though its PageSpec object
    stays the same then: the index of pages by key must have moved on with it."""
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = Builder(site, out, TODAY, cache=False, jobs=1)
    assert builder.build().ok
    okrs = site / "content/cycles/2026-Q4/sales.md"
    okrs.write_text(
        okrs.read_text(encoding="utf-8").replace(
            "title: Keep a qualified pipeline worth $500K",
            "title: Keep a qualified pipeline worth $500K\n        owner: Lee Chen",
        ),
        encoding="utf-8",
    )
    assert builder.rebuild([okrs]).ok
    assert "pipeline-value" in (out / "people/lee-chen/index.html").read_text(encoding="utf-8")
    checkin = site / "content/cycles/2026-Q4/sales/2026-11-07.md"
    checkin.write_text(
        checkin.read_text(encoding="utf-8").replace("320000", "410000"), encoding="utf-8"
    )
    report = builder.rebuild([checkin])
    assert report.ok and not report.full
    assert "people/lee-chen/index.html" in report.rendered_paths
    assert tree(out) == reference(site, tmp_path / "ref", TODAY)


def test_people_after_checkin_edits_equal_a_fresh_index(tmp_path: Path) -> None:
    """views.people's delta (new Person objects for the authors of changed groups
    only) lists each author's check-ins in the order a fresh index does."""
    from okrsite import views

    site = make_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    sales = site / "content/cycles/2026-Q4/sales/2026-11-07.md"
    company = site / "content/cycles/2026-Q4/company/2026-11-10.md"
    edits = [
        (sales, "author: Dana Ruiz", "author: Ada Lovelace"),  # Ada: company, then sales
        (company, "value: 4}", "value: 3.5}"),  # Ada's first group changes
    ]
    for path, old, new in edits:
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        report = builder.rebuild([path])
        assert report.ok
        used = builder._memos.people["people"][1]
        assert used == views.people(report.model)
        assert [c.team for c in used["Ada Lovelace"].checkins] == ["company", "sales"]

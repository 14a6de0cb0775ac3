"""Dependency tracking: which pages a change re-renders, and the caches behind it.

A check-in re-renders its team's pages in its cycle, the pages of every team
above it, the cycle's pages, dashboards and exports: not every page. Output
equality with a cold build is tests/test_perf_equivalence.py's job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import os
import pickle
import threading
from collections import Counter
from pathlib import Path

import pytest

from okrsite import incremental
from okrsite.cache import DiskCache, _owned, _Places, load_sources, markdown_texts
from okrsite.incremental import Builder, Memos, Shape, affected_keys
from okrsite.load import SourceFile, discover
from okrsite.markup import MarkdownRenderer
from okrsite.model import (
    CheckIn,
    Cycle,
    KeyResult,
    Objective,
    Source,
    Team,
    TeamOKRs,
    Update,
    pack_updates,
    unpack_updates,
)
from okrsite.packed import pack, text_key, unpack
from okrsite.pickling import pickled_by_fields
from okrsite.render import Context
from okrsite.rollup import KRRollup, Point, pack_history
from tests.sites import TODAY, make_site

OBJ_FIELDS = [f.name for f in dataclasses.fields(Objective)]
Q4 = Cycle("2026-Q4", TODAY.replace(month=10, day=1), TODAY.replace(month=12, day=31))

# company → sales → sales-eu, and company → product: a second branch
TREE = {
    "content/teams/sales-eu.md": """
        ---
        name: Sales Europe
        parent: sales
        lead: Mia Berg
        ---
    """,
    "content/teams/product.md": """
        ---
        name: Product
        parent: company
        lead: Kai Ito
        ---
    """,
    "content/cycles/2026-Q4/sales-eu.md": """
        ---
        objectives:
          - id: europe
            title: Win Europe
            aligns_to: sales/pipeline
            key_results:
              - id: eu-deals
                title: Deals closed in Europe reach twelve
                start: 0
                target: 12
              - id: eu-partners
                title: Partners signed in Europe reach four
                start: 0
                target: 4
        ---
    """,
    "content/cycles/2026-Q4/sales-eu/2026-11-12.md": """
        ---
        updates:
          eu-deals: {value: 5}
        ---
        Good week.
    """,
    "content/cycles/2026-Q4/product.md": """
        ---
        objectives:
          - id: delight
            title: Delight our users
            aligns_to: company/revenue
            key_results:
              - id: nps
                title: Net promoter score rises to fifty
                start: 20
                target: 50
              - id: tickets
                title: Support tickets per week fall to forty
                start: 90
                target: 40
        ---
    """,
}


def shape(**parents: str | None) -> Shape:
    teams = {tid: (tid.title(), parent, None, ()) for tid, parent in parents.items()}
    return Shape(teams, {"2026-Q4": Q4}, {})


def test_checkin_keys_reach_every_team_above() -> None:
    tree = shape(company=None, sales="company", **{"sales-eu": "sales", "product": "company"})
    keys = affected_keys(["content/cycles/2026-Q4/sales-eu/2026-11-12.md"], tree, tree)
    assert keys is not None
    for team in ("sales-eu", "sales", "company"):
        assert {f"team:2026-Q4/{team}", f"team:*/{team}"} <= keys
    assert {"*", "cycle:2026-Q4", "checkins:2026-Q4/sales-eu", "own:2026-Q4/sales-eu"} <= keys
    assert "file:content/cycles/2026-Q4/sales-eu/2026-11-12.md" in keys
    assert [k for k in keys if k.startswith("file:")] == [
        "file:content/cycles/2026-Q4/sales-eu/2026-11-12.md"
    ]
    assert "team:2026-Q4/product" not in keys and "team:*/product" not in keys
    assert "titles:2026-Q4" not in keys  # a check-in never changes titles


def _checkin(author: str, **values: float) -> CheckIn:
    updates = tuple(Update(kr, value=v) for kr, v in values.items())
    path = "content/cycles/2026-Q4/sales/2026-11-12.md"
    date = dt.date(2026, 11, 12)
    packed = pack_updates(updates)
    return CheckIn("sales", "2026-Q4", date, author, packed, pack(""), Source(path))


def _objective(objective_id: str, kr_id: str) -> Objective:
    kr = KeyResult(kr_id, kr_id.title(), "metric", 0, 10, None, 1.0, None, Source("x"))
    return Objective(
        objective_id, objective_id.title(), None, None, "committed", None, (kr,), Source("x")
    )


SALES_OKRS = TeamOKRs(
    "sales",
    "2026-Q4",
    (_objective("grow", "deals"), _objective("fill", "pipeline")),
    pack(""),
    Source("content/cycles/2026-Q4/sales.md"),
)


def _with(tree: Shape, *checkins: CheckIn) -> Shape:
    key = ("2026-Q4", "sales")
    return Shape(tree.teams, tree.cycles, {}, {key: checkins}, {key: SALES_OKRS})


def test_checkin_keys_name_the_key_results_it_moved() -> None:
    """A check-in edited in place affects the key results whose updates differ, and
    their objectives; one that comes, goes or changes its date also affects the list
    of the team's check-ins."""
    tree = shape(company=None, sales="company")
    path = ["content/cycles/2026-Q4/sales/2026-11-12.md"]
    before = _with(tree, _checkin("Ana", deals=1, pipeline=5))

    def extra(after: Shape, old: Shape = before) -> set[str]:
        keys = affected_keys(path, old, after)
        assert keys is not None
        return {k for k in keys if k.startswith(("kr:", "objective:", "dates:"))}

    deals = {"kr:2026-Q4/sales/deals", "objective:2026-Q4/sales/grow"}
    pipeline = {"kr:2026-Q4/sales/pipeline", "objective:2026-Q4/sales/fill"}
    assert extra(_with(tree, _checkin("Ana", deals=2, pipeline=5))) == deals
    assert extra(_with(tree, _checkin("Ana", deals=1, pipeline=5))) == set()
    assert extra(_with(tree, _checkin("Ana", deals=1))) == pipeline
    assert extra(_with(tree, _checkin("Bo", deals=1, pipeline=5))) == set()  # file: only
    everything = {"dates:2026-Q4/sales"} | deals | pipeline
    assert extra(_with(tree)) == everything  # deleted
    assert extra(before, old=_with(tree)) == everything  # new


def test_okr_file_changes_titles_and_old_and_new_parents() -> None:
    old = shape(company=None, sales="company", product="company", x="sales")
    new = shape(company=None, sales="company", product="company", x="product")
    keys = affected_keys(["content/cycles/2026-Q4/x.md"], old, new)
    assert keys is not None and {"titles:2026-Q4", "okrs:2026-Q4/x"} <= keys
    assert {"team:2026-Q4/sales", "team:2026-Q4/product", "team:2026-Q4/company"} <= keys


def test_team_changes() -> None:
    tree = shape(company=None, sales="company")
    body_only = affected_keys(["content/teams/sales.md"], tree, tree)
    assert body_only == {"*", "team:*/sales", "team:2026-Q4/sales", "file:content/teams/sales.md"}
    renamed = shape(company=None, sales="company")
    renamed.teams["sales"] = ("Revenue", "company", None, ())
    assert affected_keys(["content/teams/sales.md"], tree, renamed) is None
    assert affected_keys(["content/teams/new.md"], tree, shape(**tree.teams, new="company")) is None


def test_new_cycle_or_moved_person_page_renders_everything() -> None:
    tree = shape(company=None)
    more = Shape(tree.teams, {**tree.cycles, "2027-Q1": Q4}, {})
    assert affected_keys(["content/cycles/2027-Q1/company.md"], tree, more) is None
    old = Shape(tree.teams, tree.cycles, {"Ana": "ana"})
    new = Shape(tree.teams, tree.cycles, {"Ana": "ana-2", "Ána": "ana"})
    assert affected_keys([], old, new) is None


def test_files_outside_content_only_touch_site_wide_pages() -> None:
    tree = shape(company=None)
    assert affected_keys(["README.md", "content/stray.md"], tree, tree) == {"*"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site", TREE)


def rebuilt(builder: Builder, path: Path, old: str, new: str) -> list[str]:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    report = builder.rebuild([path])
    assert report.ok, [str(d) for d in report.diagnostics]
    assert not report.full
    return report.rendered_paths


def test_checkin_rerenders_its_team_ancestors_dashboards_exports_not_everything(
    site: Path, tmp_path: Path
) -> None:
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    first = builder.build()
    assert first.ok and first.full
    checkin = site / "content/cycles/2026-Q4/sales-eu/2026-11-12.md"
    paths = set(rebuilt(builder, checkin, "value: 5", "value: 6"))
    expected = {
        "cycles/2026-Q4/sales-eu/checkins/2026-11-12/index.html",  # the check-in
        "cycles/2026-Q4/sales-eu/index.html",  # its team in the cycle
        "cycles/2026-Q4/sales-eu/key-results/eu-deals/index.html",  # its key results
        "cycles/2026-Q4/sales-eu/objectives/europe/index.html",  # its objective
        "teams/sales-eu/index.html",  # its team
        "cycles/2026-Q4/sales/index.html",  # the teams above: subtree progress
        "cycles/2026-Q4/company/index.html",
        "teams/sales/index.html",
        "teams/company/index.html",
        "index.html",  # dashboards and indexes
        "cycles/2026-Q4/index.html",
        "api/2026-Q4.json",  # exports
        "api/2026-Q4.csv",
        "feed.xml",
    }
    assert expected <= paths, expected - paths
    unaffected = {
        "cycles/2026-Q4/product/index.html",
        "teams/product/index.html",
        "cycles/2026-Q4/product/key-results/nps/index.html",
        "cycles/2026-Q4/sales/checkins/2026-11-07/index.html",
    }
    assert not unaffected & paths, unaffected & paths
    assert len(paths) < first.rendered


def test_okr_file_rerenders_pages_naming_goals(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    okrs = site / "content/cycles/2026-Q4/sales-eu.md"
    paths = set(rebuilt(builder, okrs, "title: Win Europe", "title: Win all of Europe"))
    # sales' page lists what supports its objective: it names sales-eu's objective
    assert "cycles/2026-Q4/sales/index.html" in paths
    assert "cycles/2026-Q4/sales-eu/objectives/europe/index.html" in paths
    assert "teams/product/index.html" not in paths


def test_team_charter_rerenders_that_team_only(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    team = site / "content/teams/product.md"
    team.write_text(team.read_text(encoding="utf-8") + "We build the product.\n")
    report = builder.rebuild([team])
    assert report.ok and not report.full
    assert "teams/product/index.html" in report.rendered_paths
    assert "teams/sales/index.html" not in report.rendered_paths
    assert "cycles/2026-Q4/sales-eu/index.html" not in report.rendered_paths


def test_unchanged_bytes_are_not_rewritten(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    builder = Builder(site, out, TODAY, cache=False, jobs=1)
    assert builder.build().ok
    untouched = out / "teams/product/index.html"
    before = untouched.stat().st_ino
    checkin = site / "content/cycles/2026-Q4/sales-eu/2026-11-12.md"
    checkin.write_text(checkin.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    report = builder.rebuild([checkin])
    assert report.ok
    assert "cycles/2026-Q4/sales-eu/checkins/2026-11-12/index.html" in report.written
    assert "teams/product/index.html" not in report.written
    assert untouched.stat().st_ino == before
    # saving a file without changing it renders but writes nothing
    checkin.write_text(checkin.read_text(encoding="utf-8"), encoding="utf-8")
    assert builder.rebuild([checkin]).written == []


def test_records_are_reused_by_signature_then_by_digest(site: Path) -> None:
    paths, _ = discover(site)
    first, misses = load_sources(site, paths, {}, "sanitize")
    assert misses == paths
    again, misses = load_sources(site, paths, first, "sanitize")
    assert misses == [] and all(again[p] is first[p] for p in paths)
    touched = site / paths[0]
    os.utime(touched, ns=(1, 1))  # new signature, same bytes
    third, misses = load_sources(site, paths, again, "sanitize")
    assert misses == [paths[0]]
    assert third[paths[0]].result is first[paths[0]].result  # not parsed again


def test_records_keep_html_packed(site: Path) -> None:
    """Records hold each text's HTML compressed (half the memory), as plain bytes
    (pickling a Markup would copy its text into the pickler's memo), under a digest
    of the text, so that the text itself need not be kept."""
    paths, _ = discover(site)
    records, _ = load_sources(site, paths, {}, "sanitize")
    fresh = MarkdownRenderer("sanitize")
    found = 0
    for record in records.values():
        texts = markdown_texts(record.result[0]) if record.result else []
        html = dict(record.html)
        assert len(html) == len(record.html) == len({text_key(text) for text in texts})
        for text in texts:
            packed = html[text_key(text)]
            assert type(packed) is bytes and unpack(packed) == str(fresh.render(text))
            assert len(packed) <= len(unpack(packed).encode()) + 1
            found += "<p>" in unpack(packed)
    assert found
    narrative = "\n\n".join(
        f"Week {n}: *shipped* the {n}th fix, **no** blockers." for n in range(40)
    )
    html = str(fresh.render(narrative))
    assert len(pack(html)) < len(html) / 2 and unpack(pack(html)) == html


def test_content_files_keep_their_bodies_packed(site: Path) -> None:
    """A file's Markdown body is most of its memory (a check-in's narrative above all):
    the model keeps it packed, and `body` gives it back as written."""
    paths, _ = discover(site)
    records, _ = load_sources(site, paths, {}, "sanitize")
    found = [r.result[0] for r in records.values() if r.result and r.result[0] is not None]
    assert {type(obj) for obj in found} >= {Team, TeamOKRs, CheckIn}
    for obj in found:
        written = (site / obj.source.path).read_text().split("---\n", 2)[2]
        assert obj.body == written and obj.packed_body == pack(written)
    long = CheckIn("t", "c", TODAY, None, (), pack("A calm week. " * 100), Source("x.md"))
    assert long.body == "A calm week. " * 100 and len(long.packed_body) < 100


def test_records_share_the_texts_that_recur(site: Path) -> None:
    """An id written in many files is one string object in memory, not one a file."""
    paths, _ = discover(site)
    records, _ = load_sources(site, paths, {}, "sanitize")
    checkins = [r.result[0] for r in records.values() if isinstance(r.result[0], CheckIn)]
    copies: dict[str, list[int]] = {}  # text -> id() of each occurrence
    for checkin in checkins:
        for text in (checkin.cycle, *(u.key_result for u in checkin.updates)):
            copies.setdefault(text, []).append(id(text))
    recurring = [ids for ids in copies.values() if len(ids) > 1]
    assert recurring and all(len(set(ids)) == 1 for ids in recurring)


def test_disk_cache_round_trip_and_corruption(site: Path, tmp_path: Path) -> None:
    disk = DiskCache(site)
    assert disk.load() == {}
    assert Builder(site, tmp_path / "out", TODAY).build().ok
    state = disk.load()
    assert set(state["records"]) == set(discover(site)[0])
    assert (site / ".okrsite-cache/.gitignore").read_text().strip().endswith("*")
    disk.path.write_bytes(b"\x80\x05garbage")
    assert disk.load() == {}


def _reachable(*roots: object) -> list[object]:
    seen: dict[int, object] = {}
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) not in seen and not isinstance(obj, str | bytes | int | float | type):
            seen[id(obj)] = obj
            stack.extend(gc.get_referents(obj))
    return list(seen.values())


def test_saved_memos_point_at_the_loaded_records_objects(site: Path, tmp_path: Path) -> None:
    """The cache holds the records in batches and the rest of the state apart; the
    stages' memos must find the very objects of the loaded records again (they
    compare by identity), or a warm build would recompute every team."""
    assert Builder(site, tmp_path / "out", TODAY).build().ok
    state = DiskCache(site).load()
    owned = {id(obj) for record in state["records"].values() for obj in _owned(record)}
    kinds = (SourceFile, Team, TeamOKRs, CheckIn, Objective, KeyResult)
    rest = [state[name] for name in Memos.__dataclass_fields__] + [state["published"]]
    shared = [obj for obj in _reachable(*rest) if isinstance(obj, kinds)]
    assert {type(obj) for obj in shared} == set(kinds)
    assert [obj for obj in shared if id(obj) not in owned] == []


def test_the_saved_parts_share_what_they_shared(site: Path, tmp_path: Path) -> None:
    """The parts of the state are pickled apart (cache.DiskCache); an object two parts
    held must still be one object after loading, not a copy in each: the memos compare
    by identity (a copy makes the next build recompute what it holds) and copies cost
    memory. Loading must give as many objects as loading the parts pickled as one
    (counted by type; texts and numbers are left out, their copies are harmless)."""
    builder = Builder(site, tmp_path / "out", TODAY)
    saved: dict = {}
    builder.disk.save = lambda records, parts, shared: saved.update(  # type: ignore[union-attr]
        records=records, parts=parts, shared=shared
    )
    assert builder.build().ok
    records, parts, shared = saved["records"], saved["parts"], saved["shared"]
    assert len(parts) > 1

    def loaded(parts: list[dict]) -> Counter:
        DiskCache(site).save(records, parts, shared)
        state = DiskCache(site).load()
        assert state.keys() == {"records"} | {name for part in parts for name in part}
        return Counter(type(obj).__name__ for obj in _reachable(*state.values()))

    apart, together = loaded(parts), loaded([{k: v for part in parts for k, v in part.items()}])
    assert together["Person"] and together["PageSpec"] and together["KRRollup"]
    assert apart == together

    # Nor may a record's object come back as a copy beside it (one left out of
    # cache._owned that a memo holds): as many of okrsite's objects as were saved.
    # (Python's own are left out: a date both a record and a memo hold is harmlessly
    # loaded twice.)
    def ours(objects: list[object]) -> Counter:
        mine = [obj for obj in objects if type(obj).__module__.startswith("okrsite.")]
        return Counter(type(obj).__name__ for obj in mine)

    state = DiskCache(site).load()  # the parts pickled together, as last saved
    assert ours(_reachable({r.path: r for r in records.values()}, *parts)) == ours(
        _reachable(*state.values())
    )


def test_a_page_context_reads_like_the_dict_it_replaces() -> None:
    """render.Context (a page's own template variables) is read as a dict was: by
    `**`, `[]`, `get` and `in`, None kept as a value (the dashboard tests
    `cycle_id is none`), and it pickles to the same names and values."""
    context = Context(cycle_id=None, team_id="sales")
    assert dict(**context) == {"cycle_id": None, "team_id": "sales"}
    assert context["team_id"] == "sales" and context.get("kr") is None and "cycle_id" in context
    with pytest.raises(KeyError):
        context["kr"]
    loaded = pickle.loads(pickle.dumps(context, protocol=5))
    assert loaded == context and loaded.names is Context(cycle_id=1, team_id=2).names


def test_the_page_list_loads_back_whole(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page list is saved in parts of its own, the manifest as digests in its
    order and the page memo as positions in it (Builder._save_disk). Loaded, they
    are what was saved, and the memo holds the very pages of the list (rebuilds
    compare them by identity); a context shared by pages stays one object."""
    monkeypatch.setattr(incremental, "SPECS_PER_PART", 5)  # many parts for a small site
    first = Builder(site, tmp_path / "out", TODAY)
    assert first.build().ok
    before = first._published
    second = Builder(site, tmp_path / "out", TODAY)
    second._load_disk()
    after = second._published
    assert before is not None and after is not None and len(before.specs) > 20
    assert [(s.path, s.template, s.deps) for s in after.specs] == [
        (s.path, s.template, s.deps) for s in before.specs
    ]
    assert after.manifest == before.manifest and len(after.manifest) > len(after.specs)

    def shared(specs: list) -> list[int]:
        return [i for i in range(1, len(specs)) if specs[i].context is specs[i - 1].context]

    assert shared(after.specs) == shared(before.specs) != []
    memo = second._memos.pages
    assert memo["last"][1] is after.specs
    where = {id(spec) for spec in after.specs}
    groups = [value[1] for key, value in memo.items() if key != "last"]
    assert len(groups) > 5 and all(id(page) in where for pages in groups for page in pages)
    assert second.build().written == []  # and it describes the output as it is


def test_saving_finds_each_object_by_identity_at_its_first_place() -> None:
    """The persistent ids of a save (cache._Places): an object's place in the list,
    its first if listed twice; an equal object that is another one, or one never
    listed, has none. Thousands of objects, so that slots collide."""
    objects = [[n] for n in range(20_000)]
    places = _Places(objects + objects[:50])
    assert [places.find(obj) for obj in objects] == list(range(20_000))
    assert places.find([0]) is None and places.find(objects[0][0]) is None
    assert all(places.find([n]) is None for n in range(20_000))


def test_the_summary_pieces_load_back_from_the_disk_cache(site: Path, tmp_path: Path) -> None:
    """A warm `okrsite build` reuses them: without them it renders every summary page.
    Saved as places in the published pages, not as bytes."""
    builder = Builder(site, tmp_path / "out", TODAY)
    assert builder.build().ok
    made = builder._fragments._pages
    loaded = DiskCache(site).load()["fragments"]._pages
    assert made and loaded.keys() == made.keys()
    assert [loaded[k].settled for k in made] == [made[k].settled for k in made]
    assert all(kept.settled and not kept.held and kept.stamp for kept in loaded.values())
    for page, kept in loaded.items():  # each stamp is the published file's
        assert kept.stamp[2] == (tmp_path / "out" / page).stat().st_size


def test_slots_dataclasses_pickle_as_their_field_values() -> None:
    objective = Objective("o", "Grow", None, None, "committed", None, (), Source("a.md", 3))
    assert objective.__reduce__() == (Objective, tuple(getattr(objective, f) for f in OBJ_FIELDS))
    assert pickle.loads(pickle.dumps(objective)) == objective
    assert pickle.loads(pickle.dumps(Source("a.md"))) == Source("a.md")  # one field + default

    @dataclasses.dataclass(slots=True)
    class Derived:
        name: str
        size: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="__init__ argument"):
        pickled_by_fields(Derived)


def test_key_result_histories_kept_packed_and_exact() -> None:
    """A KRRollup keeps its history as one bytes object (rollup.pack_history); what
    `history` gives back, and what a pickle loads, must be equal and of the same types
    (an int confidence from YAML prints as `1`, not `1.0`), and a value bytes cannot
    hold exactly keeps the plain form."""
    day = dt.date(2026, 11, 2)
    history = (
        Point(day, 0.25, None),
        Point(day + dt.timedelta(7), 1, 0),
        Point(day + dt.timedelta(14), 0.5, 0.35),
        Point(day + dt.timedelta(21), 0.0, 1),
    )
    rollup = KRRollup(120.0, 0.5, 0.35, None, "on plan", "on-track", None, pack_history(history))
    assert type(rollup.packed_history) is bytes
    loaded = pickle.loads(pickle.dumps(rollup, protocol=5))
    assert loaded == rollup
    for kept in (rollup, loaded):
        assert kept.history == history
        assert kept.point_count == len(history)  # counted without making the points
        types = [(type(p.date), type(p.progress), type(p.confidence)) for p in kept.history]
        assert types == [(type(p.date), type(p.progress), type(p.confidence)) for p in history]
    for odd in (True, 2**60 + 1):  # a bool, an int a double cannot hold
        points = (Point(day, odd, None),)
        plain = dataclasses.replace(rollup, packed_history=pack_history(points))
        assert plain.packed_history == points and plain.point_count == 1
        again = pickle.loads(pickle.dumps(plain, protocol=5))
        assert again == plain and type(again.history[0].progress) is type(odd)


def test_check_in_updates_kept_packed_and_exact() -> None:
    """A check-in keeps its updates as bytes and strings (model.pack_updates); what
    `updates` gives back is equal and of the same types (an int from YAML prints as
    `3`, not `3.0`), and a value a double cannot hold exactly keeps the plain form."""
    updates = (
        Update("signups", value=120, confidence=0.5, line=4),
        Update("launch", progress=0.25, done=False, note="Slipped a week", line=7),
        Update("docs", done=True, grade=1, line=9),
        Update("churn", value=-3.75, confidence=None, progress=None, line=2**31),
    )
    for given in (updates, updates[:1] + updates[2:], ()):  # with notes, without, none
        packed = pack_updates(given)
        assert given == () or type(packed[0]) is bytes
        back = unpack_updates(packed)
        assert back == given
        assert [[type(getattr(u, f.name)) for f in dataclasses.fields(u)] for u in back] == [
            [type(getattr(u, f.name)) for f in dataclasses.fields(u)] for u in given
        ]
    checkin = _checkin("ana", signups=120, churn=2.5)
    assert type(checkin.packed_updates[0]) is bytes
    assert [(u.key_result, u.value) for u in checkin.updates] == [("signups", 120), ("churn", 2.5)]
    assert checkin.update_count == 2 and checkin.updates_of("churn") == checkin.updates[1:]
    assert checkin.updates_of("nps") == ()
    twice = (Update("signups", value=1), Update("signups", value=2))  # not from a map
    assert pack_updates(twice) is twice
    for odd in (True, 2**60 + 1):  # a bool, an int a double cannot hold
        plain = (Update("signups", value=odd), Update("churn", value=1.5))
        assert pack_updates(plain) is plain and unpack_updates(plain) is plain
        kept = dataclasses.replace(checkin, packed_updates=plain)
        assert kept.update_count == 2 and kept.updates_of("churn") == plain[1:]


def test_rebuilds_never_run_concurrently(site: Path, tmp_path: Path) -> None:
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    checkin = site / "content/cycles/2026-Q4/sales-eu/2026-11-12.md"
    active, overlaps, reports = [0], [], []
    stages = builder._stages

    def watched(*args):
        active[0] += 1
        overlaps.append(active[0])
        try:
            return stages(*args)
        finally:
            active[0] -= 1

    builder._stages = watched  # type: ignore[method-assign]
    threads = [
        threading.Thread(target=lambda: reports.append(builder.rebuild([checkin])))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(overlaps) == 1 and all(r.ok for r in reports)


def test_forked_workers_collect_garbage_while_the_builder_pauses_collection() -> None:
    """The builder pauses the collector (incremental._no_gc); its render workers, each
    rendering thousands of pages that leave reference cycles, must not."""
    import gc

    from okrsite.cache import can_fork, fork_pool

    if not can_fork():
        pytest.skip("no fork on this platform")
    gc.disable()
    try:
        with fork_pool(2) as pool:
            assert pool.apply(gc.isenabled) is True
        assert gc.get_freeze_count() == 0  # the parent's heap is frozen only while forking
    finally:
        gc.enable()


def test_a_worker_keeps_no_pieces_and_makes_the_same_pages(site: Path, tmp_path: Path) -> None:
    """A worker's pieces would serve no later rebuild (kept, they grew it by its pages'
    size), so it makes none: its pages are the same bytes all the same."""
    import okrsite.incremental as incremental
    from okrsite.build import check_site
    from okrsite.render import SiteRenderer, page_specs

    checked = check_site(site, TODAY)
    renderer = SiteRenderer(checked.model, checked.rollups, site)
    specs = page_specs(checked.model, renderer.current, renderer.people)
    incremental._RENDER = (renderer, specs, None)
    try:
        files = incremental._render_range((0, len(specs)))
    finally:
        incremental._RENDER = None
    assert len(files) == len(specs)
    assert renderer.fragments._pages == {}
    parent = SiteRenderer(checked.model, checked.rollups, site)
    assert [parent.render(spec) for spec in specs] == files
    assert parent.fragments._pages  # rendering in the parent keeps them

"""Pieces of summary pages (okrsite/fragments.py): which are made again, and when."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from okrsite import urls, views
from okrsite.build import check_site
from okrsite.fragments import FragmentCache, _Settled
from okrsite.incremental import Builder
from okrsite.packed import pack
from okrsite.render import Context, PageSpec, SiteRenderer
from okrsite.rollup import cycle_rollup
from tests.sites import TODAY, make_site
from tests.test_perf_equivalence import GENERATED_TODAY, _generator
from tests.test_site_pages import RICH


class CountingCache(FragmentCache):
    """A FragmentCache that records the pieces it had to make."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[str] = []

    def piece(self, page, name, deps, make):
        def counted():
            self.made.append(name)
            return make()

        return super().piece(page, name, deps, counted)


def test_fragment_each_makes_again_only_the_pieces_a_change_affects(tmp_path):
    site = make_site(tmp_path / "site", RICH)
    checked = check_site(site, TODAY)
    cache = CountingCache()
    renderer = SiteRenderer(checked.model, checked.rollups, site, fragments=cache)
    cycle_page = PageSpec(urls.cycle_page("2026-Q4"), "cycle.html", Context(cycle_id="2026-Q4"))
    first = renderer.render(cycle_page).content
    teams = list(checked.model.teams)
    assert {f"row/{t}" for t in teams if ("2026-Q4", t) in checked.model.okrs} <= set(cache.made)

    cache.made.clear()
    assert renderer.render(cycle_page).content == first
    assert cache.made == []  # every piece kept

    cache.forget({"team:2026-Q4/emea"})
    cache.made.clear()
    assert renderer.render(cycle_page).content == first
    # emea's rows, and the team tree's path down to emea (an outer piece shows the
    # inner ones' keys): company > sales > emea. No other team's piece.
    assert sorted(cache.made) == sorted(
        [
            "row/emea",
            "objectives/emea",
            "tree/2026-Q4/company/False/0",
            "tree/2026-Q4/sales/False/1",
            "tree/2026-Q4/emea/False/2",
        ]
    )
    fresh = SiteRenderer(checked.model, checked.rollups, site).render(cycle_page).content
    assert first == fresh


class Tree:
    """A page of two subtrees (pieces) of two leaves each (pieces), its leaves' texts
    editable, rendered through a CountingCache."""

    def __init__(self, cache: CountingCache):
        self.cache = cache
        self.leaves = {"a1": "<li>a1 é</li>", "a2": "<li>a2</li>", "b1": "<li>b1</li>", "b2": ""}

    def leaf(self, name: str) -> str:
        return self.cache.piece("p.html", name, [f"leaf:{name}"], lambda: self.leaves[name])

    def branch(self, name: str) -> str:
        make = lambda: f"<ul>{self.leaf(name + '1')}{self.leaf(name + '2')}</ul>"  # noqa: E731
        return self.cache.piece("p.html", name, [f"branch:{name}"], make)

    def render(self) -> bytes:
        return self.cache.assemble(f"<main>{self.branch('a')} · {self.branch('b')}</main>")

    def fresh(self) -> bytes:
        return f"<main><ul>{self.leaves['a1']}{self.leaves['a2']}</ul> · <ul>{self.leaves['b1']}{self.leaves['b2']}</ul></main>".encode()


def publish(cache: FragmentCache, root, page: bytes) -> None:
    (root / "p.html").write_bytes(page)
    cache.published()
    cache.settle()


def test_settled_places_give_back_what_was_settled() -> None:
    """Settled places are kept compact (names in one string, numbers in arrays);
    each entry comes back as it went in, also for a name holding the separator,
    which keeps its names as a tuple."""
    for odd in ("c", "c\x00d"):
        entries = {
            "a": (("k:1",), None, 10, 40, (odd, "b")),
            odd: (None, "a", 0, 5, ()),
            "b": (("k:2", "k:3"), "a", 7, 30, ()),
        }
        settled = _Settled(entries)
        assert type(settled.names) is (str if odd == "c" else tuple)
        assert {name: settled[name] for name in entries} == entries and "x" not in settled
        assert list(settled.shown()) == [("a", ("k:1",)), ("b", ("k:2", "k:3"))]
        settled.forget("b")
        assert settled["b"] == (None, "a", 7, 30, ()) and len(settled) == 3
    # Places take 4 bytes each, 8 where one does not fit (a page of 2 GiB or more).
    assert _Settled({"a": (("k",), None, 10, 40, ())}).places.itemsize == 4
    huge = {"a": (("k",), None, 2**31, 2**33, ())}
    assert _Settled(huge)["a"] == huge["a"]


def test_published_pieces_are_kept_as_places_and_read_back(tmp_path):
    """Held while the page is rendered again and again; once published and settled,
    only where they lie in the file: the page's next render reads them back."""
    cache = CountingCache()
    tree = Tree(cache)
    cache.begin(tmp_path)
    page = tree.render()
    assert page == tree.fresh()
    kept = cache._pages["p.html"]
    assert set(kept.held) == {"a", "a1", "a2", "b", "b1", "b2"} and not kept.settled
    publish(cache, tmp_path, page)
    assert not kept.held and kept.stamp[2] == len(page)
    deps, holder, start, size, inner = kept.settled["a"]
    assert (
        holder is None
        and page[start : start + size] == "<ul><li>a1 é</li><li>a2</li></ul>".encode()
    )
    assert deps == ("branch:a", "leaf:a1", "leaf:a2")  # an outer piece shows the inner keys
    assert inner == ("a1", "a2")
    _, holder, a2_start, a2_size, _ = kept.settled["a2"]  # placed in its branch
    assert holder == "a" and page[start + a2_start : start + a2_start + a2_size] == b"<li>a2</li>"
    assert kept.settled["b2"][1:4] == ("b", 0, 0)  # an empty piece is kept too

    cache.begin(tmp_path)
    cache.made.clear()
    assert tree.render() == page and cache.made == []
    assert set(kept.held) == {"a", "a1", "a2", "b", "b1", "b2"}  # held again
    publish(cache, tmp_path, page)

    # A leaf changes: its branch is made again around the other leaf, which is read
    # back through the forgotten branch's place; the other branch is reused whole.
    tree.leaves["a1"] = "<li>A1, longer</li>"
    cache.forget({"leaf:a1"})
    cache.begin(tmp_path)
    assert tree.render() == tree.fresh() and sorted(cache.made) == ["a", "a1"]
    publish(cache, tmp_path, tree.fresh())
    tree.leaves["b1"] = "<li>B1</li>"
    cache.forget({"leaf:b1"})
    cache.made.clear()
    cache.begin(tmp_path)
    assert tree.render() == tree.fresh() and sorted(cache.made) == ["b", "b1"]


def test_a_piece_left_out_of_its_remade_holder_is_never_read_at_its_old_place(tmp_path):
    """Places are relative to the holding piece: once that is made again without
    it, the old place points at other bytes, so the piece must be made again."""
    cache = CountingCache()
    tree = Tree(cache)
    layout = {"a": ["a1", "a2"]}

    def branch(name: str) -> str:
        make = lambda: "<ul>" + "".join(tree.leaf(leaf) for leaf in layout[name]) + "</ul>"  # noqa: E731
        return cache.piece("p.html", name, [f"branch:{name}"], make)

    def render(top: list[str]) -> bytes:
        return cache.assemble(
            "<main>" + "".join(tree.leaf(t) for t in top) + branch("a") + "</main>"
        )

    def fresh(top: list[str]) -> bytes:
        leaves = "".join(tree.leaves[leaf] for leaf in layout["a"])
        return (
            "<main>" + "".join(tree.leaves[t] for t in top) + f"<ul>{leaves}</ul></main>"
        ).encode()

    cache.begin(tmp_path)
    publish(cache, tmp_path, render([]))
    layout["a"] = ["a2"]  # a1 leaves the branch; a1 itself did not change
    cache.forget({"branch:a"})
    cache.begin(tmp_path)
    publish(cache, tmp_path, render([]))
    assert "a1" not in cache._pages["p.html"].settled
    cache.made.clear()
    cache.begin(tmp_path)
    assert render(["a1"]) == fresh(["a1"])  # placed again elsewhere: made, not misread
    assert cache.made == ["a1"]


def test_a_page_file_changed_since_publishing_makes_its_pieces_again(tmp_path):
    cache = CountingCache()
    tree = Tree(cache)
    cache.begin(tmp_path)
    page = tree.render()
    publish(cache, tmp_path, page)
    (tmp_path / "p.html").write_bytes(page.replace(b"a2", b"XX"))  # same size, by hand
    cache.made.clear()
    assert tree.render() == page
    assert sorted(cache.made) == ["a", "a1", "a2", "b", "b1", "b2"]


def test_pieces_of_a_build_that_did_not_publish_stay_held(tmp_path):
    """Settled only after a publish: a failed build's pages never point at files
    it did not write."""
    cache = CountingCache()
    tree = Tree(cache)
    cache.begin(tmp_path)
    page = tree.render()
    (tmp_path / "p.html").write_bytes(page)
    cache.begin(tmp_path)  # the next build: this page was assembled before it
    cache.published()
    cache.settle()
    assert cache._pages["p.html"].held and not cache._pages["p.html"].settled


def test_days_of_cycle_equal_a_plain_sort_and_by_day(tmp_path):
    """The timeline's buckets (views.days_of_cycle) order check-ins as one sort by
    (newest date, team id) would, and as views.by_day groups that list."""
    site = tmp_path / "site"
    _generator().generate_site(site, teams=14, seed=3, today=GENERATED_TODAY)
    model = check_site(site, GENERATED_TODAY).model
    for cycle_id in model.cycles:
        everything = [c for (cid, _), cs in model.checkins.items() if cid == cycle_id for c in cs]
        by_sort = sorted(everything, key=lambda c: (-c.date.toordinal(), c.team))
        days = views.days_of_cycle(model, cycle_id)
        assert max(len(day.checkins) for day in days) > 1  # teams share days: order matters
        assert views.checkins_of_cycle(model, cycle_id) == by_sort
        assert days == views.by_day(by_sort)


def test_views_kept_between_rebuilds_equal_views_made_afresh(tmp_path):
    """The memos of days_of_cycle, newest_first, status_counts, objective_scores and
    the histories (what a rebuild reuses) give what the same views give without one, after check-ins
    are changed, moved to a new date, and removed with their whole team's group."""
    site = tmp_path / "site"
    _generator().generate_site(site, teams=14, seed=3, today=GENERATED_TODAY)
    before = check_site(site, GENERATED_TODAY).model
    cycle_id = next(c for c in reversed(before.cycles) if any(k[0] == c for k in before.checkins))
    groups = {k: v for k, v in before.checkins.items() if k[0] == cycle_id}
    edited, grown, dropped = sorted(groups)[:3]
    taken = {c.date for found in groups.values() for c in found}
    new_day = max(taken) - dt.timedelta(days=1)
    while new_day in taken:  # a date no team checked in on: a new day
        new_day -= dt.timedelta(days=1)
    # one rebuild: a check-in moved to the new day, a team's group gone
    checkins = dict(before.checkins)
    moved = groups[grown][-1]
    rest = groups[grown][:-1]
    checkins[grown] = tuple(sorted((*rest, replace(moved, date=new_day)), key=lambda c: c.date))
    del checkins[dropped]
    moved_and_dropped = replace(before, checkins=checkins)
    # the next: a check-in edited
    checkins = dict(checkins)
    checkins[edited] = (
        *groups[edited][:-1],
        replace(groups[edited][-1], packed_body=pack("Edited.")),
    )
    after = replace(before, checkins=checkins)

    memo: dict = {}
    rollup_memo: dict = {}
    for model in (before, moved_and_dropped, after):
        rollups = {
            c: cycle_rollup(model, model.cycles[c], GENERATED_TODAY, rollup_memo)
            for c in model.cycles
        }
        kept_days = views.days_of_cycle(model, cycle_id, memo)
        assert kept_days == views.days_of_cycle(model, cycle_id)
        assert list(views.newest_first(model, GENERATED_TODAY, memo=memo)) == list(
            views.newest_first(model, GENERATED_TODAY)
        )
        assert views.latest_checkins(model, cycle_id, GENERATED_TODAY, 7, memo) == (
            views.latest_checkins(model, cycle_id, GENERATED_TODAY, 7)
        )
        for rollup in rollups.values():
            assert views.status_counts(rollup, memo) == views.status_counts(rollup)
            assert views.objective_scores(rollup, memo) == views.objective_scores(rollup)
            for (c, team_id), file in model.okrs.items():
                if c != rollup.cycle.id:
                    continue
                assert views.team_history(model, rollup, team_id, memo) == (
                    views.team_history(model, rollup, team_id)
                )
                for objective in file.objectives:
                    kept = views.objective_history(objective, rollup, team_id, memo)
                    assert kept == views.objective_history(objective, rollup, team_id)
        if model is before:
            days_before = kept_days
    assert new_day in {d.date for d in kept_days} - {d.date for d in days_before}
    # The days that none of the three teams checked in on are the very objects of the
    # first call: the later calls took the incremental path.
    edited_teams = {edited[1], grown[1], dropped[1]}
    untouched = [d for d in days_before if not edited_teams & set(d.teams.split(","))]
    assert untouched and all(any(d is k for k in kept_days) for d in untouched)


def test_search_directory_kept_until_the_people_named_change(tmp_path):
    """The search index's teams and people (kept between rebuilds) follow a new
    author named by a check-in: after the rebuild, the index is a fresh build's."""
    site = make_site(tmp_path / "site", RICH)
    builder = Builder(site, tmp_path / "out", TODAY, cache=False, jobs=1)
    assert builder.build().ok
    index = tmp_path / "out" / urls.SEARCH_INDEX
    assert b"Grace Hopper" not in index.read_bytes()
    checkin = site / "content/cycles/2026-Q4/emea/2026-11-12.md"
    checkin.write_text(checkin.read_text().replace("author: José Núñez", "author: Grace Hopper"))
    report = builder.rebuild([checkin])
    assert report.ok and not report.full and urls.SEARCH_INDEX in report.written
    fresh = Builder(site, tmp_path / "fresh", TODAY, cache=False, jobs=1)
    assert fresh.build().ok
    assert b"Grace Hopper" in index.read_bytes()
    assert index.read_bytes() == (tmp_path / "fresh" / urls.SEARCH_INDEX).read_bytes()


def test_a_teams_checkins_are_its_share_of_the_whole_sites(tmp_path):
    """views looks one team's check-ins up by cycle (views._groups); they must be
    exactly what filtering the whole site's gives, in both cycles."""
    site = tmp_path / "site"
    _generator().generate_site(site, teams=6, seed=5, today=GENERATED_TODAY)
    model = check_site(site, GENERATED_TODAY).model
    everything = list(views.newest_first(model, GENERATED_TODAY))
    assert len({c.cycle for c in everything}) == 2
    for team_id in model.teams:
        own = [c for c in everything if c.team == team_id]
        assert list(views.newest_first(model, GENERATED_TODAY, team_id=team_id)) == own
        every_date = sorted(
            (c for found in model.checkins.values() for c in found if c.team == team_id),
            key=lambda c: (-c.date.toordinal(), c.cycle),
        )
        assert views.checkins_of_team(model, team_id) == every_date
        for cycle_id in model.cycles:
            in_cycle = views.newest_first(model, GENERATED_TODAY, cycle_id, team_id)
            assert list(in_cycle) == [c for c in own if c.cycle == cycle_id]

"""Pieces of summary pages (okrsite/fragments.py): which are made again, and when."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from okrsite import urls, views
from okrsite.build import check_site
from okrsite.fragments import FragmentCache
from okrsite.incremental import Builder
from okrsite.render import PageSpec, SiteRenderer
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
    cycle_page = PageSpec(urls.cycle_page("2026-Q4"), "cycle.html", {"cycle_id": "2026-Q4"})
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


def test_an_outer_piece_holds_its_inner_pieces_not_copies():
    """A team tree nests pieces six deep: copies would keep each leaf six times."""
    cache = FragmentCache()

    def outer():
        inner = cache.piece("p.html", "inner", ["team:C/b"], lambda: "<li>b é</li>")
        return f"<ul>{inner}</ul>"

    page = cache.assemble(cache.piece("p.html", "outer", ["team:C/a"], outer))
    assert page == "<ul><li>b é</li></ul>".encode()
    inner_data = cache._pieces[("p.html", "inner")][1]
    outer_data = cache._pieces[("p.html", "outer")][1]
    assert any(part is inner_data for part in outer_data)
    assert cache._pieces[("p.html", "outer")][0] == {"team:C/a", "team:C/b"}
    # Made again after the inner piece changed, the outer one shows the new text.
    cache.forget({"team:C/b"})
    assert ("p.html", "outer") not in cache._pieces
    page = cache.assemble(
        cache.piece(
            "p.html",
            "outer",
            ["team:C/a"],
            lambda: f"<ul>{cache.piece('p.html', 'inner', ['team:C/b'], lambda: 'c')}</ul>",
        )
    )
    assert page == b"<ul>c</ul>"


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
    checkins[edited] = (*groups[edited][:-1], replace(groups[edited][-1], body="Edited."))
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

"""Pieces of summary pages (okrsite/fragments.py): which are made again, and when."""

from __future__ import annotations

from okrsite import urls, views
from okrsite.build import check_site
from okrsite.fragments import FragmentCache
from okrsite.render import PageSpec, SiteRenderer
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

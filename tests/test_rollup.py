"""The rollup rules of FORMAT.md §6, each checked by hand on a small site."""

from __future__ import annotations

import datetime as dt

import pytest

from okrsite.build import check_site
from okrsite.model import Cycle, Rules
from okrsite.rollup import expected_progress, score_band, status
from tests.sites import TODAY, make_site

Q4 = Cycle("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31))

SALES_OKRS = """
    ---
    objectives:
      - id: pipeline
        title: Make the year
        aligns_to: company/revenue
        key_results:
          - {id: value, title: Pipeline worth 500K, start: 0, target: 500000, weight: 3}
          - {id: churn, title: Churn from 5 to 3, start: 5, target: 3}
          - {id: partner, title: Partner live, type: milestone}
      - id: team
        title: A team that stays
        aligns_to: company/revenue
        key_results:
          - {id: calls, title: Calls per rep, start: 3, target: 6}
          - {id: hires, title: Hires made, start: 0, target: 2}
    ---
"""


def checkin(updates: str) -> str:
    return f"---\nupdates:\n{updates}\n---\n"


def rollup_of(tmp_path, checkins: dict[str, str], today=TODAY, extra=None):
    files = {
        "content/cycles/2026-Q4/sales.md": SALES_OKRS,
        "content/cycles/2026-Q4/sales/2026-11-07.md": None,
        **{f"content/cycles/2026-Q4/sales/{day}.md": text for day, text in checkins.items()},
        **(extra or {}),
    }
    result = check_site(make_site(tmp_path, files), today)
    assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    return result.rollups["2026-Q4"]


def kr(rollup, objective, key_result):
    return rollup.teams["sales"].objectives[objective].key_results[key_result]


def test_current_is_latest_value_else_start(tmp_path):
    r = rollup_of(
        tmp_path,
        {
            "2026-10-10": checkin("  value: {value: 100000}\n  calls: {value: 4}"),
            "2026-10-20": checkin("  value: {value: 250000}"),
        },
    )
    assert kr(r, "pipeline", "value").current == 250000
    assert kr(r, "pipeline", "value").progress == 0.5
    assert kr(r, "team", "calls").current == 4  # only the first check-in gave it
    assert kr(r, "team", "hires").current == 0  # never updated: start
    assert kr(r, "team", "hires").progress == 0


def test_decreasing_metric_and_clamping(tmp_path):
    r = rollup_of(tmp_path, {"2026-10-10": checkin("  churn: {value: 4.5}\n  calls: {value: 9}")})
    assert kr(r, "pipeline", "churn").progress == pytest.approx(0.25)  # (4.5-5)/(3-5)
    assert kr(r, "team", "calls").progress == 1  # (9-3)/(6-3) = 2, clamped
    r = rollup_of(tmp_path / "b", {"2026-10-10": checkin("  churn: {value: 6}")})
    assert kr(r, "pipeline", "churn").progress == 0  # worse than start, clamped


def test_milestone_progress_and_done(tmp_path):
    r = rollup_of(tmp_path, {"2026-10-10": checkin("  partner: {progress: 0.4}")})
    assert kr(r, "pipeline", "partner").progress == 0.4
    assert kr(r, "pipeline", "partner").current is None
    r = rollup_of(
        tmp_path / "b",
        {
            "2026-10-10": checkin("  partner: {progress: 0.4}"),
            "2026-10-20": checkin("  partner: {done: true}"),
        },
    )
    assert kr(r, "pipeline", "partner").progress == 1
    r = rollup_of(
        tmp_path / "c",
        {
            "2026-10-10": checkin("  partner: {done: true}"),
            "2026-10-15": checkin("  partner: {progress: 0.6}"),
            "2026-10-20": checkin("  partner: {done: false}"),
        },
    )
    assert kr(r, "pipeline", "partner").progress == 0.6  # latest done is false: latest progress


def test_each_field_from_latest_checkin_that_gives_it(tmp_path):
    r = rollup_of(
        tmp_path,
        {
            "2026-10-10": checkin("  value: {value: 100000, confidence: 0.9}"),
            "2026-10-20": checkin("  value: {confidence: 0.4}"),
        },
    )
    assert kr(r, "pipeline", "value").current == 100000
    assert kr(r, "pipeline", "value").confidence == 0.4
    assert kr(r, "team", "calls").confidence is None


def test_checkins_after_today_do_not_count(tmp_path):
    r = rollup_of(
        tmp_path,
        {
            "2026-10-10": checkin("  value: {value: 100000}"),
            "2026-11-20": checkin("  value: {value: 400000}"),
        },
        today=dt.date(2026, 11, 14),
    )
    assert kr(r, "pipeline", "value").current == 100000
    assert r.teams["sales"].latest_checkin == dt.date(2026, 10, 10)


def test_objective_progress_is_weight_averaged(tmp_path):
    r = rollup_of(
        tmp_path,
        {
            "2026-10-10": checkin(
                "  value: {value: 250000}\n  churn: {value: 4}\n  partner: {done: true}"
            )
        },
    )
    # (0.5*3 + 0.5*1 + 1*1) / 5
    assert r.teams["sales"].objectives["pipeline"].progress == pytest.approx(0.6)


def test_team_and_subtree_progress(tmp_path):
    r = rollup_of(
        tmp_path,
        {
            "2026-10-10": checkin(
                "  value: {value: 250000}\n  churn: {value: 4}\n  calls: {value: 6}"
            )
        },
        extra={"content/teams/legal.md": "---\nname: Legal\nparent: company\n---\n"},
    )
    pipeline = (0.5 * 3 + 0.5 + 0) / 5  # 0.4
    team = (1 + 0) / 2  # calls done, hires none: 0.5
    assert r.teams["sales"].progress == pytest.approx((pipeline + team) / 2)
    company_revenue = r.teams["company"].objectives["revenue"].progress
    assert company_revenue == pytest.approx(0.5)  # the base site's company check-in
    assert r.teams["company"].progress == pytest.approx(company_revenue)
    # Subtree: plain mean over the company's 1 objective and sales's 2; legal has none.
    assert r.teams["company"].subtree_progress == pytest.approx((0.5 + pipeline + team) / 3)
    assert r.teams["legal"].progress is None
    assert r.teams["legal"].subtree_progress is None


def test_expected_progress():
    assert expected_progress(Q4, dt.date(2026, 11, 14)) == pytest.approx(44 / 91)
    assert expected_progress(Q4, dt.date(2026, 9, 1)) == 0
    assert expected_progress(Q4, dt.date(2027, 1, 5)) == 1


@pytest.mark.parametrize(
    ("progress", "expected", "phase", "result"),
    [
        (1.0, 0.5, "running", "achieved"),
        (0.40, 0.5, "running", "on-track"),  # exactly expected - on_track_gap
        (0.399, 0.5, "running", "at-risk"),
        (0.25, 0.5, "running", "at-risk"),  # exactly expected - off_track_gap
        (0.249, 0.5, "running", "off-track"),
        (0.9, 0.0, "before", "not-started"),
        (0.1, 1.0, "after", "closed"),
    ],
)
def test_status(progress, expected, phase, result):
    assert status(progress, expected, phase, Rules()) == result


def test_status_uses_configured_gaps():
    assert status(0.35, 0.5, "running", Rules(on_track_gap=0.2)) == "on-track"


def test_phases_and_scores_after_the_cycle(tmp_path):
    checkins = {
        "2026-10-10": checkin("  value: {value: 250000}\n  churn: {value: 4, grade: 0.9}"),
        "2026-12-20": checkin("  partner: {done: true}\n  calls: {value: 4.5, grade: 0.3}"),
    }
    before = rollup_of(tmp_path / "a", checkins, today=dt.date(2026, 9, 1))
    assert before.phase == "before"
    assert kr(before, "pipeline", "value").status == "not-started"
    assert kr(before, "pipeline", "value").score is None

    during = rollup_of(tmp_path / "b", checkins, today=dt.date(2026, 11, 14))
    assert kr(during, "pipeline", "churn").score is None  # no score while running
    assert kr(during, "pipeline", "churn").grade == 0.9

    after = rollup_of(tmp_path / "c", checkins, today=dt.date(2027, 1, 10))
    assert after.phase == "after"
    assert kr(after, "pipeline", "value").status == "closed"
    assert kr(after, "pipeline", "value").score == 0.5  # no grade: progress
    assert kr(after, "pipeline", "churn").score == 0.9  # grade wins over progress 0.5
    pipeline = after.teams["sales"].objectives["pipeline"]
    assert pipeline.score == pytest.approx((0.5 * 3 + 0.9 + 1.0) / 5)
    assert after.teams["sales"].objectives["team"].score == pytest.approx((0.3 + 0) / 2)


@pytest.mark.parametrize(
    ("score", "band"),
    [(None, None), (0.7, "hit"), (0.69, "partial"), (0.4, "partial"), (0.39, "missed")],
)
def test_score_bands(score, band):
    assert score_band(score) == band


def test_stale(tmp_path):
    # Latest check-in 2026-10-30: 15 days before 11-14 is stale, 14 is not.
    checkins = {"2026-10-30": checkin("  value: {value: 1}")}
    assert rollup_of(tmp_path / "a", checkins, today=dt.date(2026, 11, 14)).teams["sales"].stale
    assert not rollup_of(tmp_path / "b", checkins, today=dt.date(2026, 11, 13)).teams["sales"].stale
    # No check-in: stale once the cycle began more than 14 days ago.
    assert not rollup_of(tmp_path / "c", {}, today=dt.date(2026, 10, 15)).teams["sales"].stale
    assert rollup_of(tmp_path / "d", {}, today=dt.date(2026, 10, 16)).teams["sales"].stale
    # Closed cycles are never stale.
    assert not rollup_of(tmp_path / "e", {}, today=dt.date(2027, 2, 1)).teams["sales"].stale

"""Inline SVG charts: well-formed, honest about the numbers, escaped, with text alternatives."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from okrsite import charts, views
from okrsite.build import check_site
from okrsite.model import Cycle
from tests.sites import TODAY, make_site

SVG = "{http://www.w3.org/2000/svg}"
Q4 = Cycle("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def parse(markup) -> ET.Element:
    # Inline SVG in HTML has no xmlns; add it to parse as XML.
    return ET.fromstring(str(markup).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]


def test_progress_chart_draws_pace_progress_and_confidence():
    series = [(dt.date(2026, 10, 15), 0.2), (dt.date(2026, 11, 10), 0.5)]
    conf = [(dt.date(2026, 10, 15), 0.6), (dt.date(2026, 11, 10), 0.8)]
    svg = parse(
        charts.progress_chart(series, Q4, TODAY, chart_id="c1", title="Pipeline", confidence=conf)
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Pipeline"
    desc = svg.find(f"{SVG}desc").text
    assert "Progress 50% on 10 Nov 2026, after 2 check-ins" in desc
    assert "expects 48% today" in desc and "confidence 80%" in desc
    pace = svg.find(f"{SVG}line[@class='pace']")
    # the pace line runs from 0% at the start to 100% at the end of the cycle
    assert float(pace.get("y1")) > float(pace.get("y2"))
    assert float(pace.get("x1")) < float(pace.get("x2"))
    line = points(svg.find(f"{SVG}polyline[@class='line']"))
    assert len(line) == 3  # the cycle start at 0, then the two check-ins
    assert line[0][1] > line[1][1] > line[2][1]  # rising progress: smaller y
    assert len(svg.findall(f"{SVG}circle[@class='dot']")) == 2
    assert len(points(svg.find(f"{SVG}polyline[@class='conf']"))) == 2
    assert svg.find(f"{SVG}line[@class='today']") is not None


def test_chart_y_positions_match_progress():
    svg = parse(
        charts.progress_chart([(dt.date(2026, 12, 31), 1.0)], Q4, TODAY, chart_id="c", title="t")
    )
    pace = svg.find(f"{SVG}line[@class='pace']")
    top = points(svg.find(f"{SVG}polyline[@class='line']"))[-1]
    assert top == (float(pace.get("x2")), float(pace.get("y2")))  # 100% at the end = pace end


def test_closed_and_empty_charts_say_so():
    closed = charts.describe([], Q4, dt.date(2027, 1, 5))
    assert closed.startswith("No check-ins yet") and "closed" in closed
    svg = parse(charts.progress_chart([], Q4, dt.date(2027, 1, 5), chart_id="x", title="t"))
    assert svg.find(f"{SVG}line[@class='today']") is None
    assert len(points(svg.find(f"{SVG}polyline[@class='line']"))) == 1


def test_text_is_escaped():
    evil = '<script>alert(1)</script>"&'
    chart = str(charts.progress_chart([], Q4, TODAY, chart_id="c", title=evil))
    spark = str(charts.sparkline([], Q4, TODAY, label=evil))
    for text in (chart, spark):
        assert "<script>" not in text
        assert "&lt;script&gt;" in text
    parse(chart), parse(spark)


def test_sparkline_has_an_accessible_name():
    svg = parse(
        charts.sparkline([(dt.date(2026, 11, 1), 0.4)], Q4, TODAY, label="Sales in 2026-Q4")
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-label").startswith("Sales in 2026-Q4: Progress 40% on 1 Nov 2026")
    assert svg.find(f"{SVG}title") is not None


def _with_an_october_checkin(tmp_path):
    """The test site checked, with sales's pipeline value first reported on 20 Oct."""
    site = make_site(
        tmp_path,
        {
            "content/cycles/2026-Q4/sales/2026-10-20.md": """
                ---
                updates:
                  pipeline-value: {value: 100000}
                ---
            """,
        },
    )
    return check_site(site, TODAY)


def test_objective_and_team_histories_follow_the_rollup_rules(tmp_path):
    checked = _with_an_october_checkin(tmp_path)
    rollup = checked.rollups["2026-Q4"]
    objective = checked.model.okrs[("2026-Q4", "sales")].objectives[0]
    history = views.objective_history(objective, rollup, "sales")
    # 20 Oct: only pipeline-value moved (0.2), the milestone is still 0 -> mean 0.1
    # 7 Nov: 320K (0.64) and milestone 0.5 -> 0.57, the rollup's own number
    assert [d for d, _ in history] == [dt.date(2026, 10, 20), dt.date(2026, 11, 7)]
    assert [round(v, 9) for _, v in history] == [0.1, 0.57]
    assert history[-1][1] == rollup.teams["sales"].objectives["pipeline"].progress
    team = views.team_history(checked.model, rollup, "sales")
    assert team[-1][1] == rollup.teams["sales"].progress
    assert (
        views.team_history(checked.model, rollup, "company")[-1][1]
        == rollup.teams["company"].progress
    )


def test_objective_confidence_is_the_mean_of_the_latest_given(tmp_path):
    site = make_site(tmp_path)
    checked = check_site(site, TODAY)
    rollup = checked.rollups["2026-Q4"]
    company = checked.model.okrs[("2026-Q4", "company")].objectives[0]
    # arr gave 0.8 on 10 Nov; churn gave none: the mean is over those that did
    assert views.objective_confidence(company, rollup, "company") == [(dt.date(2026, 11, 10), 0.8)]


def test_data_rows_pair_each_date_with_its_confidence(tmp_path):
    checked = _with_an_october_checkin(tmp_path)
    rollup = checked.rollups["2026-Q4"]
    kr = rollup.teams["sales"].objectives["pipeline"].key_results["pipeline-value"]
    rows = charts.history_rows(kr.history)
    assert rows == [(p.date, p.progress, p.confidence) for p in kr.history]
    assert [r[0] for r in rows] == [dt.date(2026, 10, 20), dt.date(2026, 11, 7)]
    series = [(dt.date(2026, 10, 1), 0.1), (dt.date(2026, 10, 8), 0.2)]
    confidence = [(dt.date(2026, 10, 8), 0.7)]
    assert charts.series_rows(series, confidence) == [
        (dt.date(2026, 10, 1), 0.1, None),
        (dt.date(2026, 10, 8), 0.2, 0.7),
    ]


def test_a_key_results_updates_come_newest_first_with_their_checkins(tmp_path):
    model = _with_an_october_checkin(tmp_path).model
    found = views.kr_updates(model, "2026-Q4", "sales", "pipeline-value")
    assert [(ch.date, u.value) for ch, u in found] == [
        (dt.date(2026, 11, 7), 320000),
        (dt.date(2026, 10, 20), 100000),
    ]
    assert all(u.key_result == "pipeline-value" for _, u in found)
    assert views.kr_updates(model, "2026-Q4", "nobody", "pipeline-value") == []
    file = model.okrs[("2026-Q4", "sales")]
    by_id = file.key_results_by_id()
    assert by_id["pipeline-value"].id == "pipeline-value"
    assert set(by_id) == {kr.id for o in file.objectives for kr in o.key_results}


def test_dots_sit_on_their_lines_and_each_cycle_has_its_own_axes():
    """Dots and lines share their coordinates; the grid, date labels and pace line
    that charts.py draws once per cycle belong to that cycle only."""
    q1 = Cycle("2027-Q1", dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    series = [
        (dt.date(2026, 10, 8), 0.1),
        (dt.date(2026, 11, 5), 0.35),
        (dt.date(2026, 12, 3), 1.4),
    ]
    conf = [(dt.date(2026, 10, 8), 0.9), (dt.date(2026, 11, 5), 0.5)]
    for cycle, first_label in ((Q4, "1 Oct 2026"), (q1, "1 Jan 2027"), (Q4, "1 Oct 2026")):
        svg = parse(
            charts.progress_chart(series, cycle, TODAY, chart_id="c", title="t", confidence=conf)
        )
        dots = [(float(c.get("cx")), float(c.get("cy"))) for c in svg.iter(f"{SVG}circle")]
        line = points(svg.find(f"{SVG}polyline[@class='line']"))
        rects = [(float(r.get("x")) + 3, float(r.get("y")) + 3) for r in svg.iter(f"{SVG}rect")]
        assert rects == points(svg.find(f"{SVG}polyline[@class='conf']"))
        labels = [t.text for t in svg.iter(f"{SVG}text")]
        assert first_label in labels
        if cycle is Q4:
            assert dots == line[1:]  # after the cycle's start at 0
            assert dots[-1][1] == min(y for _, y in line)  # 140 % is drawn at the top
        else:  # every point is before the cycle: all at its left edge
            assert {x for x, _ in dots} == {line[0][0]}
    spark = parse(charts.sparkline(series, q1, TODAY, label="l"))
    assert len(points(spark.find(f"{SVG}polyline"))) == 1  # the start only: no point in Q1

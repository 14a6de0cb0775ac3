"""The JSON export (FORMAT.md §8): shape, hand-checked numbers, agreement with pages."""

from __future__ import annotations

import csv
import io
import json

import pytest

from okrsite.cli import main
from tests.sites import make_site


def export(tmp_path, capsys, files=None) -> dict:
    site = make_site(tmp_path, files)
    code = main(["export", "--site", str(site), "--cycle", "2026-Q4", "--today", "2026-11-14"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def test_export_matches_hand_computed_figures(tmp_path, capsys):
    data = export(tmp_path, capsys)
    assert data["cycle"] == {
        "id": "2026-Q4",
        "start": "2026-10-01",
        "end": "2026-12-31",
        "phase": "running",
    }
    assert data["today"] == "2026-11-14"
    assert data["expected"] == pytest.approx(44 / 91)  # 0.4835 as in FORMAT.md
    assert [t["id"] for t in data["teams"]] == ["company", "sales"]  # sorted by id
    company, sales = data["teams"]
    assert sales["parent"] == "company" and company["parent"] is None
    pipeline = sales["objectives"][0]
    value, partner = pipeline["key_results"]
    assert value == {
        **value,
        "id": "pipeline-value",
        "type": "metric",
        "start": 0,
        "target": 500000,
        "current": 320000,
        "progress": 0.64,
        "confidence": 0.7,
        "status": "on-track",  # 0.64 >= 0.4835 - 0.10
        "score": None,
    }
    assert (partner["start"], partner["target"], partner["current"]) == (None, None, None)
    assert partner["progress"] == 0.5
    assert pipeline["progress"] == pytest.approx(0.57)
    assert pipeline["aligns_to"] == "company/revenue"
    assert pipeline["kind"] == "committed"
    assert sales["progress"] == pytest.approx(0.57)
    churn = company["objectives"][0]["key_results"][1]
    assert churn["current"] == 4 and churn["progress"] == 0.5  # decreasing 5 → 3
    assert company["progress"] == 0.5
    assert company["subtree_progress"] == pytest.approx((0.5 + 0.57) / 2)
    assert company["stale"] is False


def test_team_without_okrs_is_listed(tmp_path, capsys):
    data = export(
        tmp_path, capsys, {"content/teams/legal.md": "---\nname: Legal\nparent: company\n---\n"}
    )
    legal = next(t for t in data["teams"] if t["id"] == "legal")
    assert legal["objectives"] == [] and legal["progress"] is None


def test_numbers_are_not_rounded(tmp_path, capsys):
    checkin = "---\nupdates:\n  pipeline-value: {value: 100000.5}\n---\n"
    data = export(tmp_path, capsys, {"content/cycles/2026-Q4/sales/2026-11-07.md": checkin})
    value = data["teams"][1]["objectives"][0]["key_results"][0]
    assert value["progress"] == 100000.5 / 500000


def test_build_writes_the_same_export(tmp_path, capsys):
    data = export(tmp_path, capsys)
    out = tmp_path / "out"
    assert main(["build", "--site", str(tmp_path), "--out", str(out), "--today", "2026-11-14"]) == 0
    assert json.loads((out / "api" / "2026-Q4.json").read_text()) == data


def test_unknown_cycle_is_a_usage_error(tmp_path, capsys):
    site = make_site(tmp_path)
    assert main(["export", "--site", str(site), "--cycle", "2027-Q1", "--today", "2026-11-14"]) == 2
    assert "unknown cycle '2027-Q1'" in capsys.readouterr().err


def test_exports_assembled_from_team_pieces_equal_whole_ones(tmp_path):
    """The site writes the JSON, CSV and search index from per-team pieces (kept between
    preview rebuilds); byte for byte they are what one pass over the model writes, with
    text that needs escaping (<, &, U+2028, quotes, a formula) in every piece."""
    from okrsite import search
    from okrsite.build import check_site
    from okrsite.csvexport import COLUMNS, _rows, team_rows
    from okrsite.export import cycle_data, cycle_header, cycle_json, team_data, team_json, to_json
    from okrsite.render import render_site
    from okrsite.views import people
    from tests.sites import TODAY

    hostile = 'Sales <script>&amp; "quoted"\u2028=SUM(A1)'
    site = make_site(
        tmp_path / "site",
        {
            "content/teams/sales.md": f"---\nname: '{hostile}'\nparent: company\n---\n",
            "content/teams/legal.md": "---\nname: Legal\nparent: company\n---\n",  # no OKRs
        },
    )
    checked = check_site(site, TODAY)
    assert not checked.failed()
    model, rollup = checked.model, checked.rollups["2026-Q4"]
    files = {f.path: f.content.decode() for f in render_site(model, checked.rollups, site)}

    whole = to_json(cycle_data(model, rollup))
    assert hostile.split("<")[0] in whole and "<" not in whole
    pieces = [team_json(team_data(model, rollup, t)) for t in model.teams]
    assert cycle_json(cycle_header(rollup), pieces) == whole == files["api/2026-Q4.json"]
    assert cycle_json(cycle_header(rollup), []) == to_json({**cycle_header(rollup), "teams": []})

    rows = [
        row for t in model.teams for row in csv.reader(io.StringIO(team_rows(model, rollup, t)))
    ]
    assert files["api/2026-Q4.csv"] == _rows([COLUMNS, *rows])

    index = search.index_script(search.entries(model, people(model), "2026-Q4"))
    assert files["search/search-index.js"] == index

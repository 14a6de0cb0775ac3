"""The JSON export (FORMAT.md §8): shape, hand-checked numbers, agreement with pages."""

from __future__ import annotations

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

"""`okrsite checkin` and `okrsite plan`: files written only after the site checks out."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from okrsite.authoring import yaml_text
from okrsite.cli import main
from okrsite.parse import split_front_matter
from tests.sites import TODAY, make_site

CHECKIN = "content/cycles/2026-Q4/sales/2026-11-14.md"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)


def run(capsys, site: Path, *argv: str, today: str = str(TODAY)) -> tuple[int, str]:
    status = main([*argv, "--site", str(site), "--today", today])
    return status, capsys.readouterr().err


def export(capsys, site: Path, today: str = str(TODAY), cycle: str = "2026-Q4") -> dict:
    assert main(["export", "--cycle", cycle, "--site", str(site), "--today", today]) == 0
    return json.loads(capsys.readouterr().out)


def kr(data: dict, team: str, kr_id: str) -> dict:
    team_data = next(t for t in data["teams"] if t["id"] == team)
    return next(k for o in team_data["objectives"] for k in o["key_results"] if k["id"] == kr_id)


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


# --- checkin ---------------------------------------------------------------------


def test_checkin_writes_a_valid_file_the_build_counts(tmp_path, capsys):
    site = make_site(tmp_path)
    status, err = run(
        capsys,
        site,
        "checkin",
        "sales",
        "pipeline-value=410000",
        "--confidence",
        "pipeline-value=0.6",
        "--progress",
        "partner-program=75%",
        "--note",
        "pipeline-value=Two deals: one #big, one small",
        "--author",
        "Dana Ruiz",
        "-m",
        "Wins: two deals.",
        "-m",
        "Next: partners.",
    )
    assert status == 0, err
    assert f"wrote {CHECKIN}" in err
    path = site / CHECKIN
    text = path.read_text(encoding="utf-8")
    assert text.endswith("---\nWins: two deals.\n\nNext: partners.\n")
    data = front(path)
    assert data["date"].isoformat() == "2026-11-14"
    assert data["author"] == "Dana Ruiz"
    assert data["updates"] == {
        "pipeline-value": {
            "value": 410000,
            "confidence": 0.6,
            "note": "Two deals: one #big, one small",
        },
        "partner-program": {"progress": 0.75},
    }
    assert list(data["updates"]) == ["pipeline-value", "partner-program"]  # file order
    assert main(["check", "--site", str(site), "--today", str(TODAY), "--strict"]) == 0
    capsys.readouterr()
    numbers = export(capsys, site)
    assert kr(numbers, "sales", "pipeline-value")["current"] == 410000
    assert kr(numbers, "sales", "pipeline-value")["confidence"] == 0.6
    assert kr(numbers, "sales", "partner-program")["progress"] == 0.75


def test_checkin_done_grade_and_default_cycle(tmp_path, capsys):
    site = make_site(tmp_path)
    status, err = run(
        capsys,
        site,
        "checkin",
        "sales",
        "--done",
        "partner-program",
        "--grade",
        "partner-program=0.9",
        "--date",
        "2026-12-01",
        "--author",
        "Lee Chen",
        today="2026-12-02",
    )
    assert status == 0, err
    data = front(site / "content/cycles/2026-Q4/sales/2026-12-01.md")
    assert data["updates"] == {"partner-program": {"done": True, "grade": 0.9}}
    assert kr(export(capsys, site, "2026-12-02"), "sales", "partner-program")["progress"] == 1


def test_checkin_refuses_to_overwrite_unless_forced(tmp_path, capsys):
    site = make_site(tmp_path)
    args = ("checkin", "sales", "pipeline-value=1", "--date", "2026-11-07")
    original = (site / "content/cycles/2026-Q4/sales/2026-11-07.md").read_bytes()
    status, err = run(capsys, site, *args)
    assert status == 2 and "already exists" in err and "--force" in err
    assert (site / "content/cycles/2026-Q4/sales/2026-11-07.md").read_bytes() == original
    status, err = run(capsys, site, *args, "--force", "--author", "X")
    assert status == 0, err
    assert front(site / "content/cycles/2026-Q4/sales/2026-11-07.md")["updates"] == {
        "pipeline-value": {"value": 1}
    }


@pytest.mark.parametrize(
    ("argv", "status", "expected"),
    [
        (["checkin", "sals", "pipeline-value=1"], 1, "unknown team 'sals'; did you mean 'sales'?"),
        (["checkin", "sales", "pipline-value=1"], 1, "OKR018 unknown key result 'pipline-value'"),
        (["checkin", "sales", "pipline-value=1"], 1, "did you mean 'pipeline-value'?"),
        (
            ["checkin", "sales", "partner-program=3"],
            1,
            "OKR011 'value' does not apply to milestone",
        ),
        (
            ["checkin", "sales", "--done", "pipeline-value"],
            1,
            "OKR011 'done' does not apply to metric",
        ),
        (
            ["checkin", "sales", "pipeline-value=1", "--confidence", "pipeline-value=1.5"],
            1,
            "OKR011 confidence must be at most 1",
        ),
        (["checkin", "sales", "pipeline-value=lots"], 2, "'lots' is not a number"),
        (["checkin", "sales", "pipeline-value"], 2, "expects KR=VALUE"),
        (["checkin", "sales", "-m", "only words"], 1, "OKR010 updates needs at least one entry"),
        (
            ["checkin", "sales", "pipeline-value=1", "--date", "2027-02-01"],
            1,
            "no OKRs in a cycle that contains 2027-02-01",
        ),
        (
            ["checkin", "sales", "pipeline-value=1", "--date", "2027-02-01", "--cycle", "2026-Q4"],
            1,
            "OKR023 check-in dated 2027-02-01 is outside cycle 2026-Q4",
        ),
    ],
)
def test_checkin_is_validated_before_anything_is_written(tmp_path, capsys, argv, status, expected):
    site = make_site(tmp_path)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    got, err = run(capsys, site, *argv, "--author", "Dana Ruiz")
    assert got == status, err
    assert expected in err
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before


def test_checkin_messages_point_at_the_new_files_lines(tmp_path, capsys):
    site = make_site(tmp_path)
    status, err = run(
        capsys, site, "checkin", "sales", "pipeline-value=1", "partner-program=2", "--author", "D"
    )
    assert status == 1
    assert f"{CHECKIN}:6: OKR011" in err  # partner-program's line in the would-be file


EDITOR = """
import sys
from pathlib import Path
path = Path(sys.argv[1])
text = path.read_text(encoding="utf-8")
mode = {mode!r}
if mode == "append":
    path.write_text(text + "Edited in the editor.\\n", encoding="utf-8")
elif mode == "break":
    path.write_text(text.replace("value: 5", "value: [5"), encoding="utf-8")
elif mode == "fail":
    sys.exit(3)
"""


def fake_editor(tmp_path: Path, mode: str) -> str:
    script = tmp_path / f"editor-{mode}.py"
    script.write_text(textwrap.dedent(EDITOR.format(mode=mode)), encoding="utf-8")
    return f"{sys.executable} {script}"


def test_checkin_edit_opens_the_editor_on_the_new_file(tmp_path, capsys, monkeypatch):
    site = make_site(tmp_path / "site")
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "append"))
    status, err = run(
        capsys, site, "checkin", "sales", "pipeline-value=5", "--edit", "--author", "D"
    )
    assert status == 0, err
    text = (site / CHECKIN).read_text(encoding="utf-8")
    assert text.endswith("---\nEdited in the editor.\n")
    assert front(site / CHECKIN)["updates"] == {"pipeline-value": {"value": 5}}


@pytest.mark.parametrize(("mode", "expected"), [("break", "OKR004"), ("fail", "status 3")])
def test_checkin_edit_that_breaks_the_file_writes_nothing(
    tmp_path, capsys, monkeypatch, mode, expected
):
    site = make_site(tmp_path / "site")
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, mode))
    status, err = run(
        capsys, site, "checkin", "sales", "pipeline-value=5", "--edit", "--author", "D"
    )
    assert status == 1
    assert expected in err
    assert not (site / CHECKIN).exists()
    if mode == "break":  # what was typed is kept outside the site
        kept = Path(err.split("your text is kept in ")[1].strip())
        assert "value: [5" in kept.read_text(encoding="utf-8")
        kept.unlink()


def test_checkin_author_defaults_to_git_user(tmp_path, capsys, monkeypatch):
    site = make_site(tmp_path)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "ignored")
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=site, check=True)
    subprocess.run(["git", "config", "user.name", "Grace Hopper"], cwd=site, check=True)
    assert run(capsys, site, "checkin", "sales", "pipeline-value=2")[0] == 0
    assert front(site / CHECKIN)["author"] == "Grace Hopper"


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "1.10",
        "true",
        "no",
        "a: b",
        "# hash",
        "x #y",
        "-lead",
        " pad",
        "é ü",
        "null",
        "",
        "'q'",
    ],
)
def test_yaml_text_reads_back_exactly(text):
    front_matter = split_front_matter(f"---\nkey: {yaml_text(text)}\n---\n", "t.md").data
    assert front_matter["key"] == text


# --- plan ------------------------------------------------------------------------

PLANNED = "content/cycles/2027-Q1/sales.md"
SALES_TWO_OBJECTIVES = """
    ---
    objectives:
      - id: pipeline
        title: Build a pipeline that makes the year
        aligns_to: company/revenue
        owner: Lee Chen
        key_results:
          - id: pipeline-value
            title: Keep a qualified pipeline worth $500K
            start: 0
            target: 500000
            unit: USD
            weight: 2
          - id: partner-program
            title: Partner program live with three partners
            type: milestone
          - id: demos
            title: Demos booked per week
            start: 2
            target: 10
      - id: brand
        title: Be known in the region
        key_results:
          - id: mentions
            title: Press mentions
            start: 0
            target: 4
          - id: talks
            title: Conference talks given
            start: 0
            target: 2
    ---
    Sales narrative.
"""
SALES_CHECKIN = """
    ---
    updates:
      pipeline-value: {value: 320000}
      partner-program: {progress: 0.5}
      demos: {value: 12}
      mentions: {value: 5}
      talks: {value: 2}
    ---
"""


def plan_site(tmp_path: Path) -> Path:
    return make_site(
        tmp_path,
        {
            "content/cycles/2026-Q4/sales.md": SALES_TWO_OBJECTIVES,
            "content/cycles/2026-Q4/sales/2026-11-07.md": SALES_CHECKIN,
        },
    )


def test_plan_carries_unfinished_objectives_with_current_values_as_starts(tmp_path, capsys):
    site = plan_site(tmp_path)
    status, err = run(capsys, site, "plan", "sales", "--cycle", "2027-Q1")
    assert status == 0, err
    assert f"wrote {PLANNED}" in err
    data = front(site / PLANNED)
    assert [o["id"] for o in data["objectives"]] == ["pipeline"]  # brand is finished
    pipeline = data["objectives"][0]
    assert pipeline["owner"] == "Lee Chen"
    assert "aligns_to" not in pipeline  # company/revenue is not planned in 2027-Q1 yet
    assert pipeline["key_results"] == [
        {
            "id": "pipeline-value",
            "title": "Keep a qualified pipeline worth $500K",
            "start": 320000,
            "target": 500000,
            "unit": "USD",
            "weight": 2,
        },
        {
            "id": "partner-program",
            "title": "Partner program live with three partners",
            "type": "milestone",
        },
    ]
    text = (site / PLANNED).read_text(encoding="utf-8")
    assert "not carried: demos" in text  # reached its target: start == target would not validate
    assert "# aligns_to: company/revenue" in text
    assert main(["check", "--site", str(site), "--today", str(TODAY)]) == 0
    capsys.readouterr()
    numbers = export(capsys, site, "2027-01-10", "2027-Q1")
    assert kr(numbers, "sales", "pipeline-value")["progress"] == 0
    assert kr(numbers, "sales", "pipeline-value")["start"] == 320000


def test_plan_keeps_alignment_when_the_parent_is_planned(tmp_path, capsys):
    site = plan_site(tmp_path)
    assert run(capsys, site, "plan", "company", "--cycle", "2027-Q1", "--all")[0] == 0
    company = front(site / "content/cycles/2027-Q1/company.md")
    churn = company["objectives"][0]["key_results"][1]
    assert (churn["start"], churn["target"]) == (4, 3)  # a falling metric stays falling
    assert run(capsys, site, "plan", "sales", "--cycle", "2027-Q1")[0] == 0
    assert front(site / PLANNED)["objectives"][0]["aligns_to"] == "company/revenue"


def test_plan_choices_and_refusals(tmp_path, capsys):
    site = plan_site(tmp_path)
    status, err = run(capsys, site, "plan", "sales", "--cycle", "2027-Q1", "--objective", "brnd")
    assert status == 1 and "did you mean 'brand'?" in err
    status, err = run(capsys, site, "plan", "sales", "--cycle", "2027-Q1", "--objective", "brand")
    assert status == 1 and "nothing left to carry over" in err
    status, err = run(capsys, site, "plan", "sales", "--cycle", "2027-Q1", "--all")
    assert status == 0, err
    assert "objective 'brand': every key result was achieved" in err
    status, err = run(capsys, site, "plan", "sales", "--cycle", "2027-Q1")
    assert status == 2 and "already exists" in err
    status, err = run(
        capsys, site, "plan", "sales", "--cycle", "2027-Q1", "--force", "-m", "New quarter."
    )
    assert status == 0, err
    assert (site / PLANNED).read_text(encoding="utf-8").endswith("---\nNew quarter.\n")
    status, err = run(capsys, site, "plan", "sales", "--cycle", "2026-Q3")
    assert status == 1 and "no OKRs in a cycle before 2026-Q3" in err
    status, err = run(capsys, site, "plan", "sales", "--cycle", "next-one")
    assert status == 1 and "OKR" not in err and "declared" in err
    status, err = run(capsys, site, "plan", "nobody", "--cycle", "2027-Q1")
    assert status == 1 and "unknown team 'nobody'" in err


def test_plan_with_everything_finished_says_so(tmp_path, capsys):
    site = make_site(
        tmp_path,
        {
            "content/cycles/2026-Q4/company/2026-11-10.md": """
                ---
                updates:
                  arr: {value: 2000000}
                  churn: {value: 3}
                ---
            """
        },
    )
    status, err = run(capsys, site, "plan", "company", "--cycle", "2027-Q1")
    assert status == 1 and "every objective of 'company' in 2026-Q4 is finished" in err
    assert not (site / "content/cycles/2027-Q1/company.md").exists()

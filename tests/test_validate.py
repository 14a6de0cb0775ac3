"""Every error code of FORMAT.md §7, with the file and line it must name."""

from __future__ import annotations

import pytest

from okrsite.build import check_site
from tests.sites import TODAY, make_site


def messages(tmp_path, files, today=TODAY):
    result = check_site(make_site(tmp_path, files), today)
    return [str(d) for d in result.diagnostics if d.is_error]


def only_error(tmp_path, files) -> str:
    errors = messages(tmp_path, files)
    assert len(errors) == 1, errors
    return errors[0]


def test_base_site_is_clean(tmp_path):
    result = check_site(make_site(tmp_path), TODAY)
    assert [str(d) for d in result.diagnostics] == []


SALES = "content/cycles/2026-Q4/sales.md"
CHECKIN = "content/cycles/2026-Q4/sales/2026-11-07.md"


def okr_file(kr_lines: str, objective_extra: str = "aligns_to: company/revenue") -> str:
    return f"""
        ---
        objectives:
          - id: pipeline
            title: Make the year
            {objective_extra}
            key_results:
{kr_lines}
        ---
    """


PARTNER = """\
              - id: partner-program
                title: Partner program live
                type: milestone"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"content/teams/sales.md": b"---\nname: Sales\xff\n---\n"},
            "content/teams/sales.md:2: OKR002 is not UTF-8 text",
            id="not-utf8",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nname: [Sales\nparent: company\n---\n"},
            "content/teams/sales.md:3: OKR004 YAML syntax error",
            id="yaml-syntax",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\n- a\n- b\n---\n"},
            "content/teams/sales.md:2: OKR005 front matter is a list",
            id="not-a-mapping",
        ),
        pytest.param(
            {"content/teams/sales.md": "name: Sales\n"},
            "content/teams/sales.md:1: OKR003 no front matter",
            id="no-front-matter",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nname: Sales\nparent: company\n"},
            "content/teams/sales.md:1: OKR003 front matter is not closed",
            id="unclosed",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nname: Sales\nname: Sales 2\nparent: company\n---\n"},
            "content/teams/sales.md:3: OKR006 duplicate key 'name'",
            id="duplicate-key",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nparent: company\nlead: Dana\n---\n"},
            "content/teams/sales.md:2: OKR010 required field 'name' is missing",
            id="missing-required",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nname: Sales\nparent: company\nmembers: 3\n---\n"},
            "content/teams/sales.md:4: OKR011 members must be a list",
            id="wrong-type",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nname: Sales\nparent: company\nlaed: Dana\n---\n"},
            "content/teams/sales.md:4: OKR013 unknown field 'laed' in team 'sales'; did you mean 'lead'?",
            id="unknown-field",
        ),
        pytest.param(
            {
                SALES: okr_file(
                    "              - id: Pipeline Value\n"
                    "                title: Worth it\n"
                    "                start: 0\n                target: 5\n" + PARTNER
                )
            },
            "content/cycles/2026-Q4/sales.md:7: OKR014 id 'Pipeline Value' may only hold",
            id="bad-id",
        ),
        pytest.param(
            {
                SALES: okr_file(
                    "              - id: partner-program\n"
                    "                title: Worth it\n"
                    "                start: 0\n                target: 5\n" + PARTNER
                )
            },
            "content/cycles/2026-Q4/sales.md:11: OKR015 key result id 'partner-program' is used twice",
            id="duplicate-kr-id",
        ),
        pytest.param(
            {
                SALES: okr_file(
                    "              - id: calls\n"
                    "                title: Calls per rep\n"
                    "                start: 3\n                target: 3\n" + PARTNER
                )
            },
            "content/cycles/2026-Q4/sales.md:10: OKR012 key result 'calls' has start == target (3); "
            "a metric needs a change",
            id="start-equals-target",
        ),
        pytest.param(
            {"content/teams/sales.md": "---\nname: Sales\nparent: compnay\n---\n"},
            "content/teams/sales.md:3: OKR016 parent 'compnay' is not a team; did you mean 'company'?",
            id="unknown-parent",
        ),
        pytest.param(
            {SALES: okr_file(PARTNER, "aligns_to: company/revenu")},
            "content/cycles/2026-Q4/sales.md:3: OKR017 aligns_to 'company/revenu': team 'company' has "
            "no objective 'revenu' in 2026-Q4; did you mean 'revenue'?",
            id="dangling-aligns-to",
        ),
        pytest.param(
            {
                CHECKIN: "---\nupdates:\n  pipeline-valu: {value: 3}\n---\n",
            },
            "content/cycles/2026-Q4/sales/2026-11-07.md:3: OKR018 unknown key result 'pipeline-valu' "
            "for team 'sales' in 2026-Q4; did you mean 'pipeline-value'?",
            id="unknown-kr",
        ),
        pytest.param(
            {"content/teams/company.md": "---\nname: Acme\nparent: sales\n---\n"},
            "content/teams/company.md:3: OKR020 team parents loop",
            id="parent-loop",
        ),
        pytest.param(
            {"content/cycles/2026-q4/sales.md": okr_file(PARTNER)},
            "content/cycles/2026-q4/sales.md:1: OKR022 cycle '2026-q4' is neither a standard id",
            id="undeclared-cycle",
        ),
        pytest.param(
            {
                "content/cycles/2026-Q4/sales/2026-09-30.md": "---\nupdates:\n  pipeline-value: {value: 3}\n---\n"
            },
            "content/cycles/2026-Q4/sales/2026-09-30.md:1: OKR023 check-in dated 2026-09-30 is outside cycle 2026-Q4",
            id="checkin-outside-cycle",
        ),
        pytest.param(
            {CHECKIN: "---\ndate: 2026-11-08\nupdates:\n  pipeline-value: {value: 3}\n---\n"},
            "content/cycles/2026-Q4/sales/2026-11-07.md:2: OKR024 date 2026-11-08 differs from the file name's date",
            id="checkin-date-mismatch",
        ),
        pytest.param(
            {
                "content/cycles/2026-Q4/sales/latest.md": "---\nupdates:\n  pipeline-value: {value: 3}\n---\n"
            },
            "content/cycles/2026-Q4/sales/latest.md:1: OKR024 check-in file name 'latest.md' is not a date",
            id="checkin-bad-name",
        ),
        pytest.param(
            {"content/sales.md": "---\nname: Sales\n---\n"},
            "content/sales.md:1: OKR025 unexpected place",
            id="wrong-folder",
        ),
    ],
)
def test_error_codes(tmp_path, files, expected):
    errors = messages(tmp_path, files)
    assert any(e.startswith(expected) for e in errors), errors


def test_no_root_team(tmp_path):
    errors = messages(
        tmp_path, {"content/teams/company.md": "---\nname: Acme\nparent: sales\n---\n"}
    )
    assert [e.split(": ")[1][:6] for e in errors] == ["OKR019", "OKR020"], errors
    assert (
        errors[1]
        == "content/teams/company.md:3: OKR020 team parents loop: company → sales → company"
    )
    errors = messages(
        tmp_path / "b",
        {
            "content/teams/company.md": None,
            "content/teams/sales.md": "---\nname: S\nparent: x\n---\n",
            "content/cycles/2026-Q4/company.md": None,
            "content/cycles/2026-Q4/company/2026-11-10.md": None,
        },
    )
    assert any("OKR016" in e for e in errors)


def test_two_roots(tmp_path):
    error = only_error(tmp_path, {"content/teams/sales.md": "---\nname: Sales\n---\n"})
    assert error.startswith(
        "content/teams/sales.md:1: OKR019 more than one root team (company, sales)"
    )


def test_alignment_loop(tmp_path):
    files = {
        "content/cycles/2026-Q4/company.md": """
            ---
            objectives:
              - id: revenue
                title: Grow revenue
                aligns_to: sales/pipeline
                key_results:
                  - {id: arr, title: ARR up, start: 1, target: 2}
            ---
        """
    }
    errors = messages(tmp_path, files)
    assert any("OKR021 alignment loop" in e for e in errors), errors


def test_declared_cycle_is_accepted(tmp_path):
    files = {
        "okrsite.toml": '[site]\ntitle = "A"\n[cycles.autumn]\nstart = 2026-09-01\nend = 2026-12-15\n',
        "content/cycles/autumn/sales.md": okr_file(PARTNER, ""),
    }
    assert messages(tmp_path, files) == []


def test_yaml_does_not_change_text(tmp_path):
    """`no`, `1.10` and dates stay exactly as typed where text is meant."""
    files = {
        "content/teams/sales.md": "---\nname: 1.10\nparent: company\nlead: no\nmembers: [2026-11-14, on]\n---\n"
    }
    result = check_site(make_site(tmp_path, files), TODAY)
    team = result.model.teams["sales"]
    assert (team.name, team.lead, team.members) == ("1.10", "no", ("2026-11-14", "on"))


def test_number_traps(tmp_path):
    kr = "              - id: calls\n                title: Calls\n                start: {}\n                target: 6\n"
    for start, code in [
        ("0777", "OKR011"),
        (".inf", "OKR011"),
        ("true", "OKR011"),
        ("'3'", "OKR011"),
    ]:
        errors = messages(
            tmp_path / start.strip("'."), {SALES: okr_file(kr.format(start) + PARTNER)}
        )
        assert any(f"sales.md:9: {code}" in e for e in errors), (start, errors)


def test_milestone_update_type_mismatch(tmp_path):
    error = only_error(tmp_path, {CHECKIN: "---\nupdates:\n  partner-program: {value: 3}\n---\n"})
    assert "OKR011 'value' does not apply to milestone key result 'partner-program'" in error


def test_all_errors_reported_together(tmp_path):
    files = {
        "content/teams/sales.md": "---\nname: Sales\nparent: [company\n---\n",
        "content/cycles/2026-Q4/company/2026-11-10.md": "---\nupdates:\n  nope: {value: 3}\n---\n",
        "content/misplaced.md": "---\nname: x\n---\n",
    }
    codes = sorted(e.split(": ")[1].split()[0] for e in messages(tmp_path, files))
    # The sales team's own error hides the follow-on errors of its OKRs and check-ins.
    assert codes == ["OKR004", "OKR018", "OKR025"]


def test_python_tags_are_refused(tmp_path):
    error = only_error(
        tmp_path,
        {"content/teams/sales.md": "---\nname: !!python/object/apply:os.system [ls]\n---\n"},
    )
    assert "OKR007" in error


def test_an_alias_is_reported_on_its_own_line(tmp_path):
    """Not on its anchor's line: the alias is what the author must replace."""
    front = "---\nname: Sales\nparent: company\nmembers:\n  - &lead Ana\n  - Bo\n  - *lead\n---\n"
    error = only_error(tmp_path, {"content/teams/sales.md": front})
    assert error.startswith("content/teams/sales.md:7: OKR007 anchors and aliases"), error


def test_an_anchor_without_alias_is_harmless(tmp_path):
    """Front matter is built from libyaml's events: an anchor no alias uses (even
    one defined twice, which YAML 1.2 allows) changes nothing."""
    front = "---\nname: &n Sales\nparent: &n company\n---\n"
    assert messages(tmp_path, {"content/teams/sales.md": front}) == []


def test_alignment_loop_of_three_with_a_tail(tmp_path):
    """Each member of a loop reports it; an objective that only leads into a loop, and
    one whose chain ends, do not."""

    def okrs(*objectives: tuple[str, str | None]) -> str:
        lines = ["---", "objectives:"]
        for oid, target in objectives:
            lines += [f"  - id: {oid}", f"    title: Outcome {oid}"]
            lines += [f"    aligns_to: {target}"] if target else []
            lines += [
                "    key_results:",
                f"      - {{id: k-{oid}, title: K up, start: 1, target: 2}}",
            ]
        return "\n".join([*lines, "---", ""])

    files = {
        "content/teams/ops.md": "---\nname: Ops\nparent: company\n---\n",
        "content/cycles/2026-Q4/company.md": okrs(("a", "sales/b"), ("root", None)),
        "content/cycles/2026-Q4/sales.md": okrs(("b", "ops/c"), ("ends", "company/root")),
        "content/cycles/2026-Q4/ops.md": okrs(("c", "company/a"), ("tail", "sales/b")),
        "content/cycles/2026-Q4/sales/2026-11-07.md": None,
    }
    errors = [e for e in messages(tmp_path, files) if "OKR021" in e]
    assert [e.split(": OKR021 ")[1] for e in errors] == [
        "alignment loop: company/a → sales/b → ops/c → company/a",
        "alignment loop: ops/c → company/a → sales/b → ops/c",
        "alignment loop: sales/b → ops/c → company/a → sales/b",
    ], errors

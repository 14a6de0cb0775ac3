"""Every warning code: raised where it applies, silenced by rules.disable."""

from __future__ import annotations

import datetime as dt

import pytest

from okrsite.build import check_site
from tests.sites import TODAY, make_site

SALES = "content/cycles/2026-Q4/sales.md"
NO_CHECKINS = {
    "content/cycles/2026-Q4/sales/2026-11-07.md": None,
    "content/cycles/2026-Q4/company/2026-11-10.md": None,
}
EARLY = dt.date(2026, 10, 12)  # in the cycle, too early for any team to be stale


def warnings(tmp_path, files, today=TODAY):
    result = check_site(make_site(tmp_path, files), today)
    assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    return [str(d) for d in result.diagnostics]


def objectives(*blocks: str) -> str:
    return "---\nobjectives:\n" + "".join(blocks) + "---\n"


def objective(oid, title="Delight customers", krs=None, aligns="company/revenue") -> str:
    krs = krs or [f"{{id: {oid}-a, title: Customers rise, start: 1, target: 2}}",
                  f"{{id: {oid}-b, title: Churn falls, start: 5, target: 3}}"]  # fmt: skip
    lines = [f"  - id: {oid}\n", f"    title: {title}\n"]
    if aligns:
        lines.append(f"    aligns_to: {aligns}\n")
    lines.append("    key_results:\n")
    lines.extend(f"      - {kr}\n" for kr in krs)
    return "".join(lines)


CASES = {
    "OKR101": (
        objectives(*(objective(f"o{i}") for i in range(6))),
        "content/cycles/2026-Q4/sales.md:1: OKR101 6 objectives; focus on at most 5",
    ),
    "OKR102": (
        objectives(objective("o", krs=["{id: a, title: Customers rise, start: 1, target: 2}"])),
        "content/cycles/2026-Q4/sales.md:3: OKR102 objective 'o' has 1 key result(s)",
    ),
    "OKR103": (
        objectives(
            objective(
                "o",
                krs=[
                    f"{{id: k{i}, title: Thing {i} rises, start: 0, target: 1}}" for i in range(6)
                ],
            )
        ),
        "content/cycles/2026-Q4/sales.md:3: OKR103 objective 'o' has 6 key results",
    ),
    "OKR104": (
        objectives(
            objective(
                "o",
                krs=[
                    "{id: a, title: Launch the new website, start: 0, target: 1}",
                    "{id: b, title: Churn falls, start: 5, target: 3}",
                ],
            )
        ),
        "content/cycles/2026-Q4/sales.md:7: OKR104 key result 'a' reads as a task ('launch' ...)",
    ),
    "OKR105": (
        objectives(
            objective(
                "o",
                krs=[
                    "{id: a, title: Site live, type: milestone}",
                    "{id: b, title: App live, type: milestone}",
                ],
            )
        ),
        "content/cycles/2026-Q4/sales.md:3: OKR105 objective 'o' is measured only by milestones",
    ),
    "OKR106": (
        objectives(objective("o", title="Reach 100 customers")),
        "content/cycles/2026-Q4/sales.md:3: OKR106 objective 'o' reads as a key result",
    ),
    "OKR107": (
        objectives(objective("o", aligns=None)),
        "content/cycles/2026-Q4/sales.md:3: OKR107 objective 'o' is aligned to nothing",
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_warning_and_disable(tmp_path, code):
    text, expected = CASES[code]
    files = {SALES: text, **NO_CHECKINS}
    found = warnings(tmp_path / "on", files, EARLY)
    assert any(w.startswith(expected) for w in found), found
    assert all(w.split(": ")[1].startswith(code) for w in found), found  # nothing else fires
    config = f'[site]\ntitle = "A"\n[rules]\ndisable = ["{code}"]\n'
    assert warnings(tmp_path / "off", {**files, "okrsite.toml": config}, EARLY) == []


def test_root_objectives_need_no_alignment(tmp_path):
    assert warnings(tmp_path, {}) == []


def test_stale_team_warning(tmp_path):
    found = warnings(tmp_path, {}, today=dt.date(2026, 11, 25))
    assert found == [
        "content/cycles/2026-Q4/company.md:1: OKR108 team 'company' is stale in 2026-Q4: the last "
        "check-in was 2026-11-10, more than 14 days before 2026-11-25; add a check-in",
        "content/cycles/2026-Q4/sales.md:1: OKR108 team 'sales' is stale in 2026-Q4: the last "
        "check-in was 2026-11-07, more than 14 days before 2026-11-25; add a check-in",
    ]


def test_future_checkin_warning(tmp_path):
    found = warnings(tmp_path, {}, today=dt.date(2026, 11, 8))
    assert found == [
        "content/cycles/2026-Q4/company.md:1: OKR108 team 'company' is stale in 2026-Q4: there is "
        "no check-in yet, more than 14 days before 2026-11-08; add a check-in",
        "content/cycles/2026-Q4/company/2026-11-10.md:1: OKR109 check-in dated 2026-11-10, "
        "after today (2026-11-08); it does not count until then",
    ]


def test_rules_thresholds_are_configurable(tmp_path):
    text = objectives(*(objective(f"o{i}") for i in range(3)))
    config = '[site]\ntitle = "A"\n[rules]\nmax_objectives = 2\n'
    found = warnings(tmp_path, {SALES: text, "okrsite.toml": config, **NO_CHECKINS}, EARLY)
    assert [w.split(": ")[1][:6] for w in found] == ["OKR101"]


def test_disable_rejects_error_codes_and_unknown_codes(tmp_path):
    config = '[site]\ntitle = "A"\n[rules]\ndisable = ["OKR012", "OKR999"]\n'
    result = check_site(make_site(tmp_path, {"okrsite.toml": config}), TODAY)
    assert [str(d) for d in result.diagnostics] == [
        "okrsite.toml:4: OKR026 OKR012 is an error and cannot be disabled",
        "okrsite.toml:4: OKR026 rules.disable names unknown code 'OKR999'",
    ]


def test_lint_kept_between_rebuilds_equals_lint_made_afresh(tmp_path):
    """lint's memo (what a preview rebuild reuses) gives the warnings of a fresh run
    after check-ins change: a team left with one early check-in turns stale (OKR108),
    a check-in moved after today is not counted yet (OKR109), and back again."""
    from dataclasses import replace

    from okrsite.lint import lint
    from okrsite.rollup import cycle_rollup
    from tests.test_perf_equivalence import GENERATED_TODAY, _generator

    site = tmp_path / "site"
    _generator().generate_site(site, teams=14, seed=5, today=GENERATED_TODAY)
    before = check_site(site, GENERATED_TODAY).model
    today = GENERATED_TODAY
    running = [
        key
        for key, found in before.checkins.items()
        if before.cycles[key[0]].phase(today) == "running" and len(found) > 2
    ]
    stale_key, future_key = running[0], running[-1]
    checkins = dict(before.checkins)
    checkins[stale_key] = checkins[stale_key][:1]
    turned_stale = replace(before, checkins=checkins)
    checkins = dict(checkins)
    last = checkins[future_key][-1]
    checkins[future_key] = (
        *checkins[future_key][:-1],
        replace(last, date=today + dt.timedelta(days=3)),
    )
    with_future = replace(before, checkins=checkins)

    memo: dict = {}
    rollup_memo: dict = {}
    seen = set()
    for model in (before, turned_stale, with_future, before):
        rollups = {
            c: cycle_rollup(model, model.cycles[c], today, rollup_memo) for c in model.cycles
        }
        kept = lint(model, rollups, today, memo)
        assert kept == lint(model, rollups, today)
        seen |= {d.code for d in kept}
    assert {"OKR108", "OKR109"} <= seen  # the changes above did raise them

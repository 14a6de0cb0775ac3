"""The pages of the default theme: what each shows, and that their deps are honest."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from okrsite import views
from okrsite.build import build_site, check_site
from okrsite.incremental import Shape, affected_keys
from okrsite.render import page_specs, render_site
from okrsite.rollup import current_cycle
from tests.sites import TODAY, make_site

RICH = {
    "content/teams/emea.md": """
        ---
        name: Sales EMEA
        parent: sales
        lead: José Núñez
        ---
    """,
    "content/cycles/2026-Q4/emea.md": """
        ---
        objectives:
          - id: dach
            title: Turn DACH interest into deals
            aligns_to: sales/pipeline
            key_results:
              - id: dach-deals
                title: Signed DACH deals from 0 to 4
                start: 0
                target: 4
              - id: dach-pipeline
                title: Build DACH pipeline worth 200K
                start: 0
                target: 200000
          - id: side-quest
            title: Win 2 awards
            key_results:
              - id: awards
                title: Awards won
                start: 0
                target: 2
              - id: entries
                title: Award entries
                start: 0
                target: 5
        ---
    """,
    "content/cycles/2026-Q4/emea/2026-11-12.md": """
        ---
        author: José Núñez
        updates:
          dach-deals: {value: 1, confidence: 0.4}
        ---
        First DACH deal signed.
    """,
    "content/cycles/2026-Q3/company.md": """
        ---
        objectives:
          - id: found
            title: Find product market fit
            key_results:
              - id: customers
                title: Paying customers from 0 to 10
                start: 0
                target: 10
              - id: nps
                title: NPS from 20 to 50
                start: 20
                target: 50
        ---
    """,
    "content/cycles/2026-Q3/company/2026-09-25.md": """
        ---
        author: Ada Lovelace
        updates:
          customers: {value: 8, grade: 0.75}
          nps: {value: 30}
        ---
        Q3 closes with eight customers: **our last word**.
    """,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return make_site(tmp_path_factory.mktemp("rich"), RICH)


@pytest.fixture(scope="module")
def out(site: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "site"
    result = build_site(site, out, TODAY)
    assert result.published, result.diagnostics
    return out


def read(out: Path, path: str) -> str:
    return (out / path).read_text(encoding="utf-8")


def test_every_kind_of_page_is_written(out):
    for path in [
        "index.html",
        "404.html",
        "feed.xml",
        "search/index.html",
        "search/search-index.js",
        "people/index.html",
        "people/jose-nunez/index.html",
        "people/dana-ruiz/index.html",
        "cycles/index.html",
        "cycles/2026-Q4/index.html",
        "cycles/2026-Q4/_alignment/index.html",
        "cycles/2026-Q4/_checkins/index.html",
        "cycles/2026-Q4/sales/objectives/pipeline/index.html",
        "cycles/2026-Q4/sales/key-results/pipeline-value/index.html",
        "cycles/2026-Q3/company/objectives/found/index.html",
        "teams/sales/checkins/index.html",
        "teams/sales/feed.xml",
        "api/2026-Q4.json",
        "api/2026-Q4.csv",
        "api/2026-Q3.csv",
    ]:
        assert (out / path).is_file(), path


def test_dashboard_shows_pace_counts_behind_and_latest(out):
    html = read(out, "index.html")
    assert "Pace: expected today" in html and "48%" in html  # 44 of 91 days
    assert 'class="status status-off-track">off track</span> <strong>' in html
    assert "Most behind pace" in html and "points</span>" in html
    assert "Latest check-ins" in html and "12 Nov 2026" in html
    assert "Stale teams" in html


def test_objective_and_kr_pages_have_charts_with_text_alternatives(out):
    objective = read(out, "cycles/2026-Q4/sales/objectives/pipeline/index.html")
    assert objective.count('<svg class="chart"') == 1
    assert 'aria-labelledby="objective-chart-title objective-chart-desc"' in objective
    assert "<summary>Chart data</summary>" in objective
    assert "Supported by" in objective and "Turn DACH interest into deals" in objective
    kr = read(out, "cycles/2026-Q4/emea/key-results/dach-deals/index.html")
    assert '<polyline class="conf"' in kr  # confidence drawn beside progress
    assert "First DACH deal signed" not in kr  # the narrative is on the check-in page
    assert "../../checkins/2026-11-12/index.html" in kr
    team = read(out, "cycles/2026-Q4/sales/index.html")
    assert team.count('<svg class="spark"') >= 3  # team, objective and each KR


def test_alignment_map_nests_and_lists_unaligned(out):
    html = read(out, "cycles/2026-Q4/_alignment/index.html")
    company_tree, unaligned = html.split('id="unaligned"')
    # company → sales/pipeline → emea/dach, folded with <details open>
    assert company_tree.index("Grow revenue") < company_tree.index("Build a pipeline")
    assert company_tree.index("Build a pipeline") < company_tree.index("Turn DACH interest")
    assert "<details open>" in company_tree
    assert "Win 2 awards" in unaligned and "Win 2 awards" not in company_tree


def test_lint_warnings_show_as_badges_where_they_apply(out):
    emea = read(out, "cycles/2026-Q4/emea/index.html")
    # OKR106 (number in the objective title) and OKR107 (aligned to nothing) on side-quest
    side = emea[emea.index('id="objective-side-quest"') :]
    assert "objective reads as a key result" in side and "OKR106" in side
    assert "aligned to nothing" in side
    # OKR104 on the KR whose title starts with "Build"
    row = emea[emea.index('id="kr-dach-pipeline"') :]
    row = row[: row.index("</tr>")]
    assert "key result reads as a task" in row
    assert "content/cycles/2026-Q4/emea.md:" in row
    page = read(out, "cycles/2026-Q4/emea/key-results/dach-pipeline/index.html")
    assert 'class="lint"' in page
    # no badge where nothing is wrong
    assert 'class="lint"' not in read(
        out, "cycles/2026-Q4/sales/key-results/pipeline-value/index.html"
    )


def test_closed_cycle_is_an_archive_with_scores_and_final_narratives(out):
    cycle = read(out, "cycles/2026-Q3/index.html")
    assert "closed" in cycle
    assert "score-hit" in cycle or "score-partial" in cycle
    assert "Final check-ins" in cycle and "<strong>our last word</strong>" in cycle
    archive = read(out, "cycles/index.html")
    q3 = archive[archive.index(">2026-Q3<") :]
    assert re.search(r"\d / \d / \d", q3)


def test_people_pages_list_everything_a_person_owns_across_cycles(out):
    ada = read(out, "people/ada-lovelace/index.html")
    assert "Leads" in ada and "Acme" in ada
    assert "2026-Q4" in ada and "2026-Q3" in ada  # across cycles
    assert "Grow revenue" in ada and "Find product market fit" in ada
    assert "Check-ins written" in ada
    jose = read(out, "people/jose-nunez/index.html")
    assert "José Núñez" in jose and "Signed DACH deals" in jose
    people = read(out, "people/index.html")
    assert 'href="jose-nunez/index.html"' in people


def test_timelines(out):
    cycle = read(out, "cycles/2026-Q4/_checkins/index.html")
    assert cycle.index("12 Nov 2026") < cycle.index("10 Nov 2026") < cycle.index("7 Nov 2026")
    team = read(out, "teams/sales/checkins/index.html")
    assert "Sales check-in." in team and "Company check-in." not in team


def test_every_html_page_has_the_cycle_switcher_and_search(out):
    for path in out.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert 'aria-label="Cycles"' in html and 'role="search"' in html, path


def test_csv_matches_the_json_export_exactly(out):
    rows = list(csv.DictReader(io.StringIO(read(out, "api/2026-Q4.csv"))))
    data = json.loads(read(out, "api/2026-Q4.json"))
    krs = {
        (team["id"], kr["id"]): (objective, kr)
        for team in data["teams"]
        for objective in team["objectives"]
        for kr in objective["key_results"]
    }
    assert len(rows) == len(krs)
    for row in rows:
        objective, kr = krs[(row["team_id"], row["kr_id"])]
        assert float(row["expected"]) == data["expected"]
        assert float(row["progress"]) == kr["progress"]
        assert float(row["objective_progress"]) == objective["progress"]
        assert (float(row["current"]) if row["current"] else None) == kr["current"]
        assert (float(row["confidence"]) if row["confidence"] else None) == kr["confidence"]
        assert row["status"] == kr["status"]


def test_csv_neutralises_spreadsheet_formulas(tmp_path):
    site = make_site(
        tmp_path / "site",
        {"content/teams/sales.md": '---\nname: "=HYPERLINK(1)"\nparent: company\n---\n'},
    )
    out = tmp_path / "out"
    assert build_site(site, out, TODAY).published
    text = read(out, "api/2026-Q4.csv")
    assert ",'=HYPERLINK(1)," in text and ",=HYPERLINK" not in text


def test_sites_without_okrs_still_build(tmp_path):
    """No cycles at all, or a cycle where the company has no OKRs: every page renders."""
    bare = make_site(
        tmp_path / "bare",
        {
            "content/cycles/2026-Q4/company.md": None,
            "content/cycles/2026-Q4/sales.md": None,
            "content/cycles/2026-Q4/company/2026-11-10.md": None,
            "content/cycles/2026-Q4/sales/2026-11-07.md": None,
        },
    )
    assert build_site(bare, tmp_path / "out1", TODAY).published
    assert "No OKRs yet" in read(tmp_path / "out1", "index.html")
    teams_only = make_site(
        tmp_path / "teams-only",
        {
            "content/cycles/2026-Q4/company.md": None,
            "content/cycles/2026-Q4/company/2026-11-10.md": None,
            "content/cycles/2026-Q4/sales.md": RICH["content/cycles/2026-Q4/emea.md"].replace(
                "aligns_to: sales/pipeline", ""
            ),
            "content/cycles/2026-Q4/sales/2026-11-07.md": None,
        },
    )
    assert build_site(teams_only, tmp_path / "out2", TODAY).published
    alignment = read(tmp_path / "out2", "cycles/2026-Q4/_alignment/index.html")
    assert "The company has no objectives in 2026-Q4" in alignment
    assert "Turn DACH interest into deals" in alignment.split('id="unaligned"')[1]


def test_slugs_are_unique_and_safe():
    assert views.slugify("José Núñez") == "jose-nunez"
    assert views.slugify("李小龍").startswith("person-")
    assert re.fullmatch(r"[a-z0-9-]+", views.slugify("../../etc/passwd"))


def test_people_whose_names_slug_alike_get_distinct_pages(tmp_path):
    site = make_site(
        tmp_path / "site",
        {
            "content/teams/sales.md": """
                ---
                name: Sales
                parent: company
                lead: Dana Ruiz
                members: [Dana Ruiz, dana ruiz, Dana-Ruiz]
                ---
            """
        },
    )
    checked = check_site(site, TODAY)
    slugs = [p.slug for p in views.people(checked.model).values() if "ana" in p.name]
    assert sorted(slugs) == ["dana-ruiz", "dana-ruiz-2", "dana-ruiz-3"]


# --------------------------------------------------------------------------- deps


def _render(site: Path) -> tuple[dict[str, bytes], dict, Shape]:
    checked = check_site(site, TODAY)
    assert not [d for d in checked.diagnostics if d.is_error]
    files = render_site(checked.model, checked.rollups, site, checked.diagnostics)
    specs = page_specs(checked.model, current_cycle(checked.model, TODAY))
    shape = Shape.of(checked.model, views.people(checked.model))
    return {f.path: f.content for f in files}, {s.path: s for s in specs}, shape


CHANGES = {
    "a check-in's value": (
        "content/cycles/2026-Q4/emea/2026-11-12.md",
        lambda t: t.replace("{value: 1,", "{value: 3,"),
    ),
    "a new check-in": (
        "content/cycles/2026-Q4/emea/2026-11-13.md",
        lambda t: "---\nupdates:\n  awards: {value: 1}\n---\nAn award.\n",
    ),
    "a parent objective's title": (
        "content/cycles/2026-Q4/company.md",
        lambda t: t.replace("Grow revenue with happy customers", "Grow revenue, keep customers"),
    ),
    "a closed cycle's check-in": (
        "content/cycles/2026-Q3/company/2026-09-25.md",
        lambda t: t.replace("{value: 8,", "{value: 9,"),
    ),
    "a key result's title": (
        "content/cycles/2026-Q4/emea.md",
        lambda t: t.replace("Signed DACH deals", "DACH deals signed"),
    ),
    "a check-in's note": (
        "content/cycles/2026-Q4/emea/2026-11-12.md",
        lambda t: t.replace("confidence: 0.4}", "confidence: 0.4, note: Signed}"),
    ),
    "an update added to a check-in": (
        "content/cycles/2026-Q4/emea/2026-11-12.md",
        lambda t: t.replace("updates:\n", "updates:\n  dach-pipeline: {value: 50000}\n"),
    ),
    "an update taken out of a check-in": (
        "content/cycles/2026-Q4/emea/2026-11-12.md",
        lambda t: t.replace(
            "  dach-deals: {value: 1, confidence: 0.4}\n", "  dach-pipeline: {value: 9}\n"
        ),
    ),
    "a check-in's author": (
        "content/cycles/2026-Q4/emea/2026-11-12.md",
        lambda t: t.replace("author: José Núñez", "author: Mia Chen"),
    ),
    "a check-in's narrative": (
        "content/cycles/2026-Q4/emea/2026-11-12.md",
        lambda t: t.replace("First DACH deal signed.", "First DACH deal signed, in Munich."),
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_pages_that_change_declare_it_in_their_deps(tmp_path, change):
    """Re-render after one edit: every output that differs must depend on the edit."""
    site = make_site(tmp_path / "site", RICH)
    before, before_specs, old_shape = _render(site)
    rel_path, edit = CHANGES[change]
    path = site / rel_path
    text = path.read_text() if path.exists() else ""
    assert edit(text) != text
    path.write_text(edit(text), encoding="utf-8")
    after, after_specs, new_shape = _render(site)
    keys = affected_keys([rel_path], old_shape, new_shape)  # what the preview re-renders
    assert keys is not None and "*" in keys
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed
    static = {p for p in changed if p.startswith("assets/")}
    assert not static
    dishonest = []
    for p in sorted(changed):
        deps = set()
        for specs in (before_specs, after_specs):
            if p in specs:
                deps.update(specs[p].deps)
        if not deps & keys:
            dishonest.append(f"{p} changed but depends only on {sorted(deps)}")
    assert not dishonest, "\n".join(dishonest)


def test_timeline_excerpts_are_plain_text_first_paragraphs():
    body = "# Week 3\n\n**Overall:** [pipeline](https://x) is `on track`,\nclose rate at risk.\n\n- more"
    assert views.excerpt(body) == "Overall: pipeline is on track, close rate at risk."
    long = views.excerpt("word " * 200, limit=50)
    assert long.endswith("…") and len(long) <= 51
    assert views.excerpt("") == ""


@pytest.mark.parametrize("today", ["2026-06-15", "2026-09-01", "2027-02-01"])
def test_every_phase_renders(tmp_path, today):
    """Before any cycle, with one running and one not started, and after all have closed."""
    import datetime as dt

    site = make_site(tmp_path / "site", RICH)
    out = tmp_path / "out"
    date = dt.date.fromisoformat(today)
    result = build_site(site, out, date)
    assert result.published, result.diagnostics
    dashboard = read(out, "index.html")
    q4 = read(out, "cycles/2026-Q4/sales/objectives/pipeline/index.html")
    if today == "2027-02-01":
        assert "Pace applies while a cycle runs" in dashboard and "closed" in dashboard
        assert "The cycle is closed" in q4 and "score-" in q4
    else:
        assert "The cycle has not started" in q4 and "not started" in q4

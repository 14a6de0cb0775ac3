"""Property-based fuzzing (Hypothesis) of load → validate → compute → lint → render.

Random and randomly corrupted front matter and Markdown must either work or be
reported as Diagnostics of the documented form (`path:line: CODE message`, a
registered code, one line) — never an uncaught exception. On sites without
errors the rollups keep their invariants (FORMAT.md §6) and the JSON export
equals the figures on the pages. The library is called directly: the CLI's
last-resort guard cannot hide a bug here.

Example counts are fixed (see `settings` below; 2,030 examples in all) so the
file runs in well under a minute; run with `--hypothesis-show-statistics` to
see them, or raise them with HYPOTHESIS_PROFILE=long (10x).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from okrsite import render
from okrsite.build import check_site
from okrsite.diagnostics import CODES, Diagnostic
from okrsite.export import cycle_data, to_json
from okrsite.markup import MarkdownRenderer
from okrsite.parse import load_yaml, split_front_matter
from okrsite.rollup import STATUSES

settings.register_profile("default", deadline=None, derandomize=False)
settings.register_profile("long", deadline=None, max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 1
QUICK = settings(
    max_examples=400 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SITES = settings(
    max_examples=200 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RENDERED = settings(
    max_examples=30 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TEXT_LINE = re.compile(r"^\S[^\n]*?(?::\d+)?: OKR\d{3} [^\n]+$")
CYCLE = "2026-Q4"


def assert_documented(diagnostics: list[Diagnostic], paths: set[str] | None = None) -> None:
    for d in diagnostics:
        assert d.code in CODES, d
        assert d.line >= 0 and d.message.strip(), d
        assert "\n" not in d.message and "\r" not in d.message, repr(d.message)
        assert TEXT_LINE.match(str(d)), str(d)
        if paths is not None:
            assert d.path in paths or d.path.split("/")[0] in paths, (d.path, sorted(paths)[:5])


# --- front matter: raw text, YAML-ish text, corrupted YAML ----------------------

YAML_CHARS = ":-?[]{},&*!|>'\"#%@`\t\n\r \ufeff\x00\x85\u2028.0123456789eE+~_=<ab"
yaml_text = st.text(alphabet=YAML_CHARS, max_size=400)


@QUICK
@given(st.text(max_size=600))
def test_any_text_splits_or_reports(text: str) -> None:
    front = split_front_matter(text, "content/teams/x.md")
    assert_documented(front.diagnostics, {"content/teams/x.md"})
    assert (front.data is None) == bool(front.diagnostics)


@QUICK
@given(yaml_text)
def test_yamlish_front_matter_splits_or_reports(body: str) -> None:
    text = f"---\n{body}\n---\nBody.\n"
    front = split_front_matter(text, "x.md")
    assert_documented(front.diagnostics, {"x.md"})
    if front.data is not None:
        assert isinstance(front.data, dict)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def corrupted(draw, text_strategy) -> str:
    text = draw(text_strategy)
    for _ in range(draw(st.integers(0, 3))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "dup-line", "truncate"]))
        if kind == "insert":
            text = (
                text[:at] + draw(st.text(alphabet=YAML_CHARS, min_size=1, max_size=4)) + text[at:]
            )
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif kind == "replace" and at < len(text):
            text = text[:at] + draw(st.sampled_from(YAML_CHARS)) + text[at + 1 :]
        elif kind == "dup-line":
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
        else:
            text = text[:at]
    return text


def dumped(value) -> str:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=None, sort_keys=False)


@QUICK
@given(corrupted(json_values.map(dumped)))
@example("\r[")  # a lone CR is a YAML line break (found by this test in CI)
def test_corrupted_yaml_loads_or_reports(text: str) -> None:
    _, diagnostics = load_yaml(text, "f.md", 2)
    assert_documented(diagnostics, {"f.md"})
    # YAML breaks lines at CR LF, CR and LF (load_yaml sees raw text; files reach it
    # with CRs normalised by split_front_matter); one past the last line is the end.
    lines = len(re.split(r"\r\n|\r|\n", text)) + 2
    assert all(2 <= d.line <= lines for d in diagnostics), (diagnostics, lines)


@QUICK
@given(st.text(max_size=300) | corrupted(st.sampled_from(["[a](b)", "<a href='x'>", "![i](j)"])))
def test_markdown_renders_anything(text: str) -> None:
    html = MarkdownRenderer().render(text)
    assert isinstance(html, str)
    assert "<script" not in html.lower()


# --- whole sites ---------------------------------------------------------------------

names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")), min_size=1, max_size=20
).filter(lambda s: s.strip())
numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
unit_floats = st.floats(0, 1, allow_nan=False)
days = st.integers(0, 91)  # 2026-10-01 + n: inside Q4 (92 days)


def q(text: str) -> str:
    """A YAML double-quoted scalar; non-ASCII stays raw (YAML has no surrogate escapes)."""
    return json.dumps(text, ensure_ascii=False)


def num(x: float) -> str:
    return repr(x) if isinstance(x, float) else str(x)


@st.composite
def sites(draw) -> dict[str, str]:
    """A site by construction (a team tree, OKRs, check-ins), mostly valid."""
    files: dict[str, str] = {"okrsite.toml": f"[site]\ntitle = {q(draw(names))}\n"}
    team_ids = ["company"] + [f"t{i}" for i in range(draw(st.integers(0, 4)))]
    parents = {"company": None}
    for i, team in enumerate(team_ids[1:], 1):
        parents[team] = team_ids[draw(st.integers(0, i - 1))]
    objectives: dict[str, list[str]] = {}
    for team in team_ids:
        parent = f"parent: {parents[team]}\n" if parents[team] else ""
        lead = f"lead: {q(draw(names))}\n" if draw(st.booleans()) else ""
        files[f"content/teams/{team}.md"] = (
            f"---\nname: {q(draw(names))}\n{parent}{lead}---\n{draw(st.text(max_size=80))}\n"
        )
        if not draw(st.booleans()) and team != "company":
            continue
        lines, kr_types, objectives[team] = ["objectives:"], {}, []
        for o in range(draw(st.integers(1, 3))):
            objectives[team].append(f"o{o}")
            lines += [f"  - id: o{o}", f"    title: {q(draw(names))}"]
            up = objectives.get(parents[team] or "", [])
            if up and draw(st.booleans()):
                lines.append(f"    aligns_to: {parents[team]}/{draw(st.sampled_from(up))}")
            if draw(st.booleans()):
                lines.append("    kind: aspirational")
            lines.append("    key_results:")
            for k in range(draw(st.integers(1, 4))):
                kr_id = f"{team}-o{o}-k{k}"
                lines += [f"      - id: {kr_id}", f"        title: {q(draw(names))}"]
                if draw(st.integers(0, 3)) == 0:
                    lines.append("        type: milestone")
                    kr_types[kr_id] = "milestone"
                else:
                    start, target = draw(numbers), draw(numbers)
                    assume(start != target)
                    lines += [f"        start: {num(start)}", f"        target: {num(target)}"]
                    kr_types[kr_id] = "metric"
                if draw(st.booleans()):
                    lines.append(f"        weight: {num(draw(st.floats(0.01, 100)))}")
        files[f"content/cycles/{CYCLE}/{team}.md"] = "---\n" + "\n".join(lines) + "\n---\n"
        for day in sorted(set(draw(st.lists(days, max_size=3)))):
            date = dt.date(2026, 10, 1) + dt.timedelta(days=day)
            chosen = draw(st.lists(st.sampled_from(sorted(kr_types)), min_size=1, unique=True))
            updates = []
            for kr_id in chosen:
                fields = []
                if kr_types[kr_id] == "metric":
                    if draw(st.booleans()):
                        fields.append(f"value: {num(draw(numbers))}")
                elif draw(st.booleans()):
                    fields.append(f"done: {'true' if draw(st.booleans()) else 'false'}")
                else:
                    fields.append(f"progress: {num(draw(unit_floats))}")
                for extra in ("confidence", "grade"):
                    if draw(st.booleans()):
                        fields.append(f"{extra}: {num(draw(unit_floats))}")
                if not fields:
                    fields.append(f"note: {q(draw(names))}")
                updates.append(f"  {kr_id}: {{{', '.join(fields)}}}")
            files[f"content/cycles/{CYCLE}/{team}/{date}.md"] = (
                "---\nupdates:\n" + "\n".join(updates) + f"\n---\n{draw(st.text(max_size=60))}\n"
            )
    return files


@st.composite
def corrupted_sites(draw) -> dict[str, str]:
    files = draw(sites())
    path = draw(st.sampled_from(sorted(files)))
    files[path] = draw(corrupted(st.just(files[path])))
    return files


todays = st.dates(dt.date(2026, 9, 1), dt.date(2027, 2, 1)) | st.sampled_from(
    [dt.date.min, dt.date.max, dt.date(2026, 10, 1), dt.date(2026, 12, 31)]
)


@contextmanager
def site_on_disk(files: dict[str, str]):
    with tempfile.TemporaryDirectory(prefix="okrsite-fuzz-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        yield root


def check_invariants(result) -> None:
    for cycle_id, rollup in result.rollups.items():
        assert 0 <= rollup.expected <= 1
        for team in rollup.teams.values():
            progresses = [o.progress for o in team.objectives.values()]
            if progresses:
                assert team.progress is not None
                assert min(progresses) - 1e-9 <= team.progress <= max(progresses) + 1e-9
            else:
                assert team.progress is None
            if team.subtree_progress is not None:
                assert 0 <= team.subtree_progress <= 1
            for objective_id, o in team.objectives.items():
                krs = [k.progress for k in o.key_results.values()]
                assert 0 <= o.progress <= 1 and o.status in STATUSES
                assert min(krs) - 1e-9 <= o.progress <= max(krs) + 1e-9, (objective_id, krs)
                if rollup.phase != "after":
                    assert o.score is None
                for k in o.key_results.values():
                    assert 0 <= k.progress <= 1 and k.status in STATUSES
                    assert math.isfinite(k.progress)
                    for value in (k.confidence, k.grade, k.score):
                        assert value is None or 0 <= value <= 1
        # The export is the rollups, exactly (numbers not rounded).
        data = cycle_data(result.model, rollup)
        json.loads(to_json(data))
        for team in data["teams"]:
            t = rollup.teams[team["id"]]
            assert team["progress"] == t.progress
            for o in team["objectives"]:
                assert o["progress"] == t.objectives[o["id"]].progress
        assert cycle_id == data["cycle"]["id"]


def input_paths(files: dict[str, str]) -> set[str]:
    return set(files) | {"content", "okrsite.toml", "themes"}


@SITES
@given(sites(), todays)
def test_random_sites_check_cleanly(files: dict[str, str], today: dt.date) -> None:
    with site_on_disk(files) as root:
        result = check_site(root, today)
    assert_documented(result.diagnostics, input_paths(files))
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert not errors, errors  # the strategy builds valid sites
    check_invariants(result)


@SITES
@given(corrupted_sites(), todays)
def test_corrupted_sites_report_or_work(files: dict[str, str], today: dt.date) -> None:
    with site_on_disk(files) as root:
        result = check_site(root, today)
    assert_documented(result.diagnostics, input_paths(files))
    if result.model is not None:
        check_invariants(result)


_ENVIRONMENTS: dict[tuple, object] = {}


def _cached_environment(folders):
    """Compile the theme once for all examples (each build otherwise recompiles it)."""
    key = tuple(folders)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _real_environment(folders)
    return _ENVIRONMENTS[key]


_real_environment = render.make_environment
LEDE_PCT = re.compile(r'<p class="lede">.*?<span class="pct">([^<]*)</span>', re.S)


@RENDERED
@given(corrupted_sites() | sites(), todays)
def test_rendered_pages_show_the_export_figures(files: dict[str, str], today: dt.date) -> None:
    with site_on_disk(files) as root:
        result = check_site(root, today)
        assert_documented(result.diagnostics, input_paths(files))
        if result.model is None or any(d.is_error for d in result.diagnostics):
            return
        with mock.patch.object(render, "make_environment", _cached_environment):
            outputs = {
                f.path: f.content for f in render.render_site(result.model, result.rollups, root)
            }
    for cycle_id, rollup in result.rollups.items():
        exported = json.loads(outputs[f"api/{cycle_id}.json"])
        assert exported == json.loads(to_json(cycle_data(result.model, rollup)))
        for team in exported["teams"]:
            for o in team["objectives"]:
                page = outputs[f"cycles/{cycle_id}/{team['id']}/objectives/{o['id']}/index.html"]
                shown = LEDE_PCT.search(page.decode())
                assert shown and shown.group(1) == render.pct(o["progress"]), (o, shown)
                for k in o["key_results"]:
                    kr_page = outputs[
                        f"cycles/{cycle_id}/{team['id']}/key-results/{k['id']}/index.html"
                    ]
                    shown = LEDE_PCT.search(kr_page.decode())
                    assert shown and shown.group(1) == render.pct(k["progress"]), (k, shown)

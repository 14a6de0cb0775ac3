"""Tests for the synthetic-organisation generator in benchmarks/generate.py."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 22)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CYCLES = {"2026-Q3": (date(2026, 7, 1), date(2026, 9, 30)),
          "2026-Q4": (date(2026, 10, 1), date(2026, 12, 31))}  # fmt: skip
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_generator():
    spec = importlib.util.spec_from_file_location("okr_generate", ROOT / "benchmarks/generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def front_matter(path: Path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    end = text.index("\n---\n", 4)
    data = yaml.load(text[4:end], Loader=Loader)  # safe: CSafeLoader or SafeLoader
    assert isinstance(data, dict), path
    return data, text[end + 5 :]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    counts = gen.generate_site(out, 30, seed=1, today=TODAY)
    assert counts["teams"] == 30
    return out


@pytest.fixture(scope="module")
def loaded(site):
    teams = {p.stem: front_matter(p)[0] for p in sorted((site / "content/teams").glob("*.md"))}
    okrs, checkins = {}, {}
    for cycle in CYCLES:
        for t in teams:
            okrs[(cycle, t)] = front_matter(site / f"content/cycles/{cycle}/{t}.md")[0]
            folder = site / f"content/cycles/{cycle}/{t}"
            checkins[(cycle, t)] = [(p, *front_matter(p)) for p in sorted(folder.glob("*.md"))]
    return teams, okrs, checkins


def test_same_seed_is_byte_identical_and_other_seed_differs(site, tmp_path):
    again = tmp_path / "again"
    gen.generate_site(again, 30, seed=1, today=TODAY)
    first = tree_bytes(site)
    assert tree_bytes(again) == first
    other = tmp_path / "other"
    gen.generate_site(other, 30, seed=2, today=TODAY)
    assert tree_bytes(other) != first


def test_refuses_to_overwrite_without_flag(site):
    with pytest.raises(FileExistsError):
        gen.generate_site(site, 30, seed=1, today=TODAY)


def test_level_sizes_keep_depth_between_four_and_six():
    for n in [*range(10, 200), 999, 1000, 1200, 1201, 2000, 5000, 9999, 10000]:
        sizes = gen.level_sizes(n)
        assert sum(sizes) == n and sizes[0] == 1
        assert 4 <= len(sizes) <= 6, (n, sizes)
        assert all(s >= 1 for s in sizes)


def test_tree(loaded):
    teams, _, _ = loaded
    assert len(teams) == 30
    roots = [t for t, d in teams.items() if "parent" not in d]
    assert roots == ["company"]

    def depth(t):
        n = 1
        while "parent" in teams[t]:
            t = teams[t]["parent"]
            n += 1
        return n

    assert 4 <= max(depth(t) for t in teams) <= 6
    people = set()
    for t, d in teams.items():
        assert ID_RE.match(t) and len(t) <= 64
        assert set(d) <= {"name", "parent", "lead", "members"}
        assert d.get("parent", "company") in teams
        assert d["lead"] in d["members"]
        people.update(d["members"])
    assert len(people) >= 15  # drawn from a pool of at least 20


def test_okrs_are_valid_and_lint_clean(loaded):
    teams, okrs, _ = loaded
    metrics = milestones = 0
    for (cycle, t), data in okrs.items():
        objectives = data["objectives"]
        assert 3 <= len(objectives) <= 5
        assert len({o["id"] for o in objectives}) == len(objectives)
        kr_ids = [k["id"] for o in objectives for k in o["key_results"]]
        assert len(set(kr_ids)) == len(kr_ids)
        for o in objectives:
            assert ID_RE.match(o["id"]) and len(o["id"]) <= 64
            assert not re.search(r"\d", o["title"])
            krs = o["key_results"]
            assert 2 <= len(krs) <= 5
            assert any(k.get("type", "metric") == "metric" for k in krs)
            parent = teams[t].get("parent")
            if parent is None:
                assert "aligns_to" not in o
            else:
                pt, po = o["aligns_to"].split("/")
                assert pt == parent
                assert po in {x["id"] for x in okrs[(cycle, parent)]["objectives"]}
            for k in krs:
                assert ID_RE.match(k["id"]) and len(k["id"]) <= 64
                if k.get("type") == "milestone":
                    milestones += 1
                    continue
                metrics += 1
                assert isinstance(k["start"], int | float) and isinstance(k["target"], int | float)
                assert k["start"] != k["target"]
                assert not k["title"].lower().startswith(gen.ACTIVITY_VERBS)
    assert 0.05 < milestones / (metrics + milestones) < 0.35


def test_checkins(loaded):
    _, okrs, checkins = loaded
    for (cycle, t), items in checkins.items():
        start, end = CYCLES[cycle]
        krs = {k["id"]: k for o in okrs[(cycle, t)]["objectives"] for k in o["key_results"]}
        assert items, (cycle, t)
        for path, data, body in items:
            day = date.fromisoformat(path.stem)
            assert data["date"] == day
            assert start <= day <= end and day <= TODAY
            assert isinstance(data["author"], str)
            assert data["updates"]
            assert 1400 <= len(body.encode()) <= 2600
            for kid, u in data["updates"].items():
                assert kid in krs
                milestone = krs[kid].get("type") == "milestone"
                assert set(u) <= {"value", "progress", "done", "confidence", "grade", "note"}
                if "value" in u:
                    assert not milestone
                if "progress" in u or "done" in u:
                    assert milestone
                for field in ("progress", "confidence", "grade"):
                    if field in u:
                        assert 0 <= u[field] <= 1
                if "confidence" in u:
                    assert round(u["confidence"], 2) == u["confidence"]
        last = items[-1][1]
        if cycle == "2026-Q3":
            assert len(items) == 13
            assert set(last["updates"]) == set(krs)
            assert all("grade" in u for u in last["updates"].values())
        else:
            assert TODAY - last["date"] <= timedelta(days=7)  # never stale


def test_stage_benchmark_builds_the_site_and_reports_each_stage(site, tmp_path):
    """benchmarks/stages.py: the figures of the 10,000-team section come from it."""
    import shutil
    import subprocess

    work = tmp_path / "site"
    shutil.copytree(site, work)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/stages.py"), str(work), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    labels = [line.split("  ")[0].strip() for line in done.stdout.splitlines()]
    for stage in ("load", "validate", "rollups", "page list", "render+write", "save cache"):
        assert stage in labels
    assert re.search(r"peak +[\d,]+ MB", done.stdout)
    pss = re.search(r"peak PSS of the build and its workers together: ([\d,]+) MB", done.stdout)
    assert pss and int(pss.group(1).replace(",", "")) > 10  # Python and okrsite alone
    assert re.search(r"PSS sampled [1-9]\d* times, using [\d.]+ s of CPU", done.stdout)
    assert (tmp_path / "out" / "index.html").is_file()
    assert "ok=True" in done.stdout


def test_render_benchmark_renders_the_pages_of_a_template(site, tmp_path):
    """benchmarks/render_pages.py: the rendering A/B figures come from it. Its pages
    of one template are those a build writes."""
    import shutil
    import subprocess

    from okrsite.build import build_site

    work = tmp_path / "site"
    shutil.copytree(site, work)  # the build keeps its cache in the site's folder
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks/render_pages.py"),
            str(work),
            "--template",
            "key_result.html",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = re.fullmatch(r"(\d+) pages rendered in [\d.]+ s of CPU\n", done.stdout)
    assert found, done.stdout
    assert build_site(work, tmp_path / "out", TODAY).published
    written = list((tmp_path / "out").glob("cycles/*/*/key-results/*/index.html"))
    assert int(found.group(1)) == len(written) > 0

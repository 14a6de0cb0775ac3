#!/usr/bin/env python3
"""Benchmark okrsite on generated organisations of 100, 1,000 and 10,000 teams.

    python benchmarks/run.py [--sizes 100,1000,10000] [--runs 3] [--work /tmp/okrsite-bench]

For each size it generates a site once (benchmarks/generate.py, seed 1) and
measures, each in a fresh process (`okrsite build`, the real command line):

* cold    full build, no cache and no output folder;
* warm    rebuild after one check-in changed, with the on-disk cache, once a
          build has left a spare output tree (write.staged: blue/green);
* warm-1  the same, right after the cold build: no spare yet, so the output
          is first copied as hard links;
* no-op   rebuild with nothing changed;
* incr    in-process rebuild for one check-in changed (Builder.rebuild: the
          path `okrsite serve` uses), median of --edits edits;
* floor   benchmarks/floor.py on the same sources (read + front matter +
          Markdown + one trivial template + write), run right before each
          cold build: this machine's pace drifts by a third within minutes,
          so cold/floor is the median of each run's own ratio;

plus source files, output pages and bytes, and the peak RSS of the build
process and of its largest worker. Times are medians of --runs runs. The
changed check-in is the latest of the deepest team in the running cycle, so
its change reaches the most ancestors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-22"

BUILD = """
import json, resource, sys, time
from okrsite.cli import main
started = time.perf_counter()
status = main(["build", "--site", sys.argv[1], "--out", sys.argv[2], "--today", sys.argv[3]])
took = time.perf_counter() - started
print(json.dumps({"status": status, "seconds": took,
    "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "rss_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""

INCREMENTAL = """
import datetime as dt, json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
from run import edit_checkin
from okrsite.incremental import Builder
site, out, today, edits = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
checkin = Path(sys.argv[6])
builder = Builder(site, out, dt.date.fromisoformat(today), cache=False)
first = builder.build()
assert first.ok, [str(d) for d in first.diagnostics][:5]
times, rendered, written = [], [], []
for n in range(edits):
    edit_checkin(checkin, 1000 + n)
    started = time.perf_counter()
    report = builder.rebuild([checkin])
    times.append(time.perf_counter() - started)
    assert report.ok and not report.full
    rendered.append(report.rendered)
    written.append(len(report.written))
print(json.dumps({"times": times, "rendered": rendered, "written": written,
                  "build": first.duration}))
"""


def run_python(code: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(site: Path, teams: int, seed: int) -> None:
    marker = site / ".bench-generated"
    if marker.exists() and marker.read_text() == f"{teams} {seed} {TODAY}":
        return
    sys.path.insert(0, str(HERE))
    import datetime as dt

    from generate import generate_site  # benchmarks/generate.py

    shutil.rmtree(site, ignore_errors=True)
    generate_site(site, teams=teams, seed=seed, today=dt.date.fromisoformat(TODAY))
    marker.write_text(f"{teams} {seed} {TODAY}")


_PARENT = re.compile(r"^parent:\s*(\S+)", re.MULTILINE)
_VALUE = re.compile(r"(value|progress): ([0-9.]+)")


def deepest_checkin(site: Path) -> Path:
    """The latest check-in, in the running (latest) cycle, of the deepest team."""
    parents = {}
    for path in (site / "content" / "teams").glob("*.md"):
        found = _PARENT.search(path.read_text(encoding="utf-8"))
        parents[path.stem] = found.group(1) if found else None

    def depth(team: str) -> int:
        n = 0
        while parents.get(team):
            team, n = parents[team], n + 1
        return n

    cycle = sorted((site / "content" / "cycles").iterdir())[-1]
    teams = [d for d in cycle.iterdir() if d.is_dir() and any(d.glob("*.md"))]
    team = max(teams, key=lambda d: (depth(d.name), d.name))
    return sorted(team.glob("*.md"))[-1]


def edit_checkin(path: Path, n: int) -> None:
    """Change the first update of a check-in to a value that depends on `n`."""
    text = path.read_text(encoding="utf-8")

    def new(match: re.Match) -> str:
        if match.group(1) == "progress":
            return f"progress: {0.05 + (n % 90) / 100:.2f}"
        return f"value: {float(match.group(2)) + 1 + n % 7}"

    path.write_text(_VALUE.sub(new, text, count=1), encoding="utf-8")


def tree_size(out: Path) -> tuple[int, int, int]:
    pages = files = size = 0
    for folder, _, names in os.walk(out):
        for name in names:
            files += 1
            pages += name.endswith(".html")
            size += os.path.getsize(os.path.join(folder, name))
    return files, pages, size


def bench_size(teams: int, args: argparse.Namespace) -> dict:
    work = args.work / f"t{teams}"
    site, out, floor_out = work / "site", work / "out", work / "floor"
    started = time.perf_counter()
    generate(site, teams, args.seed)
    print(f"[{teams}] site ready in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    sources = sum(1 for _ in (site / "content").rglob("*.md"))
    checkin = deepest_checkin(site)
    original = checkin.read_text(encoding="utf-8")
    result: dict = {"teams": teams, "sources": sources, "checkin": str(checkin.relative_to(site))}
    cold, warm_first, warm, noop, floor, rss_self, rss_kids = [], [], [], [], [], [], []
    try:
        for run in range(args.runs):
            if not args.skip_floor:
                floor.append(run_floor(site, floor_out))
                print(f"[{teams}] floor {floor[-1]:.2f}s", file=sys.stderr)
            shutil.rmtree(site / ".okrsite-cache", ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(out.parent / f".{out.name}.spare", ignore_errors=True)
            step = run_python(BUILD, str(site), str(out), TODAY)
            assert step["status"] == 0, step
            cold.append(step["seconds"])
            rss_self.append(step["rss_self"])
            rss_kids.append(step["rss_children"])
            print(f"[{teams}] cold {step['seconds']:.2f}s", file=sys.stderr)
            edit_checkin(checkin, 2 * run)
            step = run_python(BUILD, str(site), str(out), TODAY)
            warm_first.append(step["seconds"])
            edit_checkin(checkin, 2 * run + 1)
            step = run_python(BUILD, str(site), str(out), TODAY)
            warm.append(step["seconds"])
            step = run_python(BUILD, str(site), str(out), TODAY)
            noop.append(step["seconds"])
            print(
                f"[{teams}] warm-1 {warm_first[-1]:.2f}s warm {warm[-1]:.2f}s "
                f"no-op {noop[-1]:.2f}s",
                file=sys.stderr,
            )
        result["files"], result["pages"], result["bytes"] = tree_size(out)
        if args.edits:
            incr = run_python(
                INCREMENTAL, str(site), str(work / "out-serve"), TODAY, str(args.edits),
                str(HERE), str(checkin),
            )  # fmt: skip
            result["incremental"] = statistics.median(incr["times"])
            result["incremental_max"] = max(incr["times"])
            result["incremental_rendered"] = statistics.median(incr["rendered"])
            result["incremental_written"] = statistics.median(incr["written"])
            print(f"[{teams}] incremental {incr['times']}", file=sys.stderr)
    finally:
        checkin.write_text(original, encoding="utf-8")
        shutil.rmtree(floor_out, ignore_errors=True)
        shutil.rmtree(work / "out-serve", ignore_errors=True)
    result.update(
        cold=statistics.median(cold),
        warm=statistics.median(warm),
        warm_first=statistics.median(warm_first),
        noop=statistics.median(noop),
        floor=statistics.median(floor) if floor else None,
        ratio=statistics.median(c / f for c, f in zip(cold, floor, strict=True)) if floor else None,
        rss_self=max(rss_self),
        rss_workers=max(rss_kids),
        runs=args.runs,
    )
    return result


def run_floor(site: Path, floor_out: Path) -> float:
    """Seconds that floor.py takes for `site`, in a fresh process."""
    shutil.rmtree(floor_out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(HERE / "floor.py"), str(site), str(floor_out)],
        check=True,
        capture_output=True,
    )
    took = time.perf_counter() - started
    shutil.rmtree(floor_out, ignore_errors=True)
    return took


def table(results: list[dict]) -> str:
    def s(x):
        return "–" if x is None else f"{x:.2f} s" if x >= 1 else f"{x * 1000:.0f} ms"

    rows = [
        "| teams | sources | output files (html) | output MB | floor | cold | cold/floor "
        "| warm-1 (first after cold) | warm (1 check-in) | warm/cold | no-op | no-op/cold "
        "| in-process 1 check-in | peak RSS build / worker |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") else "–"
        rows.append(
            f"| {r['teams']:,} | {r['sources']:,} | {r['files']:,} ({r['pages']:,}) "
            f"| {r['bytes'] / 1e6:.0f} | {s(r.get('floor'))} | {s(r['cold'])} | {ratio} "
            f"| {s(r['warm_first'])} | {s(r['warm'])} | {100 * r['warm'] / r['cold']:.1f}% "
            f"| {s(r['noop'])} "
            f"| {100 * r['noop'] / r['cold']:.1f}% | {s(r.get('incremental'))} "
            f"| {r['rss_self'] / 2**20:.0f} / {r['rss_workers'] / 2**20:.0f} MB |"
        )
    by = {r["teams"]: r for r in results}
    if 1000 in by and 10000 in by:
        rows.append(f"\nt(10,000) / t(1,000), cold: {by[10000]['cold'] / by[1000]['cold']:.2f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="team counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per measure (median)")
    parser.add_argument("--edits", type=int, default=15, help="in-process rebuilds (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/okrsite-bench"))
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        results.append(bench_size(size, args))
        print(table(results), file=sys.stderr)
    print(f"cores: {os.cpu_count()}, load average at the end: {os.getloadavg()}")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

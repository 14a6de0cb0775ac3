#!/usr/bin/env python3
"""Save-to-reload latency of `okrsite serve`, measured in headless Chromium.

For each site the script starts the preview server in-process, opens a team's
page for the running cycle in Debian's Chromium (Playwright), then saves that
team's latest check-in N times with a new value for one key result. Each save
is timed from the moment before the file is written (Python's wall clock) to
the first animation frame of the reloaded document that shows the new value
(the page's own clock: `performance.timeOrigin + performance.now()`, the same
system clock). Nothing is done in the browser: the injected script reloads.
"serve overhead" is save-to-reload minus the rebuild itself: the debounce,
the event to the page and the page's reload, i.e. the server's own share.

It also reports the server's own rebuild time per save (`BuildReport.duration`,
what the one terminal line prints), how many files the rebuild rendered and
wrote, and a full build for comparison (the server's first, cold build, and a
full build by a fresh Builder (no cache) in the warm process at the end: the
yardstick for "rebuild/full").

    python benchmarks/serve_latency.py                  # example site + 1,000 teams
    python benchmarks/serve_latency.py --sites example --saves 20
    python benchmarks/serve_latency.py --sites org --teams 1000 --save-timeout 120

Targets (issue 5): median save-to-reload <= 300 ms on the example site and
<= 1 s at 1,000 teams; one check-in's incremental rebuild at 1,000 teams
<= 10% of a full build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from okrsite import urls  # noqa: E402
from okrsite.serve import PreviewServer  # noqa: E402
from tests.browser import chromium_args, chromium_path  # noqa: E402  (the tests' Chromium setup)

# Stamp the first frame of every document (a reload makes a new one).
# A page is updated either by a reload (a new document) or by the script
# swapping in the new <body> (event "okrsite:updated").
STAMP = """
const stamp = () => requestAnimationFrame(() => {
  window.__shownAt = performance.timeOrigin + performance.now();
});
window.addEventListener('DOMContentLoaded', stamp);
document.addEventListener('okrsite:updated', stamp);
"""

PROBE = """([expected, since]) => {
  if (!document.body || !document.body.innerText.includes(expected)) return null;
  return window.__shownAt > since ? window.__shownAt : -1;
}"""


@dataclass
class Result:
    name: str
    teams: int
    files_out: int = 0
    cold_build: float = 0.0
    warm_build: float | None = None
    latencies: list[float] = field(default_factory=list)  # seconds
    rebuilds: list[float] = field(default_factory=list)  # seconds
    rendered: list[int] = field(default_factory=list)
    written: list[int] = field(default_factory=list)
    full: list[bool] = field(default_factory=list)
    note: str = ""


def latest_checkin(site: Path, cycle: str, today: dt.date, team: str | None) -> tuple[str, Path]:
    """A team with check-ins in `cycle` and its latest check-in dated <= today."""
    cycle_dir = site / "content" / "cycles" / cycle
    teams = [team] if team else sorted(p.name for p in cycle_dir.iterdir() if p.is_dir())
    best: tuple[str, Path] | None = None
    for t in teams:
        dated = sorted(p for p in (cycle_dir / t).glob("*.md") if p.stem <= today.isoformat())
        if dated:
            candidate = (t, dated[-1])
            if team or best is None or t.count("-") > best[0].count("-"):
                best = candidate
    if best is None:
        raise SystemExit(f"no team with a check-in in {cycle_dir}")
    return best


def metric_update(path: Path) -> tuple[str, float]:
    """A key result that this check-in gives a `value` for."""
    text = path.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---", 2)[1])
    for kr, update in (front.get("updates") or {}).items():
        if isinstance(update, dict) and isinstance(update.get("value"), int | float):
            return kr, float(update["value"])
    raise SystemExit(f"{path} gives no metric value")


def set_value(text: str, kr: str, value: int) -> str:
    """Replace the KR's value in the front matter, keeping the file's layout."""
    flow = re.compile(rf"(^\s*{re.escape(kr)}:\s*\{{[^\n}}]*?\bvalue:\s*)[-\d.eE+]+", re.M)
    new, n = flow.subn(rf"\g<1>{value}", text, count=1)
    if n:
        return new
    block = re.compile(
        rf"(^(\s*){re.escape(kr)}:\s*\n(?:\2\s+.*\n)*?\2\s+value:\s*)[-\d.eE+]+", re.M
    )
    new, n = block.subn(rf"\g<1>{value}", text, count=1)
    if not n:
        raise SystemExit(f"cannot find {kr}'s value to edit")
    return new


def shown(value: int) -> str:
    return f"{value:,}"  # render.number for a whole number, without the unit


def prepare(kind: str, root: Path, teams: int, today: dt.date) -> Path:
    site = root / kind
    if kind == "example":
        site.mkdir()
        shutil.copy2(REPO / "okrsite.toml", site / "okrsite.toml")
        shutil.copytree(REPO / "content", site / "content")
    else:
        from generate import generate_site

        generate_site(site, teams, 1, today)
    return site


def measure(name: str, site: Path, teams: int, today: dt.date, args, browser) -> Result:
    result = Result(name, teams)
    cycle = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    team, checkin = latest_checkin(site, cycle, today, args.team)
    kr, value = metric_update(checkin)
    print(f"[{name}] serving {site}; editing {checkin.relative_to(site)} ({kr})", flush=True)

    server = PreviewServer(site, port=0, today=today)
    started = time.perf_counter()
    server.start_background()
    result.cold_build = server.reports[0][1].duration or (time.perf_counter() - started)
    result.files_out = sum(1 for p in server.out_dir.rglob("*") if p.is_file())
    if not server.state.ok:
        server.stop()
        raise SystemExit(f"[{name}] the site does not build:\n" + "\n".join(server.state.lines))
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(STAMP)
    try:
        page.goto(server.url + urls.team_cycle_page(cycle, team), wait_until="load")
        original = checkin.read_text(encoding="utf-8")
        base = int(value)
        for i in range(args.saves):
            server.rebuilder.wait_idle(quiet=0.2, timeout=args.save_timeout)
            time.sleep(0.2)
            new_value = base + 1000 + 7 * (i + 1)
            expected = shown(new_value)
            before = len(server.reports)
            t0 = time.time() * 1000
            checkin.write_text(set_value(original, kr, new_value), encoding="utf-8")
            deadline = time.monotonic() + args.save_timeout
            shown_at = None
            while time.monotonic() < deadline:
                try:
                    stamp = page.evaluate(PROBE, [expected, t0])
                except Exception:  # navigating: the old document is gone
                    stamp = None
                if stamp and stamp > 0:
                    shown_at = stamp
                    break
                time.sleep(0.005)
            if shown_at is None:
                result.note = f"save {i + 1} not shown within {args.save_timeout:.0f}s"
                print(f"[{name}] {result.note}", flush=True)
                break
            reports = [r for _, r in server.reports[before:]]
            result.latencies.append((shown_at - t0) / 1000)
            result.rebuilds.append(sum(r.duration for r in reports))
            result.rendered.append(sum(r.rendered for r in reports))
            result.written.append(sum(len(r.written) for r in reports))
            result.full.append(any(r.full for r in reports))
            print(
                f"[{name}] save {i + 1:2d}: shown after {result.latencies[-1] * 1000:7.0f} ms; "
                f"{len(reports)} rebuild(s) {result.rebuilds[-1] * 1000:7.0f} ms, "
                f"{result.rendered[-1]} rendered, {result.written[-1]} written",
                flush=True,
            )
        checkin.write_text(original, encoding="utf-8")
        server.rebuilder.wait_idle(quiet=0.2, timeout=args.save_timeout)
        if args.warm_build and not result.note:
            result.warm_build = fresh_full_build(site, today)
    finally:
        context.close()
        server.stop()
    return result


def fresh_full_build(site: Path, today: dt.date) -> float:
    """A full build by a new Builder (no memory or disk cache) into a new folder,
    in this already-warm process: the yardstick for an incremental rebuild."""
    from okrsite.incremental import Builder

    with tempfile.TemporaryDirectory(prefix="okrsite-full-") as tmp:
        try:
            builder = Builder(site, Path(tmp) / "out", today, cache=False)
        except TypeError:  # an engine without a disk cache
            builder = Builder(site, Path(tmp) / "out", today)
        started = time.perf_counter()
        report = builder.build()
        took = time.perf_counter() - started
        if not report.ok:
            raise SystemExit("the full build failed")
        return took


def fmt_s(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x * 1000:.0f} ms" if x < 10 else f"{x:.1f} s"


def table(results: list[Result], targets: dict[str, float]) -> str:
    head = (
        "site",
        "teams",
        "files",
        "first build (cold)",
        "full build (fresh Builder)",
        "saves",
        "rebuild median",
        "rebuild/full",
        "save→reload median",
        "p90",
        "max",
        "target",
        "serve overhead median",
    )
    rows = [head]
    for r in results:
        lat = sorted(r.latencies)
        full = r.warm_build or r.cold_build
        med_rebuild = statistics.median(r.rebuilds) if r.rebuilds else None
        rows.append(
            (
                r.name,
                str(r.teams),
                str(r.files_out),
                fmt_s(r.cold_build),
                fmt_s(r.warm_build),
                str(len(lat)) + (f" ({r.note})" if r.note else ""),
                fmt_s(med_rebuild),
                f"{med_rebuild / full:.1%}" if med_rebuild is not None and full else "–",
                fmt_s(statistics.median(lat)) if lat else "–",
                fmt_s(lat[min(len(lat) - 1, int(len(lat) * 0.9))]) if lat else "–",
                fmt_s(lat[-1]) if lat else "–",
                "≤ " + fmt_s(targets[r.name]),
                fmt_s(
                    statistics.median(a - b for a, b in zip(r.latencies, r.rebuilds, strict=True))
                )
                if lat
                else "–",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", choices=["both", "example", "org"], default="both")
    ap.add_argument("--saves", type=int, default=12, help="saves per site (median of these)")
    ap.add_argument("--teams", type=int, default=1000, help="teams in the generated organisation")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 22))
    ap.add_argument(
        "--team", default=None, help="team whose check-in is edited (default: a deep one)"
    )
    ap.add_argument(
        "--save-timeout", type=float, default=120.0, help="give up on a save after this (s)"
    )
    ap.add_argument(
        "--no-warm-build",
        dest="warm_build",
        action="store_false",
        help="skip the fresh full build at the end",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary sites")
    args = ap.parse_args(argv)
    if chromium_path() is None:
        print("serve_latency: chromium not found (Debian package chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp(prefix="okrsite-serve-bench-"))
    results: list[Result] = []
    targets = {"example": 0.3, f"org-{args.teams}": 1.0}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium_path(), headless=True, args=chromium_args()
            )
            try:
                if args.sites in ("both", "example"):
                    site = prepare("example", root, 0, args.today)
                    teams = len(list((site / "content/teams").glob("*.md")))
                    results.append(measure("example", site, teams, args.today, args, browser))
                if args.sites in ("both", "org"):
                    print(f"[org] generating {args.teams} teams...", flush=True)
                    site = prepare("org", root, args.teams, args.today)
                    name = f"org-{args.teams}"
                    results.append(measure(name, site, args.teams, args.today, args, browser))
            finally:
                browser.close()
    finally:
        if args.keep:
            print(f"sites kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(table(results, targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())

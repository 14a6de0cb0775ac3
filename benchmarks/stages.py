"""Where a cold build's time and memory go, stage by stage.

    python benchmarks/stages.py SITE OUT [--today 2026-11-22] [--no-cache]

Runs one cold build (no `.okrsite-cache/`, no output folder: both are deleted
first) through `Builder.build()`, the engine of `okrsite build`, and prints
after each stage its time, the build process's RSS now and at its peak, and
the peak RSS of the largest worker process so far. Use it on a site made by
`generate.py` (run.py keeps them under /tmp/okrsite-bench/tN/site).

A forked worker's RSS counts the pages it still shares with the build process,
so RSS figures cannot be added up. The script also samples the proportional set
size (PSS: shared pages split between the processes sharing them) of the build
and its workers, and prints the largest sum seen: the memory the whole build
held at its peak.

Reading a process's PSS makes the kernel walk all its pages: 0.14-0.24 s for
each of the three processes of a 10,000-team build, about a twentieth of that
at 1,000 teams. Sampled every second, that took a third of a core from the
10,000-team build alone and inflated its growth over 1,000 teams. So the
sampler waits 49 times as long as its last sample took (at least a second),
which keeps it near 2 % of one core at any size, and prints what it cost. The
price: a peak shorter than the wait (about 26 s at 10,000 teams) may be missed;
the build's peak PSS lasts through rendering, minutes long at that size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

from okrsite import incremental
from okrsite.cache import CACHE_DIR

STAGES = [
    (incremental, "load_sources", "load"),
    (incremental, "validate", "validate"),
    (incremental.Builder, "_compute", "rollups"),
    (incremental, "lint", "lint"),
    (incremental, "page_specs", "page list"),
    (incremental.Builder, "_render_all", "render+write"),
    (incremental.Builder, "_save_disk", "save cache"),
]


def memory() -> str:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    now, peak = (int(status[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return f"RSS {now:6,} MB  peak {peak:6,} MB  workers' peak {workers:6,} MB"


def _pss_kb(pid: int | str) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone, or not Linux
        return 0
    found = next((line for line in text.splitlines() if line.startswith("Pss:")), "Pss: 0")
    return int(found.split()[1])


def _children(pid: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(entry)
    return found


class PeakPss(threading.Thread):
    """The largest PSS of this process plus its children, sampled at most once a
    second and at most 2 % of the time (see the module docstring)."""

    IDLE_PER_BUSY = 49

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.samples = 0
        self.cpu_seconds = 0.0  # this thread's user and system time
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while True:
            started = time.perf_counter()
            total = _pss_kb(me) + sum(_pss_kb(child) for child in _children(me))
            took = time.perf_counter() - started
            self.peak_kb = max(self.peak_kb, total)
            self.samples += 1
            self.cpu_seconds = time.thread_time()
            if self.done.wait(max(1.0, self.IDLE_PER_BUSY * took)):
                return


def timed(function, label: str, started: float):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            took, at = time.perf_counter() - t, time.perf_counter() - started
            print(f"{label:13s} {took:8.2f} s  (at {at:7.1f} s)  {memory()}", flush=True)

    return wrapper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--today", default="2026-11-22")
    parser.add_argument("--no-cache", action="store_true", help="do not save the cache")
    args = parser.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    shutil.rmtree(args.site / CACHE_DIR, ignore_errors=True)
    started = time.perf_counter()
    for owner, name, label in STAGES:
        setattr(owner, name, timed(getattr(owner, name), label, started))
    builder = incremental.Builder(
        args.site, args.out, dt.date.fromisoformat(args.today), cache=not args.no_cache
    )
    sampler = PeakPss()
    sampler.start()
    report = builder.build()
    took = time.perf_counter() - started
    sampler.done.set()
    sampler.join()  # its last sample may still be running
    print(f"{'total':13s} {took:8.2f} s  {memory()}")
    print(f"peak PSS of the build and its workers together: {sampler.peak_kb // 1024:,} MB")
    print(f"(PSS sampled {sampler.samples} times, using {sampler.cpu_seconds:.1f} s of CPU)")
    print(f"ok={report.ok} pages={report.pages:,} files={report.files:,}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

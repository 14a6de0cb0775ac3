"""Two versions of okrsite side by side: in-process rebuilds after one check-in.

    python benchmarks/ab_rebuild.py SITE A B [--rounds 25] [--today 2026-11-22]

A and B are folders that each hold a copy of the `okrsite` package with its
themes (see README.md, "To measure a fixed version of the code"). Each version
runs in a long-lived process of its own, as the preview server does: it builds
SITE once (no cache), then, on demand, edits the check-in that `run.py` edits
and times `Builder.rebuild([checkin])`. The two processes take turns, one
edit at a time, A B B A A B …, so that both see the same stretch of this
machine's pace, which drifts by 1.5× within minutes and made separate runs of
the two versions useless for differences of 10–20 %.

Prints each version's median (the first two rebuilds of each are left out:
they build the caches a long-lived server keeps) and the median of the
per-round ratios B / A. The check-in is restored at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM_UP = 2  # rebuilds left out of the medians


def worker(site: Path, out: Path, today: dt.date) -> None:
    """Build once, then rebuild after each edit number read from stdin."""
    sys.path.insert(0, str(HERE))
    from run import deepest_checkin, edit_checkin  # benchmarks/run.py

    import okrsite
    from okrsite.incremental import Builder

    checkin = deepest_checkin(site)
    builder = Builder(site, out, today, cache=False)
    first = builder.build()
    assert first.ok, [str(d) for d in first.diagnostics][:5]
    print(json.dumps({"package": okrsite.__file__, "build": first.duration}), flush=True)
    for line in sys.stdin:
        edit_checkin(checkin, int(line))
        started = time.perf_counter()
        report = builder.rebuild([checkin])
        took = time.perf_counter() - started
        assert report.ok and not report.full
        print(json.dumps({"ms": took * 1000, "rendered": report.rendered}), flush=True)


def output(version: Path) -> Path:
    """The output folder of `version`'s process: by the folder's whole path, so that
    two versions in folders of the same name do not build into one output."""
    tag = hashlib.blake2b(str(version).encode(), digest_size=4).hexdigest()
    return Path(tempfile.gettempdir()) / f"okrsite-ab-{os.getpid()}-{version.name}-{tag}"


def start(version: Path, args: argparse.Namespace) -> subprocess.Popen:
    out = output(version)
    command = [sys.executable, __file__, "--worker", str(args.site), str(out), args.today]
    env = dict(os.environ, PYTHONPATH=str(version))
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd="/"
    )


def ask(process: subprocess.Popen, edit: int) -> dict:
    process.stdin.write(f"{edit}\n")  # type: ignore[union-attr]
    process.stdin.flush()  # type: ignore[union-attr]
    return json.loads(process.stdout.readline())  # type: ignore[union-attr]


def compare(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE))
    from run import deepest_checkin

    checkin = deepest_checkin(args.site)
    original = checkin.read_text(encoding="utf-8")
    versions = [args.a, args.b]
    processes = {v: start(v, args) for v in versions}
    times: dict[Path, list[float]] = {v: [] for v in versions}
    rendered: dict[Path, int] = {}
    try:
        for v, process in processes.items():
            ready = json.loads(process.stdout.readline())  # type: ignore[union-attr]
            print(f"{v}: {ready['package']}, first build {ready['build']:.1f} s", flush=True)
        edit = 1000
        for turn in range(args.rounds):
            for v in versions if turn % 2 == 0 else versions[::-1]:
                edit += 1
                answer = ask(processes[v], edit)
                times[v].append(answer["ms"])
                rendered[v] = answer["rendered"]
    finally:
        checkin.write_text(original, encoding="utf-8")
        for v, process in processes.items():
            process.stdin.close()  # type: ignore[union-attr]
            process.wait()
            shutil.rmtree(output(v), ignore_errors=True)
            output(v).with_name(f".{output(v).name}.lock").unlink(missing_ok=True)
    for v in versions:
        kept = times[v][WARM_UP:]
        print(
            f"{v}: median {statistics.median(kept):.1f} ms over {len(kept)} rebuilds "
            f"({rendered[v]} pages rendered); all: {[round(t) for t in times[v]]}"
        )
    ratios = [b / a for a, b in zip(times[args.a][WARM_UP:], times[args.b][WARM_UP:], strict=True)]
    print(f"median ratio B / A: {statistics.median(ratios):.3f}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        site, out, today = argv[1:4]
        worker(Path(site), Path(out), dt.date.fromisoformat(today))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("a", type=Path, help="folder holding version A's okrsite package")
    parser.add_argument("b", type=Path, help="folder holding version B's okrsite package")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--today", default="2026-11-22")
    args = parser.parse_args(argv)
    args.site, args.a, args.b = args.site.resolve(), args.a.resolve(), args.b.resolve()
    compare(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

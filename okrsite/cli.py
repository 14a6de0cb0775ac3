"""The `okrsite` command: argument parsing and exit codes, nothing else.

Exit status: 0 success, 1 content errors (or warnings under --strict),
2 usage errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from importlib import resources
from pathlib import Path

from okrsite import __version__
from okrsite.build import CheckResult, build_site, check_site
from okrsite.diagnostics import FORMATTERS, summary
from okrsite.export import cycle_data, to_json


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _common(parser: argparse.ArgumentParser, *, strict: bool = True) -> None:
    parser.add_argument(
        "--site", type=Path, default=Path("."), help="site folder with okrsite.toml (default: .)"
    )
    parser.add_argument(
        "--today", type=_date, default=None, help="build date YYYY-MM-DD (default: local date)"
    )
    if strict:
        parser.add_argument("--strict", action="store_true", help="treat warnings as errors")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="okrsite",
        description="Publish OKRs written in Markdown as an honest, linked static site.",
    )
    parser.add_argument("--version", action="version", version=f"okrsite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="validate, compute and render the site")
    _common(build)
    build.add_argument("--out", type=Path, default=None, help="output folder (default: SITE/site)")

    check = sub.add_parser("check", help="validate and lint only")
    _common(check)
    check.add_argument(
        "--format", choices=sorted(FORMATTERS), default="text", help="message format"
    )

    export = sub.add_parser("export", help="print a cycle's rollups as JSON")
    _common(export, strict=False)
    export.add_argument("--cycle", required=True, help="cycle id, e.g. 2026-Q4")

    new = sub.add_parser("new", help="create a new site that builds without warnings")
    new.add_argument("dir", type=Path, help="folder to create (must be empty or missing)")
    return parser


def report(result: CheckResult, fmt: str = "text", stream=None) -> None:
    stream = sys.stderr if stream is None else stream  # looked up now: tests swap it
    for diagnostic in result.diagnostics:
        print(FORMATTERS[fmt](diagnostic), file=stream)


def cmd_check(args: argparse.Namespace) -> int:
    result = check_site(args.site, args.today or dt.date.today())
    if args.format == "text":
        report(result)
        print(f"okrsite check: {summary(result.diagnostics, result.file_count)}", file=sys.stderr)
    else:
        report(result, args.format, sys.stdout)
    return 1 if result.failed(args.strict) else 0


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out = args.out if args.out is not None else args.site / "site"
    result = build_site(args.site, out, args.today or dt.date.today(), args.strict)
    report(result)
    line = summary(result.diagnostics, result.file_count)
    if result.published:
        pages = sum(1 for f in result.files if f.path.endswith(".html"))
        took = time.perf_counter() - started
        print(
            f"okrsite build: {line}; wrote {pages} pages to {out} in {took:.2f}s", file=sys.stderr
        )
        return 0
    print(f"okrsite build: {line}; nothing written, {out} left as it was", file=sys.stderr)
    return 1


def cmd_export(args: argparse.Namespace) -> int:
    result = check_site(args.site, args.today or dt.date.today())
    errors = [d for d in result.diagnostics if d.is_error]
    if errors or result.model is None:
        report(result)
        return 1
    if args.cycle not in result.rollups:
        known = ", ".join(result.rollups) or "none"
        print(f"okrsite export: unknown cycle {args.cycle!r} (known: {known})", file=sys.stderr)
        return 2
    sys.stdout.write(to_json(cycle_data(result.model, result.rollups[args.cycle])))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    target: Path = args.dir
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"okrsite new: {target} exists and is not an empty folder", file=sys.stderr)
        return 2
    write_scaffold(target, dt.date.today())
    print(f"okrsite new: created {target}; now run: okrsite build --site {target}")
    return 0


def write_scaffold(target: Path, today: dt.date) -> None:
    """Copy the starter site, placed in the quarter of `today` with check-ins dated
    today, so it builds without warnings whenever it is created."""
    cycle = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    scaffold = Path(str(resources.files("okrsite") / "scaffold"))
    for source in sorted(scaffold.rglob("*")):
        if not source.is_file():
            continue
        rel = source.relative_to(scaffold).as_posix()
        rel = rel.replace("CYCLE", cycle).replace("TODAY", today.isoformat())
        text = source.read_text(encoding="utf-8").replace("TODAY", today.isoformat())
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


COMMANDS = {"build": cmd_build, "check": cmd_check, "export": cmd_export, "new": cmd_new}


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("okrsite: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `okrsite export ... | head`
        return 1
    except Exception as exc:  # last resort: bad input must never print a traceback
        # Every known problem is a Diagnostic; reaching here is an okrsite bug. The
        # library itself never hides it (the fuzz tests call the stages directly).
        where = ""
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        print(
            f"okrsite: internal error{where}: {type(exc).__name__}: {exc}; "
            "please report it (set OKRSITE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        if os.environ.get("OKRSITE_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())

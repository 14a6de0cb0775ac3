"""The `okrsite` command: argument parsing and exit codes, nothing else.

Exit status: 0 success, 1 content errors (or warnings under --strict),
2 usage errors.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from okrsite.gitinfo import GitError, GitOptions, site_prefix, tree_at


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
    _git_options(build, as_of=True)

    check = sub.add_parser("check", help="validate and lint only")
    _common(check)
    check.add_argument(
        "--format", choices=sorted(FORMATTERS), default="text", help="message format"
    )
    _git_options(check)

    export = sub.add_parser("export", help="print a cycle's rollups as JSON")
    _common(export, strict=False)
    export.add_argument("--cycle", required=True, help="cycle id, e.g. 2026-Q4")

    new = sub.add_parser("new", help="create a new site that builds without warnings")
    new.add_argument("dir", type=Path, help="folder to create (must be empty or missing)")
    _authoring_parsers(sub)

    serve = sub.add_parser("serve", help="preview the site; pages reload on every save")
    _common(serve, strict=False)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; any other "
        "address opens the preview to the network and turns off the Host-header check)",
    )
    serve.add_argument("--port", type=_port, default=8000, help="port (default: 8000; 0: any)")
    serve.add_argument("--open", action="store_true", help="open the site in a web browser")
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number 0-65535")
    return port


def report(result: CheckResult, fmt: str = "text", stream=None) -> None:
    stream = sys.stderr if stream is None else stream  # looked up now: tests swap it
    for diagnostic in result.diagnostics:
        print(FORMATTERS[fmt](diagnostic), file=stream)


def cmd_check(args: argparse.Namespace) -> int:
    git = GitOptions(history=True) if args.history else None
    result = check_site(args.site, args.today or dt.date.today(), git=git)
    if args.format == "github":  # annotations need paths from the repository's root
        prefix = site_prefix(args.site) or ""
        result.diagnostics = [
            dataclasses.replace(d, path=prefix + d.path) for d in result.diagnostics
        ]
    if args.format == "text":
        report(result)
        print(f"okrsite check: {summary(result.diagnostics, result.file_count)}", file=sys.stderr)
    else:
        report(result, args.format, sys.stdout)
    return 1 if result.failed(args.strict) else 0


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out = args.out if args.out is not None else args.site / "site"
    try:
        result = _build_with_git(args, out)
    except GitError as exc:
        print(f"okrsite build: --as-of {args.as_of}: {exc}", file=sys.stderr)
        return 2
    report(result)
    line = summary(result.diagnostics, result.file_count)
    if result.published:
        pages = sum(1 for path in result.paths if path.endswith(".html"))
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
    try:
        write_scaffold(target, dt.date.today())
    except OSError as exc:  # a read-only or missing parent, a full disk, ...
        print(f"okrsite new: cannot create {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
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


def cmd_serve(args: argparse.Namespace) -> int:
    from okrsite.serve import serve  # imports watchdog and http.server only when needed

    return serve(args.site, args.host, args.port, args.today, args.open)


# --- git: --history, --as-of, checkin, plan (see docs/git-workflow.md) --------


def _git_options(parser: argparse.ArgumentParser, as_of: bool = False) -> None:
    parser.add_argument(
        "--history",
        action="store_true",
        help="read the OKR files' git history: changes of start/target/title, moved goalposts",
    )
    if as_of:
        parser.add_argument(
            "--as-of",
            metavar="REV",
            default=None,
            help="build the content as it was at a commit or tag (the working tree is not touched)",
        )


def _build_with_git(args: argparse.Namespace, out: Path):
    today = args.today or dt.date.today()
    if not args.as_of:
        return build_site(args.site, out, today, args.strict, GitOptions(history=args.history))
    options = GitOptions(repo_dir=args.site, rev=args.as_of, history=args.history, as_of=True)
    with tree_at(args.site, args.as_of) as old_site:
        return build_site(old_site, out, today, args.strict, options)


def _authoring_parsers(sub) -> None:
    checkin = sub.add_parser("checkin", help="write a check-in file, checked before it is written")
    checkin.add_argument("team", help="team id")
    checkin.add_argument(
        "values", nargs="*", metavar="KR=VALUE", help="metric values (KR=done for a milestone)"
    )
    checkin.add_argument("--confidence", action="append", default=[], metavar="KR=0.7")
    checkin.add_argument(
        "--done", action="append", default=[], metavar="KR", help="a milestone is done"
    )
    checkin.add_argument(
        "--progress", action="append", default=[], metavar="KR=0.5", help="milestone progress"
    )
    checkin.add_argument(
        "--grade", action="append", default=[], metavar="KR=0.8", help="final self-assessed score"
    )
    checkin.add_argument("--note", action="append", default=[], metavar="KR=TEXT")
    checkin.add_argument("--cycle", help="cycle id (default: the team's cycle containing the date)")
    checkin.add_argument("--date", type=_date, default=None, help="check-in date (default: today)")
    checkin.add_argument("--author", default=None, help="author (default: git config user.name)")
    body = checkin.add_mutually_exclusive_group()
    body.add_argument("-m", "--message", action="append", default=[], help="the check-in's text")
    body.add_argument("--edit", action="store_true", help="open $EDITOR on the new file first")
    checkin.add_argument("--force", action="store_true", help="replace an existing check-in")
    _common(checkin, strict=False)

    plan = sub.add_parser("plan", help="start a team's OKRs for the next cycle from the last one")
    plan.add_argument("team", help="team id")
    plan.add_argument("--cycle", required=True, help="the cycle to plan, e.g. 2027-Q1")
    plan.add_argument(
        "--from",
        dest="source",
        default=None,
        help="carry over from (default: the team's previous cycle)",
    )
    plan.add_argument(
        "--objective",
        action="append",
        default=[],
        metavar="ID",
        help="carry this objective (repeatable)",
    )
    plan.add_argument("--all", action="store_true", help="carry every objective, finished or not")
    plan.add_argument("-m", "--message", action="append", default=[], help="the file's narrative")
    plan.add_argument("--force", action="store_true", help="replace an existing OKR file")
    _common(plan, strict=False)


def _finish_draft(args: argparse.Namespace, draft, today: dt.date, command: str) -> int:
    from okrsite.authoring import check_draft, write_draft

    check_draft(args.site, draft, today)
    for diagnostic in draft.diagnostics:
        print(diagnostic, file=sys.stderr)
    if draft.errors:
        print(f"okrsite {command}: {draft.path} not written: fix the errors above", file=sys.stderr)
        return 1
    write_draft(args.site, draft, args.force)
    for note in draft.notes:
        print(f"okrsite {command}: note: {note}", file=sys.stderr)
    if draft.other_errors:
        print(
            f"okrsite {command}: note: {draft.other_errors} error(s) elsewhere in the site; run 'okrsite check'",
            file=sys.stderr,
        )
    print(f"okrsite {command}: wrote {draft.path}", file=sys.stderr)
    return 0


def refuse_overwrite(args: argparse.Namespace, path: str) -> None:
    """Authoring commands never replace a file unless --force says so."""
    from okrsite.authoring import AuthoringError

    if (args.site / path).exists() and not args.force:
        raise AuthoringError(f"{path} already exists; pass --force to replace it", 2)


def cmd_checkin(args: argparse.Namespace) -> int:
    from okrsite.authoring import (
        AuthoringError,
        CheckinRequest,
        draft_checkin,
        edit_text,
        keep_text,
    )

    today = args.today or dt.date.today()
    checked = check_site(args.site, today)
    if checked.model is None:  # no usable config: nothing to draft against
        report(checked)
        return 1
    request = CheckinRequest(
        team=args.team,
        values=args.values,
        confidence=args.confidence,
        progress=args.progress,
        grade=args.grade,
        note=args.note,
        done=args.done,
        cycle=args.cycle,
        date=args.date,
        author=args.author,
        message="\n\n".join(args.message),
    )
    try:
        draft = draft_checkin(args.site, checked.model, request, today)
        refuse_overwrite(args, draft.path)
        if args.edit:
            draft.text = edit_text(draft.text)
        status = _finish_draft(args, draft, today, "checkin")
        if status and args.edit:  # keep what was typed: nothing is lost to a typo
            kept = keep_text(draft.text)
            print(f"okrsite checkin: your text is kept in {kept}", file=sys.stderr)
        return status
    except AuthoringError as exc:
        print(f"okrsite checkin: {exc}", file=sys.stderr)
        return exc.status


def cmd_plan(args: argparse.Namespace) -> int:
    from okrsite.authoring import AuthoringError, PlanRequest, draft_plan
    from okrsite.validate import resolve_cycle

    today = args.today or dt.date.today()
    checked = check_site(args.site, today)
    if checked.model is None:  # no usable config: nothing to draft against
        report(checked)
        return 1
    next_cycle = resolve_cycle(args.cycle, checked.model.config)
    if isinstance(next_cycle, str):
        print(f"okrsite plan: {next_cycle}", file=sys.stderr)
        return 1
    request = PlanRequest(
        team=args.team,
        cycle=args.cycle,
        source=args.source,
        objectives=args.objective,
        all=args.all,
        message="\n\n".join(args.message),
    )
    try:
        refuse_overwrite(args, f"content/cycles/{next_cycle.id}/{args.team}.md")
        draft = draft_plan(checked.model, checked.rollups, request, next_cycle, today)
        return _finish_draft(args, draft, today, "plan")
    except AuthoringError as exc:
        print(f"okrsite plan: {exc}", file=sys.stderr)
        return exc.status


COMMANDS = {
    "checkin": cmd_checkin,
    "plan": cmd_plan,
    "build": cmd_build,
    "check": cmd_check,
    "export": cmd_export,
    "new": cmd_new,
    "serve": cmd_serve,
}


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

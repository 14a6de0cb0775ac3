"""`okrsite checkin` and `okrsite plan`: write well-formed content files, checked first.

Both commands produce the new file's text, then check the whole site as if
the file were already written (the same load and validation as `okrsite
check`, with the text overlaid in memory) and only write it when that finds
no error in it. Existing files are never overwritten without `--force`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from okrsite.diagnostics import Diagnostic
from okrsite.load import Content, read_file
from okrsite.model import Cycle, KeyResult, Model, Objective
from okrsite.parse import resolve_plain
from okrsite.rollup import CycleRollup
from okrsite.schema import ID_RULE, suggest


class AuthoringError(Exception):
    """A problem with what was asked (exit status 2) or with the site (status 1)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


# --- checking text before it is written -------------------------------------


def with_overlay(content: Content, overlay: dict[str, str]) -> Content:
    """`content` as if the files in `overlay` (site path -> text) were written.

    Each text goes through the very same reader as files on disk (written to
    a scratch folder, read with `load.read_file`), so it is checked exactly
    as `okrsite check` would check it.
    """
    files = [f for f in content.files if f.path not in overlay]
    diagnostics = [d for d in content.diagnostics if d.path not in overlay]
    with tempfile.TemporaryDirectory(prefix="okrsite-overlay-") as scratch:
        root = Path(scratch)
        for rel_path, text in sorted(overlay.items()):
            path = root / rel_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            source, problems = read_file(root, rel_path)
            diagnostics.extend(problems)
            if source is not None:
                files.append(source)
    files.sort(key=lambda f: f.path)
    return dataclasses.replace(
        content, files=files, diagnostics=diagnostics, paths=content.paths | set(overlay)
    )


@dataclass
class Draft:
    """A file to write: where, what, and what checking it found."""

    path: str  # relative to the site folder
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)  # about this file
    other_errors: int = 0  # errors elsewhere in the site (not blocking)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def check_draft(site_dir: Path, draft: Draft, today: dt.date) -> Draft:
    """Check the site with `draft` included; keep the messages about the draft."""
    from okrsite.build import check_site  # build imports this module for overlays

    result = check_site(site_dir, today, overlay={draft.path: draft.text})
    draft.diagnostics = [d for d in result.diagnostics if d.path == draft.path]
    draft.other_errors = sum(1 for d in result.diagnostics if d.is_error and d.path != draft.path)
    return draft


def write_draft(site_dir: Path, draft: Draft, force: bool = False) -> Path:
    """Write atomically; refuse to replace an existing file unless `force`."""
    target = site_dir / draft.path
    if target.exists() and not force:
        raise AuthoringError(f"{draft.path} already exists; pass --force to replace it", 2)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".okrsite-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(draft.text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --- YAML text, written by hand so files look like people write them --------

_PLAIN_UNSAFE = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|: |\s#|[:\s]$|[\x00-\x1f\x7f]")


def yaml_text(value: str) -> str:
    """A YAML scalar reading back as exactly `value`: plain when safe, else quoted."""
    if value and not _PLAIN_UNSAFE.search(value) and resolve_plain(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def yaml_key(value: str) -> str:
    return value if ID_RULE.match(value) else json.dumps(value, ensure_ascii=False)


def yaml_number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def parse_number(text: str, what: str) -> float:
    """A finite number from the command line (usage error otherwise)."""
    cleaned = text.strip().replace("_", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise AuthoringError(f"{what}: {text!r} is not a number", 2) from None
    if not math.isfinite(value):
        raise AuthoringError(f"{what}: {text!r} is not a finite number", 2)
    return int(value) if re.fullmatch(r"[-+]?\d+", cleaned) else value


def split_pair(text: str, option: str) -> tuple[str, str]:
    kr, sep, value = text.partition("=")
    if not sep or not kr.strip() or not value.strip():
        raise AuthoringError(f"{option} expects KR=VALUE, not {text!r}", 2)
    return kr.strip(), value.strip()


# --- okrsite checkin ----------------------------------------------------------


def team_or_error(model: Model, team_id: str) -> None:
    if team_id not in model.teams:
        raise AuthoringError(
            f"unknown team {team_id!r}{suggest(team_id, model.teams)} "
            f"(teams are the files in content/teams/)"
        )


def cycle_for(model: Model, team_id: str, date: dt.date) -> str:
    """The cycle holding `date` in which the team has OKRs (the shortest, if several)."""
    candidates = [
        cycle
        for cycle in model.cycles.values()
        if (cycle.id, team_id) in model.okrs and cycle.start <= date <= cycle.end
    ]
    if not candidates:
        raise AuthoringError(
            f"team {team_id!r} has no OKRs in a cycle that contains {date}; "
            "pass --cycle, or start the cycle with 'okrsite plan'"
        )
    return min(candidates, key=lambda c: ((c.end - c.start).days, c.id)).id


@dataclass
class CheckinRequest:
    team: str
    values: list[str] = field(default_factory=list)  # KR=VALUE
    confidence: list[str] = field(default_factory=list)  # KR=0.7
    progress: list[str] = field(default_factory=list)  # KR=0.5
    grade: list[str] = field(default_factory=list)  # KR=0.8
    note: list[str] = field(default_factory=list)  # KR=TEXT
    done: list[str] = field(default_factory=list)  # KR
    cycle: str | None = None
    date: dt.date | None = None
    author: str | None = None
    message: str = ""


def checkin_updates(request: CheckinRequest) -> dict[str, dict[str, object]]:
    """KR id -> {field: value}, in the order KRs were first named."""
    updates: dict[str, dict[str, object]] = {}

    def put(kr: str, name: str, value: object) -> None:
        entry = updates.setdefault(kr, {})
        if name in entry and entry[name] != value:
            raise AuthoringError(f"{kr}: {name} given twice ({entry[name]!r} and {value!r})", 2)
        entry[name] = value

    for item in request.values:
        kr, text = split_pair(item, "KR=VALUE")
        if text.lower() == "done":
            put(kr, "done", True)
        else:
            put(kr, "value", parse_number(text, kr))
    for option, name in (("--confidence", "confidence"), ("--progress", "progress")):
        for item in getattr(request, name):
            kr, text = split_pair(item, option)
            value = parse_number(text.rstrip("%"), f"{option} {kr}")
            put(kr, name, value / 100 if text.endswith("%") else value)
    for item in request.grade:
        kr, text = split_pair(item, "--grade")
        put(kr, "grade", parse_number(text, f"--grade {kr}"))
    for item in request.note:
        kr, text = split_pair(item, "--note")
        put(kr, "note", text)
    for kr in request.done:
        put(kr.strip(), "done", True)
    return updates


def _flow(entry: dict[str, object]) -> str:
    order = ("value", "done", "progress", "confidence", "grade", "note")
    parts = []
    for name in sorted(entry, key=lambda n: order.index(n) if n in order else len(order)):
        value = entry[name]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = yaml_number(value)
        else:
            text = json.dumps(str(value), ensure_ascii=False)
        parts.append(f"{name}: {text}")
    return "{" + ", ".join(parts) + "}"


def checkin_text(
    date: dt.date, author: str | None, updates: dict[str, dict[str, object]], body: str
) -> str:
    lines = ["---", f"date: {date.isoformat()}"]
    if author:
        lines.append(f"author: {yaml_text(author)}")
    lines.append("updates:" if updates else "updates: {}")
    lines += [f"  {yaml_key(kr)}: {_flow(entry)}" for kr, entry in updates.items()]
    lines.append("---")
    text = "\n".join(lines) + "\n"
    body = body.strip("\n")
    return text + (body + "\n" if body else "")


def git_user_name(site_dir: Path) -> str | None:
    from okrsite.gitinfo import GitError, git

    try:
        name = git(site_dir, "config", "user.name").decode("utf-8", "replace").strip()
    except GitError:
        return None
    return name or None


def draft_checkin(site_dir: Path, model: Model, request: CheckinRequest, today: dt.date) -> Draft:
    """The check-in file for `request` (not yet checked)."""
    team_or_error(model, request.team)
    date = request.date or today
    cycle = request.cycle or cycle_for(model, request.team, date)
    updates = checkin_updates(request)
    file = model.okrs.get((cycle, request.team))
    if file is not None:  # file order, then anything unknown (validation names it)
        order = [kr.id for o in file.objectives for kr in o.key_results]
        updates = dict(
            sorted(
                updates.items(),
                key=lambda item: order.index(item[0]) if item[0] in order else len(order),
            )
        )
    author = request.author if request.author is not None else git_user_name(site_dir)
    path = f"content/cycles/{cycle}/{request.team}/{date.isoformat()}.md"
    return Draft(path, checkin_text(date, author, updates, request.message))


def edit_text(text: str, suffix: str = ".md") -> str:
    """Open $VISUAL / $EDITOR (else vi) on `text`; the edited text."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, tmp = tempfile.mkstemp(prefix="okrsite-checkin-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            status = subprocess.call([*shlex.split(editor), tmp])
        except OSError as exc:
            raise AuthoringError(f"cannot run the editor {editor!r}: {exc}", 2) from exc
        if status != 0:
            raise AuthoringError(
                f"the editor {editor!r} exited with status {status}; nothing written"
            )
        return Path(tmp).read_text(encoding="utf-8")
    finally:
        Path(tmp).unlink(missing_ok=True)


def keep_text(text: str) -> Path:
    """Save text that could not be written (outside the site), so no typing is lost."""
    fd, path = tempfile.mkstemp(prefix="okrsite-checkin-", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(path)


# --- okrsite plan -------------------------------------------------------------


def previous_cycle(model: Model, team_id: str, next_cycle: Cycle) -> str:
    earlier = [
        c
        for c in model.cycles.values()
        if (c.id, team_id) in model.okrs and c.start < next_cycle.start and c.id != next_cycle.id
    ]
    if not earlier:
        raise AuthoringError(
            f"team {team_id!r} has no OKRs in a cycle before {next_cycle.id} to carry over; "
            "pass --from CYCLE"
        )
    return max(earlier, key=lambda c: (c.start, -(c.end - c.start).days, c.id)).id


@dataclass
class PlanRequest:
    team: str
    cycle: str
    source: str | None = None  # --from
    objectives: list[str] = field(default_factory=list)
    all: bool = False
    message: str = ""


def _block(text: str, indent: str) -> list[str]:
    if "\n" not in text.strip():
        return [yaml_text(text.strip())]
    return ["|"] + [f"{indent}{line}".rstrip() for line in text.strip("\n").split("\n")]


def _objective_lines(
    model: Model,
    objective: Objective,
    krs: list[tuple[KeyResult, object]],
    next_id: str,
    source_id: str,
    dropped: list[str],
) -> list[str]:
    out = [f"  - id: {objective.id}", f"    title: {yaml_text(objective.title)}"]
    if objective.owner:
        out.append(f"    owner: {yaml_text(objective.owner)}")
    if objective.aligns_to:
        team_id, _, objective_id = objective.aligns_to.partition("/")
        parent = model.okrs.get((next_id, team_id))
        if parent is not None and any(o.id == objective_id for o in parent.objectives):
            out.append(f"    aligns_to: {objective.aligns_to}")
        else:
            out.append(
                f"    # aligns_to: {objective.aligns_to}  "
                f"(no such objective in {next_id} yet; align it once there is)"
            )
    if objective.kind != "committed":
        out.append(f"    kind: {objective.kind}")
    if objective.description:
        description = _block(objective.description, "      ")
        out.append(f"    description: {description[0]}")
        out += description[1:]
    out.append("    key_results:")
    for kr, k in krs:
        out.append(f"      - id: {kr.id}")
        out.append(f"        title: {yaml_text(kr.title)}")
        if kr.type == "milestone":
            done = f"{k.progress:.0%} done" if k.progress else "not started"
            out.append(f"        type: milestone  # {done} in {source_id}")
        else:
            out.append(
                f"        start: {yaml_number(k.current)}  "
                f"# reached in {source_id} (it started at {yaml_number(kr.start)})"
            )
            out.append(f"        target: {yaml_number(kr.target)}")
            if kr.unit:
                out.append(f"        unit: {yaml_text(kr.unit)}")
        if kr.weight != 1:
            out.append(f"        weight: {yaml_number(kr.weight)}")
        if kr.owner:
            out.append(f"        owner: {yaml_text(kr.owner)}")
    for line in dropped:
        out.append(f"    # {line}")
    return out


def draft_plan(
    model: Model,
    rollups: dict[str, CycleRollup],
    request: PlanRequest,
    next_cycle: Cycle,
    today: dt.date,
) -> Draft:
    """The team's OKR file for the next cycle, carrying over chosen objectives."""
    team_or_error(model, request.team)
    own_cycles = [c for (c, t) in model.okrs if t == request.team]
    source_id = request.source or previous_cycle(model, request.team, next_cycle)
    if (source_id, request.team) not in model.okrs:
        raise AuthoringError(
            f"team {request.team!r} has no OKRs in {source_id!r}{suggest(source_id, own_cycles)}"
        )
    if source_id == next_cycle.id:
        raise AuthoringError(f"--from and --cycle are both {source_id}; plan a different cycle", 2)
    file = model.okrs[(source_id, request.team)]
    team_rollup = rollups[source_id].teams[request.team]
    by_id = {o.id: o for o in file.objectives}
    for wanted in request.objectives:
        if wanted not in by_id:
            raise AuthoringError(
                f"team {request.team!r} has no objective {wanted!r} in {source_id}"
                f"{suggest(wanted, by_id)}"
            )
    if request.objectives:
        chosen = [by_id[o] for o in dict.fromkeys(request.objectives)]
    elif request.all:
        chosen = list(file.objectives)
    else:
        chosen = [o for o in file.objectives if team_rollup.objectives[o.id].progress < 1]
    if not chosen:
        raise AuthoringError(
            f"every objective of {request.team!r} in {source_id} is finished; "
            "pass --all or --objective ID to carry some over anyway"
        )
    draft = Draft(f"content/cycles/{next_cycle.id}/{request.team}.md", "")
    blocks: list[str] = []
    for objective in chosen:
        k_rollups = team_rollup.objectives[objective.id].key_results
        carried, dropped = [], []
        for kr in objective.key_results:
            k = k_rollups[kr.id]
            if k.progress >= 1:
                # Reached: its current value can't be both start and target, and there
                # is nothing left to do; a new target is the author's call.
                dropped.append(
                    f"not carried: {kr.id} ({kr.title}) was achieved in {source_id}"
                    + (f", reaching {yaml_number(k.current)}" if kr.type == "metric" else "")
                )
            else:
                carried.append((kr, k))
        if not carried:
            draft.notes.append(
                f"objective {objective.id!r}: every key result was achieved in {source_id}; "
                "not carried over (add it with new targets if it goes on)"
            )
            continue
        blocks += _objective_lines(model, objective, carried, next_cycle.id, source_id, dropped)
    if not blocks:
        raise AuthoringError(
            "nothing left to carry over: every chosen objective's key results were achieved"
        )
    header = [
        "---",
        f"# Started with 'okrsite plan {request.team} --cycle {next_cycle.id} --from {source_id}'"
        f" on {today.isoformat()}.",
        f"# Carried over from {source_id}: each metric key result starts where it stood.",
        "# Review titles and targets before you commit.",
        "objectives:",
    ]
    body = request.message.strip("\n") or f"Carried over from {source_id}."
    draft.text = "\n".join([*header, *blocks, "---", body]) + "\n"
    return draft

"""Validate stage: source files → a trusted `Model`, reporting every error.

Per-file checks (fields, types, ids) come first; cross-file checks (team tree,
cycles, alignment, check-in references) follow. Anything with an error is left
out of the model, so later stages never see half-valid data.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from okrsite.config import standard_cycle
from okrsite.diagnostics import Diagnostic
from okrsite.load import SourceFile
from okrsite.markup import markdown_problem
from okrsite.model import (
    CheckIn,
    Cycle,
    KeyResult,
    Model,
    Objective,
    SiteConfig,
    Source,
    Team,
    TeamOKRs,
    Update,
    changed_positions,
    pack_updates,
    same_objects,
)
from okrsite.packed import pack
from okrsite.parse import YamlList, YamlMap
from okrsite.schema import (
    Anything,
    Bool,
    Choice,
    Context,
    Date,
    Id,
    Number,
    Text,
    TextList,
    as_map,
    parse_date,
    read_fields,
    suggest,
)

TEAM_SCHEMA = {
    "name": Text(required=True),
    "parent": Id(),
    "lead": Text(),
    "members": TextList(default=()),
}
OKRS_SCHEMA = {"objectives": Anything(required=True)}
OBJECTIVE_SCHEMA = {
    "id": Id(required=True),
    "title": Text(required=True),
    "owner": Text(),
    "aligns_to": Text(),
    "kind": Choice(default="committed", choices=("committed", "aspirational")),
    "description": Text(),
    "key_results": Anything(required=True),
}
KR_SCHEMA = {
    "id": Id(required=True),
    "title": Text(required=True),
    "type": Choice(default="metric", choices=("metric", "milestone")),
    "start": Number(),
    "target": Number(),
    "unit": Text(),
    "weight": Number(default=1, above=0),
    "owner": Text(),
}
CHECKIN_SCHEMA = {
    "date": Date(),
    "author": Text(),
    "updates": Anything(required=True),
}
UPDATE_SCHEMA = {
    "value": Number(),
    "confidence": Number(minimum=0, maximum=1),
    "note": Text(),
    "progress": Number(minimum=0, maximum=1),
    "done": Bool(),
    "grade": Number(minimum=0, maximum=1),
}
METRIC_ONLY = ("value",)  # in the order their errors are reported
MILESTONE_ONLY = ("done", "progress")


@dataclass
class Validated:
    model: Model
    diagnostics: list[Diagnostic]


# --- per-file checks -------------------------------------------------------


def _source(src: SourceFile, line: int) -> Source:
    return Source(src.path, line)


def read_team(src: SourceFile, ctx: Context) -> Team | None:
    fields = read_fields(src.front_matter, TEAM_SCHEMA, ctx, f"team {src.team!r}")
    if fields is None:
        return None
    return Team(
        id=src.team,
        name=fields["name"],
        parent=fields["parent"],
        lead=fields["lead"],
        members=fields["members"],
        packed_body=pack(src.body),
        source=_source(src, 1),
        parent_line=src.front_matter.line_of("parent"),
    )


def _items(value: object, ctx: Context, line: int, what: str) -> list[tuple[YamlMap, int]] | None:
    """The mappings of a YAML list, with their lines; None (reported) if not a list."""
    if not isinstance(value, YamlList) or not value:
        if isinstance(value, YamlList):
            ctx.report(line, "OKR010", f"{what} needs at least one entry")
        else:
            ctx.report(line, "OKR011", f"{what} must be a list ('- ' entries)")
        return None
    items = []
    for item, item_line in zip(value, value.item_lines, strict=True):
        mapping = as_map(item, ctx, item_line, f"each entry of {what}")
        if mapping is not None:
            items.append((mapping, item_line))
    return items


def read_key_result(mapping: YamlMap, ctx: Context, src: SourceFile) -> KeyResult | None:
    label = (
        f"key result {mapping.get('id')!r}"
        if isinstance(mapping.get("id"), str)
        else "a key result"
    )
    fields = read_fields(mapping, KR_SCHEMA, ctx, label)
    if fields is None:
        return None
    kr_id, line = fields["id"], mapping.line_of("id")
    if fields["type"] == "metric":
        for name in ("start", "target"):
            if fields[name] is None:
                ctx.report(mapping.line, "OKR010", f"metric key result {kr_id!r} needs {name!r}")
                return None
        if fields["start"] == fields["target"]:
            ctx.report(
                mapping.line_of("target"),
                "OKR012",
                f"key result {kr_id!r} has start == target ({_number(fields['start'])}); "
                "a metric needs a change",
            )
            return None
    else:
        for name in ("start", "target", "unit"):
            if name in mapping:
                ctx.report(
                    mapping.line_of(name),
                    "OKR011",
                    f"{name!r} is for metric key results; remove it from milestone {kr_id!r}",
                )
                return None
    return KeyResult(
        id=kr_id,
        title=fields["title"],
        type=fields["type"],
        start=fields["start"],
        target=fields["target"],
        unit=fields["unit"],
        weight=fields["weight"],
        owner=fields["owner"],
        source=_source(src, line),
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def read_objective(
    mapping: YamlMap, ctx: Context, src: SourceFile, kr_ids: dict[str, int]
) -> Objective | None:
    label = (
        f"objective {mapping.get('id')!r}" if isinstance(mapping.get("id"), str) else "an objective"
    )
    fields = read_fields(mapping, OBJECTIVE_SCHEMA, ctx, label)
    if fields is None:
        return None
    trouble = fields["description"] and markdown_problem(fields["description"])
    if trouble:
        ctx.report(mapping.line_of("description"), "OKR008", f"description {trouble[1]}")
        return None
    items = _items(fields["key_results"], ctx, mapping.line_of("key_results"), "key_results")
    if items is None:
        return None
    key_results = []
    for kr_map, _ in items:
        kr = read_key_result(kr_map, ctx, src)
        if kr is None:
            continue
        if kr.id in kr_ids:
            ctx.report(
                kr.source.line,
                "OKR015",
                f"key result id {kr.id!r} is used twice in this cycle (first on line {kr_ids[kr.id]})",
            )
            continue
        kr_ids[kr.id] = kr.source.line
        key_results.append(kr)
    if len(key_results) != len(items):
        return None
    return Objective(
        id=fields["id"],
        title=fields["title"],
        owner=fields["owner"],
        aligns_to=fields["aligns_to"],
        kind=fields["kind"],
        description=fields["description"],
        key_results=tuple(key_results),
        source=_source(src, mapping.line_of("id")),
    )


def read_okrs(src: SourceFile, ctx: Context) -> TeamOKRs | None:
    fields = read_fields(src.front_matter, OKRS_SCHEMA, ctx, "an OKR file")
    if fields is None:
        return None
    items = _items(fields["objectives"], ctx, src.front_matter.line_of("objectives"), "objectives")
    if items is None:
        return None
    objectives: list[Objective] = []
    objective_lines: dict[str, int] = {}
    kr_ids: dict[str, int] = {}
    for mapping, _ in items:
        objective = read_objective(mapping, ctx, src, kr_ids)
        if objective is None:
            continue
        if objective.id in objective_lines:
            ctx.report(
                objective.source.line,
                "OKR015",
                f"objective id {objective.id!r} is used twice in this file "
                f"(first on line {objective_lines[objective.id]})",
            )
            continue
        objective_lines[objective.id] = objective.source.line
        objectives.append(objective)
    if len(objectives) != len(items):
        return None
    return TeamOKRs(src.team, src.cycle, tuple(objectives), pack(src.body), _source(src, 1))


def read_checkin(src: SourceFile, ctx: Context) -> CheckIn | None:
    date = parse_date(src.stem)
    if date is None:
        ctx.report(
            1,
            "OKR024",
            f"check-in file name {src.stem + '.md'!r} is not a date; name it YYYY-MM-DD.md",
        )
        return None
    fields = read_fields(src.front_matter, CHECKIN_SCHEMA, ctx, "a check-in")
    if fields is None:
        return None
    if fields["date"] is not None and fields["date"] != date:
        ctx.report(
            src.front_matter.line_of("date"),
            "OKR024",
            f"date {fields['date']} differs from the file name's date {date}; make them equal",
        )
        return None
    updates_map = as_map(fields["updates"], ctx, src.front_matter.line_of("updates"), "updates")
    if updates_map is None:
        return None
    if not updates_map:
        ctx.report(
            src.front_matter.line_of("updates"), "OKR010", "updates needs at least one entry"
        )
        return None
    updates = []
    for kr_id, value in updates_map.items():
        line = updates_map.line_of(kr_id)
        update_map = as_map(value, ctx, line, f"the update of {kr_id!r}")
        fields_u = update_map is not None and read_fields(
            update_map, UPDATE_SCHEMA, ctx, f"the update of {kr_id!r}"
        )
        if not fields_u:
            continue
        if all(v is None for v in fields_u.values()):
            ctx.report(line, "OKR010", f"the update of {kr_id!r} gives no value")
            continue
        updates.append(Update(key_result=str(kr_id), line=line, **fields_u))
    if len(updates) != len(updates_map):
        return None
    return CheckIn(
        team=src.team,
        cycle=src.cycle,
        date=date,
        author=fields["author"],
        packed_updates=pack_updates(tuple(updates)),
        packed_body=pack(src.body),
        source=_source(src, 1),
    )


# --- cross-file checks -----------------------------------------------------


def team_path(team_id: str) -> str:
    return f"content/teams/{team_id}.md"


def okrs_path(cycle_id: str, team_id: str) -> str:
    return f"content/cycles/{cycle_id}/{team_id}.md"


def check_team_tree(teams: dict[str, Team], report, present: frozenset[str]) -> dict[str, Team]:
    """Exactly one root, known parents, no loops; returns the teams that pass.

    A parent whose file exists but has errors is not reported again here.
    """
    good = dict(teams)
    for team in teams.values():
        if team.parent is not None and team.parent not in teams:
            good.pop(team.id, None)
            if team_path(team.parent) in present:
                continue
            report(
                team.source.path,
                _line(team),
                "OKR016",
                f"parent {team.parent!r} is not a team{suggest(team.parent, teams)}",
            )
    roots = sorted(t.id for t in teams.values() if t.parent is None)
    if not roots and teams:
        first = min(teams)
        report(
            teams[first].source.path,
            1,
            "OKR019",
            "no root team: exactly one team (the company) must have no 'parent'",
        )
    for extra in roots[1:]:
        report(
            teams[extra].source.path,
            1,
            "OKR019",
            f"more than one root team ({', '.join(roots)}); give all but the company a 'parent'",
        )
        good.pop(extra, None)
    reported: set[frozenset[str]] = set()
    for team_id in teams:
        seen, current = [], team_id
        while current is not None and current in teams and current not in seen:
            seen.append(current)
            current = teams[current].parent
        if current == team_id:  # walked back to the start: a loop
            good.pop(team_id, None)
            if frozenset(seen) not in reported:
                reported.add(frozenset(seen))
                path = " → ".join([*seen, team_id])
                report(
                    team_path(team_id),
                    _line(teams[team_id]),
                    "OKR020",
                    f"team parents loop: {path}",
                )
    return good


def _line(team: Team) -> int:
    return team.parent_line


def resolve_cycle(cycle_id: str, config: SiteConfig) -> Cycle | str:
    if cycle_id in config.cycles:
        return config.cycles[cycle_id]
    cycle = standard_cycle(cycle_id)
    if cycle is not None:
        return cycle
    upper = cycle_id.upper()
    hint = f"; did you mean {upper!r}?" if standard_cycle(upper) else ""
    return (
        f"cycle {cycle_id!r} is neither a standard id (YYYY, YYYY-H1, YYYY-Q1...) nor declared; "
        f'add [cycles."{cycle_id}"] with start and end to okrsite.toml{hint}'
    )


def check_alignment(
    okrs: dict[tuple[str, str], TeamOKRs], report, present: frozenset[str]
) -> set[tuple[str, str, str]]:
    """Report dangling or looping aligns_to; return (cycle, team, objective) to drop."""
    bad: set[tuple[str, str, str]] = set()
    objectives = {
        (cycle, team, o.id): o for (cycle, team), file in okrs.items() for o in file.objectives
    }
    for (cycle, team, _), objective in objectives.items():
        target = objective.aligns_to
        if target is None:
            continue
        where = (objective.source.path, objective.source.line)
        team_id, _, objective_id = target.partition("/")
        if not objective_id or "/" in objective_id:
            report(*where, "OKR011", f"aligns_to {target!r} must be <team>/<objective>")
        elif (cycle, team_id) not in okrs and okrs_path(cycle, team_id) in present:
            pass  # that file has errors of its own
        elif (cycle, team_id) not in okrs:
            teams_here = [t for (c, t) in okrs if c == cycle]
            report(
                *where,
                "OKR016",
                f"aligns_to {target!r}: team {team_id!r} has no OKRs in {cycle}"
                f"{suggest(team_id, teams_here)}",
            )
        elif (cycle, team_id, objective_id) not in objectives:
            ids = [o.id for o in okrs[(cycle, team_id)].objectives]
            report(
                *where,
                "OKR017",
                f"aligns_to {target!r}: team {team_id!r} has no objective {objective_id!r} "
                f"in {cycle}{suggest(objective_id, ids)}",
            )
        elif (team_id, objective_id) == (team, objective.id):
            report(*where, "OKR021", f"objective {objective.id!r} aligns to itself")
        else:
            continue
        bad.add((cycle, team, objective.id))
    ends: set[tuple[str, str, str]] = set()  # objectives whose chain ends, loop-free
    for key, objective in objectives.items():
        chain, current = [key], objective
        while key not in bad:
            if not current.aligns_to:
                ends.update(chain)
                break
            team_id, _, objective_id = current.aligns_to.partition("/")
            nxt = (key[0], team_id, objective_id)
            if nxt == key and len(chain) > 1:
                names = " → ".join(f"{t}/{o}" for _, t, o in [*chain, key])
                report(
                    objective.source.path,
                    objective.source.line,
                    "OKR021",
                    f"alignment loop: {names}",
                )
                bad.add(key)
                break
            if nxt in ends or nxt not in objectives:
                ends.update(chain)
                break
            if nxt in chain:
                break  # a loop that does not pass through `key`: its members report it
            chain.append(nxt)
            current = objectives[nxt]
    return bad


def _drop_objectives(file: TeamOKRs, cycle: str, bad: set[tuple[str, str, str]]) -> TeamOKRs:
    kept = tuple(o for o in file.objectives if (cycle, file.team, o.id) not in bad)
    if len(kept) == len(file.objectives):
        return file
    return TeamOKRs(file.team, file.cycle, kept, file.packed_body, file.source)


@dataclass(frozen=True)
class UpdateTargets:
    """What a team's check-ins in a cycle may update: its key results by id, and the ids
    of those whose objective has an error of its own (so not called unknown)."""

    key_results: dict[str, KeyResult]
    dropped: frozenset[str] = frozenset()


def check_updates(
    checkin: CheckIn, targets: UpdateTargets | None, ctx: Context, present: frozenset[str]
) -> bool:
    if targets is None and okrs_path(checkin.cycle, checkin.team) in present:
        return False  # the OKR file has errors of its own
    if targets is None:
        ctx.report(
            1,
            "OKR018",
            f"team {checkin.team!r} has no OKRs in {checkin.cycle}; "
            f"add content/cycles/{checkin.cycle}/{checkin.team}.md first",
        )
        return False
    key_results = targets.key_results
    ok = True
    for update in checkin.updates:
        kr = key_results.get(update.key_result)
        if kr is None and update.key_result in targets.dropped:
            ok = False  # its objective is reported already; don't call the KR unknown
            continue
        if kr is None:
            ctx.report(
                update.line,
                "OKR018",
                f"unknown key result {update.key_result!r} for team {checkin.team!r} in "
                f"{checkin.cycle}{suggest(update.key_result, key_results)}",
            )
            ok = False
            continue
        for name in METRIC_ONLY if kr.type == "milestone" else MILESTONE_ONLY:
            if getattr(update, name) is not None:
                hint = "value" if kr.type == "metric" else "progress or done"
                ctx.report(
                    update.line,
                    "OKR011",
                    f"{name!r} does not apply to {kr.type} key result {kr.id!r}; give {hint}",
                )
                ok = False
    return ok


PerFile = tuple[Team | TeamOKRs | CheckIn | None, list[Diagnostic]]


def read_source(src: SourceFile) -> PerFile:
    """The per-file checks of one source: all that this file alone decides, so a
    cache may keep the result by the file's digest (okrsite/cache.py)."""
    ctx = Context(src.path, [])
    reader = {"team": read_team, "okrs": read_okrs, "checkin": read_checkin}[src.kind]
    return reader(src, ctx), ctx.diagnostics


@dataclass
class _Group:
    """A team's OKR file in a cycle, as its check-ins are checked against it."""

    file: TeamOKRs
    targets: UpdateTargets


@dataclass
class _Frame:
    """What the config, the team files and the OKR files decide, before any check-in."""

    made_from: tuple  # (config, present, the sources and their per-file results)
    present: frozenset[str]
    teams: dict[str, Team]
    okrs: dict[tuple[str, str], TeamOKRs]
    cycles: dict[str, Cycle | str]  # by id: the cycle, or why it is not one
    groups: dict[tuple[str, str], _Group]
    diagnostics: list[Diagnostic]


@dataclass
class _Run:
    """The last run of `validate`, so that the next one redoes only what changed."""

    config: SiteConfig
    present: frozenset[str]  # as given
    files: list[SourceFile]
    per_file: dict[str, PerFile]  # by path, in the order of `files`
    frame: _Frame
    members: dict[tuple[str, str], list[str]]  # the paths of a group's check-ins
    validated: Validated


def validate(
    config: SiteConfig,
    files: list[SourceFile],
    present: frozenset[str] = frozenset(),
    per_file: dict[str, PerFile] | None = None,
    memo: dict | None = None,
    since: tuple[list[SourceFile], Collection[int]] | None = None,
) -> Validated:
    """Check `files`; `present` holds every content path found, loadable or not,
    so a file with errors of its own does not also cause "unknown" errors elsewhere.
    `per_file`: `read_source` results already known, by path (from a cache).
    `memo`: a dict the caller keeps between calls (the preview server's rebuilds).
    With the very same config, team and OKR objects as last time, their checks are
    not run again; a check-in that is the very same object as last time, checked
    against the very same OKR file, is not checked again.
    `since`: (a list of sources, positions): `files` and `per_file` are those of the
    call that was given that list, but at these positions. The caller knows which
    files it read again; comparing 23,000 objects to find them costs 8 ms.
    """
    per_file = per_file or {}
    memo = {} if memo is None else memo
    last = memo.get("last")
    if last is not None:
        again = _revalidate(last, config, files, present, per_file, memo, since)
        if again is not None:
            return again
    given = present
    present = present | {src.path for src in files}

    def read(src: SourceFile) -> PerFile:
        return per_file[src.path] if src.path in per_file else read_source(src)

    by_kind: dict[str, list[SourceFile]] = defaultdict(list)
    for src in files:
        by_kind[src.kind].append(src)
    upstream = [(src, read(src)) for src in by_kind["team"] + by_kind["okrs"]]
    made_from = (config, present, tuple(item for pair in upstream for item in pair))
    frame = memo.get("frame")
    if frame is None or not _same_frame(frame.made_from, made_from):
        frame = _check_frame(config, upstream, present, made_from, frame)
        memo["frame"] = frame
    diagnostics = list(frame.diagnostics)
    cycles = dict(frame.cycles)  # and those of folders with check-ins only
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    checkins: dict[tuple[str, str], list[CheckIn]] = defaultdict(list)
    for src in by_kind["checkin"]:
        outcome = _checkin_outcome(src, read(src), frame, cycles, memo)
        diagnostics += outcome[4]
        members[(src.cycle, src.team)].append(src.path)
        if outcome[3] is not None:
            checkins[(src.cycle, src.team)].append(outcome[3])

    model = Model(
        config=config,
        teams=frame.teams,
        cycles=_ordered_cycles(config, cycles),
        okrs=frame.okrs,
        checkins=_groups(checkins, last.validated.model.checkins if last else {}),
    )
    validated = Validated(model, diagnostics)
    if list(per_file) == [src.path for src in files]:  # what _revalidate relies on
        memo["last"] = _Run(config, given, files, per_file, frame, members, validated)
    return validated


def _date(checkin: CheckIn):
    return checkin.date


def _groups(
    found: dict[tuple[str, str], list[CheckIn]], before: dict[tuple[str, str], tuple[CheckIn, ...]]
) -> dict[tuple[str, str], tuple[CheckIn, ...]]:
    """Each team's check-ins by date; a group of the very same check-ins as `before`
    is its very tuple, so the later stages' memos see it unchanged at a glance."""
    groups = {}
    for key, checkins in sorted(found.items()):
        group = tuple(sorted(checkins, key=_date))
        kept = before.get(key)
        groups[key] = kept if kept is not None and same_objects(kept, group) else group
    return groups


def _checkin_outcome(
    src: SourceFile, result: PerFile, frame: _Frame, cycles: dict[str, Cycle | str], memo: dict
) -> tuple:
    """(src, result, group, the check-in or None, its diagnostics): kept in `memo`
    while the check-in and its group are the very same objects."""
    group = frame.groups.get((src.cycle, src.team))
    kept_checkins = memo.setdefault("checkins", {})
    kept = kept_checkins.get(src.path)
    if kept is None or kept[0] is not src or kept[1] is not result or kept[2] is not group:
        accepted, found = _check_checkin(src, result, frame, group, cycles)
        kept = (src, result, group, accepted, tuple(found))  # mostly (): no list each
        if group is not None:  # else the outcome depends on the other check-ins
            kept_checkins[src.path] = kept
    return kept


def _revalidate(
    last: _Run,
    config: SiteConfig,
    files: list[SourceFile],
    present: frozenset[str],
    per_file: dict[str, PerFile],
    memo: dict,
    since: tuple[list[SourceFile], Collection[int]] | None,
) -> Validated | None:
    """The last result with the check-ins that changed since checked again, or None
    when anything else changed. It compares object pointers only (C speed), so an
    edit in a large company costs what the edited files cost."""
    if len(files) != len(last.files) or len(per_file) != len(last.per_file):
        return None
    if config is not last.config and config != last.config:
        return None
    if present is not last.present and present != last.present:
        return None
    if since is not None and since[0] is last.files:
        changed = set(since[1])
    else:
        results, last_results = list(per_file.values()), list(last.per_file.values())
        changed = changed_positions(files, last.files) | changed_positions(results, last_results)
    if not changed:
        return last.validated
    frame, paths = last.frame, set()
    for i in changed:
        src = files[i]
        if src.kind != "checkin" or src.path != last.files[i].path:
            return None
        if (src.cycle, src.team) not in frame.groups:
            return None  # checked against what other files say: the full run decides
        paths.add(src.path)
    cycles = dict(frame.cycles)
    groups = set()
    diagnostics = [d for d in last.validated.diagnostics if d.path not in paths]
    for i in sorted(changed):
        result = per_file[files[i].path]
        diagnostics += _checkin_outcome(files[i], result, frame, cycles, memo)[4]
        groups.add((files[i].cycle, files[i].team))
    kept_checkins = memo["checkins"]
    checkins = dict(last.validated.model.checkins)
    added = False  # a group with no valid check-in before: not in its sorted place
    for key in groups:
        found = [kept_checkins[path][3] for path in last.members[key]]
        added = added or key not in checkins
        checkins[key] = tuple(sorted((c for c in found if c is not None), key=_date))
        if not checkins[key]:
            del checkins[key]
    if added:
        checkins = dict(sorted(checkins.items()))
    model = dataclasses.replace(last.validated.model, checkins=checkins)
    validated = Validated(model, diagnostics)
    memo["last"] = dataclasses.replace(
        last, present=present, files=files, per_file=per_file, validated=validated
    )
    return validated


def _ordered_cycles(config: SiteConfig, found: dict[str, Cycle | str]) -> dict[str, Cycle]:
    """The declared cycles and those of the content folders, by start date."""
    cycles = dict(config.cycles)
    cycles.update((c, cycle) for c, cycle in found.items() if isinstance(cycle, Cycle))
    return dict(sorted(cycles.items(), key=lambda item: (item[1].start, item[0])))


def _same_frame(old: tuple, new: tuple) -> bool:
    return old[0] == new[0] and old[1] == new[1] and same_objects(old[2], new[2])


def _check_frame(
    config: SiteConfig,
    upstream: list[tuple[SourceFile, PerFile]],
    present: frozenset[str],
    made_from: tuple,
    previous: _Frame | None,
) -> _Frame:
    """The cross-file checks of the team and OKR files. A group that matches
    `previous` (the same OKR file and targets, under the same config) is its very
    object, so the check-ins checked against it are not checked again."""
    diagnostics: list[Diagnostic] = []

    def report(path: str, line: int, code: str, message: str) -> None:
        diagnostics.append(Diagnostic(path, line, code, message))

    teams: dict[str, Team] = {}
    okr_files: list[tuple[SourceFile, TeamOKRs]] = []
    for src, (found, problems) in upstream:
        diagnostics += problems
        if isinstance(found, TeamOKRs):
            okr_files.append((src, found))
        elif isinstance(found, Team):
            teams[found.id] = found
    teams = check_team_tree(teams, report, present)

    cycles: dict[str, Cycle | str] = {}
    okrs: dict[tuple[str, str], TeamOKRs] = {}
    for src, file in okr_files:
        if not _in_known_cycle(src, config, cycles, report):
            continue
        if _known_team(src, teams, present, report):
            okrs[(src.cycle, src.team)] = file
    bad = check_alignment(okrs, report, present)
    groups: dict[tuple[str, str], _Group] = {}
    old_groups = previous.groups if previous and previous.made_from[0] == config else {}
    for key, file in okrs.items():
        every_kr = file.key_results_by_id().keys()
        file = okrs[key] = _drop_objectives(file, key[0], bad)
        kept = file.key_results_by_id()
        group = _Group(file, UpdateTargets(kept, frozenset(every_kr - kept.keys())))
        old = old_groups.get(key)
        same = old is not None and old.file is file and old.targets == group.targets
        groups[key] = old if same else group
    return _Frame(
        made_from,
        present,
        dict(sorted(teams.items())),
        dict(sorted(okrs.items())),
        cycles,
        groups,
        diagnostics,
    )


def _in_known_cycle(src: SourceFile, config: SiteConfig, cycles: dict, report) -> bool:
    """Whether `src` is in a known cycle folder; an unknown one is reported once."""
    if src.cycle not in cycles:
        cycles[src.cycle] = resolve_cycle(src.cycle, config)
        if not isinstance(cycles[src.cycle], Cycle):
            report(src.path, 1, "OKR022", cycles[src.cycle])
    return isinstance(cycles[src.cycle], Cycle)


def _known_team(src: SourceFile, teams: dict[str, Team], present: frozenset[str], report) -> bool:
    if src.team in teams:
        return True
    if team_path(src.team) in present:
        return False  # the team file has errors of its own
    report(
        src.path,
        1,
        "OKR016",
        f"team {src.team!r} has no file content/teams/{src.team}.md{suggest(src.team, teams)}",
    )
    return False


def _check_checkin(
    src: SourceFile,
    result: PerFile,
    frame: _Frame,
    group: _Group | None,
    cycles: dict[str, Cycle | str],
) -> tuple[CheckIn | None, list[Diagnostic]]:
    """A check-in, or None if it has errors, and its diagnostics. `cycles`: those
    resolved so far in this run; an unknown one is reported with its first file."""
    checkin, problems = result
    diagnostics = list(problems)

    def report(path: str, line: int, code: str, message: str) -> None:
        diagnostics.append(Diagnostic(path, line, code, message))

    in_cycle = _in_known_cycle(src, frame.made_from[0], cycles, report)
    if checkin is None or not in_cycle:
        return None, diagnostics
    if not _known_team(src, frame.teams, frame.present, report):
        return None, diagnostics
    cycle = cycles[src.cycle]
    assert isinstance(checkin, CheckIn) and isinstance(cycle, Cycle)
    if not cycle.start <= checkin.date <= cycle.end:
        report(
            src.path,
            src.front_matter.line_of("date") if "date" in src.front_matter else 1,
            "OKR023",
            f"check-in dated {checkin.date} is outside cycle {cycle.id} "
            f"({cycle.start} to {cycle.end}); move it to the right cycle folder",
        )
        return None, diagnostics
    ctx = Context(src.path, diagnostics)
    ok = check_updates(checkin, group.targets if group else None, ctx, frame.present)
    return (checkin if ok else None), diagnostics

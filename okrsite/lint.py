"""Lint: warnings about OKR pitfalls, from the model and its rollups.

Warnings never stop a build (unless --strict); each has its own code so a site
can silence it with `[rules] disable = [...]`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from okrsite.diagnostics import Diagnostic
from okrsite.model import CheckIn, Model, Objective, changed_keys, same_objects
from okrsite.rollup import CycleRollup

# Titles that start with one of these describe work to do, not an outcome.
ACTIVITY_VERBS = (
    "launch",
    "build",
    "create",
    "implement",
    "write",
    "hold",
    "develop",
    "ship",
    "deliver",
    "design",
    "organise",
    "organize",
    "run",
    "host",
    "conduct",
    "prepare",
    "publish",
    "set up",
    "roll out",
    "start",
    "complete",
    "finish",
    "migrate",
)
_TASK_TITLE = re.compile(r"^(?:" + "|".join(ACTIVITY_VERBS) + r")\b", re.IGNORECASE)
_HAS_NUMBER = re.compile(r"\d")


def _objective_warnings(model: Model, team_id: str, objective: Objective) -> list[Diagnostic]:
    rules = model.config.rules
    path, line = objective.source.path, objective.source.line
    found = []
    count = len(objective.key_results)
    if count < rules.min_key_results:
        found.append(
            Diagnostic(
                path,
                line,
                "OKR102",
                f"objective {objective.id!r} has {count} key result(s); "
                f"give it at least {rules.min_key_results} to measure it from more than one side",
            )
        )
    if count > rules.max_key_results:
        found.append(
            Diagnostic(
                path,
                line,
                "OKR103",
                f"objective {objective.id!r} has {count} key results; keep at most "
                f"{rules.max_key_results} so each one gets attention",
            )
        )
    for kr in objective.key_results:
        verb = _TASK_TITLE.match(kr.title)
        if kr.type == "metric" and verb:
            found.append(
                Diagnostic(
                    path,
                    kr.source.line,
                    "OKR104",
                    f"key result {kr.id!r} reads as a task ({verb.group().lower()!r} ...); "
                    "state the outcome it should change",
                )
            )
    if all(kr.type == "milestone" for kr in objective.key_results):
        found.append(
            Diagnostic(
                path,
                line,
                "OKR105",
                f"objective {objective.id!r} is measured only by milestones; "
                "add a metric key result for the outcome",
            )
        )
    if _HAS_NUMBER.search(objective.title):
        found.append(
            Diagnostic(
                path,
                line,
                "OKR106",
                f"objective {objective.id!r} reads as a key result (its title holds a number); "
                "keep numbers in key results",
            )
        )
    if objective.aligns_to is None and team_id != model.root.id:
        found.append(
            Diagnostic(
                path,
                line,
                "OKR107",
                f"objective {objective.id!r} is aligned to nothing; "
                "set aligns_to: <team>/<objective>",
            )
        )
    return found


def lint(
    model: Model, rollups: dict[str, CycleRollup], today: dt.date, memo: dict | None = None
) -> list[Diagnostic]:
    """`memo`: a dict the caller keeps between calls (the preview server's rebuilds).
    An OKR file that is the very same object as last time keeps its objectives'
    warnings; when only check-ins changed, only the files of the teams whose rollups
    are new objects and the check-in groups that changed are looked at again."""
    memo = {} if memo is None else memo
    has_root = any(team.parent is None for team in model.teams.values())
    inputs = (model.okrs, model.teams, model.config.rules, today)
    last = memo.get("last")
    found = _lint_again(model, rollups, today, memo, has_root, inputs, last) if last else None
    if found is None:
        by_file = {
            key: _file_warnings(model, rollups, today, key, memo, has_root) for key in model.okrs
        }
        by_group = {
            key: _future_checkins(group, today, model.config.rules)
            for key, group in model.checkins.items()
        }
        found = (by_file, by_group)
    teams = {cycle_id: rollup.teams for cycle_id, rollup in rollups.items()}
    memo["last"] = (inputs, model.checkins, teams, *found)
    return list(itertools.chain(*found[0].values(), *found[1].values()))


def _lint_again(
    model: Model,
    rollups: dict[str, CycleRollup],
    today: dt.date,
    memo: dict,
    has_root: bool,
    inputs: tuple,
    last: tuple,
) -> tuple[dict, dict] | None:
    """The last warnings, by OKR file and by check-in group, with those of the teams
    whose rollups are new objects and of the changed groups made again; None when
    more than check-ins changed."""
    before, checkins, teams, by_file, by_group = last
    same = before[0] is inputs[0] and before[1] is inputs[1] and before[2:] == inputs[2:]
    groups = changed_keys(model.checkins, checkins) if same else None
    if groups is None:
        return None
    by_file, by_group = dict(by_file), dict(by_group)
    for key in _changed_teams(model, rollups, teams):
        by_file[key] = _file_warnings(model, rollups, today, key, memo, has_root)
    for key in groups:
        by_group[key] = _future_checkins(model.checkins[key], today, model.config.rules)
    return by_file, by_group


def _changed_teams(
    model: Model, rollups: dict[str, CycleRollup], before: dict[str, dict]
) -> set[tuple[str, str]]:
    """The OKR files of the teams whose rollups are other objects than `before`'s (the
    rollup memo keeps those of unchanged teams)."""
    found = set()
    for cycle_id, rollup in rollups.items():
        teams = changed_keys(rollup.teams, before.get(cycle_id, {}))
        if teams is None:
            found.update(key for key in model.okrs if key[0] == cycle_id)
        else:
            found.update((cycle_id, t) for t in teams if (cycle_id, t) in model.okrs)
    return found


def _file_warnings(
    model: Model,
    rollups: dict[str, CycleRollup],
    today: dt.date,
    key: tuple[str, str],
    memo: dict,
    has_root: bool,
) -> list[Diagnostic]:
    """OKR101, the objectives' warnings and OKR108 of one OKR file."""
    cycle_id, team_id = key
    file = model.okrs[key]
    rules = model.config.rules
    found: list[Diagnostic] = []
    count = len(file.objectives)
    if count > rules.max_objectives:
        found.append(
            Diagnostic(
                file.source.path,
                1,
                "OKR101",
                f"{count} objectives; focus on at most {rules.max_objectives}",
            )
        )
    if has_root:
        inputs = (file, model.root.id, rules)
        kept = memo.get(key)
        if kept is None or kept[0][1:] != inputs[1:] or not same_objects(kept[0][:1], (file,)):
            warnings = [w for o in file.objectives for w in _objective_warnings(model, team_id, o)]
            kept = memo[key] = (inputs, warnings)
        found.extend(kept[1])
    team = rollups[cycle_id].teams.get(team_id)
    if team is not None and team.stale:
        latest = team.latest_checkin
        since = f"the last check-in was {latest}" if latest else "there is no check-in yet"
        found.append(
            Diagnostic(
                file.source.path,
                1,
                "OKR108",
                f"team {team_id!r} is stale in {cycle_id}: {since}, more than "
                f"{rules.stale_after_days} days before {today}; add a check-in",
            )
        )
    return [d for d in found if d.code not in rules.disable]


def _future_checkins(checkins: tuple[CheckIn, ...], today: dt.date, rules) -> list[Diagnostic]:
    """OKR109 for each check-in of a group dated after today."""
    if not checkins or checkins[-1].date <= today or "OKR109" in rules.disable:
        return []  # by date: the newest is not in the future, so none is
    return [
        Diagnostic(
            checkin.source.path,
            1,
            "OKR109",
            f"check-in dated {checkin.date}, after today ({today}); it does not count until then",
        )
        for checkin in checkins
        if checkin.date > today
    ]


def history_warnings(model: Model, history) -> list[Diagnostic]:
    """OKR110: targets made easier after their cycle started (`okrsite.history.History`)."""
    found: list[Diagnostic] = []
    for (cycle_id, team_id, kr_id), moved in sorted(history.moved.items()):
        file = model.okrs.get((cycle_id, team_id))
        kr = file and next(
            (k for o in file.objectives for k in o.key_results if k.id == kr_id), None
        )
        if kr is None:
            continue
        who = "; ".join(
            f"by {c.commit.author} on {c.commit.day} in commit {c.commit.short}"
            if c.commit
            else "in uncommitted changes"
            for c in moved.changes
        )
        found.append(
            Diagnostic(
                kr.source.path,
                kr.source.line,
                "OKR110",
                f"moved goalpost: key result {kr_id!r} target changed from "
                f"{_num(moved.baseline)} to {_num(moved.current)} after {cycle_id} started "
                f"({who}), which makes it easier; restore it, or explain the change in a check-in "
                "and silence OKR110",
            )
        )
    return [d for d in found if d.code not in model.config.rules.disable]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)

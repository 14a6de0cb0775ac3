"""Compute stage: the numbers of FORMAT.md §6, once, as pure functions.

No I/O and no formatting: every page and export reads these results, so the
site and the JSON can never disagree. Rounding is for display only.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from okrsite.model import (
    CheckIn,
    Cycle,
    KeyResult,
    Model,
    Objective,
    Rules,
    changed_keys,
    same_objects,
)
from okrsite.packed import date_of, pack_number, unpack_number
from okrsite.pickling import pickled_by_fields

STATUSES = ("achieved", "on-track", "at-risk", "off-track", "not-started", "closed")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Point:
    """A KR's state after one counted check-in: the raw material of charts."""

    date: dt.date
    progress: float
    confidence: float | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class KRRollup:
    current: float | None  # metric only
    progress: float
    confidence: float | None
    grade: float | None
    note: str | None
    status: str
    score: float | None
    packed_history: bytes | tuple[Point, ...]  # see `history`

    @property
    def history(self) -> tuple[Point, ...]:
        """The key result's state after each counted check-in, oldest first: made
        from `packed_history` when asked (`pack_history`)."""
        packed = self.packed_history
        return packed if type(packed) is tuple else _unpacked_history(packed)  # type: ignore[return-value]

    @property
    def point_count(self) -> int:
        """len(history), without making the points (the CSV export counts them)."""
        packed = self.packed_history
        return len(packed) if type(packed) is tuple else len(packed) // _POINT.size


# A point packed: its date's ordinal, its progress and its confidence, and their
# flags (packed.pack_number: progress in the lowest two bits, confidence above).
_POINT = struct.Struct("<iddB")


def pack_history(history: tuple[Point, ...]) -> bytes | tuple[Point, ...]:
    """`history` as bytes, or as it is if a value is of a kind bytes cannot hold
    exactly (a bool, a huge int).

    Kept as objects, the points were a Point, two floats and a tuple slot each,
    about 110 bytes: 0.17 GB at 10,000 teams (1.6 million points), and as many
    objects for the cache's pickler to memoize. Packed, a point is 21 bytes."""
    rows = bytearray()
    for point in history:
        progress, confidence = pack_number(point.progress), pack_number(point.confidence)
        if type(point.date) is not dt.date or progress is None or confidence is None:
            return history
        flags = progress[1] | confidence[1] << 2
        rows += _POINT.pack(point.date.toordinal(), progress[0], confidence[0], flags)
    return bytes(rows)


def _unpacked_history(packed: bytes) -> tuple[Point, ...]:
    history = []
    for ordinal, progress, confidence, flags in _POINT.iter_unpack(packed):
        if flags:  # an int or a None: rarer, and slower to bring back
            progress, confidence = (
                unpack_number(progress, flags),
                unpack_number(confidence, flags >> 2),
            )
        history.append(Point(date_of(ordinal), progress, confidence))
    return tuple(history)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ObjectiveRollup:
    progress: float
    status: str
    score: float | None
    key_results: dict[str, KRRollup]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class TeamRollup:
    progress: float | None  # None: no objectives in this cycle
    subtree_progress: float | None
    stale: bool
    latest_checkin: dt.date | None
    objectives: dict[str, ObjectiveRollup]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CycleRollup:
    cycle: Cycle
    today: dt.date
    phase: str  # before | running | after
    expected: float
    teams: dict[str, TeamRollup]  # every team, sorted by id


def clamp(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, x))


def expected_progress(cycle: Cycle, today: dt.date) -> float:
    return clamp((today - cycle.start).days / (cycle.end - cycle.start).days)


def status(progress: float, expected: float, phase: str, rules: Rules) -> str:
    if phase == "before":
        return "not-started"
    if phase == "after":
        return "closed"
    if progress >= 1:
        return "achieved"
    if progress >= expected - rules.on_track_gap:
        return "on-track"
    if progress >= expected - rules.off_track_gap:
        return "at-risk"
    return "off-track"


def score_band(score: float | None) -> str | None:
    if score is None:
        return None
    if score >= 0.7:
        return "hit"
    if score >= 0.4:
        return "partial"
    return "missed"


def weighted_mean(pairs: list[tuple[float, float]]) -> float:
    """Mean of (value, weight) pairs; weights are > 0 by validation."""
    total = sum(weight for _, weight in pairs)
    return sum(value * weight for value, weight in pairs) / total


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def metric_progress(kr: KeyResult, current: float) -> float:
    return clamp((current - kr.start) / (kr.target - kr.start))  # type: ignore[operator]


def key_result_rollup(
    kr: KeyResult, checkins: tuple[CheckIn, ...], expected: float, phase: str, rules: Rules
) -> KRRollup:
    """Walk the counted check-ins oldest first; each field keeps its latest value."""
    current = kr.start
    done: bool | None = None
    milestone_progress: float | None = None
    confidence = grade = note = None
    history = []
    for checkin in checkins:
        for update in checkin.updates_of(kr.id):
            if update.value is not None:
                current = update.value
            if update.done is not None:
                done = update.done
            if update.progress is not None:
                milestone_progress = update.progress
            if update.confidence is not None:
                confidence = update.confidence
            if update.grade is not None:
                grade = update.grade
            if update.note is not None:
                note = update.note
            progress = _progress(kr, current, done, milestone_progress)
            history.append(Point(checkin.date, progress, confidence))
    progress = _progress(kr, current, done, milestone_progress)
    score = (grade if grade is not None else progress) if phase == "after" else None
    return KRRollup(
        current=current if kr.type == "metric" else None,
        progress=progress,
        confidence=confidence,
        grade=grade,
        note=note,
        status=status(progress, expected, phase, rules),
        score=score,
        packed_history=pack_history(tuple(history)),
    )


def _progress(kr: KeyResult, current, done: bool | None, milestone_progress: float | None) -> float:
    if kr.type == "metric":
        return metric_progress(kr, current)
    if done:
        return 1.0
    return milestone_progress if milestone_progress is not None else 0.0


def objective_rollup(
    objective: Objective, checkins: tuple[CheckIn, ...], expected: float, phase: str, rules: Rules
) -> ObjectiveRollup:
    krs = {
        kr.id: key_result_rollup(kr, checkins, expected, phase, rules)
        for kr in objective.key_results
    }
    weights = [kr.weight for kr in objective.key_results]
    progress = weighted_mean(
        [(krs[kr.id].progress, w) for kr, w in zip(objective.key_results, weights, strict=True)]
    )
    score = None
    if phase == "after":
        score = weighted_mean(
            [(krs[kr.id].score, w) for kr, w in zip(objective.key_results, weights, strict=True)]
        )
    return ObjectiveRollup(progress, status(progress, expected, phase, rules), score, krs)


def is_stale(
    cycle: Cycle, today: dt.date, latest: dt.date | None, rules: Rules, has_okrs: bool
) -> bool:
    if not has_okrs or cycle.phase(today) != "running":
        return False
    since = latest if latest is not None else cycle.start
    return (today - since).days > rules.stale_after_days


OwnRollup = tuple[dict[str, ObjectiveRollup], dt.date | None]  # a team's objectives, latest


def cycle_rollup(
    model: Model, cycle: Cycle, today: dt.date, memo: dict | None = None
) -> CycleRollup:
    """`memo`: a dict the caller keeps between calls (the preview server's rebuilds);
    a team whose OKR file and tuple of check-ins are the very same objects as last time
    keeps its own numbers, so a check-in recomputes one team and the sums above it."""
    values = (cycle, today, model.config.rules)
    kept = memo.get((cycle.id, None)) if memo is not None else None  # the last run
    if kept is not None and kept[0] is model.teams and kept[1] == values:
        own, changed = _own_rollups_again(model, cycle, today, memo, kept[2])  # type: ignore[arg-type]
        teams = _team_rollups_again(model, cycle, today, own, changed, kept[3], memo)  # type: ignore[arg-type]
    else:
        own = {team_id: _own_rollup(model, cycle, today, team_id, memo) for team_id in model.teams}
        subtree_values = _subtree_progress_values(model, own)
        teams = {
            team_id: _team_rollup(model, cycle, today, team_id, own, subtree_values[team_id])
            for team_id in own
        }
    if memo is not None:
        memo[(cycle.id, None)] = (model.teams, values, (model.okrs, model.checkins, own), teams)
    return CycleRollup(cycle, today, cycle.phase(today), expected_progress(cycle, today), teams)


def _own_rollup(
    model: Model, cycle: Cycle, today: dt.date, team_id: str, memo: dict | None
) -> OwnRollup:
    """A team's own numbers: its objectives and its latest counted check-in; kept in
    `memo` while its OKR file and check-ins are the very same objects."""
    file = model.okrs.get((cycle.id, team_id))
    checkins = model.checkins.get((cycle.id, team_id), ())
    values = (cycle, today, model.config.rules)
    kept = memo.get((cycle.id, team_id)) if memo is not None else None
    if kept is not None and kept[0] == values and same_objects(kept[1], (file, checkins)):
        return kept[2]
    phase, expected = cycle.phase(today), expected_progress(cycle, today)
    counted = tuple(c for c in checkins if c.date <= today)
    objectives = {}
    if file is not None:
        rules = model.config.rules
        objectives = {
            o.id: objective_rollup(o, counted, expected, phase, rules) for o in file.objectives
        }
    found = (objectives, counted[-1].date if counted else None)
    if memo is not None:
        memo[(cycle.id, team_id)] = (values, (file, checkins), found)
    return found


def _own_rollups_again(
    model: Model, cycle: Cycle, today: dt.date, memo: dict, sources: tuple
) -> tuple[dict[str, OwnRollup], set[str]]:
    """Every team's own numbers, and the teams whose numbers are new, after the run
    that saw `sources`. When only check-ins changed, the groups that are other
    objects are found at C speed instead of asking each of the 2,000 teams."""
    okrs, checkins, own_before = sources
    groups = changed_keys(model.checkins, checkins) if model.okrs is okrs else None
    teams = set(model.teams) if groups is None else {t for c, t in groups if c == cycle.id}
    own = dict(own_before)
    for team_id in teams:
        own[team_id] = _own_rollup(model, cycle, today, team_id, memo)
    return own, {t for t in teams if own[t] is not own_before.get(t)}


def _team_rollup(
    model: Model,
    cycle: Cycle,
    today: dt.date,
    team_id: str,
    own: dict[str, OwnRollup],
    subtree_values: list[float],
) -> TeamRollup:
    objectives, latest = own[team_id]
    has_okrs = (cycle.id, team_id) in model.okrs
    return TeamRollup(
        progress=mean([o.progress for o in objectives.values()]),
        subtree_progress=mean(subtree_values),
        stale=is_stale(cycle, today, latest, model.config.rules, has_okrs),
        latest_checkin=latest,
        objectives=objectives,
    )


def _team_rollups_again(
    model: Model,
    cycle: Cycle,
    today: dt.date,
    own: dict[str, OwnRollup],
    changed: set[str],
    before: dict[str, TeamRollup],
    memo: dict,
) -> dict[str, TeamRollup]:
    """The teams' rollups of the same team tree as `before`: the teams whose own
    numbers changed and those above them are computed again, the rest kept."""
    again: set[str] = set()
    for team_id in changed:
        current: str | None = team_id
        while current is not None and current in model.teams and current not in again:
            again.add(current)
            current = model.teams[current].parent
    teams = dict(before)
    for team_id in again:
        below = _sorted_subtree(model, team_id, memo)  # in the order the full sum adds them
        values = [o.progress for t in below for o in own[t][0].values()]
        teams[team_id] = _team_rollup(model, cycle, today, team_id, own, values)
    return teams


def _sorted_subtree(model: Model, team_id: str, memo: dict) -> list[str]:
    """_subtree in id order, kept while the teams are the very same objects."""
    kept = memo.get("subtrees")
    if kept is None or kept[0] is not model.teams:
        kept = memo["subtrees"] = (model.teams, {})
    if team_id not in kept[1]:
        kept[1][team_id] = sorted(_subtree(model, team_id))
    return kept[1][team_id]


def _subtree(model: Model, team_id: str) -> list[str]:
    """A team and every team below it."""
    found, todo = [], [team_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += [child.id for child in model.children(current)]
    return found


def _subtree_progress_values(
    model: Model, own: dict[str, tuple[dict[str, ObjectiveRollup], dt.date | None]]
) -> dict[str, list[float]]:
    """Every objective progress of each team and all teams below it."""
    values: dict[str, list[float]] = {team_id: [] for team_id in model.teams}
    for team_id, (objectives, _) in own.items():
        progresses = [o.progress for o in objectives.values()]
        current: str | None = team_id
        seen = set()
        while current is not None and current in values and current not in seen:
            seen.add(current)
            values[current].extend(progresses)
            current = model.teams[current].parent
    return values


def compute(model: Model, today: dt.date) -> dict[str, CycleRollup]:
    """Rollups for every cycle, in the model's cycle order."""
    return {cycle_id: cycle_rollup(model, cycle, today) for cycle_id, cycle in model.cycles.items()}


def current_cycle(model: Model, today: dt.date) -> str | None:
    """The cycle containing today (the shortest, if several), else the latest one."""
    if not model.cycles:
        return None
    running = [c for c in model.cycles.values() if c.phase(today) == "running"]
    if running:
        return min(running, key=lambda c: ((c.end - c.start).days, c.id)).id
    return max(model.cycles.values(), key=lambda c: (c.end, c.id)).id

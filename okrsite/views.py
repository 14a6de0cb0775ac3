"""Derived view data for pages: people, alignment trees, histories, pace.

Pure functions of the model and its rollups (no I/O, no formatting), so the
templates stay simple and every page shows the same numbers.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import heapq
import itertools
import operator
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from okrsite.model import CheckIn, KeyResult, Model, Objective, Update, changed_keys
from okrsite.packed import pack_series, unpack_series
from okrsite.rollup import CycleRollup, Point, TeamRollup, score_band, weighted_mean

# --------------------------------------------------------------------------- people


def slugify(name: str) -> str:
    """A URL-safe id for a person's name: "José Núñez" → "jose-nunez"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    if not slug:  # a name with no Latin letters: a short stable hash
        slug = "person-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return slug


@dataclass
class Person:
    name: str
    slug: str
    leads: list[str] = field(default_factory=list)  # team ids
    member_of: list[str] = field(default_factory=list)  # team ids
    objectives: list[tuple[str, str, Objective]] = field(default_factory=list)  # (cycle, team, o)
    key_results: list[tuple[str, str, Objective, KeyResult]] = field(default_factory=list)
    checkins: list[CheckIn] = field(default_factory=list)  # authored


def kr_updates(
    model: Model, cycle_id: str, team_id: str, kr_id: str
) -> list[tuple[CheckIn, Update]]:
    """A key result's updates with their check-ins, newest first: its page's table.
    Made here, not in the template, which built the list one `{% set %}` at a time."""
    checkins = model.checkins.get((cycle_id, team_id), ())
    return [(ch, u) for ch in reversed(checkins) for u in ch.updates_of(kr_id)]


def objective_owner(model: Model, team_id: str, objective: Objective) -> str | None:
    return objective.owner or model.teams[team_id].lead


def kr_owner(model: Model, team_id: str, objective: Objective, kr: KeyResult) -> str | None:
    return kr.owner or objective_owner(model, team_id, objective)


def people(model: Model, memo: dict | None = None) -> dict[str, Person]:
    """Everyone named in the content, by name, sorted by name; slugs are unique.

    `memo`: a dict the caller keeps between calls (the preview server's rebuilds).
    With the very same teams and OKR files as last time (validate hands back the same
    dicts), only the authors of the groups of check-ins that changed get new `Person`
    objects; everyone else is the very same object as last time."""
    kept = memo.get("people") if memo is not None else None
    found = _people_again(model, kept) if kept is not None else None
    if found is None:
        found = _people(model)
    if memo is not None:
        memo["people"] = (model, found)
    return found


def person_sources(model: Model, person: Person) -> list[str]:
    """The content files that name a person (an objective without an owner names its
    team's lead): what their page is made from, for its deps and its "last changed"."""
    teams = (*person.leads, *person.member_of)
    paths = [model.teams[t].source.path for t in teams if t in model.teams]
    paths += [o.source.path for _, _, o in person.objectives]
    paths += [kr.source.path for *_, kr in person.key_results]
    paths += [c.source.path for c in person.checkins]
    return list(dict.fromkeys(paths))


def _people_again(model: Model, kept: tuple[Model, dict[str, Person]]) -> dict[str, Person] | None:
    """`people(model)` from the last result, or None if more than check-ins changed or
    the check-ins changed who is on the list."""
    before, found = kept
    if before.teams is not model.teams or before.okrs is not model.okrs:
        return None
    if before.cycles.keys() != model.cycles.keys():
        return None
    changed = _changed_groups(model.checkins, before.checkins)
    authors = {
        c.author
        for key in changed
        for c in (*before.checkins.get(key, ()), *model.checkins.get(key, ()))
        if c.author
    }
    if not authors:
        return found
    if not authors <= found.keys():
        return None  # a new name: the slugs may change
    cycle_order = {cycle_id: i for i, cycle_id in enumerate(model.cycles)}
    again = dict(found)
    for name in authors:
        # _people's order: by cycle, then team id, then date (one check-in a day)
        kept = [c for c in found[name].checkins if (c.cycle, c.team) not in changed]
        new = [c for key in changed for c in model.checkins.get(key, ()) if c.author == name]
        authored = sorted(kept + new, key=lambda c: (cycle_order[c.cycle], c.team, c.date))
        again[name] = dataclasses.replace(found[name], checkins=authored)
        if again[name] == Person(name, again[name].slug):
            return None  # named nowhere any more
    return again


def _changed_groups(after: dict, before: dict) -> set:
    """The keys whose groups of check-ins are not the very same objects."""
    found = changed_keys(after, before)
    if found is not None:
        return set(found)
    return {key for key in before.keys() | after.keys() if before.get(key) is not after.get(key)}


def _people(model: Model) -> dict[str, Person]:
    found: dict[str, Person] = {}

    def person(name: str) -> Person:
        if name not in found:
            found[name] = Person(name, "")
        return found[name]

    for team in model.teams.values():
        if team.lead:
            person(team.lead).leads.append(team.id)
        for member in team.members:
            if team.id not in person(member).member_of:
                person(member).member_of.append(team.id)
    for cycle_id in model.cycles:
        for team_id in model.teams:
            file = model.okrs.get((cycle_id, team_id))
            for objective in file.objectives if file else ():
                owner = objective_owner(model, team_id, objective)
                if owner:
                    person(owner).objectives.append((cycle_id, team_id, objective))
                for kr in objective.key_results:
                    owner = kr_owner(model, team_id, objective, kr)
                    if owner:
                        person(owner).key_results.append((cycle_id, team_id, objective, kr))
            for checkin in model.checkins.get((cycle_id, team_id), ()):
                if checkin.author:
                    person(checkin.author).checkins.append(checkin)
    ordered = dict(sorted(found.items(), key=lambda item: (item[0].casefold(), item[0])))
    used: set[str] = set()
    for p in ordered.values():
        base = slug = slugify(p.name)
        n = 2
        while slug in used:
            slug = f"{base}-{n}"
            n += 1
        used.add(slug)
        p.slug = slug
    return ordered


# --------------------------------------------------------------------------- alignment


@dataclass
class Node:
    team: str
    objective: Objective
    children: list[Node] = field(default_factory=list)
    size: int = 1  # this objective and every one below it (set by `alignment`)


def _count(node: Node) -> int:
    node.size = 1 + sum(_count(child) for child in node.children)
    return node.size


def alignment(model: Model, cycle_id: str) -> tuple[list[Node], list[Node]]:
    """(company tree roots, unaligned subtrees) of a cycle's objectives.

    Roots are the root team's objectives; an objective of any other team with
    no `aligns_to` heads a tree of its own in the second list.
    """
    nodes: dict[str, Node] = {}
    order: list[str] = []
    for team_id in model.teams:
        file = model.okrs.get((cycle_id, team_id))
        for objective in file.objectives if file else ():
            ref = f"{team_id}/{objective.id}"
            nodes[ref] = Node(team_id, objective)
            order.append(ref)
    roots, unaligned = [], []
    root_team = model.root.id
    for ref in order:
        node = nodes[ref]
        parent = node.objective.aligns_to
        if parent and parent in nodes:
            nodes[parent].children.append(node)
        elif node.team == root_team:
            roots.append(node)
        else:
            unaligned.append(node)
    for node in roots + unaligned:
        _count(node)  # once here: the page asks every node it shows
    return roots, unaligned


# --------------------------------------------------------------------------- histories


def _states_by_date(objective: Objective, rollup: CycleRollup, team_id: str):
    """For each date a check-in touched the objective: each KR's latest Point by then
    (None for a KR not yet updated), in key-result order. One pass over each KR's
    history (sorted by date, as the check-ins are): a page of a company objective
    asks this of every date, and a filter per date made it quadratic."""
    o = rollup.teams[team_id].objectives[objective.id]
    histories = [o.key_results[kr.id].history for kr in objective.key_results]
    dates = sorted({p.date for history in histories for p in history})
    states: list[Point | None] = [None] * len(histories)
    seen = [0] * len(histories)  # how many points of each history are before `date`
    for date in dates:
        for i, history in enumerate(histories):
            while seen[i] < len(history) and history[seen[i]].date <= date:
                states[i] = history[seen[i]]
                seen[i] += 1
        yield date, list(states)


def objective_history(
    objective: Objective, rollup: CycleRollup, team_id: str, memo: dict | None = None
) -> list[tuple[dt.date, float]]:
    """(date, objective progress) after each counted check-in that touched it.
    `memo`: as status_counts' (a team's sparklines show on five pages)."""
    if memo is not None:  # kept packed (packed.pack_series)
        name = ("objective_history", objective.id)
        make = lambda _: pack_series(objective_history(objective, rollup, team_id))  # noqa: E731
        return unpack_series(_per_team(memo, name, rollup, team_id, make))
    series = []
    for date, states in _states_by_date(objective, rollup, team_id):
        weights = [kr.weight for kr in objective.key_results]
        progress = [state.progress if state else 0.0 for state in states]
        series.append((date, weighted_mean(list(zip(progress, weights, strict=True)))))
    return series


def objective_confidence(
    objective: Objective, rollup: CycleRollup, team_id: str
) -> list[tuple[dt.date, float]]:
    """(date, mean of the latest confidences its key results have given), when any has."""
    series = []
    for date, states in _states_by_date(objective, rollup, team_id):
        given = [s.confidence for s in states if s is not None and s.confidence is not None]
        if given:
            series.append((date, sum(given) / len(given)))
    return series


def team_history(
    model: Model, rollup: CycleRollup, team_id: str, memo: dict | None = None
) -> list[tuple[dt.date, float]]:
    """(date, team progress) after each counted check-in of the team.
    `memo`: as status_counts' (a team's sparklines show on five pages)."""
    if memo is not None:  # kept packed (packed.pack_series)
        make = lambda _: pack_series(team_history(model, rollup, team_id))  # noqa: E731
        return unpack_series(_per_team(memo, "team_history", rollup, team_id, make))
    file = model.okrs.get((rollup.cycle.id, team_id))
    if file is None or not file.objectives:
        return []
    histories = [objective_history(o, rollup, team_id) for o in file.objectives]
    dates = sorted({d for h in histories for d, _ in h})
    values = [0.0] * len(histories)  # each objective's latest progress by `date`
    seen = [0] * len(histories)
    series = []
    for date in dates:
        for i, history in enumerate(histories):
            while seen[i] < len(history) and history[seen[i]][0] <= date:
                values[i] = history[seen[i]][1]
                seen[i] += 1
        series.append((date, sum(values) / len(values)))
    return series


# --------------------------------------------------------------------------- pace


def behind_pace(model: Model, rollup: CycleRollup, limit: int = 5) -> list[tuple[str, float]]:
    """Teams with OKRs whose progress trails the cycle's pace most: (team, gap < 0)."""
    if rollup.phase != "running":
        return []
    gaps = []
    for team_id, team in rollup.teams.items():
        if team.progress is None:
            continue
        gap = team.progress - rollup.expected
        if gap < 0:
            gaps.append((team_id, gap))
    gaps.sort(key=lambda item: (item[1], item[0]))
    return gaps[:limit]


def status_counts(rollup: CycleRollup, memo: dict | None = None) -> dict[str, int]:
    """How many objectives of a cycle have each status. `memo`: as days_of_cycle's."""
    counts: dict[str, int] = defaultdict(int)
    for team_id in rollup.teams:
        for name, count in _per_team(memo, "status", rollup, team_id, _status_counts).items():
            counts[name] += count
    return dict(counts)


def _status_counts(team: TeamRollup) -> dict[str, int]:
    return dict(Counter(objective.status for objective in team.objectives.values()))


def _per_team(memo: dict | None, name: str, rollup: CycleRollup, team_id: str, make):
    """`make(team)` for a team of a rollup, kept in `memo` while the team's objectives
    are the very same objects (rollup.cycle_rollup keeps those of unchanged teams)."""
    team = rollup.teams[team_id]
    if memo is None:
        return make(team)
    key = (name, rollup.cycle.id, team_id)
    kept = memo.get(key)
    if kept is None or kept[0] is not team.objectives:
        kept = memo[key] = (team.objectives, make(team))
    return kept[1]


# --------------------------------------------------------------------------- check-ins


def newest_first(
    model: Model,
    today: dt.date | None = None,
    cycle_id: str | None = None,
    team_id: str | None = None,
    memo: dict | None = None,
) -> Iterator[CheckIn]:
    """Check-ins newest first, then by cycle and team id: those of a cycle or a team
    when given, dated on or before `today` when given. Merged from the teams' groups,
    which are in date order already, so taking the newest few costs little; with a
    `memo` (as days_of_cycle's), from the kept days of each cycle, which costs less."""
    if memo is not None and team_id is None:
        cycles = list(model.cycles) if cycle_id is None else [cycle_id]
        days = [days_of_cycle(model, cycle, memo) for cycle in cycles]
        return heapq.merge(*(_on_or_before(found, today) for found in days), key=_newest_key)
    groups = []
    for checkins in _groups(model, cycle_id, team_id):
        if today is not None:
            checkins = checkins[: bisect.bisect_right(checkins, today, key=_BY_DATE)]
        groups.append(reversed(checkins))
    return heapq.merge(*groups, key=_newest_key)


_BY_DATE = operator.attrgetter("date")
_TEAM = operator.attrgetter("team")


def _newest_key(checkin: CheckIn) -> tuple:
    return (-checkin.date.toordinal(), checkin.cycle, checkin.team)


def checkins_of_cycle(model: Model, cycle_id: str) -> list[CheckIn]:
    """Every check-in of a cycle, newest first (then by team id)."""
    return [c for day in days_of_cycle(model, cycle_id) for c in day.checkins]


def latest_checkins(
    model: Model, cycle_id: str, today: dt.date, limit: int, memo: dict | None = None
) -> list[tuple[str, str, CheckIn]]:
    """The newest `limit` counted check-ins of a cycle, as (cycle, team, check-in)."""
    found = newest_first(model, today, cycle_id, memo=memo)
    return [(cycle_id, c.team, c) for c in itertools.islice(found, limit)]


@dataclass(frozen=True)
class Day:
    date: dt.date
    checkins: list[CheckIn]
    teams: str  # their teams' ids, comma-separated: names the day's piece of a page


def days_of_cycle(model: Model, cycle_id: str, memo: dict | None = None) -> list[Day]:
    """The check-ins of a cycle by date, newest first, each day's by team id.
    Put in buckets, not sorted: a cycle has a few dozen dates and thousands of
    check-ins, and a sort compares dates n log n times.

    `memo`: a dict the caller keeps between calls (the preview server's rebuilds).
    A team whose tuple of check-ins is the very same object as last time keeps its
    place, so an edit touches only the days of the teams it changed; reading
    thousands of check-ins scattered in memory costs more than the work itself."""
    memo = memo.setdefault(("days", cycle_id), {}) if memo is not None else None
    groups = {team: found for (cid, team), found in model.checkins.items() if cid == cycle_id}
    last = memo.get("groups") if memo is not None else None
    if last is None:
        days = {date: _day(date, found) for date, found in _buckets(groups).items()}
    else:
        days = dict(memo["days"])  # type: ignore[index]
        changed = {t for t in groups.keys() | last.keys() if groups.get(t) is not last.get(t)}
        touched = {date for t in changed for date in _dates_changed(last.get(t), groups.get(t))}
        for date in touched:
            before = days.pop(date, None)
            kept = [c for c in (before.checkins if before else ()) if c.team not in changed]
            added = [c for t in changed for c in groups.get(t, ()) if c.date == date]
            found = sorted(kept + added, key=_TEAM)  # stable: a team's own order stays
            if found:
                days[date] = _day(date, found)
    if memo is not None:
        memo.update(groups=groups, days=days)
    return [days[date] for date in sorted(days, reverse=True)]


def _dates_changed(old: tuple[CheckIn, ...] | None, new: tuple[CheckIn, ...] | None) -> set:
    """The dates of a team's group whose check-in was added, removed or replaced."""
    before = {c.date: c for c in old or ()}
    after = {c.date: c for c in new or ()}
    return {
        date for date in before.keys() | after.keys() if before.get(date) is not after.get(date)
    }


def _on_or_before(days: list[Day], today: dt.date | None) -> Iterator[CheckIn]:
    for day in days:
        if today is None or day.date <= today:
            yield from day.checkins


def _buckets(groups: dict[str, tuple[CheckIn, ...]]) -> dict[dt.date, list[CheckIn]]:
    by_date: dict[dt.date, list[CheckIn]] = defaultdict(list)
    for team in sorted(groups):
        for checkin in groups[team]:
            by_date[checkin.date].append(checkin)
    return by_date


def _day(date: dt.date, checkins: list[CheckIn]) -> Day:
    return Day(date, checkins, ",".join(map(_TEAM, checkins)))


def by_day(checkins: list[CheckIn]) -> list[Day]:
    """Consecutive check-ins of the same date, grouped, in the order given."""
    return [_day(date, list(group)) for date, group in itertools.groupby(checkins, _BY_DATE)]


def objective_scores(rollup: CycleRollup, memo: dict | None = None) -> list[float]:
    """The score of every scored objective of a cycle, team by team. `memo`: as
    days_of_cycle's."""
    return [
        score
        for team_id in rollup.teams
        for score in _per_team(memo, "scores", rollup, team_id, _scores)
    ]


def _scores(team: TeamRollup) -> list[float]:
    return [o.score for o in team.objectives.values() if o.score is not None]


def band_counts(scores: list[float]) -> dict[str, int]:
    """How many scores are a hit, partial or missed (rollup.score_band)."""
    counts = {"hit": 0, "partial": 0, "missed": 0}
    for value in scores:
        counts[score_band(value)] += 1  # type: ignore[index]
    return counts


def checkins_of_team(model: Model, team_id: str) -> list[CheckIn]:
    """Every check-in of a team in any cycle, newest first."""
    found = [c for checkins in _groups(model, None, team_id) for c in checkins]
    return sorted(found, key=lambda c: (-c.date.toordinal(), c.cycle))


def _groups(model: Model, cycle_id: str | None, team_id: str | None) -> list[tuple[CheckIn, ...]]:
    """The check-in groups of a cycle and/or a team (all when both are None). One
    team's are looked up cycle by cycle, not scanned: every team has a timeline
    and a feed, and a scan for each made them O(teams²), 4 ms a page more at
    10,000 teams than at 1,000."""
    if team_id is None:
        return [found for (c, _), found in model.checkins.items() if cycle_id in (None, c)]
    cycles = sorted(model.cycles) if cycle_id is None else [cycle_id]
    keys = [(cycle, team_id) for cycle in cycles]
    return [model.checkins[key] for key in keys if key in model.checkins]


_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(\*\*|__|\*|`|~~|<[^>]*>)")


def excerpt(body: str, limit: int = 280) -> str:
    """The first paragraph of a Markdown body as plain text, cut at a word: for lists.

    Plain text (the template escapes it), so a timeline of hundreds of check-ins
    stays light; the full narrative is on the check-in's own page.
    """
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if not lines or all(ln.startswith(("#", "---", "```")) for ln in lines):
            continue
        text = " ".join(re.sub(r"^(#+|>|[-*+]|\d+\.)\s+", "", ln) for ln in lines)
        text = _MARKS.sub("", _LINK.sub(r"\1", _IMAGE.sub(r"\1", text)))
        text = re.sub(r"\s+", " ", text).strip()
        if len(text) <= limit:
            return text
        cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
        return cut + "…"
    return ""


def teams_in_cycle(model: Model, cycle_id: str) -> list[str]:
    """The ids of the teams with OKRs in a cycle, in team order."""
    return [team_id for team_id in model.teams if (cycle_id, team_id) in model.okrs]


def final_checkins(model: Model, cycle_id: str) -> list[CheckIn]:
    """Each team's last check-in of a cycle, in team order: a closed cycle's narratives."""
    found = []
    for team_id in model.teams:
        checkins = model.checkins.get((cycle_id, team_id))
        if checkins:
            found.append(checkins[-1])
    return found

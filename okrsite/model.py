"""The validated content model: plain frozen dataclasses, no behaviour.

Everything here has passed validation, so later stages (rollups, rendering)
can trust every field. Markdown bodies stay as source text; rendering them is
the render stage's job.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import struct
from dataclasses import dataclass, field

from okrsite.packed import Packed, pack_number, unpack, unpack_number
from okrsite.pickling import pickled_by_fields


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Rules:
    max_objectives: int = 5
    min_key_results: int = 2
    max_key_results: int = 5
    stale_after_days: int = 14
    on_track_gap: float = 0.10
    off_track_gap: float = 0.25
    disable: frozenset[str] = frozenset()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Cycle:
    id: str
    start: dt.date
    end: dt.date

    def phase(self, today: dt.date) -> str:
        """'before', 'running' or 'after' the cycle on `today` (dates inclusive)."""
        if today < self.start:
            return "before"
        if today > self.end:
            return "after"
        return "running"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str
    base_url: str = ""
    repo_url: str = ""
    edit_uri: str = ""
    theme: str = "default"
    raw_html: str = "sanitize"  # sanitize | escape | trust
    cycles: dict[str, Cycle] = field(default_factory=dict)
    rules: Rules = Rules()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Source:
    """Where a model object was written: for messages and "edit this" links."""

    path: str  # relative to the site folder, with '/' separators
    line: int = 1


def _body(self) -> str:
    """The Markdown body of the content file (a team's charter, an OKR file's text, a
    check-in's narrative), kept packed as `packed_body` (okrsite/packed.py): the
    bodies were a sixth of what a built site held in memory (benchmarks/README.md)."""
    return unpack(self.packed_body)


_BODY = property(_body)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    parent: str | None
    lead: str | None
    members: tuple[str, ...]
    packed_body: Packed  # the charter: see `body`
    source: Source
    parent_line: int = 1

    body = _BODY


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class KeyResult:
    id: str
    title: str
    type: str  # metric | milestone
    start: float | None
    target: float | None
    unit: str | None
    weight: float
    owner: str | None
    source: Source

    @property
    def decreasing(self) -> bool:
        return self.type == "metric" and self.target < self.start  # type: ignore[operator]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    title: str
    owner: str | None
    aligns_to: str | None  # "<team>/<objective>" in the same cycle
    kind: str  # committed | aspirational
    description: str | None
    key_results: tuple[KeyResult, ...]
    source: Source


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class TeamOKRs:
    """One team's OKR file for one cycle."""

    team: str
    cycle: str
    objectives: tuple[Objective, ...]
    packed_body: Packed  # see `body`
    source: Source

    body = _BODY

    def key_results_by_id(self) -> dict[str, KeyResult]:
        """Every key result of the file by its id, in file order (a check-in's updates
        name them by id)."""
        return {kr.id: kr for o in self.objectives for kr in o.key_results}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Update:
    key_result: str
    value: float | None = None
    confidence: float | None = None
    note: str | None = None
    progress: float | None = None
    done: bool | None = None
    grade: float | None = None
    line: int = 1


# A check-in's updates packed (`pack_updates`): one row each of value, confidence,
# progress, grade, line and flags, and their key results' ids (then notes) apart.
PackedUpdates = tuple[bytes, tuple[str | None, ...]] | tuple[Update, ...]
_UPDATE_ROW = struct.Struct("<ddddIH")
_NUMBERS = ("value", "confidence", "progress", "grade")  # two flag bits each
_DONE_SHIFT = 8  # done's two flag bits: 0 None, 1 False, 2 True
_DONE = (None, False, True)
_NO_NOTES = 1 << 10


def pack_updates(updates: tuple[Update, ...]) -> PackedUpdates:
    """`updates` as one bytes object and a tuple of strings, or as they are if a value
    is of a kind a double cannot hold exactly (a bool, a huge int).

    Kept as objects, a check-in's updates were 1 KB of its 2.3 (eight updates of
    96 bytes, their floats and their tuple): 0.24 GB at 10,000 teams. Packed they
    are about 450 bytes; `CheckIn.updates` makes the objects when asked."""
    rows = bytearray()
    notes = any(update.note is not None for update in updates)
    for update in updates:
        numbers, flags = [], 0 if notes else _NO_NOTES
        for shift, name in enumerate(_NUMBERS):
            packed = pack_number(getattr(update, name))
            if packed is None:
                return updates
            numbers.append(packed[0])
            flags |= packed[1] << 2 * shift
        if update.done is not None:
            flags |= (2 if update.done else 1) << _DONE_SHIFT
        if type(update.done) not in (bool, type(None)) or not 0 <= update.line < 2**32:
            return updates
        rows += _UPDATE_ROW.pack(*numbers, update.line, flags)
    texts = tuple(update.key_result for update in updates)
    if len(set(texts)) != len(texts):
        return updates  # `updates_of` finds one update a key result
    if notes:
        texts += tuple(update.note for update in updates)
    return bytes(rows), texts


def unpack_updates(packed: PackedUpdates) -> tuple[Update, ...]:
    count = _rows(packed)
    if count is None:
        return packed  # type: ignore[return-value]  # kept as they were
    return tuple(_update_at(packed, i) for i in range(count))  # type: ignore[arg-type]


def _rows(packed: PackedUpdates) -> int | None:
    """How many updates `packed` holds as rows; None if it kept them as objects."""
    return len(packed[0]) // _UPDATE_ROW.size if packed and type(packed[0]) is bytes else None


def _update_at(packed: tuple[bytes, tuple[str | None, ...]], i: int) -> Update:
    rows, texts = packed
    value, confidence, progress, grade, line, flags = _UPDATE_ROW.unpack_from(
        rows, i * _UPDATE_ROW.size
    )
    if flags & 0xFF:  # an int or a None among the numbers
        value, confidence = unpack_number(value, flags), unpack_number(confidence, flags >> 2)
        progress, grade = unpack_number(progress, flags >> 4), unpack_number(grade, flags >> 6)
    done = _DONE[flags >> _DONE_SHIFT & 3]
    note = None if flags & _NO_NOTES else texts[len(texts) // 2 + i]
    return Update(texts[i], value, confidence, note, progress, done, grade, line)  # type: ignore[arg-type]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CheckIn:
    team: str
    cycle: str
    date: dt.date
    author: str | None
    packed_updates: PackedUpdates  # see `updates`
    packed_body: Packed  # the narrative: see `body`
    source: Source

    body = _BODY

    @property
    def updates(self) -> tuple[Update, ...]:
        """The updates, made anew from `packed_updates` at each call (see pack_updates)."""
        return unpack_updates(self.packed_updates)

    @property
    def update_count(self) -> int:
        count = _rows(self.packed_updates)
        return len(self.packed_updates) if count is None else count

    def updates_of(self, kr_id: str) -> tuple[Update, ...]:
        """The update of key result `kr_id` (none, or one: they are the keys of a map),
        made without making the others: what a key result's rollup and page ask of
        every check-in of its team."""
        packed, count = self.packed_updates, _rows(self.packed_updates)
        if count is None:
            return tuple(u for u in packed if u.key_result == kr_id)  # type: ignore[union-attr]
        try:  # the ids come first among the texts, notes after
            at = packed[1].index(kr_id, 0, count)
        except ValueError:
            return ()
        return (_update_at(packed, at),)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Model:
    config: SiteConfig
    teams: dict[str, Team]  # sorted by id
    cycles: dict[str, Cycle]  # sorted by start date, then id
    okrs: dict[tuple[str, str], TeamOKRs]  # (cycle, team)
    checkins: dict[tuple[str, str], tuple[CheckIn, ...]]  # (cycle, team), by date

    @functools.cached_property
    def root(self) -> Team:
        return next(team for team in self.teams.values() if team.parent is None)

    def children(self, team_id: str) -> list[Team]:
        return list(self._children.get(team_id, ()))

    @functools.cached_property
    def _children(self) -> dict[str | None, list[Team]]:
        """Teams by parent, in id order. Computed once: a team tree asks for the
        children of every team, and scanning all teams each time made the pages
        that show the whole tree quadratic (6 s for the dashboard at 3,000 teams)."""
        found: dict[str | None, list[Team]] = {}
        for team in self.teams.values():
            found.setdefault(team.parent, []).append(team)
        return found


def same_objects(old: tuple, new: tuple) -> bool:
    """The very same objects, one by one: what the stages' memos test to reuse a result
    (the per-file cache hands back the same objects for unchanged files)."""
    return old is new or (len(old) == len(new) and all(map(operator.is_, old, new)))


def changed_positions(new: list, old: list) -> set[int]:
    """The positions where two lists of the same length hold other objects: how a
    stage finds the few changed items of a rebuild (C speed, pointers only)."""
    return set(itertools.compress(itertools.count(), map(operator.is_not, new, old)))


def changed_keys(after: dict, before: dict) -> list | None:
    """The keys whose values in `after` are other objects than in `before`, when both
    have the same keys in the same order; None when they do not. How a stage finds
    the few groups a rebuild changed among thousands without visiting each one."""
    keys = list(after)
    if keys != list(before):
        return None
    changed = changed_positions(list(after.values()), list(before.values()))
    return [keys[i] for i in sorted(changed)]

"""How goals moved, from git: per key result, each change of start, target or title.

One `git log --raw` pass lists every commit that touched a team's OKR file
(content/cycles/<cycle>/<team>.md) with the blob ids before and after; one
`git cat-file --batch` reads all those blobs. Each commit is compared with its
own parent's version of the file, so a change is credited to the commit (and
author) that made it, on whatever branch.

A **moved goalpost** is a metric key result whose target, after its cycle
started, was made easier (lowered for a metric that should rise, raised for
one that should fall) and is still easier than it was at the cycle's start.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

from okrsite.gitinfo import Commit, GitError, read_blobs, read_log
from okrsite.model import Model
from okrsite.parse import split_front_matter

OKR_FILES = ":(glob)content/cycles/*/*.md"
FIELDS = ("start", "target", "title")
NULL_BLOB = "0" * 40


@dataclass(frozen=True)
class KRChange:
    """One change of one field of one key result."""

    field: str  # start | target | title
    old: object
    new: object
    commit: Commit | None  # None: in the working tree, not committed yet
    easier: bool = False  # a target change that made the key result easier to reach

    @property
    def day(self) -> dt.date | None:
        return self.commit.day if self.commit else None


@dataclass(frozen=True)
class MovedGoalpost:
    baseline: float  # the target when the cycle started (before its first change)
    current: float  # the target now
    changes: tuple[KRChange, ...]  # the changes that made it easier


@dataclass
class History:
    """Changes during each cycle, keyed by (cycle, team, key result)."""

    changes: dict[tuple[str, str, str], tuple[KRChange, ...]] = field(default_factory=dict)
    moved: dict[tuple[str, str, str], MovedGoalpost] = field(default_factory=dict)

    def for_kr(self, cycle: str, team: str, kr: str) -> tuple[KRChange, ...]:
        return self.changes.get((cycle, team, kr), ())

    def moved_goalpost(self, cycle: str, team: str, kr: str) -> MovedGoalpost | None:
        return self.moved.get((cycle, team, kr))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def key_results_in(text: str) -> dict[str, dict[str, object]]:
    """KR id -> {type, start, target, title} from one version of an OKR file.

    Tolerant: an old version may be broken; whatever cannot be read is skipped.
    """
    front = split_front_matter(text, "history")
    found: dict[str, dict[str, object]] = {}
    objectives = front.data.get("objectives") if isinstance(front.data, dict) else None
    for objective in objectives if isinstance(objectives, list) else ():
        krs = objective.get("key_results") if isinstance(objective, dict) else None
        for kr in krs if isinstance(krs, list) else ():
            if not isinstance(kr, dict) or not isinstance(kr.get("id"), str):
                continue
            title = kr.get("title")
            found.setdefault(
                kr["id"],
                {
                    "type": kr.get("type") or "metric",
                    "start": _number(kr.get("start")),
                    "target": _number(kr.get("target")),
                    "title": title.strip() if isinstance(title, str) else None,
                },
            )
    return found


def _easier(old: dict[str, object], new_target: object) -> bool:
    start, target = _number(old.get("start")), _number(old.get("target"))
    new = _number(new_target)
    if old.get("type") != "metric" or None in (start, target, new) or start == target:
        return False
    return new < target if target > start else new > target  # type: ignore[operator]


def diff(
    old: dict[str, dict[str, object]], new: dict[str, dict[str, object]], commit: Commit | None
) -> dict[str, list[KRChange]]:
    """The field changes between two versions of a file, per KR id present in both."""
    changes: dict[str, list[KRChange]] = {}
    for kr_id, after in new.items():
        before = old.get(kr_id)
        if before is None:
            continue
        for name in FIELDS:
            if before.get(name) is None or after.get(name) is None:
                continue
            if before[name] != after[name]:
                easier = name == "target" and _easier(before, after[name])
                changes.setdefault(kr_id, []).append(
                    KRChange(name, before[name], after[name], commit, easier)
                )
    return changes


def _decode(data: bytes | None) -> dict[str, dict[str, object]]:
    if data is None:
        return {}
    return key_results_in(data.decode("utf-8", "replace"))


def collect(site_dir: Path, model: Model, rev: str = "HEAD", working_tree: bool = True) -> History:
    """The history of every team's OKR file up to `rev`; empty outside git.

    With `working_tree`, uncommitted edits (the model as loaded vs `rev`) count
    as one more change, so `okrsite check --history` catches a moved goalpost
    before it is committed.
    """
    try:
        log = read_log(site_dir, rev, OKR_FILES, "--raw", "--no-abbrev")
    except GitError:
        return History()
    steps: list[tuple[Commit, str, str, str]] = []  # commit, path, old blob, new blob
    for commit, entries in log:
        for entry in entries:
            if len(entry) == 4:
                old_blob, new_blob, _status, path = entry
                steps.append((commit, path, old_blob, new_blob))
    wanted = {(cycle, team) for cycle, team in model.okrs}
    steps = [s for s in steps if _key(s[1]) in wanted]
    objects = [b for _, _, old, new in steps for b in (old, new) if b != NULL_BLOB]
    at_rev = {}
    if working_tree:
        at_rev = {key: f"{rev}:./{file.source.path}" for key, file in model.okrs.items()}
    try:
        blobs = read_blobs(site_dir, objects + list(at_rev.values()))
    except GitError:
        return History()
    parsed: dict[str, dict[str, dict[str, object]]] = {}

    def version(blob: str) -> dict[str, dict[str, object]]:
        if blob not in parsed:
            parsed[blob] = _decode(blobs.get(blob)) if blob != NULL_BLOB else {}
        return parsed[blob]

    raw: dict[tuple[str, str, str], list[KRChange]] = {}
    for commit, path, old_blob, new_blob in steps:
        cycle, team = _key(path)
        start = model.cycles[cycle].start
        if commit.day < start:
            continue
        for kr_id, kr_changes in diff(version(old_blob), version(new_blob), commit).items():
            raw.setdefault((cycle, team, kr_id), []).extend(kr_changes)

    if working_tree:
        for (cycle, team), spec in at_rev.items():
            if spec not in blobs:
                continue
            now = {
                kr.id: {"type": kr.type, "start": kr.start, "target": kr.target, "title": kr.title}
                for objective in model.okrs[(cycle, team)].objectives
                for kr in objective.key_results
            }
            for kr_id, kr_changes in diff(version(spec), now, None).items():
                raw.setdefault((cycle, team, kr_id), []).extend(kr_changes)

    history = History()
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for key, kr_changes in sorted(raw.items()):
        ordered = sorted(
            kr_changes,
            key=lambda c: (c.commit.date if c.commit else far, c.commit.sha if c.commit else ""),
        )
        history.changes[key] = tuple(ordered)
        moved = _moved(model, key, ordered)
        if moved is not None:
            history.moved[key] = moved
    return history


def _moved(
    model: Model, key: tuple[str, str, str], changes: list[KRChange]
) -> MovedGoalpost | None:
    """A moved goalpost: the target now is easier than it was at the cycle's start."""
    cycle, team, kr_id = key
    kr = next(
        (k for o in model.okrs[(cycle, team)].objectives for k in o.key_results if k.id == kr_id),
        None,
    )
    targets = [c for c in changes if c.field == "target"]
    if kr is None or kr.type != "metric" or not targets:
        return None
    baseline = _number(targets[0].old)
    if baseline is None or baseline == kr.target:
        return None
    first_start = next((c.old for c in changes if c.field == "start"), kr.start)
    before = {"type": "metric", "start": first_start, "target": baseline}
    if not _easier(before, kr.target):
        return None
    easing = tuple(c for c in targets if c.easier)
    return MovedGoalpost(baseline, kr.target, easing or tuple(targets))  # type: ignore[arg-type]


def _key(path: str) -> tuple[str, str]:
    parts = path.split("/")
    if len(parts) != 4 or not parts[3].endswith(".md"):
        return ("", "")
    return parts[2], parts[3][: -len(".md")]

"""CSV per cycle: one row per key result, with every computed field, unrounded.

The file is `csv_header()` then every team's `team_rows` (render.py keeps each
team's rows as a piece between preview rebuilds).

Numbers are written as Python writes floats (the shortest text that reads back
as the same number), so the CSV and `api/<cycle>.json` agree exactly. Text
cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get
a leading apostrophe.
"""

from __future__ import annotations

import csv
import io

from okrsite.model import Model
from okrsite.rollup import CycleRollup, score_band
from okrsite.views import kr_owner, objective_owner

COLUMNS = (
    "cycle", "cycle_start", "cycle_end", "phase", "today", "expected",
    "team_id", "team_name", "team_progress", "team_subtree_progress", "team_stale",
    "team_latest_checkin",
    "objective_id", "objective_title", "objective_owner", "objective_aligns_to",
    "objective_kind", "objective_progress", "objective_status", "objective_score",
    "objective_score_band",
    "kr_id", "kr_title", "kr_type", "kr_owner", "start", "target", "current", "unit",
    "weight", "progress", "confidence", "grade", "status", "score", "score_band",
    "checkins", "note",
)  # fmt: skip

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_header() -> str:
    return _rows([COLUMNS])


def team_rows(model: Model, rollup: CycleRollup, team_id: str) -> str:
    """A team's rows of the cycle's CSV: the CSV is the header and every team's rows."""
    cycle = rollup.cycle
    team = model.teams[team_id]
    file = model.okrs.get((cycle.id, team_id))
    t = rollup.teams[team_id]
    rows = []
    for objective in file.objectives if file else ():
        o = t.objectives[objective.id]
        for kr in objective.key_results:
            k = o.key_results[kr.id]
            rows.append(
                [
                    cycle.id,
                    cycle.start.isoformat(),
                    cycle.end.isoformat(),
                    rollup.phase,
                    rollup.today.isoformat(),
                    _num(rollup.expected),
                    team_id,
                    _text(team.name),
                    _num(t.progress),
                    _num(t.subtree_progress),
                    _num(t.stale),
                    t.latest_checkin.isoformat() if t.latest_checkin else "",
                    objective.id,
                    _text(objective.title),
                    _text(objective_owner(model, team_id, objective)),
                    objective.aligns_to or "",
                    objective.kind,
                    _num(o.progress),
                    o.status,
                    _num(o.score),
                    score_band(o.score) or "",
                    kr.id,
                    _text(kr.title),
                    kr.type,
                    _text(kr_owner(model, team_id, objective, kr)),
                    _num(kr.start),
                    _num(kr.target),
                    _num(k.current),
                    _text(kr.unit),
                    _num(kr.weight),
                    _num(k.progress),
                    _num(k.confidence),
                    _num(k.grade),
                    k.status,
                    _num(k.score),
                    score_band(k.score) or "",
                    k.point_count,
                    _text(k.note),
                ]
            )
    return _rows(rows)


def _rows(rows: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()

"""The JSON export of FORMAT.md §8: the machine-readable truth of a cycle.

Numbers are not rounded. Pages render from the same rollups, so they agree.
"""

from __future__ import annotations

import json

from okrsite.model import Model
from okrsite.rollup import CycleRollup, score_band


def cycle_data(model: Model, rollup: CycleRollup) -> dict:
    return {**cycle_header(rollup), "teams": [team_data(model, rollup, t) for t in model.teams]}


def cycle_header(rollup: CycleRollup) -> dict:
    """Everything of a cycle's export but its teams."""
    cycle = rollup.cycle
    return {
        "cycle": {
            "id": cycle.id,
            "start": cycle.start.isoformat(),
            "end": cycle.end.isoformat(),
            "phase": rollup.phase,
        },
        "today": rollup.today.isoformat(),
        "expected": rollup.expected,
    }


def team_data(model: Model, rollup: CycleRollup, team_id: str) -> dict:
    team = model.teams[team_id]
    team_rollup = rollup.teams[team_id]
    file = model.okrs.get((rollup.cycle.id, team_id))
    objectives = []
    for objective in file.objectives if file else ():
        o_rollup = team_rollup.objectives[objective.id]
        key_results = []
        for kr in objective.key_results:
            k = o_rollup.key_results[kr.id]
            key_results.append(
                {
                    "id": kr.id,
                    "title": kr.title,
                    "type": kr.type,
                    "start": kr.start,
                    "target": kr.target,
                    "current": k.current,
                    "unit": kr.unit,
                    "weight": kr.weight,
                    "owner": kr.owner or objective.owner or team.lead,
                    "progress": k.progress,
                    "confidence": k.confidence,
                    "grade": k.grade,
                    "status": k.status,
                    "score": k.score,
                    "score_band": score_band(k.score),
                }
            )
        objectives.append(
            {
                "id": objective.id,
                "title": objective.title,
                "owner": objective.owner or team.lead,
                "aligns_to": objective.aligns_to,
                "kind": objective.kind,
                "progress": o_rollup.progress,
                "status": o_rollup.status,
                "score": o_rollup.score,
                "score_band": score_band(o_rollup.score),
                "key_results": key_results,
            }
        )
    latest = team_rollup.latest_checkin
    return {
        "id": team_id,
        "name": team.name,
        "parent": team.parent,
        "lead": team.lead,
        "progress": team_rollup.progress,
        "subtree_progress": team_rollup.subtree_progress,
        "stale": team_rollup.stale,
        "latest_checkin": latest.isoformat() if latest else None,
        "objectives": objectives,
    }


def to_json(data: dict) -> str:
    """Stable JSON: sorted-free (order is meaningful), indented, escaped for <script>."""
    return _safe(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def team_json(data: dict) -> str:
    """A team's entry (`team_data`) as `to_json` writes it inside the cycle's JSON, so
    the preview server can keep unchanged teams' text (see cycle_json)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return _safe(text.replace("\n", "\n" + _TEAM_INDENT))  # JSON strings hold no raw newline


def cycle_json(header: dict, team_texts: list[str]) -> str:
    """`to_json(cycle_data(...))`, byte for byte, from the header and the teams' texts."""
    empty = to_json({**header, "teams": []})
    if not team_texts:
        return empty
    tail = '"teams": []\n}\n'
    joined = f",\n{_TEAM_INDENT}".join(team_texts)
    return empty[: -len(tail)] + f'"teams": [\n{_TEAM_INDENT}{joined}\n  ]\n}}\n'


_TEAM_INDENT = "    "  # a team is an item of a list that is a value of the top object


def _safe(text: str) -> str:
    # Safe to inline in HTML too: no "</script>" or "<!--" can appear.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

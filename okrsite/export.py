"""The JSON export of FORMAT.md §8: the machine-readable truth of a cycle.

Numbers are not rounded. Pages render from the same rollups, so they agree.
"""

from __future__ import annotations

import json

from okrsite.model import Model
from okrsite.rollup import CycleRollup, score_band


def cycle_data(model: Model, rollup: CycleRollup) -> dict:
    cycle = rollup.cycle
    teams = []
    for team_id, team in model.teams.items():
        team_rollup = rollup.teams[team_id]
        file = model.okrs.get((cycle.id, team_id))
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
        teams.append(
            {
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
        )
    return {
        "cycle": {
            "id": cycle.id,
            "start": cycle.start.isoformat(),
            "end": cycle.end.isoformat(),
            "phase": rollup.phase,
        },
        "today": rollup.today.isoformat(),
        "expected": rollup.expected,
        "teams": teams,
    }


def to_json(data: dict) -> str:
    """Stable JSON: sorted-free (order is meaningful), indented, escaped for <script>."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    # Safe to inline in HTML too: no "</script>" or "<!--" can appear.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"

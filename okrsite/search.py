"""The prebuilt search index: teams, people, cycles, objectives and key results.

Written as a small script that assigns a global (`window.OKRSITE_SEARCH`), so
the search box works offline and from file:// (where fetch() is refused).
Text is JSON-escaped with <, > and & as \\u escapes, so nothing in it can end
the script or open markup; the search box inserts results as text only.
"""

from __future__ import annotations

import json

from okrsite import urls
from okrsite.model import Model
from okrsite.views import Person, kr_owner, objective_owner


def entries(model: Model, people: dict[str, Person], current: str | None) -> list[dict]:
    """Index entries: kind (k), title (t), context (s) and output path (u)."""
    found: list[dict] = []
    for team in model.teams.values():
        found.append(
            {"k": "team", "t": team.name, "s": team.lead or "", "u": urls.team_page(team.id)}
        )
    for person in people.values():
        found.append({"k": "person", "t": person.name, "s": "", "u": urls.person_page(person.slug)})
    # The current cycle's goals first: they are what people look for.
    cycles = [c for c in (current,) if c] + [c for c in reversed(model.cycles) if c != current]
    for cycle_id in cycles:
        found.append({"k": "cycle", "t": cycle_id, "s": "", "u": urls.cycle_page(cycle_id)})
        for team_id, team in model.teams.items():
            file = model.okrs.get((cycle_id, team_id))
            for objective in file.objectives if file else ():
                owner = objective_owner(model, team_id, objective) or ""
                found.append(
                    {
                        "k": "objective",
                        "t": objective.title,
                        "s": f"{team.name} · {cycle_id} · {owner}".rstrip(" ·"),
                        "u": urls.objective_page(cycle_id, team_id, objective.id),
                    }
                )
                for kr in objective.key_results:
                    owner = kr_owner(model, team_id, objective, kr) or ""
                    found.append(
                        {
                            "k": "key result",
                            "t": kr.title,
                            "s": f"{team.name} · {cycle_id} · {owner}".rstrip(" ·"),
                            "u": urls.key_result_page(cycle_id, team_id, kr.id),
                        }
                    )
    return found


def index_script(items: list[dict]) -> str:
    text = json.dumps(items, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"window.OKRSITE_SEARCH = {text};\n"

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
    found = directory_entries(model, people)
    for cycle_id in cycle_order(model, current):
        found.append(cycle_entry(cycle_id))
        for team_id in model.teams:
            found += goal_entries(model, cycle_id, team_id)
    return found


def directory_entries(model: Model, people: dict[str, Person]) -> list[dict]:
    """Teams, then people."""
    found: list[dict] = []
    for team in model.teams.values():
        found.append(
            {"k": "team", "t": team.name, "s": team.lead or "", "u": urls.team_page(team.id)}
        )
    for person in people.values():
        found.append({"k": "person", "t": person.name, "s": "", "u": urls.person_page(person.slug)})
    return found


def cycle_order(model: Model, current: str | None) -> list[str]:
    """The current cycle's goals first: they are what people look for."""
    return [c for c in (current,) if c] + [c for c in reversed(model.cycles) if c != current]


def cycle_entry(cycle_id: str) -> dict:
    return {"k": "cycle", "t": cycle_id, "s": "", "u": urls.cycle_page(cycle_id)}


def goal_entries(model: Model, cycle_id: str, team_id: str) -> list[dict]:
    """A team's objectives and key results in a cycle."""
    found: list[dict] = []
    team = model.teams[team_id]
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
    return index_script_of([entries_text(items)])


def entries_text(items: list[dict]) -> str:
    """Entries as they appear inside the index's list (comma-separated, escaped)."""
    # One dumps of the list, less its brackets: a call per item costs 20 times more.
    text = json.dumps(items, ensure_ascii=False, separators=(",", ":"), allow_nan=False)[1:-1]
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def index_script_of(texts: list[str]) -> str:
    """The index script from pieces made by `entries_text` (so pieces can be kept)."""
    joined = ",".join(text for text in texts if text)
    return f"window.OKRSITE_SEARCH = [{joined}];\n"

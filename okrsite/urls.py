"""Where every page lives, and relative links between them.

All output paths are built here from validated ids, so no content can name a
path outside the output folder. Links are relative and end in `index.html`,
so the site works under any sub-path and opened straight from disk.
"""

from __future__ import annotations

import datetime as dt
import functools
import posixpath

DASHBOARD = "index.html"
CYCLES = "cycles/index.html"
TEAMS = "teams/index.html"
PEOPLE = "people/index.html"
SEARCH = "search/index.html"
SEARCH_INDEX = "search/search-index.js"  # a script assigning a global: works from file://
FEED = "feed.xml"
SITEMAP = "sitemap.xml"
NOT_FOUND = "404.html"
ASSETS = "assets"

# Pages about a whole cycle sit beside its team folders; "_" cannot start a
# team id, so these names never collide with a team.


def cycle_page(cycle: str) -> str:
    return f"cycles/{cycle}/index.html"


def team_cycle_page(cycle: str, team: str) -> str:
    return f"cycles/{cycle}/{team}/index.html"


def objective_anchor(cycle: str, team: str, objective: str) -> str:
    return f"{team_cycle_page(cycle, team)}#objective-{objective}"


def key_result_anchor(cycle: str, team: str, kr: str) -> str:
    return f"{team_cycle_page(cycle, team)}#kr-{kr}"


def alignment_page(cycle: str) -> str:
    return f"cycles/{cycle}/_alignment/index.html"


def cycle_timeline_page(cycle: str) -> str:
    return f"cycles/{cycle}/_checkins/index.html"


def objective_page(cycle: str, team: str, objective: str) -> str:
    return f"cycles/{cycle}/{team}/objectives/{objective}/index.html"


def key_result_page(cycle: str, team: str, kr: str) -> str:
    return f"cycles/{cycle}/{team}/key-results/{kr}/index.html"


def checkin_page(cycle: str, team: str, date: dt.date) -> str:
    return f"cycles/{cycle}/{team}/checkins/{date.isoformat()}/index.html"


def team_page(team: str) -> str:
    return f"teams/{team}/index.html"


def team_timeline_page(team: str) -> str:
    return f"teams/{team}/checkins/index.html"


def team_feed(team: str) -> str:
    return f"teams/{team}/feed.xml"


def person_page(slug: str) -> str:
    return f"people/{slug}/index.html"


def api_json(cycle: str) -> str:
    return f"api/{cycle}.json"


def api_csv(cycle: str) -> str:
    return f"api/{cycle}.csv"


def asset(name: str) -> str:
    return f"{ASSETS}/{name}"


def absolute(base_url: str, path: str) -> str:
    """`path` under the site's public `base_url` (sitemaps and feeds need absolute URLs)."""
    return base_url.rstrip("/") + "/" + path


def relative(from_page: str, to: str) -> str:
    """The link from output file `from_page` to output path `to` (may hold #anchor).

    Clean paths (all that okrsite makes) are compared segment by segment:
    posixpath.relpath, the reference for any other, asks the OS for the working
    folder on every call, and a page makes about 27 links."""
    target, _, anchor = to.partition("#")
    page, parts = _segments(from_page), _segments(target)
    if page is None or parts is None:
        base = posixpath.dirname(from_page) or "."
        link = posixpath.relpath(target, base) if target else posixpath.basename(from_page)
    else:
        folders, common = len(page) - 1, 0
        while common < folders and common < len(parts) and page[common] == parts[common]:
            common += 1
        link = "/".join(("..",) * (folders - common) + parts[common:]) or "."
    return f"{link}#{anchor}" if anchor else link


@functools.lru_cache(maxsize=1024)  # a page links ~27 times; its links repeat on its neighbours
def _segments(path: str) -> tuple[str, ...] | None:
    """`path` split at "/", or None unless every segment is a plain name."""
    parts = tuple(path.split("/"))
    return None if "" in parts or "." in parts or ".." in parts else parts

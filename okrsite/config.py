"""okrsite.toml → SiteConfig, with the same precise messages as front matter."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from okrsite.diagnostics import CODES, Diagnostic, Severity
from okrsite.model import Cycle, Rules, SiteConfig
from okrsite.parse import YamlMap
from okrsite.schema import (
    Choice,
    Context,
    Date,
    Number,
    Text,
    TextList,
    as_map,
    id_problem,
    read_fields,
)

CONFIG_NAME = "okrsite.toml"

SITE_SCHEMA = {
    "title": Text(required=True),
    "base_url": Text(default=""),
    "repo_url": Text(default=""),
    "edit_uri": Text(default=""),
    "theme": Text(default="default"),
    "raw_html": Choice(default="sanitize", choices=("sanitize", "escape", "trust")),
}
CYCLE_SCHEMA = {"start": Date(required=True), "end": Date(required=True)}
RULES_SCHEMA = {
    "max_objectives": Number(default=5, minimum=1),
    "min_key_results": Number(default=2, minimum=1),
    "max_key_results": Number(default=5, minimum=1),
    "stale_after_days": Number(default=14, minimum=1),
    "on_track_gap": Number(default=0.10, minimum=0, maximum=1),
    "off_track_gap": Number(default=0.25, minimum=0, maximum=1),
    "disable": TextList(default=()),
}
TOP_LEVEL = {"site", "cycles", "rules"}

_STANDARD_CYCLE = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]))?$")


def standard_cycle(cycle_id: str) -> Cycle | None:
    """The dates of a standard cycle id (YYYY, YYYY-H1/H2, YYYY-Q1..Q4), or None."""
    match = _STANDARD_CYCLE.match(cycle_id)
    if not match:
        return None
    year, part = int(match.group(1)), match.group(2)
    if year < 1:
        return None
    months = {None: (1, 12), "H1": (1, 6), "H2": (7, 12)}
    months.update({f"Q{q}": (3 * q - 2, 3 * q) for q in range(1, 5)})
    first, last = months[part]
    # (not "1 January next year, less a day": year 9999 has no next year)
    end = dt.date(year, 12, 31) if last == 12 else dt.date(year, last + 1, 1) - dt.timedelta(1)
    return Cycle(cycle_id, dt.date(year, first, 1), end)


def _locate(text: str, data: dict) -> YamlMap:
    """Wrap TOML tables as YamlMaps with key lines, found by scanning the text.

    tomllib does not report positions; a line scan is exact for the flat,
    hand-written tables okrsite.toml has.
    """
    lines = text.splitlines()
    table_lines: dict[str, int] = {}
    key_lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            table = stripped.strip("[]").strip().replace('"', "").replace("'", "")
            table_lines.setdefault(table, number)
        elif "=" in stripped and not stripped.startswith("#"):
            key = stripped.split("=", 1)[0].strip().strip("\"'")
            key_lines.setdefault((table, key), number)

    def wrap(value: object, table: str) -> object:
        if not isinstance(value, dict):
            return value
        result = YamlMap(value)
        result.line = table_lines.get(table, 1)
        result.raw = {}
        result.key_lines = {}
        for key in value:
            sub = f"{table}.{key}" if table else key
            result.key_lines[key] = key_lines.get((table, key), table_lines.get(sub, result.line))
            result[key] = wrap(value[key], sub)
        return result

    return wrap(data, "")  # type: ignore[return-value]


def load_config(site_dir: Path) -> tuple[SiteConfig | None, list[Diagnostic]]:
    path = site_dir / CONFIG_NAME
    ctx = Context(CONFIG_NAME)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is fine
    except FileNotFoundError:
        ctx.report(0, "OKR026", f"no {CONFIG_NAME} in {site_dir}; run 'okrsite new DIR' to start")
        return None, ctx.diagnostics
    except (OSError, UnicodeDecodeError) as exc:
        ctx.report(0, "OKR026", f"cannot read {CONFIG_NAME}: {exc}")
        return None, ctx.diagnostics
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        ctx.report(line, "OKR026", f"TOML syntax error: {exc}")
        return None, ctx.diagnostics
    return parse_config(_locate(text, data), ctx)


def parse_config(data: YamlMap, ctx: Context) -> tuple[SiteConfig | None, list[Diagnostic]]:
    for key in data:
        if key not in TOP_LEVEL:
            ctx.report(
                data.line_of(key),
                "OKR026",
                f"unknown table [{key}]; expected [site], [cycles.ID] or [rules]",
            )
    site_map = as_map(data.get("site"), ctx, 1, "[site]")
    site = read_fields(site_map, SITE_SCHEMA, ctx, "[site]") if site_map is not None else None
    rules = _read_rules(data, ctx)
    cycles = _read_cycles(data, ctx)
    if site is None or rules is None or cycles is None:
        return None, ctx.diagnostics
    theme_problem = id_problem(site["theme"]) if site["theme"] != "default" else None
    if theme_problem:
        ctx.report(site_map.line_of("theme"), "OKR026", f"theme {site['theme']!r} {theme_problem}")
        return None, ctx.diagnostics
    for name in ("repo_url", "base_url"):  # they become links: only web addresses
        if site[name] and not re.match(r"^https?://[^\s\"'<>\\]+$", site[name], re.IGNORECASE):
            ctx.report(
                site_map.line_of(name),
                "OKR026",
                f"{name} {site[name]!r} must be an http:// or https:// address",
            )
            return None, ctx.diagnostics
    return SiteConfig(rules=rules, cycles=cycles, **site), ctx.diagnostics


def _read_rules(data: YamlMap, ctx: Context) -> Rules | None:
    if "rules" not in data:
        return Rules()
    rules_map = as_map(data["rules"], ctx, data.line_of("rules"), "[rules]")
    if rules_map is None:
        return None
    rules = read_fields(rules_map, RULES_SCHEMA, ctx, "[rules]")
    if rules is None:
        return None
    for code in rules["disable"]:
        if code not in CODES:
            ctx.report(
                rules_map.line_of("disable"), "OKR026", f"rules.disable names unknown code {code!r}"
            )
        elif CODES[code].severity is Severity.ERROR:
            ctx.report(
                rules_map.line_of("disable"), "OKR026", f"{code} is an error and cannot be disabled"
            )
    for name in ("max_objectives", "min_key_results", "max_key_results", "stale_after_days"):
        if rules[name] != int(rules[name]):
            ctx.report(rules_map.line_of(name), "OKR026", f"rules.{name} must be a whole number")
            return None
        rules[name] = int(rules[name])
    if rules["off_track_gap"] < rules["on_track_gap"]:
        ctx.report(
            rules_map.line_of("off_track_gap"),
            "OKR026",
            "rules.off_track_gap must be >= on_track_gap",
        )
        return None
    rules["disable"] = frozenset(rules["disable"])
    return Rules(**rules)


def _read_cycles(data: YamlMap, ctx: Context) -> dict[str, Cycle] | None:
    if "cycles" not in data:
        return {}
    cycles_map = as_map(data["cycles"], ctx, data.line_of("cycles"), "[cycles]")
    if cycles_map is None:
        return None
    cycles: dict[str, Cycle] = {}
    ok = True
    for cycle_id, table in cycles_map.items():
        line = cycles_map.line_of(cycle_id)
        problem = None if standard_cycle(cycle_id) else id_problem(cycle_id)
        if problem:
            ctx.report(line, "OKR022", f"cycle id {cycle_id!r} {problem}")
            ok = False
            continue
        table_map = as_map(table, ctx, line, f"[cycles.{cycle_id}]")
        fields = (
            read_fields(table_map, CYCLE_SCHEMA, ctx, f"[cycles.{cycle_id}]") if table_map else None
        )
        if fields is None:
            ok = False
            continue
        if fields["start"] >= fields["end"]:
            ctx.report(line, "OKR022", f"cycle {cycle_id!r} must start before it ends")
            ok = False
            continue
        cycles[cycle_id] = Cycle(cycle_id, fields["start"], fields["end"])
    return cycles if ok else None

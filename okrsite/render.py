"""Render stage: model + rollups → output files (path, bytes), through Jinja2.

Nothing here touches the output folder; the write stage does. Templates get a
small documented context (see README "Themes") and a `url()` helper that
turns any site path into a link relative to the page being rendered.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from okrsite import __version__, urls
from okrsite.export import cycle_data, to_json
from okrsite.markup import MarkdownRenderer
from okrsite.model import Model
from okrsite.rollup import CycleRollup, current_cycle, score_band


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the output folder, '/' separators
    content: bytes


CYCLE_JSON = "json:cycle"  # a "template" rendered in Python: the JSON export


@dataclass(frozen=True)
class PageSpec:
    """One output file to render: where, with which template and context.

    `deps` says what the page shows, so an incremental rebuild re-renders only
    the pages a change can affect. Keys (see `affected_keys`):
      "*"              anything in the site (dashboards, indexes, feeds)
      "cycle:C"        anything in cycle C
      "team:C/T"       team T's numbers in cycle C (its OKRs, check-ins, teams below)
      "team:*/T"       team T's numbers in any cycle
      "checkins:C/T"   the list of T's check-ins in C (prev/next links)
    """

    path: str
    template: str
    context: dict = field(default_factory=dict)
    deps: frozenset[str] = frozenset({"*"})


def _team_keys(cycle_id: str, team_id: str) -> frozenset[str]:
    return frozenset({f"team:{cycle_id}/{team_id}", f"team:*/{team_id}"})


def page_specs(model: Model, current: str | None) -> list[PageSpec]:
    """Every page of the site, in a stable order."""
    specs = [
        PageSpec(urls.DASHBOARD, "dashboard.html", {"cycle_id": current}),
        PageSpec(urls.CYCLES, "cycles.html"),
        PageSpec(urls.TEAMS, "teams.html"),
    ]
    for team_id in model.teams:
        specs.append(
            PageSpec(
                urls.team_page(team_id),
                "team.html",
                {"team_id": team_id},
                frozenset({f"team:*/{team_id}"}),
            )
        )
    for cycle_id in model.cycles:
        cycle_deps = frozenset({f"cycle:{cycle_id}"})
        specs.append(
            PageSpec(urls.cycle_page(cycle_id), "cycle.html", {"cycle_id": cycle_id}, cycle_deps)
        )
        specs.append(
            PageSpec(urls.api_json(cycle_id), CYCLE_JSON, {"cycle_id": cycle_id}, cycle_deps)
        )
    for cycle_id, team_id in model.okrs:
        specs.append(
            PageSpec(
                urls.team_cycle_page(cycle_id, team_id),
                "team_cycle.html",
                {"cycle_id": cycle_id, "team_id": team_id},
                _team_keys(cycle_id, team_id) | {f"checkins:{cycle_id}/{team_id}"},
            )
        )
    for (cycle_id, team_id), checkins in model.checkins.items():
        for checkin in checkins:
            specs.append(
                PageSpec(
                    urls.checkin_page(cycle_id, team_id, checkin.date),
                    "checkin.html",
                    {"cycle_id": cycle_id, "team_id": team_id, "checkin": checkin},
                    frozenset({f"checkins:{cycle_id}/{team_id}"}),
                )
            )
    return specs


class ThemeError(Exception):
    """A theme is missing or broken; the message says which and why."""


def builtin_themes_dir() -> Path:
    """The top-level themes/ folder, installed as the package okrsite.themes."""
    try:
        return Path(str(resources.files("okrsite.themes")))
    except ModuleNotFoundError:  # a source checkout used without installing
        return Path(__file__).resolve().parent.parent / "themes"


def theme_dirs(site_dir: Path, name: str) -> list[Path]:
    """The theme and its ancestors (`extends` in theme.toml), most specific first."""
    chain: list[Path] = []
    while name:
        candidates = [site_dir / "themes" / name, builtin_themes_dir() / name]
        folder = next((c for c in candidates if (c / "templates").is_dir()), None)
        if folder is None:
            raise ThemeError(f"theme {name!r} not found in themes/ or among the built-in themes")
        if folder in chain:
            raise ThemeError(f"theme {name!r} extends itself")
        chain.append(folder)
        name = _theme_parent(folder)
    return chain


def _theme_parent(folder: Path) -> str:
    meta = folder / "theme.toml"
    if not meta.is_file():
        return ""
    try:
        return str(tomllib.loads(meta.read_text(encoding="utf-8")).get("extends", ""))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"{meta}: {exc}") from exc


def make_environment(folders: list[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f / "templates") for f in folders]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, number=number, band=score_band, date=long_date)
    return env


def pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def number(value: float | None, unit: str | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def long_date(value: dt.date | None) -> str:
    return value.strftime("%-d %b %Y") if value else "–"


@jinja2.pass_context
def _url(context: jinja2.runtime.Context, target: str) -> str:
    return urls.relative(context["page_path"], target)


@dataclass
class Index:
    """Lookups templates need and the model does not store directly."""

    aligned_from: dict[tuple[str, str], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def build(cls, model: Model) -> Index:
        index = cls()
        for (cycle, team), file in model.okrs.items():
            for objective in file.objectives:
                if objective.aligns_to:
                    index.aligned_from[(cycle, objective.aligns_to)].append((team, objective.id))
        return index


class SiteRenderer:
    """Renders every page of a site; reused for many pages (and rebuilds)."""

    def __init__(self, model: Model, rollups: dict[str, CycleRollup], site_dir: Path):
        self.model = model
        self.rollups = rollups
        self.folders = theme_dirs(site_dir, model.config.theme)
        self.env = make_environment(self.folders)
        self.markdown = MarkdownRenderer(model.config.raw_html)
        self.index = Index.build(model)
        today = next(iter(rollups.values())).today if rollups else dt.date.today()
        self.current = current_cycle(model, today)
        self.env.globals.update(
            url=_url,
            urls=urls,
            site=model.config,
            model=model,
            rollups=rollups,
            index=self.index,
            current_cycle=self.current,
            version=__version__,
            md=self.markdown.render,
            edit_url=self.edit_url,
            today=today,
        )

    def edit_url(self, source_path: str) -> str | None:
        config = self.model.config
        if not config.repo_url:
            return None
        base = config.repo_url.rstrip("/") + "/" + config.edit_uri.lstrip("/")
        if not base.endswith("/"):
            base += "/"
        return base + source_path

    def render(self, spec: PageSpec) -> OutputFile:
        if spec.template == CYCLE_JSON:
            data = cycle_data(self.model, self.rollups[spec.context["cycle_id"]])
            return OutputFile(spec.path, to_json(data).encode("utf-8"))
        try:
            template = self.env.get_template(spec.template)
            html = template.render(page_path=spec.path, **spec.context)
        except Exception as exc:  # any failure inside a template is the theme's bug
            raise ThemeError(f"{spec.template} ({spec.path}): {type(exc).__name__}: {exc}") from exc
        return OutputFile(spec.path, html.encode("utf-8"))

    def pages(self) -> list[OutputFile]:
        return [self.render(spec) for spec in page_specs(self.model, self.current)]

    def static_files(self) -> list[OutputFile]:
        """Theme static files; a child theme's file wins over its parent's."""
        found: dict[str, bytes] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if not static.is_dir():
                continue
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    rel = path.relative_to(static).as_posix()
                    found[urls.asset(rel)] = path.read_bytes()
        return [OutputFile(path, data) for path, data in sorted(found.items())]


def render_site(model: Model, rollups: dict[str, CycleRollup], site_dir: Path) -> list[OutputFile]:
    renderer = SiteRenderer(model, rollups, site_dir)
    return renderer.pages() + renderer.static_files()


__all__ = ["Markup", "OutputFile", "ThemeError", "render_site"]

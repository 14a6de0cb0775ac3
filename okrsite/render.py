"""Render stage: model + rollups → output files (path, bytes), through Jinja2.

Nothing here touches the output folder; the write stage does. Templates get a
small documented context (see README "Themes") and a `url()` helper that
turns any site path into a link relative to the page being rendered.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import sys
import tomllib
import types
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import ClassVar

import jinja2
from markupsafe import Markup

from okrsite import __version__, charts, escaping, feeds, search, urls, views
from okrsite.csvexport import csv_header, team_rows
from okrsite.diagnostics import CODES, Diagnostic
from okrsite.export import cycle_header, cycle_json, team_data, team_json
from okrsite.fragments import FragmentCache
from okrsite.gitinfo import NO_GIT, GitData, page_sources
from okrsite.markup import MarkdownRenderer
from okrsite.model import CheckIn, Model, Objective, TeamOKRs, changed_keys, same_objects
from okrsite.pickling import pickled_by_fields
from okrsite.rollup import CycleRollup, current_cycle, score_band
from okrsite.schema import id_problem


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class OutputFile:
    path: str  # relative to the output folder, '/' separators
    content: bytes


CYCLE_JSON = "json:cycle"  # a "template" rendered in Python: the JSON export
CYCLE_CSV = "csv:cycle"  # one row per key result (okrsite/csvexport.py)
SEARCH_INDEX = "js:search"  # the search index script (okrsite/search.py)
ATOM_FEED = "atom:feed"  # check-ins as Atom (okrsite/feeds.py)
SITEMAP = "xml:sitemap"  # only when base_url is set: a sitemap needs absolute URLs

# A page's dependency keys, sorted: equal sets are equal tuples in every process.
# A tuple, not a frozenset: most pages have keys of their own (a key result, a
# check-in), and a page's keys are only iterated (or searched for "*", among few).
Deps = tuple[str, ...]


class Context:
    """A page's own template variables (`template.render(**context)`): the names,
    one tuple shared by every page of a kind, and the values. A dict per page was
    184 bytes, 0.1 GB of a 10,000-team build; this is 48 plus the values' tuple.
    Read-only, and read like a dict."""

    __slots__ = ("names", "values")
    _SHAPES: ClassVar[dict[tuple[str, ...], tuple[str, ...]]] = {}  # one tuple of names a kind

    def __init__(self, **values: object) -> None:
        names = tuple(values)
        self.names = self._SHAPES.setdefault(names, names)
        self.values = tuple(values.values())

    def keys(self) -> tuple[str, ...]:
        return self.names

    def __getitem__(self, name: str) -> object:
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def get(self, name: str, default: object = None) -> object:
        return self.values[self.names.index(name)] if name in self.names else default

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and (self.names, self.values) == (
            other.names,
            other.values,
        )

    __hash__ = None  # type: ignore[assignment]  # as a dict's

    def __reduce__(self):
        return _context, (self.names, self.values)

    def __repr__(self) -> str:
        return f"Context({dict(zip(self.names, self.values, strict=True))!r})"


def _context(names: tuple[str, ...], values: tuple) -> Context:
    return Context(**dict(zip(names, values, strict=True)))


NO_CONTEXT = Context()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PageSpec:
    """One output file to render: where, with which template and context.

    `deps` says what the page shows, so an incremental rebuild re-renders only
    the pages a change can affect. Keys (see `affected_keys`):
      "*"              anything in the site (dashboards, indexes, feeds)
      "cycle:C"        anything in cycle C
      "team:C/T"       team T's numbers in cycle C (its OKRs, check-ins, teams below)
      "own:C/T"        team T's own OKRs and check-ins in C (not the teams below)
      "team:*/T"       team T's numbers in any cycle
      "checkins:C/T"   any of T's check-ins in C (their entries in timelines and feeds)
      "okrs:C/T"       T's OKR file of C as written: objectives, key results (`okrs_key`)
      "kr:C/T/K"       key result K's updates, and so its numbers (`kr_key`)
      "objective:C/T/O" the updates of objective O's key results (`objective_key`)
      "dates:C/T"      which check-ins T has in C and their dates: prev/next (`dates_key`)
      "file:P"         the content file P itself (a check-in's entry in a timeline)
      "titles:C"       ids, titles, owners and alignment of objectives and KRs in C
                       (any OKR file of C, never a check-in): pages naming other teams' goals
      "cycles"         the list of cycles (ids, dates): the cycle switcher on every page
    Team names, leads and parents (content/teams/) show on pages of other teams,
    people pages and the search index: a change to a team file is a "*" change.
    Pages of one objective, key result, check-in or person name the finest keys,
    so that a check-in that moves one key result re-renders that one's pages only.
    tests/test_site_pages.py re-renders after edits and checks these keys.
    """

    path: str
    template: str
    context: Context = field(default_factory=lambda: NO_CONTEXT)
    deps: Deps = ("*",)


def page_specs(
    model: Model,
    current: str | None,
    people: dict[str, views.Person] | None = None,
    memo: dict | None = None,
) -> list[PageSpec]:
    """Every page of the site, in a stable order.

    Every HTML page shows the cycle switcher, so each one also depends on "cycles".
    `people`: views.people(model), when the caller has it. `memo`: a dict the caller
    keeps between calls (the preview server's rebuilds): the pages of a person, an OKR
    file or a team's check-ins that are the very same objects as last time are reused.
    """
    people = people if people is not None else views.people(model)
    memo = {} if memo is None else memo
    specs = _specs_again(model, current, people, memo)
    if specs is not None:
        return specs
    specs = _site_pages(model, current)
    slices: dict[tuple, tuple[int, int]] = {}  # where each person's and group's pages are

    def add(key: tuple, sources: tuple, make) -> None:
        pages = _memoised(memo, key, sources, make)
        slices[key] = (len(specs), len(specs) + len(pages))
        specs.extend(pages)

    for person in people.values():
        add(("person", person.name), (person,), lambda p=person: _person_page(model, p))
    cycles = list(model.cycles)
    for team_id in model.teams:
        add(("team", team_id, *model.cycles), (), lambda t=team_id: _team_pages(t, cycles))
    for cycle_id in model.cycles:
        specs += _cycle_pages(cycle_id)
    for key, file in model.okrs.items():
        add(("okrs", *key), (file,), lambda k=key, f=file: _okr_pages(*k, f))
    for key, checkins in model.checkins.items():
        add(("checkins", *key), checkins, lambda k=key: _checkin_pages(model, k))
    if model.config.base_url:
        html = [s.path for s in specs if s.path.endswith(".html") and s.path != urls.NOT_FOUND]
        specs.append(PageSpec(urls.SITEMAP, SITEMAP, Context(pages=html)))
    memo["last"] = (_page_sources(model, current, people), specs, slices)
    return specs


def pages_memo_apart(memo: dict, specs: list[PageSpec]) -> dict:
    """`memo` (page_specs') for saving beside `specs`, its last list of pages: the
    pages of each person, team, OKR file and check-in group that are a stretch of
    `specs` are named by where they are in it, so the pages are saved once, with
    `specs`. `pages_memo_joined` puts them back."""
    last = memo.get("last")
    if last is None or last[1] is not specs:
        return memo
    sources, _, slices = last
    apart: dict = {"last": (sources, None, slices)}
    for key, value in memo.items():
        if key == "last":
            continue
        where = slices.get(key)
        stretch = where is not None and _is_stretch(value[1], specs, where)
        apart[key] = (value[0], where) if stretch else value
    return apart


def pages_memo_joined(apart: dict, specs: list[PageSpec]) -> dict:
    """`pages_memo_apart`'s result with the pages back: the very objects of `specs`."""
    last = apart.get("last")
    if last is None or last[1] is not None:
        return apart
    memo: dict = {"last": (last[0], specs, last[2])}
    for key, value in apart.items():
        if key != "last":
            sources, pages = value
            memo[key] = (sources, specs[pages[0] : pages[1]] if isinstance(pages, tuple) else pages)
    return memo


def _is_stretch(pages: list[PageSpec], specs: list[PageSpec], where: tuple[int, int]) -> bool:
    start, end = where
    return len(pages) == end - start and all(map(operator.is_, pages, specs[start:end]))


def _page_sources(model: Model, current: str | None, people: dict) -> tuple:
    """What page_specs reads: what it reuses only while the very same, the people and
    the check-in groups."""
    return (current, model.config, model.teams, model.okrs, model.cycles), people, model.checkins


def _specs_again(
    model: Model, current: str | None, people: dict[str, views.Person], memo: dict
) -> list[PageSpec] | None:
    """The last list of pages with those of the changed people and check-in groups put
    in their places, or None when anything else changed (or a count of pages did).
    The changed ones are found at C speed: asking each of 5,000 sources took 8 ms."""
    last = memo.get("last")
    if last is None or model.config.base_url:  # (a sitemap lists every page)
        return None
    before, specs, slices = last
    now = _page_sources(model, current, people)
    persons = changed_keys(people, before[1])
    groups = changed_keys(model.checkins, before[2])
    if not same_objects(before[0], now[0]) or persons is None or groups is None:
        return None
    specs = list(specs)
    for name in persons:
        key = ("person", name)
        make = functools.partial(_person_page, model, people[name])
        if not _splice(specs, slices[key], _memoised(memo, key, (people[name],), make)):
            return None
    for group in groups:
        key = ("checkins", *group)
        make = functools.partial(_checkin_pages, model, group)
        if not _splice(specs, slices[key], _memoised(memo, key, model.checkins[group], make)):
            return None
    memo["last"] = (now, specs, slices)
    return specs


def _splice(specs: list[PageSpec], where: tuple[int, int], pages: list[PageSpec]) -> bool:
    """Put `pages` at `where` in place of the pages there, if they are as many."""
    start, end = where
    if end - start != len(pages):
        return False
    specs[start:end] = pages
    return True


def _page(path: str, template: str, context: Context, deps: set[str] | Deps) -> PageSpec:
    """A page of one part of the site; an HTML one also shows the cycle switcher.
    `deps` already a tuple (`_html_deps`) is kept as it is."""
    if path.endswith(".html") and "cycles" not in deps:
        deps = _html_deps(*deps)
    elif not isinstance(deps, tuple):
        deps = tuple(sorted(deps))
    return PageSpec(path, template, context, deps)


def _html_deps(*keys: str) -> Deps:
    """The deps of an HTML page that shows `keys` (and the cycle switcher)."""
    return tuple(sorted({*keys, "cycles"}))


def _memoised(memo: dict, key: tuple, sources: tuple, make) -> list[PageSpec]:
    """`make()`, or the pages made last time from the very same source objects."""
    kept = memo.get(key)
    if kept is not None and same_objects(kept[0], sources):
        return kept[1]
    pages = make()
    memo[key] = (sources, pages)
    return pages


def _site_pages(model: Model, current: str | None) -> list[PageSpec]:
    return [
        PageSpec(urls.DASHBOARD, "dashboard.html", Context(cycle_id=current)),
        PageSpec(urls.CYCLES, "cycles.html"),
        PageSpec(urls.TEAMS, "teams.html"),
        PageSpec(urls.PEOPLE, "people.html"),
        PageSpec(urls.SEARCH, "search.html"),
        PageSpec(urls.SEARCH_INDEX, SEARCH_INDEX),
        PageSpec(urls.FEED, ATOM_FEED),
        # Hosts serve 404.html for a missing path at any depth: with base_url its links
        # are absolute; without, they are relative to the site root (see docs/themes.md).
        PageSpec(urls.NOT_FOUND, "404.html", Context(link_base=model.config.base_url)),
    ]


def kr_key(cycle_id: str, team_id: str, kr_id: str) -> str:
    """The dependency key of a key result's updates (and so of its numbers)."""
    return sys.intern(f"kr:{cycle_id}/{team_id}/{kr_id}")  # one string for all its pages


def objective_key(cycle_id: str, team_id: str, objective_id: str) -> str:
    """The dependency key of the updates of an objective's key results."""
    return sys.intern(f"objective:{cycle_id}/{team_id}/{objective_id}")


def okrs_key(cycle_id: str, team_id: str) -> str:
    """The dependency key of what a team's OKR file of a cycle says."""
    return f"okrs:{cycle_id}/{team_id}"


def dates_key(cycle_id: str, team_id: str) -> str:
    """The dependency key of which check-ins a team has in a cycle, and their dates."""
    return f"dates:{cycle_id}/{team_id}"


def file_key(path: str) -> str:
    """The dependency key of a content file (its text and its last commit)."""
    return sys.intern(f"file:{path}")


def _person_page(model: Model, person: views.Person) -> list[PageSpec]:
    # What a person owns can change in any file (owners default to leads): the
    # page shows the numbers of what they own, and the files that name them
    # (their check-ins, their OKR files: each one's content and last commit).
    # A rebuild re-renders it by its old and its new deps, so gaining or losing
    # an item is seen; a team file's lead change re-renders everything anyway.
    deps = {file_key(path) for path in views.person_sources(model, person)}
    deps.update(objective_key(c, t, objective.id) for c, t, objective in person.objectives)
    deps.update(kr_key(c, t, kr.id) for c, t, _, kr in person.key_results)
    return [_page(urls.person_page(person.slug), "person.html", Context(name=person.name), deps)]


def _team_pages(team_id: str, cycles: list[str]) -> list[PageSpec]:
    context = Context(team_id=team_id)
    # A team's check-ins in every cycle (a new cycle changes "cycles"), not its
    # numbers: a check-in of a team below leaves them as they were. The feed also
    # names the key results that each check-in updates (its own OKR files).
    checkins = {f"checkins:{c}/{team_id}" for c in cycles}
    own = {f"own:{c}/{team_id}" for c in cycles}
    return [
        _page(urls.team_page(team_id), "team.html", context, {f"team:*/{team_id}"}),
        _page(urls.team_timeline_page(team_id), "team_timeline.html", context, checkins),
        _page(urls.team_feed(team_id), ATOM_FEED, context, checkins | own | {"cycles"}),
    ]


def _cycle_pages(cycle_id: str) -> list[PageSpec]:
    deps = {f"cycle:{cycle_id}"}
    context = Context(cycle_id=cycle_id)
    return [
        _page(urls.cycle_page(cycle_id), "cycle.html", context, deps),
        _page(urls.api_json(cycle_id), CYCLE_JSON, context, deps),
        _page(urls.api_csv(cycle_id), CYCLE_CSV, context, deps),
        # Alignment crosses teams: any file of the cycle can add or move a node.
        _page(urls.alignment_page(cycle_id), "alignment.html", context, deps),
        _page(urls.cycle_timeline_page(cycle_id), "cycle_timeline.html", context, deps),
    ]


def _okr_pages(cycle_id: str, team_id: str, file: TeamOKRs) -> list[PageSpec]:
    okrs = okrs_key(cycle_id, team_id)
    titles = f"titles:{cycle_id}"
    checkins = f"checkins:{cycle_id}/{team_id}"
    pages = [
        _page(
            urls.team_cycle_page(cycle_id, team_id),
            "team_cycle.html",
            Context(cycle_id=cycle_id, team_id=team_id),
            # Names the objectives its own align to, and those aligned to them. It
            # shows cycle C only: a change in another cycle leaves it as it was.
            {f"team:{cycle_id}/{team_id}", checkins, titles},
        )
    ]
    for objective in file.objectives:
        # An objective shows its key results' numbers (not the teams below it) and
        # the titles of the objectives it aligns to and those aligned to it.
        pages.append(
            _page(
                urls.objective_page(cycle_id, team_id, objective.id),
                "objective.html",
                Context(cycle_id=cycle_id, team_id=team_id, objective=objective),
                {okrs, titles, objective_key(cycle_id, team_id, objective.id)},
            )
        )
        for kr in objective.key_results:
            context = Context(cycle_id=cycle_id, team_id=team_id, objective=objective, kr=kr)
            pages.append(
                _page(
                    urls.key_result_page(cycle_id, team_id, kr.id),
                    "key_result.html",
                    context,
                    # its updates, each linking to its check-in
                    _html_deps(okrs, kr_key(cycle_id, team_id, kr.id)),
                )
            )
    return pages


def _checkin_pages(model: Model, key: tuple[str, str]) -> list[PageSpec]:
    cycle_id, team_id = key
    dates, titles = dates_key(cycle_id, team_id), f"titles:{cycle_id}"  # prev/next; its KRs
    return [
        _page(
            urls.checkin_page(cycle_id, team_id, checkin.date),
            "checkin.html",
            Context(cycle_id=cycle_id, team_id=team_id, checkin=checkin),
            _html_deps(file_key(checkin.source.path), dates, titles),
        )
        for checkin in model.checkins[key]
    ]


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
        if not isinstance(name, str) or id_problem(name):  # never a path: no "../", no "/"
            raise ThemeError(f"theme name {name!r} {id_problem(str(name)) or 'must be text'}")
        candidates = [site_dir / "themes" / name, builtin_themes_dir() / name]
        folder = next((c for c in candidates if (c / "templates").is_dir()), None)
        if folder is None:
            raise ThemeError(f"theme {name!r} not found in themes/ or among the built-in themes")
        if folder == candidates[0] and not folder.resolve().is_relative_to(site_dir.resolve()):
            raise ThemeError(f"theme {name!r} is a symbolic link out of the site; copy it in")
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
        return tomllib.loads(meta.read_text(encoding="utf-8")).get("extends", "")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"{meta}: {exc}") from exc


_PLAIN_CALLABLES = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    jinja2.runtime.Macro,
)


class _Context(jinja2.runtime.Context):
    """Jinja's template context, with a shorter way to call plain callables.

    `Context.call` runs for every call a template makes (about 75 a page) and
    asks each callable three times whether it wants the context passed in. A
    function, method or macro not marked by `jinja2.pass_context` or its kin is
    called at once here: 8 % of rendering, measured. Anything else goes Jinja's way."""

    def call(self, obj, /, *args, **kwargs):
        if type(obj) not in _PLAIN_CALLABLES or hasattr(obj, "jinja_pass_arg"):
            return super().call(obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)  # Jinja's own arguments, for pass_context
        kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:  # as Jinja does: a generator's end must not leak out
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class _Template(jinja2.Template):
    """A compiled template that escapes the values it prints to plain strings.

    Jinja's generated code prints `escape(value)`, with `escape` a global of the
    template's module; nothing else in that code calls it. The result only ever
    goes into a join: the page, or a block, macro or set-block body that Jinja
    wraps in Markup itself. So `escaping.escape` gives the same page, without a
    Markup object for each of the 150 values a page prints."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        namespace["escape"] = escaping.escape
        return super()._from_namespace(environment, namespace, globals)


class _Environment(jinja2.Environment):
    """An environment whose templates read its globals directly.

    Jinja gives each template a ChainMap of its own globals over the
    environment's, and copies it into a dict for every context it makes: the
    page, each `include` and each `import ... with context`, about six a page.
    Copying a ChainMap goes key by key in Python: 3 % of rendering, profiled.
    okrsite never gives a template globals of its own, so the environment's
    dict serves as is (and still shows globals set after a template loaded).
    Jinja would write a loaded template's own globals into that shared dict, so
    asking for them is refused."""

    context_class = _Context
    template_class = _Template

    def make_globals(self, d):
        return super().make_globals(d) if d else self.globals

    def get_template(self, name, parent=None, globals=None):
        _no_own_globals(globals)
        return super().get_template(name, parent)

    def select_template(self, names, parent=None, globals=None):
        _no_own_globals(globals)
        return super().select_template(names, parent)


def _no_own_globals(globals: object) -> None:
    if globals:
        raise TypeError("okrsite's templates share the environment's globals: set env.globals")


def make_environment(folders: list[Path]) -> jinja2.Environment:
    """Templates compiled once for the environment's life. A page looks up 7
    templates (extends, includes, imports). No auto_reload: it would ask the file
    system about each of them; a caller that keeps the environment makes a new
    one when the theme's files change (incremental.Builder, by theme_fingerprint).
    An unbounded cache is a plain dict: a theme has a few dozen templates, and
    Jinja's LRU cache rearranges itself on each lookup (3 % of rendering, measured)."""
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(f / "templates") for f in folders]),
        auto_reload=False,
        cache_size=-1,
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
    return charts.day(value) if value else "–"


class _Links:
    """`url(target)` and `root()` for one page, given to its templates as plain
    methods. As `pass_context` functions they made Jinja derive a fresh context
    for every call inside a loop or a block, where most links are: 8 % of
    rendering, measured."""

    __slots__ = ("link_base", "page_path")

    def __init__(self, page_path: str, link_base: str | None):
        self.page_path = page_path
        self.link_base = link_base  # 404.html: served at any depth, so absolute links

    def url(self, target: str) -> str:
        if self.link_base:
            return urls.absolute(self.link_base, target)
        return urls.relative(self.page_path, target)

    def root(self) -> str:
        """The relative link from this page to the site's root folder ("./" at the top)."""
        link = urls.relative(self.page_path, urls.DASHBOARD)
        return link[: -len(urls.DASHBOARD)] or "./"


class LintIndex:
    """The build's warnings, by source file and line: shown as badges where they apply."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...] = ()):
        self.by_path: dict[str, list[Diagnostic]] = defaultdict(list)
        for d in diagnostics:
            if not d.is_error:
                self.by_path[d.path].append(d)

    def at(self, path: str, line: int | None = None) -> list[Diagnostic]:
        """Warnings about a file (or one line of it: an objective, a key result)."""
        found = self.by_path.get(path, [])
        return [d for d in found if line is None or d.line == line]

    def summary(self, code: str) -> str:
        return CODES[code].summary if code in CODES else code


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

    def __init__(
        self,
        model: Model,
        rollups: dict[str, CycleRollup],
        site_dir: Path,
        diagnostics: tuple[Diagnostic, ...] | list[Diagnostic] = (),
        git: GitData | None = None,
        env: jinja2.Environment | None = None,  # reuse compiled templates (rebuilds)
        fragments: FragmentCache | None = None,  # reuse pieces of summary pages (rebuilds)
        people: dict[str, views.Person] | None = None,  # views.people(model), if known
        sources: dict | None = None,  # gitinfo.page_sources(memo=), kept between rebuilds
        derived: dict | None = None,  # the index, trees and views' memos, kept between rebuilds
    ):
        self.model = model
        self.fragments = fragments if fragments is not None else FragmentCache()
        self.rollups = rollups
        self.folders = theme_dirs(site_dir, model.config.theme)
        self.env = env or make_environment(self.folders)
        self._many_sources: dict[tuple, tuple[list[str], bool]] = {}
        self._sources_memo = sources if sources is not None else {}
        self.markdown = MarkdownRenderer(model.config.raw_html)
        self._derived = derived if derived is not None else {}
        self.index = self._kept("index", lambda: Index.build(model))
        today = next(iter(rollups.values())).today if rollups else dt.date.today()
        self.current = current_cycle(model, today)
        self.today = today
        self.people = people if people is not None else views.people(model)
        self.lint = LintIndex(tuple(diagnostics))
        self.env.globals.update(
            views=views,
            charts=charts,
            people=self.people,
            person_slugs={name: p.slug for name, p in self.people.items()},
            lint=self.lint,
            urls=urls,
            site=model.config,
            model=model,
            rollups=rollups,
            index=self.index,
            current_cycle=self.current,
            version=__version__,
            md=functools.lru_cache(maxsize=4096)(self.markdown.render),  # bodies repeat
            edit_url=self.edit_url,
            today=today,
            git=git or NO_GIT,  # last changes, --history, --as-of: data from the build
            page_sources=self.page_sources,
            fragment=self.fragment,
            fragment_each=self.fragment_each,
            alignment=self.alignment,
            days_of_cycle=self.days_of_cycle,
            latest_checkins=self.latest_checkins,
            status_counts=self.status_counts,
            objective_scores=self.objective_scores,
            team_history=self.team_history,
            objective_history=self.objective_history,
        )

    def _kept(self, key: object, make, also: object = None):
        """`make()`, or its last result while the teams and OKR files are the very
        same objects (a rebuild for check-ins) and `also` is equal: what it derives
        comes from those only."""
        kept = self._derived.get(key)
        if (
            kept is not None
            and kept[0] is self.model.teams
            and kept[1] is self.model.okrs
            and kept[2] == also
        ):
            return kept[3]
        found = make()
        self._derived[key] = (self.model.teams, self.model.okrs, also, found)
        return found

    def alignment(self, cycle_id: str) -> tuple[list[views.Node], list[views.Node]]:
        """views.alignment of a cycle, kept between rebuilds (8 ms at 1,000 teams)."""
        return self._kept(("alignment", cycle_id), lambda: views.alignment(self.model, cycle_id))

    # views of the whole organisation, with memos kept between rebuilds (views.py)
    def days_of_cycle(self, cycle_id: str) -> list[views.Day]:
        return views.days_of_cycle(self.model, cycle_id, self._derived)

    def latest_checkins(self, cycle_id: str, limit: int) -> list[tuple[str, str, CheckIn]]:
        return views.latest_checkins(self.model, cycle_id, self.today, limit, self._derived)

    def status_counts(self, cycle_id: str) -> dict[str, int]:
        return views.status_counts(self.rollups[cycle_id], self._derived)

    def objective_scores(self, cycle_id: str) -> list[float]:
        return views.objective_scores(self.rollups[cycle_id], self._derived)

    def team_history(self, cycle_id: str, team_id: str) -> list[tuple[dt.date, float]]:
        return views.team_history(self.model, self.rollups[cycle_id], team_id, self._derived)

    def objective_history(
        self, cycle_id: str, team_id: str, objective: Objective
    ) -> list[tuple[dt.date, float]]:
        rollup = self.rollups[cycle_id]
        return views.objective_history(objective, rollup, team_id, self._derived)

    @jinja2.pass_context
    def fragment(self, context: jinja2.runtime.Context, name: str, *deps: str, caller) -> Markup:
        """`{% call fragment(name, *deps) %}…{% endcall %}`: a piece of the page that
        shows only what `deps` name (see fragments.py); kept until they change."""
        return Markup(self.fragments.piece(context["page_path"], name, deps, caller))

    @jinja2.pass_context
    def fragment_each(
        self, context: jinja2.runtime.Context, items: Iterable, name: str, *deps: str, caller
    ) -> Markup:
        """`{% call(item) fragment_each(items, "row/{}", "team:C/{}") %}…{% endcall %}`:
        a `fragment` per item, its name and keys `str.format`ted with the item
        ("{0.team}" for an attribute). The loop runs here, not in the template: a
        summary page has thousands of pieces, and a Jinja call block per piece costs
        20 µs where the lookup of a kept one costs 1."""
        page, kept, piece = context["page_path"], self.fragments.kept, self.fragments.piece
        out = []
        for item in items:
            key = name.format(item)
            text = kept(page, key)
            if text is None:
                make = functools.partial(caller, item)
                text = piece(page, key, [d.format(item) for d in deps], make)
            out.append(text)
        return Markup("".join(out))

    @jinja2.pass_context
    def page_sources(self, context: jinja2.runtime.Context) -> tuple[list[str], bool]:
        """gitinfo.page_sources, computed once for all pages made from many files (a
        site-wide page lists every source: per page, that made builds quadratic)."""
        # all that gitinfo.page_sources reads from the context ("name": a person's page)
        key = (
            context.get("cycle_id"),
            context.get("team_id"),
            "checkin" in context,
            context.get("name"),
        )
        if key in self._many_sources:
            return self._many_sources[key]
        found = page_sources(context, self._sources_memo)
        if not found[1]:
            self._many_sources[key] = found
        return found

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
            text = self._cycle_json(spec)
        elif spec.template in (CYCLE_CSV, SEARCH_INDEX, ATOM_FEED, SITEMAP):
            text = self._data_file(spec)
        else:
            try:
                template = self.env.get_template(spec.template)
                links = _Links(spec.path, spec.context.get("link_base"))
                text = template.render(
                    page_path=spec.path, url=links.url, root=links.root, **spec.context
                )
            except Exception as exc:  # any failure inside a template is the theme's bug
                self.fragments.abandon()  # forget the pieces it placed
                raise ThemeError(
                    f"{spec.template} ({spec.path}): {type(exc).__name__}: {exc}"
                ) from exc
        return OutputFile(spec.path, self.fragments.assemble(text))

    def _team_pieces(self, spec: PageSpec, cycle_id: str, make) -> list[str]:
        """`make(team_id)` for every team, kept as pieces that show the team's numbers."""
        kept, piece, page = self.fragments.kept, self.fragments.piece, spec.path
        return [
            kept(page, team_id)
            or piece(page, team_id, (f"team:{cycle_id}/{team_id}",), lambda t=team_id: make(t))
            for team_id in self.model.teams
        ]

    def _cycle_json(self, spec: PageSpec) -> str:
        cycle_id = spec.context["cycle_id"]
        rollup = self.rollups[cycle_id]
        teams = self._team_pieces(
            spec, cycle_id, lambda t: team_json(team_data(self.model, rollup, t))
        )
        return cycle_json(cycle_header(rollup), teams)

    def _search_index(self, spec: PageSpec) -> str:
        kept = self.fragments.kept
        texts = [self._directory_text()]
        for cycle_id in search.cycle_order(self.model, self.current):
            texts.append(search.entries_text([search.cycle_entry(cycle_id)]))
            texts += [
                kept(spec.path, f"{cycle_id}/{team_id}")
                or self.fragments.piece(
                    spec.path,
                    f"{cycle_id}/{team_id}",
                    (f"own:{cycle_id}/{team_id}",),
                    lambda c=cycle_id, t=team_id: search.entries_text(
                        search.goal_entries(self.model, c, t)
                    ),
                )
                for team_id in self.model.teams
            ]
        return search.index_script_of(texts)

    def _directory_text(self) -> str:
        """The search index's teams and people (6,000 entries at 1,000 teams), kept
        while the same people are named: their slugs follow from the names."""
        return self._kept(
            "directory",
            lambda: search.entries_text(search.directory_entries(self.model, self.people)),
            also=list(self.people),
        )

    def _data_file(self, spec: PageSpec) -> str:
        if spec.template == CYCLE_CSV:
            rollup = self.rollups[spec.context["cycle_id"]]
            make = functools.partial(team_rows, self.model, rollup)
            return csv_header() + "".join(self._team_pieces(spec, rollup.cycle.id, make))
        if spec.template == SEARCH_INDEX:
            return self._search_index(spec)
        if spec.template == SITEMAP:
            return feeds.sitemap(self.model.config.base_url, spec.context["pages"])
        team_id = spec.context.get("team_id")
        if team_id is None:
            checkins = feeds.counted_checkins(
                self.model, self.today, limit=feeds.SITE_FEED_ENTRIES, memo=self._derived
            )
            title, page = f"{self.model.config.title}: check-ins", urls.DASHBOARD
        else:
            checkins = feeds.counted_checkins(self.model, self.today, team_id)
            title = f"{self.model.teams[team_id].name}: check-ins · {self.model.config.title}"
            page = urls.team_timeline_page(team_id)
        entries = [
            self.fragments.piece(
                spec.path,
                f"{c.cycle}/{c.team}/{c.date}",
                (f"own:{c.cycle}/{c.team}",),  # the check-in, and its team's KR titles
                lambda c=c: feeds.atom_entry(self.model, spec.path, c, self.markdown.render),
            )
            for c in checkins
        ]
        return feeds.atom_feed(self.model, spec.path, title, page, checkins, entries)

    def pages(self) -> list[OutputFile]:
        return [self.render(spec) for spec in page_specs(self.model, self.current, self.people)]

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


def render_site(
    model: Model,
    rollups: dict[str, CycleRollup],
    site_dir: Path,
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic] = (),
    git: GitData | None = None,
) -> list[OutputFile]:
    """Every output file; `diagnostics` (the build's warnings) become badges on pages."""
    renderer = SiteRenderer(model, rollups, site_dir, diagnostics, git)
    return renderer.pages() + renderer.static_files()

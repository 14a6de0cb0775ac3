"""The build engine: full builds, warm rebuilds and the preview server's rebuilds.

`Builder(site_dir, out_dir, today)` runs the same stages as the rest of okrsite
(load → validate → compute → lint → render → write) and keeps what it can
between runs, so that the next run only redoes what a change can affect.

Interface (the preview server, `okrsite serve`, codes against it):

    builder = Builder(site_dir, out_dir, today=None)  # today=None: the local date, per build
    report = builder.build()                # everything; publishes atomically
    report = builder.rebuild(changed_paths) # after these files changed (absolute or
                                            # relative to site_dir; added, edited, deleted)
    builder.close()                         # optional: save the on-disk cache

`BuildReport`: `ok` (published), `diagnostics` (exactly what a full build
reports: the same sorted `path:line: CODE message` list), `written` (output
paths written or deleted), `rendered` (pages rendered), `duration` (seconds),
`full` (everything was re-rendered), plus `pages`, `bytes` and `files` counts.

Rules:
* Calls never run concurrently: a lock serialises `build` and `rebuild`.
* A change to `okrsite.toml` or to any file of the theme (site `themes/` or a
  built-in theme), a different `today`, or a new okrsite version re-renders
  everything. A team file whose name, parent, lead or members changed does too.
* Otherwise only the pages whose `PageSpec.deps` meet the keys the changed files
  affect are rendered (see `affected_keys`), and only files whose bytes changed
  are written.
* On errors nothing is written and the output stays as it was; the files that
  changed are remembered, so the rebuild after the fix renders what all of them
  affect.
* `build()` publishes atomically (write.staged: a new tree swapped in; for a
  partial re-render the new tree starts as the spare, the site before the
  current one, or else as hard links to the current one).
  `rebuild()` replaces each changed file in place by a rename (a reader sees the
  old or the new file, never a torn one): that is what keeps the preview path
  fast. It is meant for an output folder the server owns.

What is kept: per-file `cache.Record`s (parse + per-file validation + rendered
Markdown), compiled Jinja templates, the Markdown memo, the cross-file stages'
memos (`Memos`: results keyed by the very objects they came from), the pieces
of summary pages (fragments.FragmentCache, dropped by the keys a change
affects), and of the last published build its page manifest (path → deps,
digest, size) and what `affected_keys` needs of its model. With `cache=True`
all of it is also saved in `SITE/.okrsite-cache/` (the memos' references to the
records' objects saved as such, see cache.DiskCache), so a new process (`okrsite build`) starts
warm; a cache from another version, a corrupt one, or one that does not
describe the current output folder is ignored.

Rendering runs in forked worker processes when there are many pages and more
than one core (`jobs`, default: the usable cores); each worker renders a share
of the pages straight into the staging folder, and parsing of many changed
files is shared out the same way. A rebuild that renders few pages (the usual
one-file change) never forks. A long-lived process with threads of its own may
pass `jobs=1` to never fork at all. Output is byte-identical whatever the path
(tests/test_perf_equivalence.py).

Dependency keys: see `render.PageSpec` and `affected_keys` below; a page is
re-rendered when its current or its previous deps meet the affected keys, so a
page that gains or loses a dependency is seen either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import xxhash

from okrsite import __version__, views
from okrsite.cache import (
    DiskCache,
    Record,
    can_fork,
    default_jobs,
    fork_pool,
    load_sources,
    read_record,
)
from okrsite.config import CONFIG_NAME, load_config
from okrsite.diagnostics import Diagnostic, counts, sorted_diagnostics
from okrsite.fragments import FragmentCache
from okrsite.gitinfo import NO_GIT, GitData, GitError, GitOptions, git_data
from okrsite.lint import lint
from okrsite.load import CONTENT_DIR, SourceFile, classify, discover
from okrsite.markup import MarkdownRenderer
from okrsite.model import (
    CheckIn,
    Cycle,
    Model,
    SiteConfig,
    Team,
    TeamOKRs,
    changed_positions,
)
from okrsite.packed import Packed
from okrsite.render import (
    Deps,
    OutputFile,
    PageSpec,
    SiteRenderer,
    ThemeError,
    dates_key,
    file_key,
    kr_key,
    objective_key,
    okrs_key,
    page_specs,
    pages_memo_apart,
    pages_memo_joined,
    theme_dirs,
)
from okrsite.rollup import CycleRollup, cycle_rollup
from okrsite.validate import PerFile, validate
from okrsite.write import (
    OutputChanged,
    PublishError,
    Spare,
    build_lock,
    replace_files,
    staged,
    update_tree,
    write_tree,
)

PARALLEL_MIN_PAGES = 2000  # fewer pages than this render in-process
CHUNK_PAGES = 250  # pages per task handed to a worker
STATIC_DEPS = ("<static>",)  # theme files: any theme change renders everything


@dataclass
class BuildReport:
    ok: bool
    diagnostics: list[Diagnostic]
    written: list[str] = field(default_factory=list)  # output paths (re)written or deleted
    rendered: int = 0
    rendered_paths: list[str] = field(default_factory=list)  # when not `full`
    duration: float = 0.0
    full: bool = True
    pages: int = 0  # output files of the site
    files: int = 0  # content files found
    model: Model | None = None
    rollups: dict[str, CycleRollup] = field(default_factory=dict)


@dataclass
class Shape:
    """What `affected_keys` needs to know of a built site's model."""

    teams: dict[str, Team]
    cycles: dict[str, Cycle]
    slugs: dict[str, str]  # person name -> page slug
    # the model's (validate makes new dicts each build): what a check-in said before
    checkins: dict[tuple[str, str], tuple[CheckIn, ...]] = field(default_factory=dict)
    okrs: dict[tuple[str, str], TeamOKRs] = field(default_factory=dict)

    @classmethod
    def of(cls, model: Model, people: dict[str, views.Person]) -> Shape:
        teams = {tid: _without_body(t) for tid, t in model.teams.items()}
        slugs = {name: p.slug for name, p in people.items()}
        return cls(teams, dict(model.cycles), slugs, model.checkins, model.okrs)


def _without_body(team: Team) -> tuple:
    return (team.name, team.parent, team.lead, team.members)


@dataclass
class Memos:
    """What the cross-file stages keep of their last run, each by the very objects it
    was computed from: the per-file records hand back the same objects for unchanged
    files, so an edit recomputes the teams it touches and reuses the rest."""

    validate: dict = field(default_factory=dict)  # validate.validate(memo=)
    rollups: dict = field(default_factory=dict)  # rollup.cycle_rollup(memo=)
    lint: dict = field(default_factory=dict)  # lint.lint(memo=)
    pages: dict = field(default_factory=dict)  # render.page_specs(memo=)
    people: dict = field(default_factory=dict)  # views.people(memo=)
    sources: dict = field(default_factory=dict)  # gitinfo.page_sources(memo=)
    derived: dict = field(default_factory=dict)  # SiteRenderer(derived=)


@dataclass
class Published:
    """The last build written to the output folder."""

    fingerprint: tuple
    manifest: Manifest
    shape: Shape
    warnings: dict[str, tuple[Diagnostic, ...]]  # by source path: badges on pages
    git_changed: dict[str, object]
    out_dir: str
    out_stamp: tuple[int, ...]
    spare: Spare | None = None  # the site before it, kept beside it (write.staged)
    specs: list[PageSpec] = field(default_factory=list)  # the pages, in page_specs order
    by_dep: dict[str, set[int]] | None = None  # positions in `specs` by key; made on need


@dataclass
class Inputs:
    """What validate takes from the records. A rebuild that edited a few files
    changes those entries only: at 23,000 files, making them afresh took 40 ms."""

    records: dict[str, Record]
    stubs: list[SourceFile]  # of the files that loaded
    per_file: dict[str, PerFile]  # their validate.read_source results, in that order
    positions: dict[str, int]  # of each path in `stubs`
    load_problems: list[Diagnostic]
    since: tuple[list[SourceFile], list[int]] | None = None  # validate(since=)

    @classmethod
    def of(cls, records: dict[str, Record]) -> Inputs:
        good = [r for r in records.values() if r.stub is not None]
        return cls(
            records,
            [r.stub for r in good],  # type: ignore[misc]
            {r.path: r.result for r in good},  # type: ignore[misc]
            {r.path: i for i, r in enumerate(good)},
            [d for r in records.values() for d in r.load_diagnostics],
        )

    def after(self, records: dict[str, Record], misses: list[str]) -> Inputs:
        """The inputs of `records`, which hold new records for `misses`."""
        old = self.records
        edits_only = len(records) == len(old) and all(p in old for p in misses)
        if not edits_only or any(
            (old[p].stub is None) != (records[p].stub is None)
            or old[p].load_diagnostics
            or records[p].load_diagnostics
            for p in misses
        ):
            return Inputs.of(records)
        stubs, per_file = list(self.stubs), dict(self.per_file)  # new objects: validate
        for path in misses:  # keeps the last ones it saw
            if records[path].stub is not None:
                stubs[self.positions[path]] = records[path].stub  # type: ignore[assignment]
                per_file[path] = records[path].result  # type: ignore[assignment]
        edited = (self.stubs, [self.positions[p] for p in misses if p in self.positions])
        return Inputs(records, stubs, per_file, self.positions, self.load_problems, edited)


@dataclass
class Selection:
    """The pages a partial build renders, and where the list of pages differs from
    the last publish: `moved`, the positions that hold other PageSpec objects (None:
    pages were added or removed, so every position counts as moved)."""

    pages: list[PageSpec]
    keys: set[str]
    moved: list[int] | None

    def touched(self, specs: list[PageSpec]) -> list[PageSpec] | None:
        """The pages whose manifest entries may change; None: any page."""
        if self.moved is None:
            return None
        return self.pages + [specs[i] for i in self.moved]


Manifest = dict[str, tuple[Deps, bytes, int]]  # path -> (deps, digest, size)


# Saving the page list beside the manifest (see _save_disk).
SPECS_PER_PART = 20_000  # pages per pickle
DIGEST_SIZE = 16  # bytes of `digest`
_PAGE_ROW = struct.Struct("<16sQ")  # a page's entry in the manifest: digest, size


def _spec_parts(specs: list[PageSpec]) -> list[dict[str, list[PageSpec]]]:
    """`specs` in parts of about SPECS_PER_PART pages ("specs 0", "specs 1", …), cut
    where two pages do not share a context (a team's pages share one), so that no
    object is in two parts."""
    parts: list[dict[str, list[PageSpec]]] = []
    start = 0
    for end in range(SPECS_PER_PART, len(specs), SPECS_PER_PART):
        while end < len(specs) and specs[end].context is specs[end - 1].context:
            end += 1
        if start < end < len(specs):
            parts.append({f"specs {len(parts)}": specs[start:end]})
            start = end
    parts.append({f"specs {len(parts)}": specs[start:]})
    return parts


def _saved_specs(state: dict) -> list[PageSpec]:
    """The page list `_spec_parts` saved, joined again."""
    specs: list[PageSpec] = []
    count = 0
    while isinstance(part := state.get(f"specs {count}"), list):
        specs += part
        count += 1
    return specs


def _manifest_apart(manifest: Manifest, specs: list[PageSpec]) -> tuple[bytes, Manifest] | Manifest:
    """`manifest` for saving beside `specs`: the pages' digests and sizes as one bytes
    object in `specs`' order, the other entries (static files) as they are. Saved as
    a dict, every page's entry added two objects to the pickler's memo (1.2 million at
    10,000 teams), and the path and deps it shares with `specs`. A manifest that does
    not match `specs` exactly is saved as it is."""
    rows = bytearray()
    try:
        for spec in specs:
            deps, digest, size = manifest[spec.path]
            if deps != spec.deps:
                return manifest
            if len(digest) != DIGEST_SIZE:  # not XXH3's ("16s" would pad or cut it)
                return manifest
            rows += _PAGE_ROW.pack(digest, size)
    except (KeyError, struct.error):  # a page without an entry
        return manifest
    static = {path: entry for path, entry in manifest.items() if entry[0] == STATIC_DEPS}
    if len(static) + len(specs) != len(manifest):
        return manifest
    return bytes(rows), static


def _manifest_joined(saved: tuple[bytes, Manifest] | Manifest, specs: list[PageSpec]) -> Manifest:
    """The manifest `_manifest_apart` saved, made whole again with `specs`."""
    if isinstance(saved, dict):
        return saved
    rows, static = saved
    entries = _PAGE_ROW.iter_unpack(rows)
    manifest = {s.path: (s.deps, d, n) for s, (d, n) in zip(specs, entries, strict=True)}
    manifest.update(static)
    return manifest


def _digests(manifest: Manifest) -> dict[str, bytes]:
    return {path: entry[1] for path, entry in manifest.items()}


def _dep_index(specs: list[PageSpec]) -> dict[str, set[int]]:
    """The positions of the pages by each key they depend on."""
    index: dict[str, set[int]] = defaultdict(set)
    for position, spec in enumerate(specs):
        for key in spec.deps:
            index[key].add(position)
    return index


def _moved(specs: list[PageSpec], before: list[PageSpec]) -> list[int] | None:
    """Positions where `specs` holds other objects than `before`; None when the
    list of page paths itself changed."""
    if len(specs) != len(before):
        return None
    moved = sorted(changed_positions(specs, before))
    if any(specs[i].path != before[i].path for i in moved):
        return None
    return moved


def _affected(spec: PageSpec, keys: set[str], manifest: Manifest) -> bool:
    """Whether a page must be rendered again: new, or depending (now or when last
    published) on a key the changes affect."""
    return (
        spec.path not in manifest
        or "*" in spec.deps
        or not keys.isdisjoint(spec.deps)
        or not keys.isdisjoint(manifest[spec.path][0])
    )


def _chain(teams: dict[str, tuple], team_id: str) -> list[str]:
    """The team and every team above it."""
    found: list[str] = []
    while team_id in teams and team_id not in found:
        found.append(team_id)
        team_id = teams[team_id][1]
    return found


def affected_keys(paths: Iterable[str], old: Shape, new: Shape) -> set[str] | None:
    """The dependency keys (render.PageSpec) that changes to `paths` can affect;
    None when every page may be affected.

    A check-in or OKR file of team T in cycle C affects T's numbers and those of
    every team above it (subtree progress), the cycle, T's check-ins, anything
    site-wide ("*"), and the file itself ("file:P"). A check-in also affects the
    key results whose updates in it differ from before ("kr:C/T/K") and their
    objectives ("objective:C/T/O") and, if it came, went, or changed its date,
    the list of T's check-ins ("dates:C/T"). An OKR file also changes the
    titles of cycle C and all that T's file says ("okrs:C/T"). A team file whose
    charter only changed affects T's pages; any other team change, a new or
    removed cycle, or a person's page moving, affects everything.
    """
    if old.cycles != new.cycles:
        return None
    if any(old.slugs.get(name, slug) != slug for name, slug in new.slugs.items()):
        return None
    keys = {"*"}
    for path in paths:
        is_content = path.startswith(f"{CONTENT_DIR}/") and path.endswith(".md")
        role = classify(path) if is_content else "not content"
        if isinstance(role, str):
            continue  # only its diagnostics, which are site-wide ("*")
        kind, team, cycle, _ = role
        keys.add(file_key(path))
        if kind == "team":
            if old.teams.get(team) != new.teams.get(team) or team not in new.teams:
                return None
            keys.add(f"team:*/{team}")
            keys.update(f"team:{c}/{team}" for c in new.cycles)
            continue
        keys.update({f"cycle:{cycle}", f"checkins:{cycle}/{team}", f"own:{cycle}/{team}"})
        if kind == "okrs":
            keys.update({f"titles:{cycle}", okrs_key(cycle, team)})
        else:
            keys |= _checkin_keys(cycle, team, path, old, new)
        for t in {*_chain(old.teams, team), *_chain(new.teams, team), team}:
            keys.update({f"team:{cycle}/{t}", f"team:*/{t}"})
    return keys


def _checkin_at(
    checkins: dict[tuple[str, str], tuple[CheckIn, ...]], cycle: str, team: str, path: str
) -> CheckIn | None:
    return next((c for c in checkins.get((cycle, team), ()) if c.source.path == path), None)


def _checkin_keys(cycle: str, team: str, path: str, old: Shape, new: Shape) -> set[str]:
    """The keys of the key results whose updates differ between the check-in at
    `path` as last published and now, and of their objectives; "dates:C/T" too
    when it came, went or changed its date (which shows on every update's row)."""
    before = _checkin_at(old.checkins, cycle, team, path)
    after = _checkin_at(new.checkins, cycle, team, path)
    krs = {u.key_result for c in (before, after) if c is not None for u in c.updates}
    if before is None or after is None or before.date != after.date:
        keys = {dates_key(cycle, team)}
    else:
        keys = set()
        krs = {k for k in krs if before.updates_of(k) != after.updates_of(k)}
    group = (cycle, team)
    files = [f for f in (old.okrs.get(group), new.okrs.get(group)) if f is not None]
    objectives = {
        o.id for f in files for o in f.objectives if any(kr.id in krs for kr in o.key_results)
    }
    keys |= {kr_key(cycle, team, k) for k in krs}
    return keys | {objective_key(cycle, team, o) for o in objectives}


def digest(data: bytes) -> bytes:
    """Of an output file, to tell whether it changed. XXH3 (128 bits), not a
    cryptographic hash: nothing here defends against forgery (an author who can
    change a page's source can change the page), and the summary pages a rebuild
    hashes are tens of megabytes at 1,000 teams. XXH3 runs at 27 GB/s here,
    SHA-256 at 1.6: 1 ms against 20 per check-in. Raw bytes, not hex: a manifest
    entry's digest takes 49 bytes instead of 81 (20 MB at 10,000 teams)."""
    return xxhash.xxh3_128_digest(data)


def theme_fingerprint(folders: list[Path]) -> tuple:
    """Every file of the theme chain with its size and mtime: any edit changes it."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            with contextlib.suppress(OSError):
                if path.is_file():
                    info = path.stat()
                    found.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(found)


def _out_stamp(out_dir: Path) -> tuple[int, ...]:
    try:
        info = out_dir.stat()
    except OSError:
        return ()
    return (info.st_ino, info.st_mtime_ns, info.st_ctime_ns)


# Forked render workers inherit this instead of receiving it by pickle.
_RENDER: tuple[SiteRenderer, list[PageSpec], Path] | None = None


def _render_specs(
    renderer: SiteRenderer, specs: list[PageSpec], root: Path | None, settle: bool = False
) -> list:
    """Render pages, and write them into the staging folder `root` (then return only
    their digests: what travels back from a worker) or, without one, return them.
    `settle`: keep the pieces of pages written as places in their files, from now on
    (fragments.py): a full build then never holds the bytes of all its summary pages."""
    if root is None:
        return [renderer.render(spec) for spec in specs]
    written = []
    for spec in specs:  # one at a time: a page's pieces can be let go once it is written
        file = renderer.render(spec)
        write_tree(root, [file])
        if settle:
            renderer.fragments.settle_file(file.path, root / file.path)
        written.append((file.path, digest(file.content), len(file.content)))
    return written


def _render_range(bounds: tuple[int, int]) -> list:
    """In a worker: `_render_specs` for a range of the pages. A worker keeps no
    pieces of pages (fragments.py): it ends with the build, and keeping them grew
    each worker by the size of the pages it rendered."""
    renderer, specs, root = _RENDER  # type: ignore[misc]
    renderer.fragments.keeping = False
    return _render_specs(renderer, specs[bounds[0] : bounds[1]], root)


def _split_summaries(specs: list[PageSpec]) -> tuple[list[PageSpec], list[PageSpec]]:
    """(pages that summarise many teams, the others). The summaries render in the
    main process, so that the pieces they keep (fragments.py) serve the next rebuild."""
    summaries, others = [], []
    for spec in specs:
        wide = "*" in spec.deps or any(key.startswith("cycle:") for key in spec.deps)
        (summaries if wide else others).append(spec)
    return summaries, others


def _ranges(count: int) -> list[tuple[int, int]]:
    return [(i, min(i + CHUNK_PAGES, count)) for i in range(0, count, CHUNK_PAGES)]


@contextlib.contextmanager
def _no_gc(freeze: bool = False):
    """Collect no garbage while building big structures (the model, pages): the
    collector would scan the whole heap over and over for nothing.

    `freeze` (the preview server's rebuilds): what the run made then moves to the
    collector's permanent generation (gc.freeze), so that neither the collection
    that follows nor the periodic full ones rescan a heap of millions of objects
    (0.05 s after each rebuild and about 0.5 s every few rebuilds at 1,000 teams).
    A rebuild leaves about a hundred objects of cyclic garbage, which stay until
    the next `build()` unfreezes them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


class Builder:
    def __init__(
        self,
        site_dir: Path,
        out_dir: Path,
        today: dt.date | None = None,
        *,
        strict: bool = False,
        cache: bool = True,
        jobs: int | None = None,
        git: GitOptions | None = None,
    ):
        self.site_dir = Path(site_dir)
        self.out_dir = Path(out_dir)
        self.today = today
        self.strict = strict
        self.jobs = jobs if jobs is not None else default_jobs()
        self.git = git or GitOptions()
        self.disk = DiskCache(self.site_dir) if cache else None
        self._lock = threading.Lock()
        self._records: dict[str, Record] = {}
        self._inputs: Inputs | None = None  # validate's, from the records
        self._raw_html: str | None = None
        self._config: SiteConfig | None = None
        self._memo: dict[bytes, Packed] = {}  # MarkdownRenderer.memo
        self._paths: list[str] | None = None
        self._present_set: tuple[list[str] | None, frozenset[str]] | None = None
        self._problems: list[Diagnostic] = []
        self._env = None
        self._env_theme: tuple = ()  # the theme folders and files `_env` compiled
        self._fragments = FragmentCache()  # pieces of summary pages, kept between rebuilds
        self._git_info: GitData | None = None
        self._published: Published | None = None
        self._pending: set[str] = set()  # changed since the last publish
        self._memos = Memos()
        self._shared: tuple = ()  # the last run's model, day and diagnostics: see _save_disk
        self._records_changed = False  # by the last run: the on-disk cache is behind
        self._loaded_disk = False
        self._disk_dirty = False

    # --- public interface ---------------------------------------------------------

    def build(self) -> BuildReport:
        """Bring the whole output up to date, from the caches; publish atomically."""
        with self._lock:
            self._load_disk()
            had_pending = bool(self._pending)
            report = self._run(None)
            # What a full build keeps of its summary pages: places in the published files
            # (fragments.py), not their bytes. A rebuild keeps them held, for speed.
            self._fragments.settle()
            # A build that read no file anew and wrote nothing leaves the saved state
            # true: saving it again (hundreds of MB at 1,000 teams) would double a no-op.
            changed = report.full or report.written or had_pending or self._records_changed
            if report.ok and self.disk is not None and changed:
                self._save_disk()
            return report

    def rebuild(self, changed: Iterable[Path | str]) -> BuildReport:
        """Update the output after `changed` files (added, edited or deleted)."""
        with self._lock:
            rel = {self._relative(p) for p in changed}
            return self._run({p for p in rel if p is not None})

    def output_paths(self) -> list[str]:
        """Every file of the output as last published (empty before a publish)."""
        return list(self._published.manifest) if self._published else []

    def close(self) -> None:
        """Save the on-disk cache if rebuilds changed the output since it was saved."""
        with self._lock:
            if self._disk_dirty and self._published is not None and self.disk is not None:
                self._fragments.settle()
                self._save_disk()

    # --- the run ----------------------------------------------------------------------

    def _relative(self, path: Path | str) -> str | None:
        path = Path(path)
        if path.is_absolute():
            try:
                path = path.relative_to(self.site_dir.absolute())
            except ValueError:
                try:
                    path = path.relative_to(self.site_dir.resolve())
                except ValueError:
                    return "<theme>"  # outside the site: a built-in theme's file
        return path.as_posix()

    def _run(self, changed: set[str] | None) -> BuildReport:
        started = time.perf_counter()
        today = self.today or dt.date.today()
        if changed is None:
            gc.unfreeze()  # what earlier rebuilds froze can be collected again
        with _no_gc(freeze=changed is not None):
            report = self._stages(changed, today)
        report.duration = time.perf_counter() - started
        return report

    def _stages(self, changed: set[str] | None, today: dt.date) -> BuildReport:
        config, config_problems = load_config(self.site_dir)
        if config is not None and config == self._config:
            config = self._config  # the very object: the stages' memos see it at a glance
        self._config = config
        if config is None:
            self._pending |= changed or set()
            return BuildReport(False, sorted_diagnostics(config_problems))
        try:
            folders = theme_dirs(self.site_dir, config.theme)
        except ThemeError as exc:
            self._pending |= changed or set()
            return BuildReport(False, [Diagnostic("themes", 0, "OKR028", str(exc))])
        config_bytes = (self.site_dir / CONFIG_NAME).read_bytes()
        fingerprint = (__version__, digest(config_bytes), theme_fingerprint(folders), today)

        # load: per-file records, from the caches where the file is unchanged
        if config.raw_html != self._raw_html:
            self._records, self._memo, self._raw_html = {}, {}, config.raw_html
        content_changes = {p for p in changed or () if p.startswith(f"{CONTENT_DIR}/")}
        previous = self._records
        if changed is None or self._paths is None or self._needs_discover(content_changes):
            self._paths, self._problems = discover(self.site_dir)
            records, misses = load_sources(
                self.site_dir, self._paths, self._records, config.raw_html, self.jobs
            )
        else:
            records, misses = self._reload(content_changes, config.raw_html)
        self._records = records
        for path in misses:
            self._memo.update(records[path].html)

        # validate, compute, lint: the cross-file stages, on the records
        if self._inputs is None or self._inputs.records is not previous:
            self._inputs = Inputs.of(records)
        elif records is not previous:
            self._inputs = self._inputs.after(records, misses)
        inputs = self._inputs
        validated = validate(
            config,
            inputs.stubs,
            self._present(),
            inputs.per_file,
            self._memos.validate,
            inputs.since,
        )
        model = validated.model
        rollups = self._compute(model, today)
        warnings = lint(model, rollups, today, self._memos.lint)
        load_problems = self._problems + inputs.load_problems
        diagnostics = sorted_diagnostics(
            config_problems + load_problems + validated.diagnostics + warnings
        )
        self._shared = (model, today, diagnostics)
        report = BuildReport(False, diagnostics, files=len(self._paths), model=model)
        report.rollups = rollups
        self._records_changed = bool(misses) or previous.keys() != records.keys()
        if changed is None:  # what differs from the records of the last build
            self._pending |= set(misses) | (set(previous) - set(records))
        else:
            self._pending |= changed
        errors, found_warnings = counts(diagnostics)
        if errors or (self.strict and found_warnings):
            return report

        # render: the pages the changes can affect
        if changed is None or self._git_info is None:
            self._git_info = self._git_data()
        theme = (folders, fingerprint[2])
        if self._env is None or self._env_theme != theme:
            self._env, self._env_theme = None, theme  # other templates, or changed ones
        try:
            renderer = SiteRenderer(
                model,
                rollups,
                self.site_dir,
                diagnostics,
                self._git_info,
                env=self._env,
                fragments=self._fragments,
                people=views.people(model, self._memos.people),
                sources=self._memos.sources,
                derived=self._memos.derived,
            )
        except ThemeError as exc:
            report.diagnostics.append(Diagnostic("themes", 0, "OKR028", str(exc)))
            return report
        self._env = renderer.env
        renderer.markdown.memo = self._memo
        specs = page_specs(model, renderer.current, renderer.people, self._memos.pages)
        shape = Shape.of(model, renderer.people)
        by_path: dict[str, list[Diagnostic]] = {}
        for d in diagnostics:
            by_path.setdefault(d.path, []).append(d)
        warned = {path: tuple(found) for path, found in by_path.items()}
        git_changed = dict(self._git_info.changed)
        selection = self._select(specs, fingerprint, shape, warned, git_changed)
        self._fragments.forget(selection.keys if selection else None)
        self._fragments.begin(self.out_dir.absolute())
        spare = self._published.spare if self._published else None
        try:
            if selection is None:
                manifest, written, spare = self._render_all(renderer, specs, spare)
                report.full = True
            else:
                in_place = changed is not None
                try:
                    manifest, written, spare = self._render_some(
                        renderer, specs, selection, in_place, spare
                    )
                    report.full = False
                except OutputChanged:
                    manifest, written, spare = self._render_all(renderer, specs, spare)
                    report.full = True
                    selection = None
        except ThemeError as exc:
            report.diagnostics.append(Diagnostic("themes", 0, "OKR028", str(exc)))
            return report
        except PublishError as exc:
            where = exc.path or str(self.out_dir)
            report.diagnostics.append(Diagnostic(where, 0, exc.code, str(exc)))
            return report
        self._published = Published(
            fingerprint,
            manifest,
            shape,
            warned,
            git_changed,
            str(self.out_dir.absolute()),
            _out_stamp(self.out_dir),
            spare,
            specs,
            self._next_index(specs, selection),
        )
        self._pending = set()
        self._fragments.published()
        report.ok = True
        report.written = written
        report.rendered = len(specs) if selection is None else len(selection.pages)
        report.rendered_paths = [] if selection is None else [s.path for s in selection.pages]
        report.pages = len(manifest)
        return report

    def _compute(self, model: Model, today: dt.date) -> dict[str, CycleRollup]:
        """Rollups; a team whose OKR file and check-ins did not change keeps its own
        numbers (rollup.cycle_rollup's memo)."""
        return {
            cycle_id: cycle_rollup(model, cycle, today, self._memos.rollups)
            for cycle_id, cycle in model.cycles.items()
        }

    def _present(self) -> frozenset[str]:
        """The content paths as a set, made again only when they change: validate
        compares it with the last one it saw, which is then the same object."""
        if self._present_set is None or self._present_set[0] is not self._paths:
            self._present_set = (self._paths, frozenset(self._paths or ()))
        return self._present_set[1]

    def _needs_discover(self, changes: set[str]) -> bool:
        """A changed path that is not a plain content file (a folder, a rename of one)."""
        for rel in changes:
            path = self.site_dir / rel
            if path.is_dir() or (not path.exists() and not rel.endswith(".md")):
                return True
            if any(part.startswith(".") or part == "" for part in rel.split("/")[:-1]):
                return True
            folder = path.parent
            while folder != self.site_dir and folder != folder.parent:
                if folder.is_symlink():
                    return True  # below a symlinked folder: discover decides
                folder = folder.parent
        return False

    def _reload(self, changes: set[str], raw_html: str) -> tuple[dict[str, Record], list[str]]:
        """Records after `changes`: re-read those files, drop the deleted ones."""
        after, _ = discover_names(self.site_dir, changes)
        records = dict(self._records)  # in path order; an edited file keeps its place
        markdown = MarkdownRenderer(raw_html)
        misses = sorted(after)
        for rel in changes - after:
            records.pop(rel, None)
        for rel in misses:
            records[rel] = read_record(self.site_dir, rel, markdown, self._records.get(rel))
        if len(records) != len(self._records) or not after <= self._records.keys():
            self._paths = sorted(records)
            records = {p: records[p] for p in self._paths}
        return records, misses

    def _git_data(self) -> GitData:
        try:
            return git_data(self.site_dir, self.git)
        except (GitError, OSError):
            return NO_GIT

    def _select(
        self,
        specs: list[PageSpec],
        fingerprint: tuple,
        shape: Shape,
        warned: dict[str, tuple[Diagnostic, ...]],
        git_changed: dict[str, object],
    ) -> Selection | None:
        """The pages to render, or None for all of them (and a fresh output tree).

        Where the list of pages is the very one last published but for a few moved
        positions, the index of the pages by key finds the affected ones without
        looking at the other 60,000 (at 1,000 teams)."""
        old = self._current_output()
        if old is None or old.fingerprint != fingerprint:
            return None
        paths = set(self._pending)
        paths |= {p for p in warned.keys() ^ old.warnings.keys()}
        paths |= {p for p in warned.keys() & old.warnings.keys() if warned[p] != old.warnings[p]}
        paths |= {
            p
            for p in git_changed.keys() | old.git_changed.keys()
            if git_changed.get(p) != old.git_changed.get(p)
        }
        keys = affected_keys(paths, old.shape, shape)
        if keys is None:
            return None
        manifest = old.manifest
        moved = _moved(specs, old.specs)
        if moved is None:
            return Selection([s for s in specs if _affected(s, keys, manifest)], keys, None)
        if old.by_dep is None:
            old.by_dep = _dep_index(old.specs)
        hits = set().union(*(old.by_dep.get(key, ()) for key in (*keys, "*")))
        hits.update(i for i in moved if _affected(specs[i], keys, manifest))
        return Selection([specs[i] for i in sorted(hits)], keys, moved)

    def _next_index(
        self, specs: list[PageSpec], selection: Selection | None
    ) -> dict[str, set[int]] | None:
        """The last publish's index of pages by key, moved on to `specs` (it is not
        needed again, so it is changed in place); None: made again on need."""
        old = self._published
        if selection is None or selection.moved is None or old is None or old.by_dep is None:
            return None
        index = old.by_dep
        for i in selection.moved:
            for key in old.specs[i].deps:
                index[key].discard(i)
            for key in specs[i].deps:
                index.setdefault(key, set()).add(i)
        return index

    def _current_output(self) -> Published | None:
        """The last publish, if the output folder is still the one it wrote."""
        old = self._published
        if (
            old is None
            or old.out_dir != str(self.out_dir.absolute())
            or old.out_stamp != _out_stamp(self.out_dir)
        ):
            return None
        return old

    def _render_all(self, renderer: SiteRenderer, specs: list[PageSpec], spare: Spare | None):
        """Render every page into a fresh tree and swap it in."""
        static = renderer.static_files()
        paths = [s.path for s in specs] + [f.path for f in static]
        manifest: Manifest = {}
        # Keyed by the page list's own path strings: a worker's come back as copies
        # (90 bytes a page, 55 MB at 10,000 teams).
        by_path = {s.path: s for s in specs}
        current = self._current_output()
        live = _digests(current.manifest) if current else None
        with staged(self.out_dir, paths, live=live) as staging:
            for path, hashed, size in self._render_into(renderer, specs, staging.root):
                spec = by_path[path]
                manifest[spec.path] = (spec.deps, hashed, size)
            write_tree(staging.root, static)
        for f in static:
            manifest[f.path] = (STATIC_DEPS, digest(f.content), len(f.content))
        return manifest, paths, staging.spare or spare

    def _parallel(self, specs: list[PageSpec]) -> bool:
        return self.jobs > 1 and len(specs) >= PARALLEL_MIN_PAGES and can_fork()

    def _render_into(self, renderer: SiteRenderer, specs: list[PageSpec], root: Path):
        if self._parallel(specs):
            for chunk in self._in_workers(renderer, specs, root):
                yield from chunk
            return
        for start in range(0, len(specs), CHUNK_PAGES):
            yield from _render_specs(
                renderer, specs[start : start + CHUNK_PAGES], root, settle=True
            )

    def _render_files(self, renderer: SiteRenderer, specs: list[PageSpec]) -> list[OutputFile]:
        if self._parallel(specs):
            return [f for chunk in self._in_workers(renderer, specs, None) for f in chunk]
        return _render_specs(renderer, specs, None)

    def _in_workers(self, renderer: SiteRenderer, specs: list[PageSpec], root: Path | None):
        """`_render_specs` of `specs` chunk by chunk, in forked workers; the summary
        pages render here meanwhile, so that their pieces (fragments.py) stay."""
        global _RENDER
        summaries, others = _split_summaries(specs)
        _RENDER = (renderer, others, root)
        try:
            with fork_pool(self.jobs) as pool:
                chunks = pool.imap_unordered(_render_range, _ranges(len(others)))
                yield _render_specs(renderer, summaries, root, settle=True)
                yield from chunks
        finally:
            _RENDER = None

    def _render_some(
        self,
        renderer: SiteRenderer,
        specs: list[PageSpec],
        selection: Selection,
        in_place: bool,
        spare: Spare | None,
    ):
        """Render `selected`; write only files whose bytes changed, delete pages gone.

        Published atomically (not `in_place`), the new tree starts as the spare or
        as hard links to the current output (write.staged); when sources changed,
        getting it ready (I/O) runs while a thread renders (CPU)."""
        static = renderer.static_files()
        touched = selection.touched(specs)
        if not in_place and self._pending:
            with ThreadPoolExecutor(1) as pool:
                future = pool.submit(self._render_files, renderer, selection.pages)
                return self._swap_in(specs, static, spare, future.result, touched)
        files = self._render_files(renderer, selection.pages)
        manifest, changed, removed = self._compare(specs, files, static, touched)
        written = [f.path for f in changed] + removed
        if not written:
            return manifest, written, spare
        if not in_place:
            return self._swap_in(specs, static, spare, lambda: files, touched)
        with build_lock(self.out_dir):
            try:
                replace_files(self.out_dir, changed, removed)
            except OSError as exc:
                raise PublishError(f"cannot write {self.out_dir}: {exc.strerror or exc}") from exc
        if self.disk is not None and not self._disk_dirty:
            self.disk.clear()  # the saved state no longer describes the output
            self._disk_dirty = True
        return manifest, written, spare

    def _swap_in(
        self,
        specs: list[PageSpec],
        static: list[OutputFile],
        spare: Spare | None,
        rendered: Callable[[], list[OutputFile]],
        touched: list[PageSpec] | None,
    ) -> tuple[Manifest, list[str], Spare | None]:
        """Publish the current output changed by the pages `rendered()` returns, as a
        new tree (the spare, or hard links to the output) swapped in whole.
        `rendered` is called once the tree is ready: rendering may still be running."""
        live = self._published.manifest  # type: ignore[union-attr]
        paths = [s.path for s in specs] + [f.path for f in static]
        if touched is None:
            same_files = len(paths) == len(live) and all(p in live for p in paths)
        else:  # the same pages as the live site: only the theme's files may differ
            same_files = len(paths) == len(live) and all(f.path in live for f in static)
        with staged(
            self.out_dir,
            None if same_files else paths,  # the same files were checked when published
            live=_digests(live),
            spare=spare,
            reuse=True,
        ) as staging:
            manifest, changed, removed = self._compare(specs, rendered(), static, touched)
            update_tree(staging.root, staging.holds, _digests(manifest), changed, self.out_dir)
        return manifest, [f.path for f in changed] + removed, staging.spare or spare

    def _compare(
        self,
        specs: list[PageSpec],
        files: list[OutputFile],
        static: list[OutputFile],
        touched: list[PageSpec] | None,
    ):
        """The new manifest, the files whose bytes changed, and the paths gone.
        `touched`: the only pages whose entries can differ from the last manifest
        (Selection.touched); None: any page, so all are looked at."""
        old = self._published.manifest  # type: ignore[union-attr]
        rendered = {f.path: f for f in files}
        manifest: Manifest = {} if touched is None else dict(old)
        changed: list[OutputFile] = []

        def compare(path: str, deps: Deps, file: OutputFile) -> None:
            hashed = digest(file.content)
            manifest[path] = (deps, hashed, len(file.content))
            if path not in old or old[path][1] != hashed:
                changed.append(file)

        for spec in specs if touched is None else touched:
            file = rendered.get(spec.path)
            if file is not None:
                compare(spec.path, spec.deps, file)
                continue
            kept = old[spec.path]  # not affected: as it was
            if kept[0] is not spec.deps and kept[0] != spec.deps:
                kept = (spec.deps, kept[1], kept[2])
            manifest[spec.path] = kept
        for file in static:
            compare(file.path, STATIC_DEPS, file)
        removed = sorted(old.keys() - manifest.keys()) if touched is None else []
        return manifest, changed, removed

    # --- the on-disk cache ------------------------------------------------------------

    def _load_disk(self) -> None:
        if self.disk is None or self._loaded_disk:
            return
        self._loaded_disk = True
        with _no_gc():  # what is joined after unpickling would start full collections
            self._load_state(self.disk.load())

    def _load_state(self, state: dict) -> None:
        records = state.get("records")
        if not isinstance(records, dict) or not all(
            isinstance(r, Record) for r in records.values()
        ):
            return
        self._records = records
        self._raw_html = state.get("raw_html")
        for record in records.values():
            self._memo.update(record.html)
        # The page list and the manifest are saved apart from the rest (_save_disk).
        specs = _saved_specs(state)
        published = state.get("published")
        if isinstance(published, Published):
            try:
                manifest = _manifest_joined(state.get("manifest"), specs)
            except (TypeError, ValueError, struct.error):  # not the shape saved
                manifest = None
            if manifest is not None:
                self._published = dataclasses.replace(published, specs=specs, manifest=manifest)
                self._pending = set(state.get("pending", ()))
        # Saved with the records, linked to them (cache.DiskCache), so they still hold the
        # very objects the records hand back, and pieces that describe the published pages.
        memos = {name: state.get(name) for name in Memos.__dataclass_fields__}
        if all(isinstance(memo, dict) for memo in memos.values()):
            memos["pages"] = pages_memo_joined(memos["pages"], specs)  # type: ignore[arg-type]
            self._memos = Memos(**memos)  # type: ignore[arg-type]
        if isinstance(state.get("fragments"), FragmentCache):
            self._fragments = state["fragments"]

    def _save_disk(self) -> None:
        published, specs, manifest = self._published, [], {}
        if published is not None:
            specs, manifest = published.specs, _manifest_apart(published.manifest, published.specs)
            published = dataclasses.replace(published, specs=[], manifest={}, by_dep=None)
        memos = self._memos
        parts = [  # pickled apart: saving holds one part's pickler memo at a time
            {"raw_html": self._raw_html, "pending": sorted(self._pending)},
            {"fragments": self._fragments},
            {"validate": memos.validate},
            {
                "published": published,
                "manifest": manifest,
                "pages": pages_memo_apart(memos.pages, specs),
                "people": memos.people,
            },
            # The page list in parts of its own, which the manifest and the page memo
            # name by position. As one part with them, its pickler's memo held 618,626
            # objects at 1,000 teams: at 10,000, a table of 16 M entries (268 MB), made
            # while the one of 8 M was still held (it doubles past two thirds full).
            *_spec_parts(specs),
            {"sources": memos.sources},
            {"rollups": memos.rollups, "lint": memos.lint, "derived": memos.derived},
        ]
        with _no_gc():
            # What parts share beyond the records' objects is what every stage reads (the
            # model's dicts and check-in groups, the day, the diagnostics), and objects
            # within a part: the page and people memos share people; the rollups
            # are lint's and the views' too.
            # tests/test_incremental.py checks that loading makes no copies.
            self.disk.save(self._records, parts, self._shared)  # type: ignore[union-attr]
        self._disk_dirty = False


def discover_names(site_dir: Path, changes: set[str]) -> tuple[set[str], list[Diagnostic]]:
    """Which of `changes` (content paths of plain files) are content files now."""
    from okrsite.load import is_ignored

    found = set()
    for rel in changes:
        path = site_dir / rel
        if not is_ignored(path.name) and (path.is_file() or path.is_symlink()):
            found.add(rel)
    return found, []

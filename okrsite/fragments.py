"""Pieces of summary pages, kept between rebuilds of the preview server.

A page that summarises the whole organisation (dashboard, cycle page, timeline,
exports) changes with every check-in, but only in the rows of the teams the
check-in moved. Such a page is assembled from pieces, each declaring the
dependency keys it shows (the keys of `render.PageSpec.deps`). A rebuild drops
the pieces whose keys the change affects and renders only those again; the
others are reused as they were. The result is byte-identical to rendering the
page from scratch (tests/test_perf_equivalence.py).

A piece may contain pieces (a team tree holds its subtrees): the outer one then
depends on everything the inner ones depend on, so a change deep in the tree
renders the path down to it again, and nothing else. An outer piece holds the
bytes of its inner ones by reference (the very objects), not as a copy: a tree
six levels deep would otherwise hold its leaves six times.

While a process renders a page again and again (the preview server), its pieces
are held in memory: reusing one costs a dictionary lookup. Once a full build
has written the page (`settle_file`), or a build ends after publishing it
(`settle`), they are kept as places instead: where each piece starts in the
piece holding it (or in the page) and its size, with the written file's stamp
(device, inode, size, mtime). The page's next render reads the file back and
holds its pieces again; a file that is not the one stamped (gone, edited,
replaced, or left in a staging folder that was never swapped in) makes every
piece of its page be made afresh. At 10,000 teams the held bytes were 1.1 GB of
the build's memory and of the saved cache.

Pieces are put into the page's bytes at the very end (`assemble`): a template
writes a short placeholder where a piece goes. A page of thousands of pieces is
then one join of bytes, not a join of megabytes of text followed by encoding it
again (a single "·" in a template makes Python store a whole page as two bytes
a character, and encode it ten times slower).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Random per process, so that no text an author writes can pose as a placeholder.
_TOKEN = secrets.token_hex(8)
_PLACEHOLDER = re.compile(f"\x00{_TOKEN}:(\\d+)\x00")

Deps = tuple[str, ...]  # sorted, as render.PageSpec.deps (one object per distinct set)
# A settled piece: the keys it shows (None once forgotten: its place still locates
# the pieces inside it), the piece holding it (None: the page), where it starts in
# that one, its size, and the names of the pieces placed in it.
Entry = tuple[Deps | None, str | None, int, int, tuple[str, ...]]


class _Settled:
    """A page's settled pieces, compact: their names in one string, their keys, and
    their places as numbers in one array (the holder's and the inner pieces'
    positions among the names). As a dict of Entry tuples they were 1.6 KB a source
    file, 0.38 GB at 10,000 teams; a string per name was 0.08 GB more, and as many
    objects for the cache's pickler to memoize. Looking a piece up makes the list
    and the index of names, once a page (the preview server reads pieces back)."""

    __slots__ = ("_lookup", "deps", "inner", "names", "places")
    _WIDTH = 5  # places per piece: holder (-1: the page), start, size, first inner, count
    _SEP = "\x00"

    def __init__(self, entries: dict[str, Entry]) -> None:
        names = tuple(entries)
        joined = self._SEP.join(names)
        # A name holding the separator (no template makes one) keeps the tuple.
        self.names: str | tuple[str, ...] = (
            joined if joined.count(self._SEP) == len(names) - 1 else names
        )
        index = {name: i for i, name in enumerate(names)}
        self.deps: list[Deps | None] = [entry[0] for entry in entries.values()]
        places: list[int] = []
        inner_names: list[int] = []
        for _, holder, start, size, inner in entries.values():
            at = -1 if holder is None else index[holder]
            places += (at, start, size, len(inner_names), len(inner))
            inner_names += (index[name] for name in inner)
        self.places, self.inner = _numbers(places), _numbers(inner_names)
        self._lookup: tuple[list[str], dict[str, int]] | None = None

    def _listed(self) -> list[str]:
        names = self.names
        return names.split(self._SEP) if type(names) is str else list(names)

    def _find(self, name: str) -> tuple[list[str], int | None]:
        if self._lookup is None:
            names = self._listed()
            self._lookup = names, {name: i for i, name in enumerate(names)}
        names, index = self._lookup
        return names, index.get(name)

    def get(self, name: str) -> Entry | None:
        names, i = self._find(name)
        if i is None:
            return None
        at = i * self._WIDTH
        holder, start, size, first, count = self.places[at : at + self._WIDTH]
        inner = tuple(names[j] for j in self.inner[first : first + count])
        return self.deps[i], None if holder < 0 else names[holder], start, size, inner

    def __getitem__(self, name: str) -> Entry:
        entry = self.get(name)
        if entry is None:
            raise KeyError(name)
        return entry

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __len__(self) -> int:
        return len(self.places) // self._WIDTH

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Settled) and self.__getstate__() == other.__getstate__()

    def forget(self, name: str) -> None:
        """Drop the keys of the piece `name`: its place stays, for the pieces in it."""
        _, i = self._find(name)
        if i is not None:
            self.deps[i] = None

    def shown(self) -> Iterator[tuple[str, Deps]]:
        """(name, keys) of the pieces that keep their keys."""
        pairs = zip(self._listed(), self.deps, strict=True)
        return ((name, deps) for name, deps in pairs if deps)

    def __getstate__(self) -> tuple:
        return self.names, self.deps, self.places, self.inner

    def __setstate__(self, state: tuple) -> None:
        self.names, self.deps, self.places, self.inner = state
        self._lookup = None


def _numbers(numbers: list[int]) -> array:
    """`numbers` in 4 bytes each where they fit (places in a page under 2 GiB), else 8:
    the arrays of places were 0.3 KB a source file at 100 teams in 8 bytes."""
    try:
        return array("i", numbers)
    except OverflowError:
        return array("q", numbers)


@dataclass(slots=True)
class _Placed:
    """A held piece: its bytes, in parts, and the pieces placed in it with where they
    start in it (its parts include theirs: the very objects, not copies)."""

    name: str
    deps: Deps
    segments: tuple[bytes, ...]
    size: int
    children: tuple[tuple[_Placed, int], ...] = ()


@dataclass(slots=True)
class _Page:
    """The kept pieces of one page: held, or settled as places in its published file."""

    held: dict[str, _Placed] = field(default_factory=dict)
    top: tuple[tuple[_Placed, int], ...] = ()  # placed in the page itself, last assembly
    size: int = 0  # of the page, last assembly
    settled: _Settled | None = None
    stamp: tuple[int, ...] = ()  # of the published file: device, inode, size, mtime


@dataclass
class _Render:
    """The page being rendered: its kept pieces, and what it has placed so far."""

    page: str | None = None
    kept: _Page | None = None
    placed: list[_Placed] = field(default_factory=list)  # by placeholder number
    empty: list[_Placed] = field(default_factory=list)  # empty ones placed in the page
    source: bytes | None = None  # the published file, once read back


class FragmentCache:
    """Rendered pieces by page and name, with the keys each one shows."""

    def __init__(self) -> None:
        self.root: Path | None = None  # the output folder the pages are published in
        self._pages: dict[str, _Page] = {}
        # Pieces by key, so that forget looks at few; made again on need after `settle`.
        self._by_key: dict[str, set[tuple[str, str]]] | None = None
        self._assembled: set[str] = set()  # pages assembled since `begin`
        self._published: set[str] = set()  # pages assembled, then published
        self._deps: dict[Deps, Deps] = {}  # one object per distinct key set
        self._open: list[set[str]] = []  # keys of the pieces being made, outermost first
        self._empty: list[list[_Placed]] = []  # the empty pieces placed in each of them
        self._render = _Render()
        # False in a render worker: it ends with the build, so whatever it kept would
        # be dropped; a piece is then its text, in place, at no cost.
        self.keeping = True

    def __getstate__(self) -> dict:
        return {"root": self.root, "_pages": self._pages}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self.__dict__.update(state)

    def forget(self, keys: set[str] | None) -> None:
        """Drop the pieces that show any of `keys`; all of them when `keys` is None."""
        if keys is None:
            self._pages.clear()
            self._by_key = None
            self._published.clear()
            self._deps.clear()
            return
        # The other keys' sets may still name a dropped piece: forgetting one of them
        # later drops the piece made again under that name, which is only ever one
        # piece too many. Cleaning them costs thousands of steps for a team tree.
        by_key = self._index()
        for key in keys:
            for page, name in by_key.pop(key, ()):
                kept = self._pages.get(page)
                if kept is None:
                    continue
                kept.held.pop(name, None)
                if kept.settled:  # its place stays: it locates the pieces inside it
                    kept.settled.forget(name)

    def piece(self, page: str, name: str, deps: Iterable[str], make: Callable[[], str]) -> str:
        """A placeholder for the piece `name` of `page`: kept, or made by `make()` and
        kept. Write it into the page's text as it is; `assemble` puts the piece in."""
        if not self.keeping:
            return make()
        found = self.kept(page, name)
        if found is not None:
            return found
        self._open.append(set(deps))
        self._empty.append([])
        try:
            text = make()
        finally:
            shown, empty = self._open.pop(), self._empty.pop()
        made = self._parts_of(text, name, empty)
        keys = tuple(sorted(shown))
        made.deps = self._deps.setdefault(keys, keys)
        render = self._render
        if render.kept is None:
            render.kept = self._pages[page] = _Page()
        render.kept.held[name] = made
        if self._by_key is not None:
            for key in shown:
                self._by_key.setdefault(key, set()).add((page, name))
        return self._place(made)

    def kept(self, page: str, name: str) -> str | None:
        """The placeholder of a kept piece, or None: `piece` without making it (a
        caller with thousands of pieces saves building the arguments of `piece`)."""
        if not self.keeping:
            return None
        render = self._render
        if page != render.page:
            self._render = render = _Render(page, self._pages.get(page))
        kept = render.kept
        if kept is None:
            return None
        found = kept.held.get(name)
        if found is None:
            found = self._read_back(render, kept, name) if kept.settled else None
            if found is None:
                return None
        return self._place(found)

    def assemble(self, text: str) -> bytes:
        """The UTF-8 bytes of a rendered page, its placeholders replaced by the pieces."""
        if not self.keeping:
            return text.encode("utf-8")
        render = self._render
        try:
            whole = self._parts_of(text, "", render.empty)
            content = b"".join(whole.segments)
            kept = render.kept
            if kept is not None:
                kept.top, kept.size, kept.settled = whole.children, len(content), None
                self._assembled.add(render.page)  # type: ignore[arg-type]
                self._published.discard(render.page)  # type: ignore[arg-type]
        finally:
            self._render = _Render()
        return content

    def abandon(self) -> None:
        """Forget what the page being rendered placed (its render failed); what was
        kept of it stays."""
        self._render = _Render()

    def begin(self, root: Path) -> None:
        """Call before a build that publishes to `root`."""
        self.root = root
        self._assembled = set()

    def published(self) -> None:
        """Call once the pages assembled since `begin` are published under `root`. A
        page assembled by a build that failed is held until assembled again."""
        self._published |= self._assembled
        self._assembled = set()

    def settle(self) -> None:
        """Keep the published pages' pieces as places in their files, not as bytes."""
        if self.root is not None:
            for page in self._published:
                self.settle_file(page, self.root / page)
        self._published = set()
        self._by_key = None  # 6 % of a built site's memory; `forget` makes it again

    def settle_file(self, page: str, path: Path) -> None:
        """Keep the pieces of `page` as places in `path`, the file its bytes were just
        written to, if that is the page as assembled (else they stay held). A file
        written into a build's staging folder is the published page once the folder
        is swapped in; if it never is, its stamp matches no published file."""
        kept = self._pages.get(page)
        if kept is None or kept.settled:
            return
        try:
            info = os.stat(path, follow_symlinks=False)
        except OSError:
            return
        if stat.S_ISREG(info.st_mode) and info.st_size == kept.size:
            entries: dict[str, Entry] = {}
            _settle(kept, entries, None, kept.top)
            kept.settled = _Settled(entries) if entries else None
            kept.held, kept.top, kept.stamp = {}, (), _stamp(info)
            if not kept.settled:
                del self._pages[page]

    # --- internals --------------------------------------------------------------------

    def _index(self) -> dict[str, set[tuple[str, str]]]:
        """The pieces by key, made from the held pieces and the settled places (whose
        entries keep their keys) if `settle` dropped it."""
        if self._by_key is None:
            self._by_key = {}
            for page, kept in self._pages.items():
                shown = [(name, placed.deps) for name, placed in kept.held.items()]
                shown += kept.settled.shown() if kept.settled else []
                for name, deps in shown:
                    for key in deps:
                        self._by_key.setdefault(key, set()).add((page, name))
        return self._by_key

    def _place(self, found: _Placed) -> str:
        for outer in self._open:
            outer.update(found.deps)
        render = self._render
        if not found.size:
            (self._empty[-1] if self._empty else render.empty).append(found)
            return ""  # so that callers may still leave out empty pieces
        render.placed.append(found)
        return f"\x00{_TOKEN}:{len(render.placed) - 1}\x00"

    def _read_back(self, render: _Render, kept: _Page, name: str) -> _Placed | None:
        """The settled piece `name`, held again with the pieces in it, read from the
        published page; None if there is none or the file is not the one stamped."""
        entry = kept.settled.get(name)
        if entry is None or entry[0] is None:
            return None
        _, holder, start, _, _ = entry
        while holder is not None:  # where it starts in the page
            outer = kept.settled.get(holder)
            if outer is None:
                return None
            _, holder, outer_start, _, _ = outer
            start += outer_start
        if render.source is None:
            render.source = self._read(render.page, kept)  # type: ignore[arg-type]
            if render.source is None:  # not the file it was: make every piece again
                kept.settled = None
                return None
        return _hold(kept, name, entry, start, render.source)

    def _read(self, page: str, kept: _Page) -> bytes | None:
        if self.root is None:
            return None
        try:
            fd = os.open(os.path.join(self.root, page), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        with open(fd, "rb") as handle:
            info = os.fstat(fd)
            if _stamp(info) != kept.stamp:
                return None
            data = handle.read()
        return data if len(data) == info.st_size else None  # None: cut short meanwhile

    def _parts_of(self, text: str, name: str, empty: list[_Placed]) -> _Placed:
        """`text` as UTF-8 bytes or, if pieces were placed in it, as its own bytes
        and the placed pieces' bytes in turn, with where each piece starts."""
        placed = self._render.placed
        children = [(e, 0) for e in empty]
        if not placed or "\x00" not in text:  # no placeholder: skip the regex
            data = text.encode("utf-8")
            return _Placed(name, (), (data,), len(data), tuple(children))
        split = _PLACEHOLDER.split(text)  # text, index, text, index, …, text
        first = split[0].encode("utf-8")
        segments: list[bytes] = [first]
        offset = len(first)
        for i in range(1, len(split), 2):
            piece = placed[int(split[i])]
            segments.extend(piece.segments)
            children.append((piece, offset))
            offset += piece.size
            after = split[i + 1].encode("utf-8")
            segments.append(after)
            offset += len(after)
        return _Placed(name, (), tuple(segments), offset, tuple(children))


def _settle(
    kept: _Page,
    entries: dict[str, Entry],
    holder: str | None,
    children: tuple[tuple[_Placed, int], ...],
) -> None:
    """The places of `children` placed in `holder`, and of the pieces in them, into
    `entries`. A piece forgotten since it was placed keeps its place only."""
    for placed, start in children:
        deps = placed.deps if kept.held.get(placed.name) is placed else None
        names = tuple(child.name for child, _ in placed.children)
        entries[placed.name] = (deps, holder, start, placed.size, names)
        _settle(kept, entries, placed.name, placed.children)


def _hold(kept: _Page, name: str, entry: Entry, start: int, data: bytes) -> _Placed:
    """The settled piece `name` at `start` in `data`, held again with the pieces in
    it (each held too), its parts theirs as when it was made."""
    deps, _, _, size, inner = entry
    end = start + size
    segments: list[bytes] = []
    children: list[tuple[_Placed, int]] = []
    at = start
    settled: _Settled = kept.settled  # type: ignore[assignment]
    # (A walrus in a comprehension binds in this function: not `entry`, the argument.)
    inner_entries = [(e[2], n, e) for n in inner if (e := settled.get(n)) is not None]
    for offset, child_name, child in sorted(inner_entries, key=lambda item: item[:2]):
        child_deps, holder, _, child_size, _ = child
        begins = start + offset
        if child_deps is None or holder != name or begins < at or begins + child_size > end:
            continue  # not a piece of its own here: its bytes stay in this one's
        segments.append(data[at:begins])
        found = _hold(kept, child_name, child, begins, data)
        children.append((found, offset))
        segments.extend(found.segments)
        at = begins + child_size
    segments.append(data[at:end])
    parts = tuple(part for part in segments if part)
    found = _Placed(name, deps, parts, size, tuple(children))  # type: ignore[arg-type]
    kept.held[name] = found
    return found


def _stamp(info: os.stat_result) -> tuple[int, ...]:
    """Which file this is and whether it was written since: device, inode, size and
    mtime. Not the ctime (as cache.signature and write's folder stamps use): blue/green
    publishing hard-links unchanged pages into the next site, which changes it."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

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
renders the path down to it again, and nothing else. An outer piece keeps the
bytes of its inner ones by reference (a flat tuple of bytes objects), not as a
copy: a tree six levels deep would otherwise hold its leaves six times (an
alignment map took four times its own size).

Pieces are kept as UTF-8 bytes and put into the page's bytes at the very end
(`assemble`): a template writes a short placeholder where a piece goes. A page
of thousands of pieces is then one join of bytes, not a join of megabytes of
text followed by encoding it again (a single "·" in a template makes Python
store a whole page as two bytes a character, and encode it ten times slower).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable

# Random per process, so that no text an author writes can pose as a placeholder.
_TOKEN = secrets.token_hex(8)
_PLACEHOLDER = re.compile(f"\x00{_TOKEN}:(\\d+)\x00")

Part = bytes | tuple[bytes, ...]  # a kept piece: its bytes, or the bytes it joins


class FragmentCache:
    """Rendered pieces by (page path, name), with the keys each one shows."""

    def __init__(self) -> None:
        self._pieces: dict[tuple[str, str], tuple[frozenset[str], Part]] = {}
        self._by_key: dict[str, set[tuple[str, str]]] = {}  # so forget looks at few
        self._open: list[set[str]] = []  # keys of the pieces being rendered, outermost first
        self._placed: list[Part] = []  # the pieces placed in the text being rendered

    def __getstate__(self) -> dict:
        return {"_pieces": self._pieces, "_by_key": self._by_key}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self.__dict__.update(state)

    def forget(self, keys: set[str] | None) -> None:
        """Drop the pieces that show any of `keys`; all of them when `keys` is None."""
        if keys is None:
            self._pieces.clear()
            self._by_key.clear()
            return
        # The other keys' sets may still name a dropped piece: forgetting one of them
        # later drops the piece made again under that name, which is only ever one
        # piece too many. Cleaning them costs thousands of steps for a team tree.
        for key in keys:
            for piece in self._by_key.pop(key, ()):
                self._pieces.pop(piece, None)

    def piece(self, page: str, name: str, deps: Iterable[str], make: Callable[[], str]) -> str:
        """A placeholder for the piece `name` of `page`: kept, or made by `make()` and
        kept. Write it into the page's text as it is; `assemble` puts the piece in."""
        kept = self.kept(page, name)
        if kept is not None:
            return kept
        self._open.append(set(deps))
        try:
            data = self._parts_of(make())
        finally:
            shown = self._open.pop()
        self._pieces[(page, name)] = (frozenset(shown), data)
        for key in shown:
            self._by_key.setdefault(key, set()).add((page, name))
        return self.kept(page, name)  # type: ignore[return-value]

    def kept(self, page: str, name: str) -> str | None:
        """The placeholder of a kept piece, or None: `piece` without making it (a
        caller with thousands of pieces saves building the arguments of `piece`)."""
        found = self._pieces.get((page, name))
        if found is None:
            return None
        for outer in self._open:
            outer |= found[0]
        if not found[1]:
            return ""  # so that callers may still leave out empty pieces
        self._placed.append(found[1])
        return f"\x00{_TOKEN}:{len(self._placed) - 1}\x00"

    def assemble(self, text: str) -> bytes:
        """The UTF-8 bytes of a rendered page, its placeholders replaced by the pieces."""
        try:
            found = self._parts_of(text)
        finally:
            self._placed = []
        return found if isinstance(found, bytes) else b"".join(found)

    def _parts_of(self, text: str) -> Part:
        """`text` as UTF-8 bytes or, if pieces were placed in it, as a flat tuple of
        its own bytes and the bytes of the placed pieces (the very objects kept)."""
        if not self._placed or "\x00" not in text:  # no placeholder: skip the regex
            return text.encode("utf-8")
        split = _PLACEHOLDER.split(text)  # text, index, text, index, …, text
        placed = self._placed
        parts: list[bytes] = [split[0].encode("utf-8")]
        for i in range(1, len(split), 2):
            piece = placed[int(split[i])]
            if isinstance(piece, bytes):
                parts.append(piece)
            else:
                parts.extend(piece)
            parts.append(split[i + 1].encode("utf-8"))
        return tuple(parts)

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
renders the path down to it again, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class FragmentCache:
    """Rendered pieces by (page path, name), with the keys each one shows."""

    def __init__(self) -> None:
        self._pieces: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
        self._by_key: dict[str, set[tuple[str, str]]] = {}  # so forget looks at few
        self._open: list[set[str]] = []  # keys of the pieces being rendered, outermost first

    def forget(self, keys: set[str] | None) -> None:
        """Drop the pieces that show any of `keys`; all of them when `keys` is None."""
        if keys is None:
            self._pieces.clear()
            self._by_key.clear()
            return
        for key in keys:
            for piece in self._by_key.pop(key, ()):
                shown, _ = self._pieces.pop(piece, (frozenset(), ""))
                for other in shown - {key}:
                    self._by_key.get(other, set()).discard(piece)

    def piece(self, page: str, name: str, deps: Iterable[str], make: Callable[[], str]) -> str:
        """The piece `name` of `page`: kept, or made by `make()` and kept."""
        found = self._pieces.get((page, name))
        if found is None:
            self._open.append(set(deps))
            try:
                text = make()
            finally:
                shown = self._open.pop()
            found = (frozenset(shown), text)
            self._pieces[(page, name)] = found
            for key in found[0]:
                self._by_key.setdefault(key, set()).add((page, name))
        for outer in self._open:
            outer |= found[0]
        return found[1]

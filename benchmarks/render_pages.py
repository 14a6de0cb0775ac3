#!/usr/bin/env python3
"""CPU time to render a site's per-team pages, one after the other in one process.

    python benchmarks/render_pages.py SITE OUT [--template key_result.html]

Builds SITE up to its page list (no cache), then renders every page that a
cold build gives its workers (all but the summary pages), as a worker does: no
pieces of pages kept, nothing written. Prints the pages and the CPU seconds.
To compare two versions of the code, run it with each one's copy on
`PYTHONPATH`, taking turns (A B, B A, …), and compare the rounds' ratios: this
machine's pace drifts by a third within minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from okrsite import incremental

TODAY = dt.date(2026, 11, 22)


class _PageListReady(Exception):
    """Stops the build once its pages are known (raised in place of rendering)."""


def render_pages(site: Path, out: Path, template: str | None) -> tuple[int, float]:
    """(pages, CPU seconds) of rendering `site`'s per-team pages serially."""
    measured: list[tuple[int, float]] = []

    def instead_of_rendering(builder, renderer, specs, spare):
        _, per_team = incremental._split_summaries(specs)
        chosen = [s for s in per_team if template is None or s.template == template]
        renderer.fragments.keeping = False  # as in a worker
        started = time.process_time()
        for spec in chosen:
            renderer.render(spec)
        measured.append((len(chosen), time.process_time() - started))
        raise _PageListReady

    original = incremental.Builder._render_all
    incremental.Builder._render_all = instead_of_rendering
    try:
        incremental.Builder(site, out, TODAY, cache=False).build()
    except _PageListReady:
        pass
    finally:
        incremental.Builder._render_all = original
    return measured[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("out", type=Path, help="output folder (nothing is written to it)")
    parser.add_argument("--template", help="only the pages of this template")
    args = parser.parse_args(argv)
    pages, seconds = render_pages(args.site, args.out, args.template)
    print(f"{pages} pages rendered in {seconds:.2f} s of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())

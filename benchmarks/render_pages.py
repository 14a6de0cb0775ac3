#!/usr/bin/env python3
"""CPU time to render a site's per-team pages, one after the other in one process.

    python benchmarks/render_pages.py SITE [--template key_result.html]

Checks SITE (no cache), then renders every page that a cold build gives its
workers (all but the summary pages), as a worker does: every Markdown text
already rendered (the build does that while loading), no pieces of pages
kept, nothing written. Prints the pages and the CPU seconds.
To compare two versions of the code, run it with each one's copy on
`PYTHONPATH`, taking turns (A B, B A, …), and compare the rounds' ratios: this
machine's pace drifts by a third within minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import time
from pathlib import Path

from okrsite.build import check_site
from okrsite.cache import markdown_texts
from okrsite.incremental import _split_summaries
from okrsite.render import SiteRenderer, page_specs

TODAY = dt.date(2026, 11, 22)


def render_pages(site: Path, template: str | None) -> tuple[int, float]:
    """(pages, CPU seconds) of rendering `site`'s per-team pages serially."""
    checked = check_site(site, TODAY)
    renderer = SiteRenderer(checked.model, checked.rollups, site, checked.diagnostics)
    renderer.fragments.keeping = False  # as in a worker
    model = checked.model
    files = [
        *model.teams.values(),
        *model.okrs.values(),
        *itertools.chain(*model.checkins.values()),
    ]
    for text in itertools.chain.from_iterable(map(markdown_texts, files)):
        renderer.markdown.packed(text)  # as a build does while loading, not in its workers
    _, per_team = _split_summaries(page_specs(checked.model, renderer.current, renderer.people))
    chosen = [s for s in per_team if template is None or s.template == template]
    started = time.process_time()
    for spec in chosen:
        renderer.render(spec)
    return len(chosen), time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--template", help="only the pages of this template")
    args = parser.parse_args(argv)
    pages, seconds = render_pages(args.site, args.template)
    print(f"{pages} pages rendered in {seconds:.2f} s of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())

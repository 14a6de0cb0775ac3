#!/usr/bin/env python3
"""The floor pipeline: the least any Python static-site generator does for a site.

For every Markdown file under SITE/content: read it, split and parse the YAML
front matter (PyYAML's C loader), render the body with Python-Markdown (one
reused instance), put it through one trivial Jinja template, and write one
HTML file. Nothing else: no validation, rollups, links or indexes. Serial, one
process, as the reference generators in the performance issue were measured.

    python benchmarks/floor.py SITE OUT     # prints files, bytes and seconds
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import jinja2
import markdown
import yaml

TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!doctype html><html><head><meta charset=utf-8><title>{{ title }}</title></head>"
    "<body><h1>{{ title }}</h1>{{ body }}</body></html>\n"
)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def floor_build(site: Path, out: Path) -> tuple[int, int]:
    """Build the floor site of `site` into `out`; returns (files, bytes written)."""
    if out.exists():
        shutil.rmtree(out)
    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"])
    files = written = 0
    content = site / "content"
    for folder, dirnames, filenames in os.walk(content):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".md"):
                continue
            path = Path(folder, name)
            text = path.read_text(encoding="utf-8")
            _, front, body = text.split("---\n", 2)
            meta = yaml.load(front, Loader=Loader) or {}
            html = md.reset().convert(body)
            page = TEMPLATE.render(
                title=meta.get("name") or path.stem, body=jinja2.utils.markupsafe.Markup(html)
            )
            target = out / path.relative_to(content).with_suffix("") / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            data = page.encode("utf-8")
            target.write_bytes(data)
            files += 1
            written += len(data)
    return files, written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files, written = floor_build(args.site, args.out)
    took = time.perf_counter() - started
    print(f"floor: {files} files, {written} bytes in {took:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

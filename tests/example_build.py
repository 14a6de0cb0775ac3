"""The example company (content/ + okrsite.toml at the repo root), built once per test run.

Site-level tests (HTML validity, accessibility, links, screenshots) all look at
the same build, dated like the docs: `okrsite build --today 2026-11-22`.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path

import pytest

from okrsite.build import build_site

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_TODAY = dt.date(2026, 11, 22)


@functools.cache
def built_example() -> Path:
    """Build the example site into a fresh temporary folder (once per process)."""
    if not (REPO_ROOT / "okrsite.toml").is_file() or not (REPO_ROOT / "content").is_dir():
        pytest.skip("the example site (okrsite.toml + content/) is not in this checkout")
    out = Path(tempfile.mkdtemp(prefix="okrsite-example-")) / "site"
    result = build_site(REPO_ROOT, out, EXAMPLE_TODAY)
    assert result.published, "\n".join(str(d) for d in result.diagnostics)
    return out


def cleanup() -> None:
    if built_example.cache_info().currsize:
        shutil.rmtree(built_example().parent, ignore_errors=True)

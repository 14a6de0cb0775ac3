"""A long-lived builder for `okrsite serve` and warm rebuilds.

`Builder.rebuild(changed)` brings the output up to date after some source
files changed. This first version rebuilds everything; the interface is what
the preview server relies on.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from okrsite.build import build_site
from okrsite.diagnostics import Diagnostic


@dataclass
class BuildReport:
    ok: bool
    diagnostics: list[Diagnostic]
    written: list[str] = field(default_factory=list)  # output paths (re)written
    rendered: int = 0
    duration: float = 0.0
    full: bool = True


class Builder:
    def __init__(self, site_dir: Path, out_dir: Path, today: dt.date | None = None):
        self.site_dir = site_dir
        self.out_dir = out_dir
        self.today = today

    def build(self) -> BuildReport:
        started = time.perf_counter()
        result = build_site(self.site_dir, self.out_dir, self.today or dt.date.today())
        return BuildReport(
            ok=result.published,
            diagnostics=result.diagnostics,
            written=[f.path for f in result.files] if result.published else [],
            rendered=len(result.files),
            duration=time.perf_counter() - started,
        )

    def rebuild(self, changed: Iterable[Path]) -> BuildReport:
        del changed  # every change rebuilds everything in this version
        return self.build()

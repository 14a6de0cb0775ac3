"""Build small sites from a dict of files, as MkDocs's tests do.

`make_site(tmp_path, {...})` writes a minimal valid site (BASE) overlaid with
the given files; a value of None deletes a BASE file. Texts are dedented.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

TODAY = dt.date(2026, 11, 14)

BASE: dict[str, str] = {
    "okrsite.toml": """
        [site]
        title = "Acme OKRs"
    """,
    "content/teams/company.md": """
        ---
        name: Acme
        lead: Ada Lovelace
        ---
        The company.
    """,
    "content/teams/sales.md": """
        ---
        name: Sales
        parent: company
        lead: Dana Ruiz
        members: [Dana Ruiz, Lee Chen]
        ---
        Sales sells.
    """,
    "content/cycles/2026-Q4/company.md": """
        ---
        objectives:
          - id: revenue
            title: Grow revenue with happy customers
            key_results:
              - id: arr
                title: Annual recurring revenue reaches $2M
                start: 1000000
                target: 2000000
                unit: USD
              - id: churn
                title: Churn falls from 5% to 3%
                start: 5
                target: 3
                unit: "%"
        ---
        Company narrative.
    """,
    "content/cycles/2026-Q4/sales.md": """
        ---
        objectives:
          - id: pipeline
            title: Build a pipeline that makes the year
            aligns_to: company/revenue
            key_results:
              - id: pipeline-value
                title: Keep a qualified pipeline worth $500K
                start: 0
                target: 500000
                unit: USD
              - id: partner-program
                title: Partner program live with three partners
                type: milestone
        ---
        Sales narrative.
    """,
    "content/cycles/2026-Q4/company/2026-11-10.md": """
        ---
        date: 2026-11-10
        author: Ada Lovelace
        updates:
          arr: {value: 1500000, confidence: 0.8}
          churn: {value: 4}
        ---
        Company check-in.
    """,
    "content/cycles/2026-Q4/sales/2026-11-07.md": """
        ---
        author: Dana Ruiz
        updates:
          pipeline-value: {value: 320000, confidence: 0.7, note: Two enterprise deals}
          partner-program: {progress: 0.5}
        ---
        Sales check-in.
    """,
}


def make_site(root: Path, files: dict[str, str | bytes | None] | None = None) -> Path:
    """Write BASE overlaid with `files` under `root`; returns `root`."""
    merged: dict[str, str | bytes | None] = {**BASE, **(files or {})}
    for rel_path, text in merged.items():
        if text is None:
            continue
        path = root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path: for comparing whole outputs."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def reference(site: Path, out: Path, today: dt.date) -> dict[str, bytes]:
    """The output of the plain pipeline (check_site → render_site → publish), built
    from scratch with no cache: what every fast path must equal byte for byte."""
    from okrsite.build import check_site
    from okrsite.gitinfo import NO_GIT
    from okrsite.render import render_site
    from okrsite.write import publish

    checked = check_site(site, today)
    assert not checked.failed(), [str(d) for d in checked.diagnostics if d.is_error]
    shutil.rmtree(out, ignore_errors=True)
    publish(out, render_site(checked.model, checked.rollups, site, checked.diagnostics, NO_GIT))
    return tree(out)

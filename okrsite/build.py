"""The pipeline, end to end: load → validate → compute → lint → render → write.

Each stage is a module with a small typed surface; this file only wires them
together and decides, from the diagnostics, whether the site gets published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from okrsite.config import load_config
from okrsite.diagnostics import Diagnostic, counts, sorted_diagnostics
from okrsite.gitinfo import GitData, GitOptions, git_data
from okrsite.history import collect as collect_history
from okrsite.incremental import Builder
from okrsite.lint import history_warnings, lint
from okrsite.load import load_content
from okrsite.model import Model
from okrsite.render import OutputFile, ThemeError, render_site
from okrsite.rollup import CycleRollup, compute
from okrsite.validate import validate
from okrsite.write import PublishError, publish


@dataclass
class CheckResult:
    """What validation, rollups and lint made of a site."""

    model: Model | None
    rollups: dict[str, CycleRollup]
    diagnostics: list[Diagnostic]
    file_count: int
    today: dt.date
    history: object | None = None  # okrsite.history.History, with --history

    def failed(self, strict: bool = False) -> bool:
        errors, warnings = counts(self.diagnostics)
        return bool(errors or (strict and warnings))


@dataclass
class BuildResult(CheckResult):
    files: list[OutputFile] = field(default_factory=list)
    published: bool = False
    paths: list[str] = field(default_factory=list)  # every output file of the site


def check_site(
    site_dir: Path,
    today: dt.date,
    *,
    overlay: dict[str, str] | None = None,
    git: GitOptions | None = None,
) -> CheckResult:
    """`overlay`: site path -> text of files to check as if written (okrsite checkin/plan).
    `git.history`: also read the OKR files' git history (moved goalposts, OKR110)."""
    config, diagnostics = load_config(site_dir)
    if config is None:
        return CheckResult(None, {}, sorted_diagnostics(diagnostics), 0, today)
    content = load_content(site_dir)
    if overlay:
        from okrsite.authoring import with_overlay  # authoring builds on this module

        content = with_overlay(content, overlay)
    validated = validate(config, content.files, content.paths)
    rollups = compute(validated.model, today)
    warnings = lint(validated.model, rollups, today)
    history = None
    if git is not None and git.history:
        history = collect_history(
            git.repo_dir or site_dir, validated.model, git.rev, working_tree=not git.as_of
        )
        warnings += history_warnings(validated.model, history)
    all_diagnostics = diagnostics + content.diagnostics + validated.diagnostics + warnings
    return CheckResult(
        validated.model,
        rollups,
        sorted_diagnostics(all_diagnostics),
        content.file_count,
        today,
        history,
    )


def build_site(
    site_dir: Path,
    out_dir: Path,
    today: dt.date,
    strict: bool = False,
    git: GitOptions | None = None,
) -> BuildResult:
    """Check, render and publish; on any error the previous output stays as it was.

    `git` (default: the site's own repository at HEAD, if any) says where the
    pages' "last changed" dates, --history and --as-of come from.
    """
    git = git or GitOptions()
    if Path(site_dir).resolve().is_relative_to(Path(out_dir).resolve()):  # it would be deleted
        message = (
            f"refusing to replace {out_dir}: it holds the site {site_dir}; choose another --out"
        )
        return BuildResult(None, {}, [Diagnostic(str(out_dir), 0, "OKR001", message)], 0, today)
    if not git.history and not git.as_of:  # the fast path: caches, parallel rendering
        return build_with_cache(site_dir, out_dir, today, strict, git)
    checked = check_site(site_dir, today, git=git)
    result = BuildResult(**vars(checked))
    if checked.failed(strict) or checked.model is None:
        return result
    try:
        git_info: GitData = git_data(site_dir, git, checked.history)
        result.files = render_site(
            checked.model, checked.rollups, site_dir, checked.diagnostics, git=git_info
        )
        publish(out_dir, result.files)
        result.paths = [f.path for f in result.files]
    except ThemeError as exc:
        result.diagnostics.append(Diagnostic("themes", 0, "OKR028", str(exc)))
        return result
    except PublishError as exc:
        result.diagnostics.append(Diagnostic(exc.path or str(out_dir), 0, exc.code, str(exc)))
        return result
    result.published = True
    return result


def build_with_cache(
    site_dir: Path, out_dir: Path, today: dt.date, strict: bool, git: GitOptions, cache: bool = True
) -> BuildResult:
    """The same build through okrsite.incremental.Builder: per-file results cached
    in SITE/.okrsite-cache, only affected pages re-rendered, in parallel."""
    builder = Builder(site_dir, out_dir, today, strict=strict, cache=cache, git=git)
    report = builder.build()
    return BuildResult(
        model=report.model,
        rollups=report.rollups,
        diagnostics=report.diagnostics,
        file_count=report.files,
        today=today,
        published=report.ok,
        paths=builder.output_paths(),
    )

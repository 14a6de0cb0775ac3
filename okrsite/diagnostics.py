"""Errors and warnings: one shape for every stage, one place for every code.

Every problem okrsite reports is a `Diagnostic` naming a file, a line, a stable
code and what to do. Codes are registered once in `CODES` so documentation,
`rules.disable` and the tests all agree on them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from okrsite.pickling import pickled_by_fields


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    summary: str


def _codes(*rows: tuple[str, Severity, str]) -> dict[str, Code]:
    return {code: Code(code, severity, summary) for code, severity, summary in rows}


E, W = Severity.ERROR, Severity.WARNING

CODES: dict[str, Code] = _codes(
    ("OKR001", E, "file cannot be read (permissions, symlink loop, too large, not a file)"),
    ("OKR002", E, "file is not valid UTF-8"),
    ("OKR003", E, "front matter missing or not closed, or not YAML"),
    ("OKR004", E, "YAML syntax error"),
    ("OKR005", E, "front matter (or a value in it) is not a mapping"),
    ("OKR006", E, "duplicate key in a mapping"),
    ("OKR007", E, "YAML feature not allowed (anchors, aliases, tags)"),
    ("OKR008", E, "front matter too large or nested too deeply"),
    ("OKR010", E, "required field missing or empty"),
    ("OKR011", E, "field has the wrong type or is out of range"),
    ("OKR012", E, "metric key result has start == target"),
    ("OKR013", E, "unknown field"),
    ("OKR014", E, "id breaks the id rule"),
    ("OKR015", E, "duplicate id"),
    ("OKR016", E, "reference to an unknown team"),
    ("OKR017", E, "reference to an unknown objective"),
    ("OKR018", E, "reference to an unknown key result"),
    ("OKR019", E, "no root team, or more than one"),
    ("OKR020", E, "cycle in team parents"),
    ("OKR021", E, "cycle in objective alignment"),
    ("OKR022", E, "undeclared or badly declared cycle"),
    ("OKR023", E, "check-in dated outside its cycle"),
    ("OKR024", E, "check-in file name or date is wrong"),
    ("OKR025", E, "file in an unexpected place"),
    ("OKR026", E, "okrsite.toml is missing or invalid"),
    ("OKR027", E, "two outputs collide (same path, ignoring case)"),
    ("OKR028", E, "theme missing or broken"),
    ("OKR101", W, "more than max_objectives objectives"),
    ("OKR102", W, "fewer than min_key_results key results"),
    ("OKR103", W, "more than max_key_results key results"),
    ("OKR104", W, "key result reads as a task, not an outcome"),
    ("OKR105", W, "objective measured only by milestones"),
    ("OKR106", W, "objective reads as a key result (its title holds a number)"),
    ("OKR107", W, "objective of a non-root team aligned to nothing"),
    ("OKR108", W, "stale team: no recent check-in"),
    ("OKR109", W, "check-in dated after today"),
    ("OKR110", W, "moved goalpost: a target made easier after the cycle started"),
)


@pickled_by_fields
@dataclass(frozen=True, order=True, slots=True)
class Diagnostic:
    """One message: `path:line: CODE message`. `path` is relative to the site."""

    path: str
    line: int
    code: str
    message: str
    column: int = 0

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.code} {self.message}"


def sort_key(d: Diagnostic) -> tuple:
    """Errors before warnings, then by file and line, so output is stable."""
    return (not d.is_error, d.path, d.line, d.code, d.message)


def sorted_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=sort_key)


def counts(diagnostics: list[Diagnostic]) -> tuple[int, int]:
    errors = sum(1 for d in diagnostics if d.is_error)
    return errors, len(diagnostics) - errors


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(diagnostics: list[Diagnostic], files: int) -> str:
    errors, warnings = counts(diagnostics)
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(files, 'file')}"


def format_text(d: Diagnostic) -> str:
    return str(d)


def format_json(d: Diagnostic) -> str:
    return json.dumps(
        {
            "file": d.path,
            "line": d.line,
            "column": d.column,
            "code": d.code,
            "severity": d.severity.value,
            "message": d.message,
        },
        ensure_ascii=False,
    )


def _github_escape(text: str, in_property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if in_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command, so the message lands on the PR line."""
    kind = "error" if d.is_error else "warning"
    props = f"file={_github_escape(d.path, True)},line={d.line or 1}"
    if d.column:
        props += f",col={d.column}"
    props += f",title={d.code}"
    return f"::{kind} {props}::{_github_escape(d.message)}"


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}

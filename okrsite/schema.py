"""Typed fields with precise errors, for front matter and okrsite.toml alike.

In the manner of MkDocs's config_options: each `Field` knows how to turn one
YAML value into a clean Python value or say exactly what is wrong with it, and
`read_fields` applies a schema to a mapping, reporting every problem, unknown
keys with a "did you mean".
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from okrsite.diagnostics import Diagnostic
from okrsite.parse import YamlList, YamlMap

ID_RULE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_ID_LENGTH = 64
MAX_NUMBER = 1e15
MAX_TEXT = 10_000


class Invalid:
    """Marker for a value that was reported as wrong; never reaches the model."""


INVALID: Any = Invalid()


@dataclass
class Context:
    """Where we are (file) and what went wrong so far."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def report(self, line: int, code: str, message: str) -> Any:
        self.diagnostics.append(Diagnostic(self.path, line, code, message))
        return INVALID


def suggest(word: str, choices: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def id_problem(value: str) -> str | None:
    """Why `value` is not a valid id, or None when it is."""
    if not value:
        return "is empty"
    if len(value) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters"
    if not ID_RULE.match(value):
        return "may only hold lowercase letters a-z, digits and '-', and must not start with '-'"
    return None


def describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return type(value).__name__


@dataclass
class Field:
    required: bool = False
    default: Any = None

    def clean(self, value: Any, raw: str | None, ctx: Context, line: int, name: str) -> Any:
        raise NotImplementedError


@dataclass
class Text(Field):
    """Text; a plain YAML scalar is taken exactly as typed (no number/date conversion)."""

    def clean(self, value, raw, ctx, line, name):
        if isinstance(value, str):
            text = value
        elif raw is not None and value is not None:
            text = raw
        else:
            return ctx.report(line, "OKR011", f"{name} must be text, not {describe(value)}")
        if len(text) > MAX_TEXT:
            return ctx.report(line, "OKR011", f"{name} is longer than {MAX_TEXT} characters")
        if not text.strip():
            return ctx.report(line, "OKR010", f"{name} is empty")
        return text.strip()


@dataclass
class Id(Field):
    def clean(self, value, raw, ctx, line, name):
        text = Text().clean(value, raw, ctx, line, name)
        if text is INVALID:
            return INVALID
        problem = id_problem(text)
        if problem:
            return ctx.report(line, "OKR014", f"{name} {text!r} {problem}")
        return text


@dataclass
class Number(Field):
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # exclusive lower bound

    def clean(self, value, raw, ctx, line, name):
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = "; remove the quotes" if isinstance(value, str) and _looks_numeric(value) else ""
            return ctx.report(
                line, "OKR011", f"{name} must be a number, not {describe(value)}{hint}"
            )
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            return ctx.report(
                line, "OKR011", f"{name} must be a finite number of at most {MAX_NUMBER:.0e}"
            )
        if raw and re.match(r"^[-+]?0[0-9]", raw):
            return ctx.report(
                line,
                "OKR011",
                f"{name} {raw} has a leading zero, which YAML 1.1 tools read as octal; "
                f"write {value}",
            )
        if self.minimum is not None and value < self.minimum:
            return ctx.report(
                line, "OKR011", f"{name} must be at least {self.minimum}, not {value}"
            )
        if self.maximum is not None and value > self.maximum:
            return ctx.report(line, "OKR011", f"{name} must be at most {self.maximum}, not {value}")
        if self.above is not None and value <= self.above:
            return ctx.report(line, "OKR011", f"{name} must be greater than {self.above}")
        return value


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class Bool(Field):
    def clean(self, value, raw, ctx, line, name):
        if not isinstance(value, bool):
            return ctx.report(line, "OKR011", f"{name} must be true or false, not {value!r}")
        return value


@dataclass
class Choice(Field):
    choices: tuple[str, ...] = ()

    def clean(self, value, raw, ctx, line, name):
        text = Text().clean(value, raw, ctx, line, name)
        if text is INVALID:
            return INVALID
        if text not in self.choices:
            options = " or ".join(self.choices)
            return ctx.report(
                line,
                "OKR011",
                f"{name} must be {options}, not {text!r}{suggest(text, list(self.choices))}",
            )
        return text


@dataclass
class Date(Field):
    def clean(self, value, raw, ctx, line, name):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        date = parse_date(raw if raw is not None else value)
        if date is None:
            return ctx.report(line, "OKR011", f"{name} must be a date YYYY-MM-DD, not {value!r}")
        return date


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: object) -> dt.date | None:
    """A strict YYYY-MM-DD date, or None."""
    if not isinstance(text, str) or not _DATE.match(text.strip()):
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclass
class TextList(Field):
    def clean(self, value, raw, ctx, line, name):
        if not isinstance(value, list):
            return ctx.report(line, "OKR011", f"{name} must be a list, not {describe(value)}")
        items = []
        raws = value.raw if isinstance(value, YamlList) else [None] * len(value)
        lines = value.item_lines if isinstance(value, YamlList) else [line] * len(value)
        for item, item_raw, item_line in zip(value, raws, lines, strict=True):
            cleaned = Text().clean(item, item_raw, ctx, item_line, f"each of {name}")
            if cleaned is INVALID:
                return INVALID
            items.append(cleaned)
        return tuple(items)


@dataclass
class Anything(Field):
    """A value checked by the caller (nested mappings, lists of mappings)."""

    def clean(self, value, raw, ctx, line, name):
        return value


def read_fields(
    mapping: YamlMap, schema: dict[str, Field], ctx: Context, what: str
) -> dict[str, Any] | None:
    """Clean every field of `mapping` by `schema`; None if anything was wrong."""
    before = len(ctx.diagnostics)
    result: dict[str, Any] = {}
    for key in mapping:
        if key not in schema:
            ctx.report(
                mapping.line_of(key),
                "OKR013",
                f"unknown field {key!r} in {what}{suggest(key, list(schema))}",
            )
    for name, spec in schema.items():
        if name not in mapping or mapping[name] is None:
            if spec.required:
                line = mapping.line_of(name)
                detail = "is empty" if name in mapping else "is missing"
                ctx.report(line, "OKR010", f"required field {name!r} {detail} in {what}")
                result[name] = INVALID
            else:
                result[name] = spec.default
            continue
        result[name] = spec.clean(
            mapping[name], mapping.raw.get(name), ctx, mapping.line_of(name), name
        )
    return None if len(ctx.diagnostics) > before else result


def as_map(value: Any, ctx: Context, line: int, what: str) -> YamlMap | None:
    if isinstance(value, YamlMap):
        return value
    ctx.report(
        line, "OKR005", f"{what} must be a mapping of 'key: value' lines, not {describe(value)}"
    )
    return None

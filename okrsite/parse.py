"""Front matter parsing: text → located YAML values, without YAML's surprises.

We read libyaml's event stream (fast, safe: no Python tags are ever
constructed) and build values ourselves, because we need three things PyYAML's
loaders do not give:

* the line of every key and value, so messages point at the right line;
* errors for duplicate keys, anchors/aliases and explicit tags;
* YAML 1.2 core-schema scalars (`no`, `on` stay text) and the *source text* of
  every plain scalar, so a field that wants text gets exactly what the author
  typed (`1.10` stays "1.10", a date stays "2026-11-14").
"""

from __future__ import annotations

import bisect
import math
import re
import sys
from dataclasses import dataclass, field
from typing import TypeVar

import yaml

from okrsite.diagnostics import Diagnostic

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader  # type: ignore[misc]

MAX_FRONT_MATTER_BYTES = 256 * 1024
MAX_DEPTH = 32
_TOO_DEEP = f"front matter nested deeper than {MAX_DEPTH} levels"
T = TypeVar("T")
SHARED_MAX_CHARS = 64


def shared(value: T) -> T:
    """`value`, or if it is a short text the one copy of it the process keeps.

    Ids, units and names recur in thousands of files (a key result's id in every
    update of it): 13 % of what a 100-team build's records held was second copies
    of such texts. A forked parsing worker that shares them also pickles each one
    once per batch of files it sends back."""
    if type(value) is str and len(value) <= SHARED_MAX_CHARS:
        return sys.intern(value)  # type: ignore[return-value]
    return value


class YamlMap(dict):
    """A mapping that remembers where each key and value came from."""

    __slots__ = ("key_lines", "line", "raw")  # records keep one per check-in: no __dict__
    line: int
    key_lines: dict[str, int]
    raw: dict[str, str]  # source text of plain scalar values

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list):
    __slots__ = ("item_lines", "line", "raw")
    line: int
    item_lines: list[int]
    raw: list[str | None]


@dataclass
class FrontMatter:
    data: YamlMap | None  # None when it could not be parsed (see diagnostics)
    body: str
    body_line: int  # 1-based line where the Markdown body starts
    diagnostics: list[Diagnostic] = field(default_factory=list)


_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OTHER = re.compile(r"^(?:0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_ALLOWED_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge", "value")
}


def resolve_plain(text: str) -> object:
    """Resolve a plain scalar by the YAML 1.2 core schema (not PyYAML's 1.1)."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text)
    if _INT_OTHER.match(text):
        return int(text, 0)
    if _SPECIAL_FLOAT.match(text):
        return float(text.replace(".", "").lower())  # "-.inf" -> "-inf"
    if _FLOAT.match(text):
        return float(text)
    return text


class _YamlProblem(Exception):
    def __init__(self, line: int, code: str, message: str):
        super().__init__(message)
        self.line, self.code, self.message = line, code, message


class _LineIndex:
    """0-based line of a libyaml mark, counting only '\n' as editors do.

    YAML also breaks lines at U+0085, U+2028 and U+2029, so libyaml's own line
    numbers drift from what an author's editor shows after one of those."""

    def __init__(self, text: str):
        self.size = len(text)
        self.other_breaks = sum(text.count(c) for c in "\x85\u2028\u2029")
        self.breaks = [match.start() for match in re.finditer("\n", text)]

    def line(self, mark: yaml.Mark) -> int:
        index = getattr(mark, "index", None)
        if not isinstance(index, int) or not 0 <= index < self.size:
            # The end of the stream: libyaml's own count, less the breaks we don't count.
            return max(0, mark.line - self.other_breaks)
        return bisect.bisect_left(self.breaks, index)


@dataclass
class _Open:
    """A mapping or list whose end event has not come yet."""

    value: YamlMap | YamlList
    key: str | None = None  # a mapping's key whose value is still to come
    key_line: int = 0


class _Builder:
    """Builds YamlMap/YamlList/scalars from libyaml's event stream in one flat pass.

    Events, not PyYAML's composed node tree: its composer recurses once per level
    in C, so `- - - ...` or `? ? ? ...` 50,000 deep on one line segfaults the
    interpreter, while a loop over events cannot (and reads the text once). A
    problem found while building is kept until the stream ends, so that a syntax
    error or too deep a nesting anywhere in the text is reported first, as the
    author must fix those before anything else makes sense."""

    def __init__(self, line_offset: int, text: str):
        self.offset = line_offset
        self.lines = _LineIndex(text)
        self.open: list[_Open] = []
        self.depth = 0
        self.root: object = None
        self.problem: _YamlProblem | None = None

    def line(self, event: yaml.Event) -> int:
        return self.lines.line(event.start_mark) + self.offset

    def run(self, loader: yaml.CSafeLoader) -> object:
        """The document's value; raises _YamlProblem, or yaml.YAMLError for bad syntax."""
        documents = 0
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents == 2:  # outranks any problem found inside the first one
                    self.problem = None
                    self.refuse(
                        self.line(event),
                        "OKR004",
                        "a second YAML document starts here; front matter is one document",
                    )
            elif isinstance(event, yaml.CollectionStartEvent):
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    raise _YamlProblem(self.line(event), "OKR008", _TOO_DEEP)
                self.start(event)
            elif isinstance(event, yaml.CollectionEndEvent):
                self.depth -= 1
                if self.problem is None:
                    done = self.open.pop()
                    self.add(done.value, None, done.value.line)
            elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                self.node(event)
        if self.problem is not None:
            raise self.problem
        return self.root

    def refuse(self, line: int, code: str, message: str) -> None:
        """Keep the first problem; stop building (the stream is still read to its end)."""
        if self.problem is None:
            self.problem = _YamlProblem(line, code, message)

    def start(self, event: yaml.CollectionStartEvent) -> None:
        if self.problem is not None:
            return
        line = self.line(event)
        top = self.open[-1] if self.open else None
        if top is not None and isinstance(top.value, YamlMap) and top.key is None:
            self.refuse(line, "OKR005", "a key must be plain text")
            return
        if not self.allowed(event):
            return
        value: YamlMap | YamlList
        if isinstance(event, yaml.MappingStartEvent):
            value = YamlMap()
            value.line, value.key_lines, value.raw = line, {}, {}
        else:
            value = YamlList()
            value.line, value.item_lines, value.raw = line, [], []
        self.open.append(_Open(value))

    def node(self, event: yaml.ScalarEvent | yaml.AliasEvent) -> None:
        if self.problem is not None:
            return
        top = self.open[-1] if self.open else None
        if isinstance(event, yaml.AliasEvent):
            line = top.key_line if top is not None and top.key is not None else self.line(event)
            self.refuse(
                line, "OKR007", "anchors and aliases (&, *) are not allowed; repeat the value"
            )
        elif top is not None and isinstance(top.value, YamlMap) and top.key is None:
            self.key(top, event)
        elif not self.allowed(event):
            return
        elif event.style in ("", None):  # plain: resolve by the core schema
            self.add(shared(resolve_plain(event.value)), event.value, self.line(event))
        else:
            self.add(shared(event.value), None, self.line(event))

    def allowed(self, event: yaml.ScalarEvent | yaml.CollectionStartEvent) -> bool:
        if event.tag in (None, "!") or event.tag in _ALLOWED_TAGS:
            return True
        self.refuse(self.line(event), "OKR007", f"YAML tag {event.tag!r} is not allowed; remove it")
        return False

    def key(self, mapping: _Open, event: yaml.ScalarEvent) -> None:
        key, line = shared(event.value), self.line(event)
        if key in mapping.value:
            first = mapping.value.key_lines[key]
            self.refuse(line, "OKR006", f"duplicate key {key!r} (first on line {first}); keep one")
        elif self.allowed(event):
            mapping.key, mapping.key_line = key, line

    def add(self, value: object, raw: str | None, line: int) -> None:
        """Put a finished value where it belongs: the root, a mapping's key or a list."""
        if not self.open:
            self.root = value
            return
        top = self.open[-1]
        if isinstance(top.value, YamlMap):
            key = top.key
            assert key is not None  # a value comes after its key (the parser sees to it)
            top.value[key] = value
            top.value.key_lines[key] = top.key_line
            if raw is not None:
                top.value.raw[key] = raw
            top.key = None
        else:
            top.value.append(value)
            top.value.item_lines.append(line)
            top.value.raw.append(raw)


def load_yaml(text: str, path: str, first_line: int) -> tuple[object, list[Diagnostic]]:
    """Parse a YAML document whose first line is `first_line` (1-based) of the file."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES:
        return None, [
            Diagnostic(
                path,
                first_line,
                "OKR008",
                f"front matter is larger than {MAX_FRONT_MATTER_BYTES // 1024} KB; split the file",
            )
        ]
    loader = None
    try:
        loader = _Loader(text)
        return _Builder(first_line, text).run(loader), []
    except _YamlProblem as problem:
        return None, [Diagnostic(path, problem.line, problem.code, problem.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = _LineIndex(text).line(mark) if mark else 0
        line = first_line + at
        problem = exc.problem or "invalid YAML"
        if "maximum nesting depth" in problem:
            # PyYAML 6.0.4's libyaml stops at 1,000 levels, and may get there before
            # _Builder sees level MAX_DEPTH: its scanner looks ahead for simple keys.
            return None, [Diagnostic(path, line, "OKR008", _TOO_DEEP)]
        source_lines = text.split("\n")
        if mark and at < len(source_lines) and "\t" in source_lines[at]:
            problem += " (a tab: YAML indents with spaces only)"
        context = f" {exc.context}" if exc.context else ""
        return None, [Diagnostic(path, line, "OKR004", f"YAML syntax error: {problem}{context}")]
    except yaml.reader.ReaderError as exc:  # a control character: no mark, a position
        line = first_line + text.count("\n", 0, max(0, exc.position))
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"control character U+{char:04X} is not allowed in YAML; delete it"
        return None, [Diagnostic(path, line, "OKR004", message)]
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())  # one line, always
        return None, [Diagnostic(path, first_line, "OKR004", f"YAML error: {problem}")]
    finally:
        if loader is not None:
            loader.dispose()


def split_front_matter(text: str, path: str) -> FrontMatter:
    """Split `---` YAML front matter from the Markdown body, keeping line numbers."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")

    def fail(line: int, code: str, message: str) -> FrontMatter:
        return FrontMatter(None, "", 1, [Diagnostic(path, line, code, message)])

    if not text.strip():
        return fail(1, "OKR003", "file is empty; it needs YAML front matter between '---' lines")
    first = lines[0].rstrip()
    if first == "+++":
        return fail(
            1, "OKR003", "TOML front matter (+++) is not supported; use YAML between '---' lines"
        )
    if first != "---":
        return fail(1, "OKR003", "no front matter: the file must start with a line '---'")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            yaml_text = "\n".join(lines[1:index])
            data, diagnostics = load_yaml(yaml_text, path, 2)
            body = "\n".join(lines[index + 1 :])
            if not diagnostics and data is not None and not isinstance(data, YamlMap):
                diagnostics = [
                    Diagnostic(
                        path,
                        2,
                        "OKR005",
                        f"front matter is a {_kind(data)}, not a mapping of 'key: value' lines",
                    )
                ]
            if data is None and not diagnostics:
                data = YamlMap()
                data.line, data.key_lines, data.raw = 1, {}, {}
            return FrontMatter(data if not diagnostics else None, body, index + 2, diagnostics)
    return fail(1, "OKR003", "front matter is not closed: add a line '---' after it")


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def is_finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

"""Front matter parsing: text → located YAML values, without YAML's surprises.

We compose the YAML node tree with libyaml (fast, safe: no Python tags are ever
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
from dataclasses import dataclass, field

import yaml

from okrsite.diagnostics import Diagnostic

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader  # type: ignore[misc]

MAX_FRONT_MATTER_BYTES = 256 * 1024
MAX_DEPTH = 32


class YamlMap(dict):
    """A mapping that remembers where each key and value came from."""

    line: int
    key_lines: dict[str, int]
    raw: dict[str, str]  # source text of plain scalar values

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list):
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


class _Builder:
    """Turns a composed node tree into YamlMap/YamlList/scalars."""

    def __init__(self, line_offset: int, text: str = ""):
        self.offset = line_offset
        self.lines = _LineIndex(text)
        self.seen: set[int] = set()

    def line(self, node: yaml.Node) -> int:
        return self.lines.line(node.start_mark) + self.offset

    def check(self, node: yaml.Node, line: int | None = None) -> None:
        """Refuse aliases (shared nodes) and explicit tags, before any use of the node."""
        if id(node) in self.seen:
            raise _YamlProblem(
                line or self.line(node),
                "OKR007",
                "anchors and aliases (&, *) are not allowed; repeat the value",
            )
        self.seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            raise _YamlProblem(
                self.line(node), "OKR007", f"YAML tag {node.tag!r} is not allowed; remove it"
            )

    def build(self, node: yaml.Node, depth: int = 0) -> object:
        self.check(node)
        if depth > MAX_DEPTH:
            raise _YamlProblem(self.line(node), "OKR008", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            return self.build_map(node, depth)
        if isinstance(node, yaml.SequenceNode):
            return self.build_list(node, depth)
        return self.scalar(node)[0]  # type: ignore[arg-type]

    def scalar(self, node: yaml.ScalarNode) -> tuple[object, str | None]:
        if node.style in ("", None):  # plain: resolve by the core schema
            return resolve_plain(node.value), node.value
        return node.value, None

    def build_map(self, node: yaml.MappingNode, depth: int) -> YamlMap:
        result = YamlMap()
        result.line, result.key_lines, result.raw = self.line(node), {}, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _YamlProblem(self.line(key_node), "OKR005", "a key must be plain text")
            key = key_node.value
            if key in result:
                raise _YamlProblem(
                    self.line(key_node),
                    "OKR006",
                    f"duplicate key {key!r} (first on line {result.key_lines[key]}); keep one",
                )
            self.check(key_node)
            if isinstance(value_node, yaml.ScalarNode):
                self.check(value_node, self.line(key_node))
                value, raw = self.scalar(value_node)
                if raw is not None:
                    result.raw[key] = raw
            else:
                if id(value_node) in self.seen:
                    self.check(value_node, self.line(key_node))
                value = self.build(value_node, depth + 1)
            result[key] = value
            result.key_lines[key] = self.line(key_node)
        return result

    def build_list(self, node: yaml.SequenceNode, depth: int) -> YamlList:
        result = YamlList()
        result.line, result.item_lines, result.raw = self.line(node), [], []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                self.check(item)
                value, raw = self.scalar(item)
            else:
                value, raw = self.build(item, depth + 1), None
            result.append(value)
            result.item_lines.append(self.line(item))
            result.raw.append(raw)
        return result


def _event_depth(text: str) -> int | None:
    """The 0-based line where collections nest deeper than MAX_DEPTH, else None.

    libyaml's parser is a state machine, but PyYAML's composer recurses once per
    level in C: `- - - - ...` or `? ? ? ...` 50,000 deep on one line segfaults the
    interpreter. So we walk the event stream (flat, no recursion) first."""
    loader = _Loader(text)
    depth = 0
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return _LineIndex(text).line(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.StreamEndEvent):
                break
    finally:
        loader.dispose()
    return None


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
    try:
        too_deep = _event_depth(text)
        if too_deep is not None:
            message = f"front matter nested deeper than {MAX_DEPTH} levels"
            return None, [Diagnostic(path, first_line + too_deep, "OKR008", message)]
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = _LineIndex(text).line(mark) if mark else 0
        line = first_line + at
        problem = exc.problem or "invalid YAML"
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
    if node is None:
        return None, []
    try:
        return _Builder(first_line, text).build(node), []
    except _YamlProblem as problem:
        return None, [Diagnostic(path, problem.line, problem.code, problem.message)]


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

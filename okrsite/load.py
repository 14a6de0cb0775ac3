"""Load stage: find the content files, read them safely, split front matter.

Knows the folder layout of FORMAT.md §1 and nothing about OKR semantics: it
hands `SourceFile`s (front matter as located YAML, body as text) to validation.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from okrsite.diagnostics import Diagnostic
from okrsite.markup import markdown_problem
from okrsite.parse import YamlMap, shared, split_front_matter
from okrsite.pickling import pickled_by_fields
from okrsite.schema import id_problem

CONTENT_DIR = "content"
MAX_FILE_BYTES = 1024 * 1024
EDITOR_DROPPINGS = (".swp", ".swx", ".swo", "~", ".tmp", ".bak", ".orig", ".kate-swp")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SourceFile:
    """One content file, read and split, with its role taken from its path."""

    path: str  # relative to the site folder, '/' separators
    kind: str  # "team" | "okrs" | "checkin"
    team: str
    cycle: str | None
    stem: str  # file name without .md (the date of a check-in)
    front_matter: YamlMap
    body: str
    body_line: int
    digest: bytes  # content_digest


@dataclass
class Content:
    files: list[SourceFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    paths: frozenset[str] = frozenset()  # every content file found, readable or not

    @property
    def file_count(self) -> int:
        return len(self.paths)


def is_ignored(name: str) -> bool:
    """Hidden files and editor droppings (vim's 4913, emacs's .#lock, backups)."""
    return (
        name.startswith((".", "#"))
        or name.endswith(EDITOR_DROPPINGS)
        or name == "4913"
        or not name.endswith(".md")
    )


def classify(rel_path: str) -> tuple[str, str, str | None, str] | str:
    """(kind, team, cycle, stem) for a path under content/, or why it is misplaced."""
    parts = rel_path.split("/")[1:]  # drop "content"
    stem = parts[-1][: -len(".md")]
    if len(parts) == 2 and parts[0] == "teams":
        return ("team", stem, None, stem)
    if len(parts) == 3 and parts[0] == "cycles":
        return ("okrs", stem, parts[1], stem)
    if len(parts) == 4 and parts[0] == "cycles":
        return ("checkin", parts[2], parts[1], stem)
    return (
        "unexpected place: team files go in content/teams/<team>.md, OKRs in "
        "content/cycles/<cycle>/<team>.md, check-ins in content/cycles/<cycle>/<team>/<date>.md"
    )


def discover(site_dir: Path) -> tuple[list[str], list[Diagnostic]]:
    """Every Markdown file under content/, sorted; symlinked folders are not followed."""
    root = site_dir / CONTENT_DIR
    found: list[str] = []
    problems: list[Diagnostic] = []
    if not root.is_dir():
        return [], [Diagnostic(CONTENT_DIR, 0, "OKR025", "no content/ folder in the site")]
    for folder, dirnames, filenames in os.walk(root, followlinks=False, onerror=None):
        rel_folder = Path(folder).relative_to(site_dir).as_posix()
        for name in list(dirnames):
            if name.startswith(".") or os.path.islink(os.path.join(folder, name)):
                dirnames.remove(name)
                if not name.startswith("."):
                    problems.append(
                        Diagnostic(
                            f"{rel_folder}/{name}",
                            0,
                            "OKR001",
                            "is a symbolic link to a folder; okrsite does not follow it",
                        )
                    )
        dirnames.sort()
        found.extend(f"{rel_folder}/{name}" for name in filenames if not is_ignored(name))
    return sorted(found), problems


def read_file(
    site_dir: Path,
    rel_path: str,
    data: bytes | Diagnostic | None = None,
    digest: bytes | None = None,
) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read and split one content file; never raises for bad input. `data`: what
    `read_bytes` gave for it, when the caller has already read it; `digest`: its
    `content_digest`, when the caller has already computed it."""
    role = classify(rel_path)
    if isinstance(role, str):
        return None, [Diagnostic(rel_path, 1, "OKR025", role)]
    kind, team, cycle, stem = (shared(part) for part in role)
    for label, value in (("team id", team), ("cycle id", cycle)):
        problem = value is not None and id_problem(value)
        if problem and not (label == "cycle id" and _standard_cycle_like(value)):
            return None, [Diagnostic(rel_path, 1, "OKR014", f"{label} {value!r} {problem}")]
    if data is None:
        data = read_bytes(site_dir, rel_path)
    if isinstance(data, Diagnostic):
        return None, [data]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Diagnostic(rel_path, line, "OKR002", "is not UTF-8 text; save it as UTF-8")]
    front = split_front_matter(text, rel_path)
    if front.data is None:
        return None, front.diagnostics
    trouble = markdown_problem(front.body)
    if trouble is not None:
        line, why = trouble
        return None, [
            Diagnostic(rel_path, front.body_line + line, "OKR008", f"Markdown body {why}")
        ]
    if digest is None:
        digest = content_digest(data)
    return (
        SourceFile(
            rel_path, kind, team, cycle, stem, front.data, front.body, front.body_line, digest
        ),
        [],
    )


def content_digest(data: bytes) -> bytes:
    """The digest a source file is known by: okrsite/cache.py reuses a file's
    record when its bytes give the digest the record was made with. Raw, not hex:
    every record keeps one (49 bytes, not 81)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def _standard_cycle_like(value: str) -> bool:
    from okrsite.config import standard_cycle

    return standard_cycle(value) is not None


def read_bytes(site_dir: Path, rel_path: str) -> bytes | Diagnostic:
    """The file's bytes, or why not: never blocks (FIFOs), never leaves the site."""
    path = site_dir / rel_path

    def refuse(message: str) -> Diagnostic:
        return Diagnostic(rel_path, 1, "OKR001", message)

    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(site_dir.resolve()):
                return refuse("is a symbolic link out of the site; it is not read")
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return refuse(f"is {kind} (a FIFO, socket or device?); only plain files are read")
        if info.st_size > MAX_FILE_BYTES:
            return refuse(_too_big(info.st_size))
        # O_NONBLOCK: if the file was swapped for a FIFO since stat(), open() won't hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return refuse("is not a regular file; only plain files are read")
            data = handle.read(MAX_FILE_BYTES + 1)  # never more, whatever stat() said
        if len(data) > MAX_FILE_BYTES:
            return refuse(_too_big(len(data)))
        return data
    except RuntimeError:  # symlink loop under Python < 3.13
        return refuse("cannot be read: symbolic link loop")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return refuse("cannot be read: symbolic link loop")
        reason = exc.strerror or str(exc)
        return refuse(f"cannot be read: {reason}")


def _too_big(size: int) -> str:
    return (
        f"is {size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB "
        "per file: split it"
    )


def load_content(site_dir: Path) -> Content:
    paths, problems = discover(site_dir)
    content = Content(diagnostics=problems, paths=frozenset(paths))
    for rel_path in paths:
        source, diagnostics = read_file(site_dir, rel_path)
        content.diagnostics.extend(diagnostics)
        if source is not None:
            content.files.append(source)
    return content

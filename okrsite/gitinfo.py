"""What git knows about a site's sources: last change per file, and old trees.

One `git log` pass over the repository gives, for every file under content/,
the last commit that touched it (its author date, author and hash). Outside a
repository, or without git, every answer is simply "unknown" (None): the
files' own dates are never used, so a build stays reproducible.

Paths are relative to the site folder, like `Source.path`, even when the site
is a sub-folder of a larger repository.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from okrsite.model import changed_positions
from okrsite.views import person_sources

CONTENT_PATHSPEC = "content"
RECORD = "\x1e"  # starts each commit in our log format
UNIT = "\x1f"  # separates the fields of a commit header
LOG_FORMAT = f"{RECORD}%H{UNIT}%aI{UNIT}%an{UNIT}%ae"


class GitError(Exception):
    """git failed, or the revision/repository does not exist; the message says why."""


@dataclass(frozen=True)
class Commit:
    """One commit, as far as pages care: who, when, which."""

    sha: str
    date: dt.datetime  # author date, in the author's own offset
    author: str
    email: str = ""

    @property
    def short(self) -> str:
        return self.sha[:10]

    @property
    def day(self) -> dt.date:
        return self.date.date()


@dataclass(frozen=True)
class GitData:
    """Everything from git that the render stage shows. Plain data, no callbacks."""

    changed: dict[str, Commit] = field(default_factory=dict)  # site path -> last commit
    history: object | None = None  # okrsite.history.History, with --history
    rev: str | None = None  # what --as-of asked for
    commit: Commit | None = None  # the commit it resolved to

    def last_changed(self, paths: list[str] | tuple[str, ...]) -> Commit | None:
        """The latest of the last changes of `paths` (by author date), or None."""
        if not self.changed:  # outside git: no need to look at every path
            return None
        found = [self.changed[p] for p in paths if p in self.changed]
        return max(found, key=lambda c: (c.date, c.sha)) if found else None


NO_GIT = GitData()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Our parsing depends on stable, unlocalised, unpaged, unquoted output.
    env.update(LC_ALL="C", GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in `cwd`; raise GitError with git's own message on failure."""
    if shutil.which("git") is None:
        raise GitError("git is not installed")
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", "-c", "log.showSignature=false", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env=_env(),
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


def in_repository(site_dir: Path) -> bool:
    try:
        return git(site_dir, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except GitError:
        return False


def site_prefix(site_dir: Path) -> str | None:
    """The site folder's path inside its repository ('' at the root, 'okrs/' below), or None."""
    try:
        return git(site_dir, "rev-parse", "--show-prefix").decode("utf-8").strip()
    except GitError:
        return None


def resolve(site_dir: Path, rev: str) -> Commit:
    """The commit `rev` (a hash, tag, branch, HEAD~3...) names; GitError if none."""
    if rev.startswith("-"):
        raise GitError(f"{rev!r} is not a revision")
    if not in_repository(site_dir):
        raise GitError(f"{site_dir} is not in a git repository")
    try:
        out = git(
            site_dir, "log", "-1", "--no-walk", f"--format={LOG_FORMAT}", f"{rev}^{{commit}}", "--"
        )
    except GitError:
        raise GitError(f"{rev!r} is not a commit or tag of this repository") from None
    commits = list(parse_log(out.decode("utf-8", "replace")))
    if not commits:
        raise GitError(f"{rev!r} is not a commit")
    return commits[0][0]


def _header(text: str) -> Commit | None:
    parts = text.split(UNIT)
    if len(parts) < 3:
        return None
    try:
        date = dt.datetime.fromisoformat(parts[1])
    except ValueError:
        return None
    return Commit(parts[0], date, parts[2], parts[3] if len(parts) > 3 else "")


def parse_log(text: str) -> Iterator[tuple[Commit, list[tuple[str, ...]]]]:
    """Parse `git log -z --format=LOG_FORMAT` with --name-only or --raw output.

    Yields (commit, entries); an entry is (path,) for --name-only and
    (old_blob, new_blob, status, path) for --raw --no-abbrev --no-renames.
    """
    for record in text.split(RECORD)[1:]:
        header, _, rest = record.partition("\0")
        commit = _header(header)
        if commit is None:
            continue
        tokens = [t for t in rest.lstrip("\n").split("\0")]
        entries: list[tuple[str, ...]] = []
        i = 0
        while i < len(tokens):
            token = tokens[i].lstrip("\n")
            if not token:
                i += 1
                continue
            if token.startswith(":") and i + 1 < len(tokens):
                meta = token[1:].split()
                if len(meta) >= 5:
                    entries.append((meta[2], meta[3], meta[4], tokens[i + 1]))
                i += 2
                continue
            entries.append((token,))
            i += 1
        yield commit, entries


def read_log(
    site_dir: Path, rev: str, pathspec: str, *detail: str
) -> list[tuple[Commit, list[tuple[str, ...]]]]:
    """One `git log` pass over `pathspec` up to `rev`, paths relative to the site,
    newest first; `detail` picks what each entry lists (`--name-only`, `--raw`)."""
    out = git(
        site_dir,
        "log",
        "-z",
        "--relative",
        "--no-renames",
        *detail,
        f"--format={LOG_FORMAT}",
        rev,
        "--",
        pathspec,
    )
    return list(parse_log(out.decode("utf-8", "replace")))


def last_changes(site_dir: Path, rev: str = "HEAD") -> dict[str, Commit]:
    """Site path -> the last commit (as of `rev`) touching it, for files under content/.

    One `git log --name-only` over the history; {} outside a repository, without
    git, or in a repository without commits yet.
    """
    try:
        log = read_log(site_dir, rev, CONTENT_PATHSPEC, "--name-only")
    except GitError:
        return {}
    changed: dict[str, Commit] = {}
    for commit, entries in log:
        for (path,) in (e[-1:] for e in entries):
            # Log order is newest first: the first commit naming a path is its last change.
            changed.setdefault(path, commit)
    return changed


def read_blobs(site_dir: Path, objects: list[str]) -> dict[str, bytes]:
    """The contents of many objects (blob ids or 'rev:path') in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(o for o in objects if o and "\n" not in o))
    if not wanted:
        return {}
    out = git(site_dir, "cat-file", "--batch", input=("\n".join(wanted) + "\n").encode("utf-8"))
    found: dict[str, bytes] = {}
    stream = io.BytesIO(out)
    for name in wanted:
        header = stream.readline().decode("utf-8", "replace").split()
        if len(header) == 2 and header[1] == "missing":
            continue
        if len(header) < 3:
            break
        size = int(header[2])
        data = stream.read(size)
        stream.read(1)  # the newline after each object
        if header[1] == "blob":
            found[name] = data
    return found


@contextlib.contextmanager
def tree_at(site_dir: Path, rev: str) -> Iterator[Path]:
    """The site folder exactly as it was at `rev`, in a temporary folder.

    Reads git's objects (`git archive`), so the working tree, the index and
    HEAD are never touched. The folder is removed afterwards.
    """
    commit = resolve(site_dir, rev)
    archive = git(site_dir, "archive", "--format=tar", commit.sha)  # the cwd's sub-tree only
    with tempfile.TemporaryDirectory(prefix="okrsite-as-of-") as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
        yield root


@dataclass(frozen=True)
class GitOptions:
    """What a build asks of git. `repo_dir` is the site folder inside its
    repository (for --as-of the build reads a temporary copy, but git runs here)."""

    repo_dir: Path | None = None  # None: the site folder being built
    rev: str = "HEAD"
    history: bool = False
    as_of: bool = False  # building an old revision: no working-tree changes


def git_data(site_dir: Path, options: GitOptions, history: object | None = None) -> GitData:
    """Gather what pages show from git: one `git log` pass (plus --history's)."""
    repo_dir = options.repo_dir or site_dir
    commit = None
    if options.as_of:
        with contextlib.suppress(GitError):
            commit = resolve(repo_dir, options.rev)
    return GitData(
        changed=last_changes(repo_dir, options.rev),
        history=history,
        rev=options.rev if options.as_of else None,
        commit=commit,
    )


def _all_sources(model, cycle_id: str | None = None, memo: dict | None = None) -> list[str]:
    """The content files of the site (or of one cycle). `memo`: a dict the caller
    keeps between calls (the preview server's rebuilds); the list is kept while the
    teams and OKR files are the very same objects and the check-ins the same files."""
    groups = [chs for (c, _), chs in model.checkins.items() if cycle_id in (None, c)]
    kept = memo.get(cycle_id) if memo is not None else None
    if (
        kept is not None
        and kept[0] is model.teams
        and kept[1] is model.okrs
        and _same_files(kept[2], groups)
    ):
        return kept[3]
    paths = [] if cycle_id else [team.source.path for team in model.teams.values()]
    paths += [f.source.path for (c, _), f in model.okrs.items() if cycle_id in (None, c)]
    paths += [ch.source.path for chs in groups for ch in chs]
    if memo is not None:
        memo[cycle_id] = (model.teams, model.okrs, groups, paths)
    return paths


def _same_files(old: list[tuple], new: list[tuple]) -> bool:
    """Whether two lists of groups of check-ins hold check-ins of the same files."""
    if len(old) != len(new):
        return False
    return all(
        [c.source.path for c in old[i]] == [c.source.path for c in new[i]]
        for i in changed_positions(old, new)
    )


def page_sources(context, memo: dict | None = None) -> tuple[list[str], bool]:
    """(the content files a page is made from, whether it is made from exactly that one file).

    Read from the page's template context: a check-in page from its file, a
    team's page in a cycle (and its objective and key result pages) from the
    team's OKR file, a team's page from the team file, a person's page from the
    files that name them; cycle pages from the cycle's files and site-wide pages
    from every content file.
    """
    model = context.get("model")
    if model is None:
        return [], False
    checkin = context.get("checkin")
    if checkin is not None and hasattr(checkin, "source"):
        return [checkin.source.path], True
    person = context.get("people", {}).get(context.get("name"))
    if person is not None:
        return person_sources(model, person), False
    cycle_id, team_id = context.get("cycle_id"), context.get("team_id")
    if team_id and cycle_id and (cycle_id, team_id) in model.okrs:
        return [model.okrs[(cycle_id, team_id)].source.path], True
    if team_id and team_id in model.teams and not cycle_id:
        return [model.teams[team_id].source.path], True
    if cycle_id and cycle_id in model.cycles:
        return _all_sources(model, cycle_id, memo), False
    return _all_sources(model, None, memo), False

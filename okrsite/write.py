"""Write stage: publish rendered files atomically.

Everything is written into a fresh folder beside the output, then swapped in
with renames, so readers (and a failed or killed build) only ever see the old
site or the new one, never a mix. A lock file keeps two builds from swapping
at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from okrsite.render import OutputFile


class PublishError(Exception):
    """The output could not be written; the previous site is untouched."""


def safe_join(root: Path, rel_path: str) -> Path:
    """`root/rel_path`, refusing anything that would land outside `root`."""
    parts = rel_path.split("/")
    if rel_path.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise PublishError(f"refusing to write outside the output folder: {rel_path!r}")
    return root.joinpath(*parts)


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Serialise publishing into one output folder across processes."""
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_tree(root: Path, files: list[OutputFile]) -> None:
    for file in files:
        target = safe_join(root, file.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(file.content)


def publish(out_dir: Path, files: list[OutputFile]) -> None:
    """Replace `out_dir` with exactly `files`, atomically from a reader's view."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists() and not out_dir.is_dir():
        raise PublishError(f"{out_dir} exists and is not a folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        write_tree(staging, files)
        os.chmod(staging, 0o755)
        with build_lock(out_dir):
            _swap(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"cannot write {out_dir}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.rmdir(old)
    os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except OSError:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)

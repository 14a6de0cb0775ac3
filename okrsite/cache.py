"""Caches that make rebuilds cheap: per-file results in memory and on disk.

A `Record` is everything okrsite derives from one content file alone: the load
stage's result (a light `SourceFile` for the cross-file checks, or the load
diagnostics), the per-file validation result (`validate.read_source`: a model
object and its diagnostics), and the safe HTML of every Markdown text in it.
`load_sources` reuses a record while the file's stat signature is unchanged,
or, if the signature changed, while its bytes hash to the same digest; only
the other files are read and parsed, in worker processes when there are many.

`DiskCache` keeps the records and the state of the last published build in
`SITE/.okrsite-cache/` (git-ignored by a `.gitignore` inside it). The file
names okrsite's version and the cache format; anything unreadable, truncated,
from another version or of an unexpected shape is ignored (and rebuilt), so a
bad cache can cost time but never change output.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import hmac
import io
import multiprocessing
import os
import pickle
import secrets
import struct
import sys
import tempfile
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

from okrsite import __version__
from okrsite.diagnostics import Diagnostic
from okrsite.load import SourceFile, content_digest, read_bytes, read_file
from okrsite.markup import MarkdownRenderer
from okrsite.model import CheckIn, Team, TeamOKRs
from okrsite.packed import Packed, text_key
from okrsite.parse import YamlMap
from okrsite.pickling import pickled_by_fields
from okrsite.validate import PerFile, read_source

CACHE_DIR = ".okrsite-cache"
FORMAT = 29
PARALLEL_MIN_FILES = 400  # fewer misses than this are parsed in-process


@pickled_by_fields
@dataclass(slots=True)
class Record:
    """What okrsite knows from one content file alone."""

    path: str
    signature: bytes  # `signature()` when read
    digest: bytes  # of the bytes read (b"" if they could not be read)
    stub: SourceFile | None  # the SourceFile without body/front matter (None: load failed)
    load_diagnostics: tuple[Diagnostic, ...]
    result: PerFile | None  # validate.read_source(source)
    # (packed.text_key(text), its HTML packed) for each Markdown text: pairs, not a dict
    # (one text a file mostly; a dict took 224 bytes a file, the pairs 104)
    html: tuple[tuple[bytes, Packed], ...] = ()


def signature(site_dir: Path, rel_path: str) -> bytes:
    """What tells a file changed without reading it: its mtime, size, inode and ctime,
    packed (a tuple of four large ints took 200 bytes a record); b"" if missing."""
    try:
        info = os.stat(site_dir / rel_path)
    except OSError:
        return b""
    return struct.pack("<qqQq", info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def markdown_texts(found: object, body: str | None = None) -> list[str]:
    """The Markdown texts of a per-file result, as pages render them. `body`: the
    file's body as text, when the caller has it (`found` keeps it packed, and
    unpacking it again right after validation packed it is work done twice)."""
    if not isinstance(found, Team | CheckIn | TeamOKRs):
        return []
    body = found.body if body is None else body
    if isinstance(found, TeamOKRs):
        return [body, *(o.description for o in found.objectives if o.description)]
    return [body]


# Stubs are never changed, so they share these maps (64 and 184 bytes each).
_NO_RAW: dict[str, str] = {}  # they keep no values' source text
_NO_LINES: dict[str, int] = {}


@functools.lru_cache(maxsize=256)
def _date_line(line: int) -> dict[str, int]:
    """A stub's key lines when it has a date: one map per line (it is on line 2 mostly)."""
    return {"date": line}


def _stub(source: SourceFile) -> SourceFile:
    """`source` light enough to keep: the cross-file checks only ask where `date` is."""
    front = YamlMap()
    front.line, front.key_lines, front.raw = source.front_matter.line, _NO_LINES, _NO_RAW
    if "date" in source.front_matter:
        front["date"] = source.front_matter["date"]
        front.key_lines = _date_line(source.front_matter.line_of("date"))
    return replace(source, front_matter=front, body="")


def read_record(
    site_dir: Path, rel_path: str, markdown: MarkdownRenderer, previous: Record | None = None
) -> Record:
    """Read, parse and check one file (or reuse `previous` if its bytes are the same)."""
    sig = signature(site_dir, rel_path)
    data = read_bytes(site_dir, rel_path)
    digest = content_digest(data) if isinstance(data, bytes) else b""
    if previous is not None and digest and previous.digest == digest:
        return replace(previous, signature=sig)
    source, problems = read_file(site_dir, rel_path, data, digest or None)
    if source is None:
        return Record(rel_path, sig, digest, None, tuple(problems), None)
    result = read_source(source)
    keys = {text_key(text): text for text in markdown_texts(result[0], source.body)}
    html = tuple((key, markdown.packed(text, key)) for key, text in keys.items())
    return Record(rel_path, sig, source.digest, _stub(source), tuple(problems), result, html)


# Worker processes (fork) inherit these instead of receiving them by pickle.
_JOB: tuple[Path, dict[str, Record], str] | None = None


def _read_chunk(paths: list[str]) -> list[Record]:
    site_dir, previous, raw_html = _JOB  # type: ignore[misc]
    markdown = MarkdownRenderer(raw_html)
    return [read_record(site_dir, p, markdown, previous.get(p)) for p in paths]


def load_sources(
    site_dir: Path,
    paths: list[str],
    previous: dict[str, Record],
    raw_html: str,
    jobs: int = 1,
) -> tuple[dict[str, Record], list[str]]:
    """Records for `paths` (in order) and the paths that were read anew."""
    records: dict[str, Record] = {}
    misses: list[str] = []
    for rel_path in paths:
        old = previous.get(rel_path)
        if old is not None and old.signature and old.signature == signature(site_dir, rel_path):
            records[rel_path] = old
        else:
            misses.append(rel_path)
    if jobs > 1 and len(misses) >= PARALLEL_MIN_FILES and can_fork():
        global _JOB
        _JOB = (site_dir, previous, raw_html)
        try:
            size = max(50, len(misses) // (jobs * 8))
            chunks = [misses[i : i + size] for i in range(0, len(misses), size)]
            with fork_pool(jobs) as pool:
                for chunk in pool.imap(_read_chunk, chunks):
                    records.update((r.path, r) for r in chunk)
        finally:
            _JOB = None
    else:
        markdown = MarkdownRenderer(raw_html)
        for rel_path in misses:
            records[rel_path] = read_record(site_dir, rel_path, markdown, previous.get(rel_path))
    return {p: records[p] for p in paths}, misses


def can_fork() -> bool:
    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()


def fork_pool(jobs: int):
    """A pool of forked workers: they share the parent's memory (the model, the
    compiled templates) copy-on-write, so nothing big is pickled to them.

    The workers collect garbage even when the parent has paused collection (the
    builder does while it builds): rendering a page leaves about a hundred objects
    in reference cycles, 350 MB a worker over the 60,000 pages of 1,000 teams. The
    parent's heap is frozen (gc.freeze) while they fork, so that their collections
    leave it alone: scanning it would be slow and would copy its memory pages."""
    gc.freeze()
    try:
        return multiprocessing.get_context("fork").Pool(jobs, initializer=gc.enable)
    finally:
        gc.unfreeze()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_MAC_SIZE = 32


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def machine_key() -> bytes | None:
    """A secret kept outside every site (created once, mode 0600), or None."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(home) / "okrsite" / "cache-key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        return path.read_bytes()
    except FileExistsError:  # another build created it just now
        return path.read_bytes()
    except OSError:
        return None


class _SigningWriter:
    """Writes to `handle` and signs what passes: the pickles stream to the file
    instead of being built as one bytes object first (gigabytes at 10,000 teams)."""

    def __init__(self, handle, key: bytes):
        self.handle = handle
        self.mac = hmac.new(key, digestmod=hashlib.sha256)

    def write(self, data) -> int:
        self.mac.update(data)
        return self.handle.write(data)


RECORDS_PER_PICKLE = 100


def _owned(record: Record) -> list[object]:
    """The objects of `record` that the rest of the saved state points at (the
    stages' memos hold them by identity), in a fixed order: a record and this list
    are all that is needed to find them again after loading. Only those: saving
    maps each one to its place, about 90 bytes each (a million at 10,000 teams),
    so the record itself, its diagnostics and the tuples inside model objects,
    which the state reaches only through their owners, are left out."""
    found: list[object] = []
    if record.stub is not None:
        found.append(record.stub)
    if record.result is not None:
        model = record.result[0]
        found.append(record.result)
        if model is not None:
            found.append(model)
        if isinstance(model, TeamOKRs):
            for objective in model.objectives:
                found += [objective, *objective.key_results]
    return found


def _all_owned(records: list[Record]) -> list[object]:
    """`_owned` of every record, in order: an object's place in it is its persistent
    id, the same when saving and after loading."""
    return [obj for record in records for obj in _owned(record)]


_ATOMS = (int, float, type(None))  # pickled as values: no identity to keep


class _Places:
    """Each object of `objects` (by identity) and its place in that list: the
    persistent ids of a save. An object listed twice has its first place.

    Not a dict of ids: at 10,000 teams it held a million int keys and values, about
    100 MB while every part was pickled. Instead, a hash table of ids and places in
    two arrays (open addressing, at most three quarters full), and a byte table
    eight times wider that tells at once most objects that are not there (four in
    five lookups end there): 27 to 53 bytes an object. A lookup takes twice the
    dict's 0.14 µs; saving a 1,000-team build took 2.37 s instead of 2.11.
    """

    def __init__(self, objects: list[object]):
        size = 1 << max(10, (4 * len(objects) // 3).bit_length())
        slot_mask, maybe_mask = size - 1, 8 * size - 1
        ids, places = array("Q", [0]) * size, array("I", [0]) * size
        maybe = bytearray(8 * size)
        for place, obj in enumerate(objects):
            key = id(obj)
            maybe[(key >> 4) & maybe_mask] = 1  # objects are 16-byte aligned
            slot = (key >> 4) & slot_mask
            while ids[slot] and ids[slot] != key:
                slot = (slot + 1) & slot_mask
            if not ids[slot]:  # else met before: it keeps its first place
                ids[slot], places[slot] = key, place

        def find(obj: object) -> int | None:
            """`obj`'s place, or None: called for every object pickled (millions),
            so it reads locals, not attributes."""
            key = id(obj)
            if not maybe[(key >> 4) & maybe_mask]:
                return None
            slot = (key >> 4) & slot_mask
            while found := ids[slot]:
                if found == key:
                    return places[slot]
                slot = (slot + 1) & slot_mask
            return None

        self.find = find


class _Discard:
    def write(self, data) -> int:
        return len(data)


def _pickled_under(root: object, places: _Places) -> list[object]:
    """Every object that pickling `root` meets, but the records' objects (`places`)
    and atoms: what parts pickled apart must refer to, not copy. Found by pickling
    `root` to nowhere, so it is what the parts' picklers will meet."""
    met: dict[int, object] = {}

    def persistent_id(obj: object) -> int | None:
        place = places.find(obj)
        if place is None and not isinstance(obj, _ATOMS):
            met.setdefault(id(obj), obj)
        return place

    pickler = pickle.Pickler(_Discard(), protocol=5)
    pickler.persistent_id = persistent_id
    pickler.dump(root)
    return list(met.values())


class DiskCache:
    """`SITE/.okrsite-cache/state-<version>.pickle`: records and last-build state.

    The file is a MAC, then a sequence of pickles: a header (the cache key, the
    number of records and of parts), the records a hundred at a time, the objects
    the parts share, and the parts of the state, one pickle each. References to
    the records' and the shared objects are persistent ids, so every pickle keeps
    them as the very objects. One pickle of everything would keep the pickler's
    memo of every object, and a copy of each slots object's fields, until the last
    byte is written: 2.1 GB at 10,000 teams. In batches and parts, saving holds
    the memo of one part at a time.
    """

    def __init__(self, site_dir: Path):
        self.folder = site_dir / CACHE_DIR
        self.path = self.folder / f"state-{__version__}-f{FORMAT}.pickle"

    def key(self) -> tuple:
        return (FORMAT, __version__, sys.version_info[:2])

    def load(self) -> dict:
        """The saved state, or {} if there is none or it is unusable in any way.

        The file is unpickled only if its HMAC matches this machine's key: the
        cache sits in the site folder, and a pickle someone committed there
        must never run code on the build machine.
        """
        key = machine_key()
        try:
            data = self.path.read_bytes()
            view = memoryview(data)  # slices without copying (100s of MB)
            mac, payload = view[:_MAC_SIZE], view[_MAC_SIZE:]
            if key is None or not hmac.compare_digest(mac, _mac(key, payload)):
                return {}
            stream = io.BytesIO(data)  # shares `data`'s buffer: no copy
            stream.seek(_MAC_SIZE)
            enabled = gc.isenabled()
            gc.disable()  # unpickling many objects: no point scanning them
            try:
                state = self._read(stream)
            finally:
                if enabled:
                    gc.enable()
        except Exception:  # missing, truncated, corrupt, from another okrsite: ignore
            return {}
        if not isinstance(state, dict) or not isinstance(state.get("records"), dict):
            return {}
        return state

    def _read(self, stream: io.BytesIO) -> dict | None:
        header = pickle.load(stream)
        if not isinstance(header, dict) or header.get("key") != self.key():
            return None
        records: list[Record] = []
        while len(records) < header["records"]:
            records += pickle.load(stream)
        known = _all_owned(records)
        known += self._unpickle(stream, known)  # the objects the parts share
        state = {}
        for _ in range(header["parts"]):
            state.update(self._unpickle(stream, known))
        state["records"] = {record.path: record for record in records}
        return state

    @staticmethod
    def _unpickle(stream: io.BytesIO, known: list[object]):
        unpickler = pickle.Unpickler(stream)
        unpickler.persistent_load = known.__getitem__
        return unpickler.load()

    def save(
        self, records: dict[str, Record], parts: list[dict[str, object]], shared: object = None
    ) -> None:
        """Save `records` and `parts` of the state (each a dict, merged again by `load`).

        Objects that two parts hold must be reachable from `shared` (or belong to a
        record), or each part loads a copy of its own. Writes atomically (a temporary
        file renamed over the old one); errors are ignored."""
        key = machine_key()
        if key is None:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# okrsite's build cache: safe to delete\n*\n")
            for old in self.folder.glob("state-*.pickle"):
                if old != self.path:
                    old.unlink()
            fd, temp = tempfile.mkstemp(prefix=".state-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(bytes(_MAC_SIZE))  # the MAC goes here once it is known
                    signed = _SigningWriter(handle, key)
                    self._write(signed, list(records.values()), parts, shared)
                    handle.seek(0)
                    handle.write(signed.mac.digest())
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise

    def _write(
        self, file: _SigningWriter, records: list[Record], parts: list[dict], shared: object
    ) -> None:
        header = {"key": self.key(), "records": len(records), "parts": len(parts)}
        pickle.dump(header, file, protocol=5)
        for start in range(0, len(records), RECORDS_PER_PICKLE):
            pickle.dump(records[start : start + RECORDS_PER_PICKLE], file, protocol=5)
        owned = _all_owned(records)
        places = _Places(owned)
        common = _pickled_under(shared, places)  # holds them: their ids stay theirs
        self._pickle(file, common, places)
        places = _Places(owned + common)
        del owned
        for part in parts:
            self._pickle(file, part, places)

    @staticmethod
    def _pickle(file: _SigningWriter, obj: object, places: _Places) -> None:
        pickler = pickle.Pickler(file, protocol=5)
        pickler.persistent_id = places.find
        pickler.dump(obj)

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

"""Texts kept zlib-packed in memory: the build holds them all until its end.

A build keeps every check-in's Markdown narrative (in its model object) and that
narrative's safe HTML (in the records, for the pages that show it) from loading
until the cache is saved. Packed, each takes about half its size; unpacking one
costs about 10 µs, against 3.5 ms to render a narrative again.

Packed texts of some size are not held in memory at all but in this process's
spill file (`Spilled`): an unlinked temporary file that the kernel keeps in its
page cache while memory is free and may write out when it is not. At 10,000
teams they were about 0.4 GB of the build's resident memory. Reading one back is a
`pread`, about 2 µs. A pickle of a `Spilled` carries its bytes, so the on-disk
cache and the results of worker processes hold the texts themselves.

Numbers from YAML (a check-in's values, a key result's history) are packed as
doubles with two flag bits each (`pack_number`), so that an int comes back an
int (`1` prints as `1`, not `1.0`) and None comes back None. A series of
(date, float), an objective's or a team's progress over time, is packed as rows of
a day and a double (`pack_series`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import struct
import tempfile
import threading
import zlib

SPILL_FROM = 96  # bytes: shorter packed texts stay in memory (a Spilled and its int: 76)


class Spilled:
    """A packed text kept in the spill file, not in memory: where it is, as one int
    (the file's number, the offset and the length)."""

    __slots__ = ("_where",)

    def __init__(self, where: int) -> None:
        self._where = where

    def data(self) -> bytes:
        return _SPILL.read(self._where)

    def __len__(self) -> int:
        return self._where & ((1 << _SpillFile._LENGTH) - 1)

    def __reduce__(self):
        return _kept, (self.data(),)  # the bytes: the reader spills them into its own file

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spilled) and (
            self._where == other._where or self.data() == other.data()
        )

    def __hash__(self) -> int:
        return hash(self.data())

    def __repr__(self) -> str:
        return f"Spilled({self.data()!r})"


Packed = bytes | Spilled


class _SpillFile:
    """This process's spill files: where `keep` appends, and every file a `Spilled`
    can point at. A forked child reads its parent's file (inherited) but appends to
    a file of its own: two processes appending to one file would race for offsets."""

    _LENGTH, _OFFSET = 32, 40  # bits of a Spilled's length and offset

    def __init__(self) -> None:
        self._files: list[int] = []  # descriptors, by a Spilled's file number
        self._writing: int | None = None  # the file number this process appends to
        self._end = 0
        self._broken = False  # a write failed (disk full): keep texts in memory
        self._lock = threading.Lock()

    def keep(self, data: bytes) -> Packed:
        """`data` spilled, or `data` itself if short, too long, or the file failed."""
        if len(data) < SPILL_FROM or len(data) >= 1 << self._LENGTH or self._broken:
            return data
        with self._lock:
            try:
                if self._writing is None:
                    self._open()
                fd, offset = self._files[self._writing], self._end  # type: ignore[index]
                written = 0
                while written < len(data):
                    written += os.pwrite(fd, memoryview(data)[written:], offset + written)
            except OSError:
                self._broken = True
                return data
            self._end += len(data)
            number = self._writing
        return Spilled((number << self._OFFSET | offset) << self._LENGTH | len(data))  # type: ignore[operator]

    def read(self, where: int) -> bytes:
        length = where & ((1 << self._LENGTH) - 1)
        offset = where >> self._LENGTH & ((1 << self._OFFSET) - 1)
        fd = self._files[where >> (self._LENGTH + self._OFFSET)]
        data = os.pread(fd, length, offset)
        while len(data) < length:  # a short read: rare, but allowed
            more = os.pread(fd, length - len(data), offset + len(data))
            if not more:  # never, short of the kernel losing a private file
                raise OSError(f"okrsite's spill file ends before byte {offset + length}")
            data += more
        return data

    def _open(self) -> None:
        with tempfile.TemporaryFile(prefix="okrsite-spill-") as handle:  # unlinked at once
            self._files.append(os.dup(handle.fileno()))
        self._writing, self._end = len(self._files) - 1, 0

    def forked(self) -> None:
        self._writing, self._lock = None, threading.Lock()


_SPILL = _SpillFile()
os.register_at_fork(after_in_child=_SPILL.forked)


def _kept(data: bytes) -> Packed:
    return _SPILL.keep(data)


def pack(text: str) -> Packed:
    """zlib-compressed UTF-8 behind a b"z", or the UTF-8 itself behind a b"=" when
    compressing would not make it smaller (short texts); spilled if not short."""
    data = text.encode("utf-8")
    small = zlib.compress(data, 1)
    return _SPILL.keep(b"z" + small if len(small) < len(data) else b"=" + data)


def unpack(packed: Packed) -> str:
    if type(packed) is Spilled:
        packed = packed.data()
    if packed[:1] == b"z":
        return zlib.decompress(memoryview(packed)[1:]).decode("utf-8")
    return packed[1:].decode("utf-8")


def text_key(text: str) -> bytes:
    """What identifies a text in the memo of rendered HTML, without keeping the text
    (16 bytes of BLAKE2b; about 2 µs for a narrative)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


_INT, _NONE = 1, 2  # a packed number's two flag bits; neither: a float


def pack_number(value: object) -> tuple[float, int] | None:
    """`value` (a float, an int or None) as a double and its two flag bits; None if
    a double cannot hold it exactly (a bool, a huge int, anything else)."""
    if value is None:
        return 0.0, _NONE
    if type(value) is float:
        return value, 0
    if type(value) is int and float(value) == value:
        return float(value), _INT
    return None


def unpack_number(packed: float, flags: int) -> float | int | None:
    """The number `pack_number` packed, by the lowest two bits of `flags`."""
    bits = flags & 3
    return packed if not bits else None if bits == _NONE else int(packed)


@functools.lru_cache(maxsize=4096)
def date_of(ordinal: int) -> dt.date:
    """One date object per day for every unpacked point (a cycle has a few hundred)."""
    return dt.date.fromordinal(ordinal)


_SERIES_ROW = struct.Struct("<id")  # a day's ordinal and a double: 12 bytes


def pack_series(series: list[tuple[dt.date, float]]) -> bytes | list[tuple[dt.date, float]]:
    """`series` as bytes, or as it is if a row is not exactly a date and a float.

    As objects, a row is a tuple and a float, 88 bytes: the memo of objectives' and
    teams' progress over time held about 0.08 GB at 10,000 teams. Packed, 12 bytes."""
    rows = bytearray()
    for day, value in series:
        if type(day) is not dt.date or type(value) is not float:
            return series
        rows += _SERIES_ROW.pack(day.toordinal(), value)
    return bytes(rows)


def unpack_series(packed: bytes | list[tuple[dt.date, float]]) -> list[tuple[dt.date, float]]:
    """The series `pack_series` packed: a new list, which the caller may change."""
    if type(packed) is not bytes:
        return list(packed)
    return [(date_of(ordinal), value) for ordinal, value in _SERIES_ROW.iter_unpack(packed)]

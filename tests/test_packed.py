"""Packed texts (okrsite/packed.py): spilled to a file, exact after every round trip."""

from __future__ import annotations

import multiprocessing
import os
import pickle

import pytest

from okrsite import packed
from okrsite.packed import SPILL_FROM, Spilled, pack, unpack

NARRATIVE = "\n\n".join(f"Week {n}: *shipped* the {n}th fix, no blockers." for n in range(30))


def test_long_texts_are_spilled_and_come_back_as_written() -> None:
    """A text packed to SPILL_FROM bytes or more lives in the spill file, not in
    memory; a shorter one stays bytes. Both unpack to the very text, and a pickle of
    a spilled one carries its bytes (the on-disk cache, worker results)."""
    long, short = pack(NARRATIVE), pack("Calm.")
    assert type(long) is Spilled and SPILL_FROM <= len(long) < len(NARRATIVE) / 2
    assert type(short) is bytes and unpack(short) == "Calm."
    assert unpack(long) == NARRATIVE
    again = pickle.loads(pickle.dumps(long, protocol=5))
    assert type(again) is Spilled and again == long and unpack(again) == NARRATIVE
    assert long != pack(NARRATIVE + "!") and hash(again) == hash(long)


def _in_child(parent_text: Spilled, to_parent, parent_wrote) -> None:
    # Reads what the parent spilled and spills its own text; after the parent has
    # spilled again, reads its own back and sends it (by pickle: its bytes).
    mine = pack(NARRATIVE + " (child)")
    to_parent.put(unpack(parent_text))
    parent_wrote.wait(60)
    to_parent.put((unpack(mine), mine))


def test_a_forked_child_reads_its_parents_texts_and_spills_its_own() -> None:
    """A forked worker (loading, rendering) inherits the parent's spill file and
    reads it, but appends to a file of its own: were both to append to one, each
    would write over the other's texts. What the child sends back arrives whole."""
    before = pack(NARRATIVE)
    context = multiprocessing.get_context("fork")
    to_parent, parent_wrote = context.Queue(), context.Event()
    child = context.Process(target=_in_child, args=(before, to_parent, parent_wrote))
    child.start()
    assert to_parent.get(timeout=60) == NARRATIVE
    after = pack(NARRATIVE + " (parent)")
    parent_wrote.set()
    read_back, made = to_parent.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and read_back == NARRATIVE + " (child)"
    assert unpack(made) == NARRATIVE + " (child)"
    assert unpack(after) == NARRATIVE + " (parent)" and unpack(before) == NARRATIVE


def test_a_failing_spill_file_keeps_texts_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk full or a read-only temporary folder: packing goes on in memory, and
    what was spilled before stays readable."""
    spilled = pack(NARRATIVE)
    spill = packed._SpillFile()
    monkeypatch.setattr(packed, "_SPILL", spill)

    def full(*args) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    kept = pack(NARRATIVE)
    assert type(kept) is bytes and unpack(kept) == NARRATIVE
    assert type(pack(NARRATIVE)) is bytes  # no retry of a broken file on every text
    monkeypatch.undo()
    assert unpack(spilled) == NARRATIVE


def test_a_series_comes_back_equal_and_of_the_same_types() -> None:
    """An objective's progress over time, kept packed in the views' memo, comes back
    as the same (date, float) rows; a row of another kind keeps the series as it is."""
    import datetime as dt

    series = [(dt.date(2026, 10, 5), 0.0), (dt.date(2026, 10, 12), 0.1 + 0.2)]
    kept = packed.pack_series(series)
    assert type(kept) is bytes and len(kept) == 24
    again = packed.unpack_series(kept)
    assert again == series and [type(v) for _, v in again] == [float, float]
    assert all(type(day) is dt.date for day, _ in again)
    odd = [(dt.date(2026, 10, 5), 1)]  # an int would come back a float
    assert packed.pack_series(odd) is odd and packed.unpack_series(odd) == odd
    assert packed.unpack_series(odd) is not odd  # the caller's to change

"""The wire vocabulary is one: walstream/pg/wire.py (Python) and walstream/wire.h (C) name the
same bytes, offsets and sizes, and the C extensions are really built where the tests run (an
optional extension that failed to compile would otherwise pass unnoticed, on the slow path)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from walstream.pg import wire

ROOT = Path(__file__).resolve().parent.parent


def test_the_c_extensions_are_built() -> None:
    for name in ("walstream._accel", "walstream._columns"):
        assert importlib.import_module(name) is not None


def test_every_constant_of_wire_h_is_the_same_in_wire_py() -> None:
    accel = importlib.import_module("walstream._accel")
    header = (ROOT / "walstream" / "wire.h").read_text()
    defined = set(re.findall(r"^#define (WIRE_[A-Z0-9_]+) ", header, re.M))
    exported = {name for name in dir(accel) if name.startswith("WIRE_")}
    assert defined == exported, "export every wire.h constant from _accel (PyInit__accel)"
    differ = {
        name: (getattr(accel, name), getattr(wire, name.removeprefix("WIRE_"), None))
        for name in exported
        if getattr(accel, name) != getattr(wire, name.removeprefix("WIRE_"), None)
    }
    assert differ == {}


def test_the_layouts_have_the_documented_sizes() -> None:
    # PostgreSQL's protocol documentation: XLogData 'w' + 3 Int64; keepalive 'k' + 2 Int64 +
    # Byte1; Begin 'B' + Int64 + Int64 + Int32; Commit 'C' + Int8 + 3 Int64.
    assert wire.XLOG_PAYLOAD == 25 and wire.KEEPALIVE_SIZE == 18
    assert wire.BEGIN_SIZE == 21 and wire.COMMIT_SIZE == 26
    assert wire.STATUS.size == 34


@pytest.mark.parametrize("kind", sorted(wire.CHANGES))
@pytest.mark.parametrize("part", [wire.PART_NEW, wire.PART_KEY, wire.PART_OLD, ord("x")])
def test_the_fast_shapes(kind: int, part: int) -> None:
    expected = {
        (wire.INSERT, wire.PART_NEW),
        (wire.UPDATE, wire.PART_NEW),
        (wire.DELETE, wire.PART_KEY),
        (wire.DELETE, wire.PART_OLD),
    }
    assert wire.fast_shape(kind, part) == ((kind, part) in expected)


def test_no_other_module_spells_a_kind_byte() -> None:
    """The pgoutput and replication readers name their bytes through wire.py."""
    pattern = re.compile(r"ord\(\"[A-Za-z]\"\)|\b0x(?:77|6B|4E|4B|4F|6E|75|74|62|45|49|55|44|54)\b")
    offenders = []
    for path in [*(ROOT / "walstream" / "pg").glob("*.py"), ROOT / "walstream/pipeline/runner.py"]:
        if path.name == "wire.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and '"""' not in line and "``" not in line:
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_the_begin_and_commit_offsets_match_their_layouts() -> None:
    begin = wire.BEGIN_BODY.pack(0x1122, 33, 44)
    assert wire.BEGIN_BODY.unpack_from(b"B" + begin, wire.BEGIN_FINAL_LSN)[0] == 0x1122
    assert int.from_bytes(begin[wire.BEGIN_XID - 1 :], "big") == 44
    assert int.from_bytes(begin[wire.BEGIN_COMMIT_TS - 1 : wire.BEGIN_XID - 1], "big") == 33
    commit = b"C" + wire.COMMIT_BODY.pack(0, 0x55, 0x66, 7)
    assert int.from_bytes(commit[wire.COMMIT_LSN : wire.COMMIT_LSN + 8], "big") == 0x55
    assert int.from_bytes(commit[wire.COMMIT_END_LSN : wire.COMMIT_END_LSN + 8], "big") == 0x66

"""The C read loop (walstream/_accel.c via walstream.capture.fastpath) against the Python one.

Three things must hold: the extension is there wherever it can be built (else walstream would
silently run its slower loop); a real stream read by either loop gives the same rows, every
column and position; and drain() itself, fed hostile frames through a stand-in for
libpq, takes exactly the frames the Python loop would take the fast way, appends exactly
their bytes, and hands everything else back untouched.
"""

from __future__ import annotations

import shutil
import struct
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.changes import change_files, read_table
from tests.conftest import PgDatabase
from tests.oracle_workload import Workload, setup_source
from tests.streaming import run_to_current
from tests.wire_bytes import COMMIT, HEADER, FakeLibpq, begin, change, commit, xlog
from walstream.capture import switch
from walstream.capture.batch import Txn
from walstream.pg.wire import PG_EPOCH_US

TABLES = ("public.accounts", "public.lines", "public.Mixed Case", "public.events")


def test_the_extension_is_built_and_bound_to_psycopgs_libpq() -> None:
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not (shutil.which("cc") or shutil.which("gcc")) or not include.exists():
        pytest.skip("no C compiler or Python headers here: walstream runs its Python loop")
    module, why = switch.read_loop()
    assert module is not None, why
    assert "libpq" in why


class CountingAccel:
    """The real module, counting what drain() and drain_txns() take (proof the C loop did the
    work) and the transactions drain_txns() committed or handed over."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.taken = 0
        self.commits = 0
        self.handoffs = 0
        self.spilled = 0
        self.replayed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)  # the constants (DRAIN_*, WIRE_*)

    def drain(self, *args: Any) -> Any:
        result = self.real.drain(*args)
        self.taken += result.taken
        return result

    def spill(self, *args: Any) -> Any:
        result = self.real.spill(*args)
        self.spilled += result.taken
        return result

    def replay(self, *args: Any) -> Any:
        result = self.real.replay(*args)
        self.replayed += result.taken
        return result

    def drain_txns(self, *args: Any) -> Any:
        result = self.real.drain_txns(*args)
        self.taken += result.taken
        self.commits += result.commits
        self.handoffs += result.handoff is not None
        return result


@pytest.mark.parametrize(("binary", "flush_rows"), [("on", 1_000_000), ("off", 7)])
def test_c_and_python_read_loops_write_the_same_files(
    db: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, binary: str, flush_rows: int
) -> None:
    real, why = switch.read_loop()
    if real is None:
        pytest.skip(f"C read loop unavailable: {why}")
    setup_source(db)
    db.execute("SELECT pg_copy_logical_replication_slot('sf_sync', 'sf_python')")
    Workload(11).run(db, transactions=80)
    # one transaction over several flushes when flush_rows is small: cut batches
    db.execute("INSERT INTO events (payload) SELECT 'e' || g FROM generate_series(1, 300) g")
    # one the server streams before it commits (over 64kB of decoding memory): spilled, then
    # replayed at its commit
    # (with flush_rows=7 it is also cut into 430 flushes while the read loop is not reading:
    # the flusher's wake-ups once filled their socket and blocked it)
    streamed = 3000
    db.execute(
        "INSERT INTO events (payload) SELECT repeat('s', 300) FROM generate_series(1, %s)",
        (streamed,),
    )
    counting = CountingAccel(real)
    monkeypatch.setattr(switch, "read_loop", lambda: (counting, "counting"))
    c_dest = f"file://{tmp_path}/c"
    small = {"flush_rows": flush_rows, "binary": binary, "decoding_work_mem": "64kB"}
    run_to_current(db, c_dest, **small)
    monkeypatch.setattr(switch, "read_loop", lambda: (None, "disabled by the test"))
    py_dest = f"file://{tmp_path}/python"
    run_to_current(db, py_dest, slot="sf_python", **small)

    assert counting.taken > 300  # most changes went through C
    assert counting.spilled > streamed / 2 and counting.replayed > streamed / 2  # streamed too
    # and whole transactions, Begin to Commit, some of them handed to Python half-way
    assert counting.commits > 5 and counting.handoffs > 5
    # where files are cut depends on when each loop looks at its budget and the clock; what
    # they hold, row by row with every column and position, must not
    assert set(change_files(c_dest)) == set(change_files(py_dest)) == set(TABLES)
    for table in TABLES:
        assert read_table(c_dest, table, dedupe=False) == read_table(py_dest, table, dedupe=False)


# -- drain() on a stand-in libpq --------------------------------------------------------------
@pytest.fixture
def accel() -> Iterator[Any]:
    module, why = switch.read_loop()
    if module is None:
        pytest.skip(f"C read loop unavailable: {why}")
    yield module
    switch.read_loop.cache_clear()  # bind the real libpq again
    assert switch.read_loop()[0] is not None


def python_takes(frame: bytes, targets: set[int], limit: int) -> bool:
    """Runner._change's fast-path rule, as the C loop must apply it."""
    if len(frame) < 33 or frame[0:1] != b"w" or len(frame) - 25 > limit:
        return False
    kind, part = frame[25:26], frame[30:31]
    ok = part == b"N" if kind in (b"I", b"U") else kind == b"D" and part in (b"K", b"O")
    return ok and int.from_bytes(frame[26:30], "big") in targets


def target() -> tuple[bytearray, bytearray, bytearray, bytearray]:
    return bytearray(), bytearray(8), bytearray(), bytearray()


def test_drain_takes_fast_changes_and_returns_the_rest(accel: Any) -> None:
    row = b"\x00\x01t\x00\x00\x00\x02hi"
    frames = [
        xlog(change(b"I", 7, b"N", row), end=0x2000),
        xlog(change(b"D", 7, b"K", row), end=0x3000),
        xlog(change(b"U", 7, b"O", row + b"N" + row)),  # carries the old row: Python decodes
    ]
    fake = FakeLibpq(frames)
    accel.init(*fake.addresses())
    t = target()
    txn = Txn(5, 0x100, 0, seq=40)
    status, frame, count, payload, end, *_ = accel.drain(0, 256, 1 << 20, {7: t}, txn)
    assert (status, count, end) == (accel.DRAIN_FRAME, 2, 0x3000)
    assert frame == frames[2] and payload == 2 * (len(frames[0]) - 25)
    data, offsets, ops, seqs = t
    assert bytes(data) == row * 2 and bytes(ops) == b"ID"
    assert struct.unpack("=3q", offsets) == (0, len(row), 2 * len(row))
    assert struct.unpack("=2q", seqs) == (40, 41) and txn.seq == 42
    assert fake.outstanding == 0


def test_drain_stops_at_its_limit_when_empty_and_at_the_end(accel: Any) -> None:
    row = b"\x00\x00"
    frames = [xlog(change(b"I", 1, b"N", row))] * 5
    fake = FakeLibpq(frames, end=-1)
    accel.init(*fake.addresses())
    t = target()
    txn = Txn(None, 1, 0)
    assert accel.drain(0, 3, 100, {1: t}, txn)[:3] == (accel.DRAIN_LIMIT, None, 3)
    assert accel.drain(0, 3, 100, {1: t}, txn)[:3] == (accel.DRAIN_END, None, 2)
    assert txn.seq == 5 and len(t[2]) == 5
    empty = FakeLibpq([])
    accel.init(*empty.addresses())
    assert accel.drain(0, 3, 100, {1: t}, txn)[:3] == (accel.DRAIN_EMPTY, None, 0)
    assert txn.seq == 5  # nothing taken: seq untouched


def test_drain_refuses_targets_that_are_not_buffers(accel: Any) -> None:
    fake = FakeLibpq([xlog(change(b"I", 1, b"N", b"\x00\x00"))])
    accel.init(*fake.addresses())
    with pytest.raises(TypeError, match="tuple of 4 bytearrays"):
        accel.drain(0, 3, 100, {1: [bytearray()] * 4}, Txn(None, 1, 0))
    assert fake.outstanding == 0


frame_bytes = st.one_of(
    st.binary(min_size=1, max_size=40),  # anything (0 bytes means "no frame" to libpq)
    st.builds(
        lambda kind, oid, part, row, end: xlog(change(kind, oid, part, row), end),
        st.sampled_from([b"I", b"U", b"D", b"B", b"C", b"R", b"T"]),
        st.sampled_from([1, 2, 3]),
        st.sampled_from([b"N", b"K", b"O", b"X"]),
        st.binary(max_size=60),
        st.integers(0, 2**64 - 1),
    ),
    st.builds(lambda tail: b"w" + tail, st.binary(max_size=40)),
    st.builds(lambda tail: b"k" + tail, st.binary(min_size=17, max_size=17)),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=st.lists(frame_bytes, max_size=12), limit=st.sampled_from([8, 40, 1 << 20]))
def test_drain_agrees_with_the_python_rule_on_any_frames(
    accel: Any, frames: list[bytes], limit: int
) -> None:
    fake = FakeLibpq(frames)
    accel.init(*fake.addresses())
    targets = {1: target(), 2: target()}
    txn = Txn(None, 1, 0)
    expected: dict[int, list[tuple[int, bytes]]] = {1: [], 2: []}
    taken = 0
    stop: bytes | None = None
    for frame in frames:
        if not python_takes(frame, set(targets), limit):
            stop = frame
            break
        expected[int.from_bytes(frame[26:30], "big")].append((frame[25], frame[31:]))
        taken += 1
    run = accel.drain(0, 256, limit, targets, txn)
    status, returned, count = run.status, run.frame, run.taken
    assert count == taken and returned == stop
    assert status == (accel.DRAIN_FRAME if stop is not None else accel.DRAIN_EMPTY)
    for oid, rows in expected.items():
        data, offsets, ops, _ = targets[oid]
        assert bytes(ops) == bytes(kind for kind, _ in rows)
        assert bytes(data) == b"".join(row for _, row in rows)
        assert len(offsets) == 8 * (len(rows) + 1)
    assert txn.seq == taken and fake.outstanding == 0


# -- drain_txns(): whole transactions in C ----------------------------------------------------
def entry(row_cost: int = 100) -> tuple[Any, ...]:
    return (*target(), bytearray(), row_cost, "the batch")


def test_drain_txns_commits_whole_transactions(accel: Any) -> None:
    row = b"\x00\x01t\x00\x00\x00\x02hi"
    frames = [
        begin(0x500, 77, ts=9),
        xlog(change(b"I", 7, b"N", row)),
        xlog(change(b"U", 8, b"N", row)),
        xlog(change(b"D", 7, b"K", row)),
        commit(0x500, 0x600),
        begin(0x700, 78),
        xlog(change(b"I", 8, b"N", row)),
        commit(0x700, 0x800),
    ]
    fake = FakeLibpq(frames)
    accel.init(*fake.addresses())
    tables = {7: entry(), 8: entry()}
    status, frame, count, payload, end, commits, commit_end, handoff = accel.drain_txns(
        0, 256, 1 << 20, tables, 1000, 1 << 30
    )
    assert (status, frame, count, commits, commit_end, handoff) == (
        accel.DRAIN_EMPTY,
        None,
        4,
        2,
        0x800,
        None,
    )
    assert payload == sum(len(f) - 25 for f in frames) and end == 0x800
    data, offsets, ops, seqs, runs, _, _ = tables[7]
    assert struct.unpack("=3q", offsets) == (0, len(row), 2 * len(row))
    assert bytes(ops) == b"ID" and bytes(data) == row * 2
    assert struct.unpack("=2q", seqs) == (0, 2)  # seq counts the transaction's rows
    assert list(struct.iter_unpack("=4q", runs)) == [(0, 0x500, 77, 9 + PG_EPOCH_US)]
    _, _, ops8, seqs8, runs8, _, _ = tables[8]
    assert bytes(ops8) == b"UI" and struct.unpack("=2q", seqs8) == (1, 0)
    assert list(struct.iter_unpack("=4q", runs8)) == [
        (0, 0x500, 77, 9 + PG_EPOCH_US),
        (1, 0x700, 78, 5 + PG_EPOCH_US),
    ]
    assert fake.outstanding == 0


def test_drain_txns_hands_a_transaction_to_python_where_it_stops(accel: Any) -> None:
    row = b"\x00\x00"
    other = xlog(change(b"I", 9, b"N", row))  # a table C does not know
    fake = FakeLibpq([begin(0x500, 77), xlog(change(b"I", 7, b"N", row)), other])
    accel.init(*fake.addresses())
    tables = {7: entry(), 8: entry()}
    result = accel.drain_txns(0, 256, 1 << 20, tables, 1000, 1 << 30)
    status, frame, count, _, _, commits, _, handoff = result
    assert (status, frame, count, commits) == (accel.DRAIN_FRAME, other, 1, 0)
    assert handoff == (77, 0x500, 5 + PG_EPOCH_US, 1, 1, [(7, tables[7], 0)])
    # named records: Python reads them by name, never by position
    assert type(result).__name__ == "Run" and result.handoff is handoff
    assert (handoff.xid, handoff.final_lsn, handoff.seq, handoff.rows) == (77, 0x500, 1, 1)
    (mark,) = handoff.marks
    assert (mark.oid, mark.entry, mark.rows_before) == (7, tables[7], 0)
    # stopping at its frame limit inside a transaction hands it over as well
    fake = FakeLibpq([begin(0x900, 78), xlog(change(b"I", 8, b"N", row))] * 2)
    accel.init(*fake.addresses())
    result = accel.drain_txns(0, 2, 1 << 20, tables, 1000, 1 << 30)
    assert result[0] == accel.DRAIN_LIMIT and result[7] == (
        78,
        0x900,
        5 + PG_EPOCH_US,
        1,
        1,
        [(8, tables[8], 0)],
    )
    assert fake.outstanding == 0


@pytest.mark.parametrize(
    "odd",
    [
        commit(0x501, 0x600),  # not the Begin's final LSN: Python raises
        xlog(COMMIT.pack(b"C", 0, 0x500, 0x600, 5) + b"x"),  # wrong size: Python raises
        xlog(b"R" + bytes(20)),  # a Relation message: Python decodes it
        HEADER.pack(b"k", 1, 2, 3)[:18],  # a keepalive
    ],
)
def test_drain_txns_leaves_anything_unusual_to_python(accel: Any, odd: bytes) -> None:
    row = b"\x00\x00"
    fake = FakeLibpq([begin(0x500, 77), xlog(change(b"I", 7, b"N", row)), odd])
    accel.init(*fake.addresses())
    result = accel.drain_txns(0, 256, 1 << 20, {7: entry()}, 1000, 1 << 30)
    assert result[0] == accel.DRAIN_FRAME and result[1] == odd and result[5] == 0
    assert result[7] is not None and result[7][4] == 1
    # an empty transaction's Commit is Python's too (it moves the idle position instead)
    fake = FakeLibpq([begin(0x500, 77), commit(0x500, 0x600)])
    accel.init(*fake.addresses())
    result = accel.drain_txns(0, 256, 1 << 20, {7: entry()}, 1000, 1 << 30)
    assert result[1] == commit(0x500, 0x600) and result[7] == (77, 0x500, 5 + PG_EPOCH_US, 0, 0, [])


def test_drain_txns_stops_after_the_commit_that_fills_the_budget(accel: Any) -> None:
    row = b"\x00\x00"
    txn = [begin(0x500, 77), xlog(change(b"I", 7, b"N", row)), commit(0x500, 0x600)]
    for row_room, byte_room in ((1, 1 << 30), (1000, 2 * len(row) + 100)):
        fake = FakeLibpq(txn * 2)
        accel.init(*fake.addresses())
        result = accel.drain_txns(0, 256, 1 << 20, {7: entry(100)}, row_room, byte_room)
        assert result[0] == accel.DRAIN_LIMIT and result[5] == 1 and result[7] is None
        assert len(fake.frames) == 3
    with pytest.raises(TypeError, match="drain_txns table"):
        fake = FakeLibpq(txn)
        accel.init(*fake.addresses())
        accel.drain_txns(0, 256, 1 << 20, {7: target()}, 1000, 1 << 30)
    assert fake.outstanding == 0


txn_frame_bytes = st.one_of(
    frame_bytes,
    st.builds(lambda lsn, xid: begin(lsn, xid), st.sampled_from([1, 2]), st.integers(0, 2**32 - 1)),
    st.builds(lambda lsn: commit(lsn, 0x99), st.sampled_from([1, 2])),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=st.lists(txn_frame_bytes, max_size=16), limit=st.sampled_from([8, 1 << 20]))
def test_drain_txns_agrees_with_a_model_on_any_frames(
    accel: Any, frames: list[bytes], limit: int
) -> None:
    fake = FakeLibpq(frames)
    accel.init(*fake.addresses())
    tables = {1: entry(), 2: entry()}
    # the model: whole transactions of fast changes of known tables, anything else stops it
    ops: dict[int, bytes] = {1: b"", 2: b""}
    open_lsn: bytes | None = None
    rows = taken = commits = 0
    touched: list[int] = []
    stop: bytes | None = None
    for frame in frames:
        w, msg = len(frame) > 25 and frame[0:1] == b"w", frame[25:]
        if open_lsn is None:
            if not (w and msg[:1] == b"B" and len(msg) == 21):
                stop = frame
                break
            open_lsn, rows, touched = msg[1:9], 0, []
        elif w and msg[:1] == b"C" and len(msg) == 26 and rows and msg[2:10] == open_lsn:
            open_lsn, commits = None, commits + 1
        elif python_takes(frame, set(tables), limit):
            oid = int.from_bytes(frame[26:30], "big")
            ops[oid] += frame[25:26]
            touched += [] if oid in touched else [oid]
            rows, taken = rows + 1, taken + 1
        else:
            stop = frame
            break
    status, returned, count, _, _, done, _, handoff = accel.drain_txns(
        0, 256, limit, tables, 1 << 30, 1 << 40
    )
    assert (count, done, returned) == (taken, commits, stop)
    assert status == (accel.DRAIN_FRAME if stop is not None else accel.DRAIN_EMPTY)
    if open_lsn is None:
        assert handoff is None
    else:
        assert handoff is not None and handoff[4] == rows
        assert [oid for oid, _, _ in handoff[5]] == touched
    for oid in tables:
        assert bytes(tables[oid][2]) == ops[oid]
    assert fake.outstanding == 0


# -- spill() and replay(): streamed transactions ------------------------------------------------
def spilled(message: bytes) -> bytes:
    return len(message).to_bytes(4, "big") + message


def stream_change(kind: bytes, oid: int, part: bytes, row: bytes, xid: int = 900) -> bytes:
    return kind + xid.to_bytes(4, "big") + oid.to_bytes(4, "big") + part + row


def test_spill_frames_stream_messages_as_the_spill_file_does(accel: Any) -> None:
    message = stream_change(b"I", 7, b"N", b"\x00\x00")
    stop = xlog(b"E")
    keepalive = HEADER.pack(b"k", 1, 2, 3)[:18]
    fake = FakeLibpq([xlog(message, end=0x700), xlog(b"R" + bytes(30)), stop, keepalive])
    accel.init(*fake.addresses())
    out = bytearray()
    status, frame, messages, payload, end, *_ = accel.spill(0, 256, out, 1 << 20)
    assert (status, frame, messages, end) == (accel.DRAIN_FRAME, stop, 2, 0x1000)
    assert bytes(out) == spilled(message) + spilled(b"R" + bytes(30))
    assert payload == len(message) + 31
    assert accel.spill(0, 256, out, 1 << 20)[:2] == (accel.DRAIN_FRAME, keepalive)
    # a full buffer stops it: the pipeline writes it out and looks at the spill budget
    fake = FakeLibpq([xlog(message)] * 3)
    accel.init(*fake.addresses())
    out = bytearray()
    assert accel.spill(0, 256, out, 1)[:3] == (accel.DRAIN_LIMIT, None, 1)
    assert fake.outstanding == 0


def test_replay_appends_fast_changes_and_stops_where_python_must_look(accel: Any) -> None:
    row = b"\x00\x01t\x00\x00\x00\x02hi"
    relation = b"R" + bytes(30)
    block = (
        spilled(stream_change(b"I", 7, b"N", row))
        + spilled(stream_change(b"D", 7, b"K", row))
        + spilled(relation)
        + spilled(stream_change(b"I", 7, b"N", row))
    )
    t = target()
    txn = Txn(900, 0x100, 0, seq=3)
    pos, count, payload = accel.replay(block, 0, {7: t}, txn, 1 << 20, 100, 1 << 30)
    assert (count, txn.seq) == (2, 5) and block[pos + 4 : pos + 4 + len(relation)] == relation
    assert bytes(t[0]) == row * 2 and bytes(t[2]) == b"ID" and payload == 2 * (10 + len(row))
    assert struct.unpack("=2q", t[3]) == (3, 4)
    after = pos + 4 + len(relation)
    # an incomplete message (the read ended inside it), unknown tables, the limits: it stops
    assert accel.replay(block[:-1], after, {7: t}, txn, 1 << 20, 100, 1 << 30)[:2] == (after, 0)
    assert accel.replay(block, after, {8: t}, txn, 1 << 20, 100, 1 << 30)[:2] == (after, 0)
    assert accel.replay(block, 0, {7: t}, txn, 1 << 20, 1, 1 << 30)[1] == 1
    assert accel.replay(block, 0, {7: t}, txn, 1 << 20, 100, 1)[1] == 1
    assert accel.replay(block, 0, {7: t}, txn, 8, 100, 1 << 30)[1] == 0  # over --max-value-size
    assert accel.replay(block, len(block), {7: t}, txn, 1 << 20, 100, 1 << 30)[:2] == (
        len(block),
        0,
    )

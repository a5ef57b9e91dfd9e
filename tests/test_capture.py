"""Capture without a server: replication frames in, batches out, through the Python loop and
the C loop alike.

The frames are written by :mod:`tests.wire_bytes` from the protocol documentation and served
through a libpq stand-in, so the C read loop (walstream._accel) runs on them as on a
connection: whole transactions, keepalives between and inside its runs, a transaction handed
back to Python half-way, streamed transactions spilled and replayed, key changes, cuts at the
budget and malformed input. Each case runs through both loops and must give the same batches,
byte for byte, and the rows the frames describe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest

from tests.wire_bytes import (
    FakeLibpq,
    begin,
    bound,
    commit,
    delete,
    insert,
    keepalive,
    relation,
    stream_commit,
    stream_insert,
    stream_start,
    stream_stop,
    update,
    xlog,
)
from walstream.capture import switch
from walstream.capture.batch import ChangeBatch
from walstream.capture.capture import Capture, CaptureSettings
from walstream.capture.frames import frames
from walstream.capture.spill import SpillStore
from walstream.convert import PgType, builtin_type
from walstream.errors import ProtocolError, TypeConversionError
from walstream.pg.relations import RelationCache
from walstream.pg.replication import ConnectionLost

ITEMS, NOTES = 16384, 16385
INT4, TEXT = 23, 25
ITEMS_REL = relation(ITEMS, "items", [("id", INT4, True), ("name", TEXT, False)])
NOTES_REL = relation(NOTES, "notes", [("id", INT4, True), ("body", TEXT, False)])

LOOPS = ["python", "C"]


def c_loop_built() -> bool:
    return switch.read_loop()[0] is not None


class Pipe:
    """The pipeline side of capture, as small as it can be: takes what is cut, counts."""

    def __init__(self) -> None:
        self.capture: Capture | None = None
        self.cuts: list[list[ChangeBatch]] = []
        self.done = 0
        self.replies = 0

    def transaction_done(self) -> None:
        self.done += 1

    def cut_transaction(self) -> None:
        assert self.capture is not None
        self.cuts.append(self.capture.buffer.take().batches)

    def reply_requested(self) -> None:
        self.replies += 1

    def has_capacity(self) -> bool:
        return True


class FakeStream:
    """What frames() needs of a ReplicationStream, over a FakeLibpq."""

    def __init__(self, libpq: FakeLibpq) -> None:
        self.conn = libpq
        self.pgconn_ptr = 0  # the stand-in ignores it

    def wait_for_input(self, waited: bool, timeout: float, got: bool) -> bool:
        return False  # nothing more will come

    def raise_stream_end(self) -> NoReturn:
        raise ConnectionLost("replication stream ended: the test's frames are over")


def lookup_type(oid: int, typmod: int) -> PgType:
    found = builtin_type(oid, typmod)
    assert found is not None
    return found


class Run:
    """One capture over a list of frames through one loop; what it produced."""

    def __init__(self, tmp_path: Path, loop: str, settings: CaptureSettings | None = None) -> None:
        if loop == "C" and not c_loop_built():
            pytest.skip("the C read loop is not built here")
        self.loop = loop
        self.pipe = Pipe()
        spill = SpillStore(str(tmp_path / f"spill-{loop}"), 1 << 30)
        spill.check()
        relations = RelationCache(lambda relid: ["id"], lookup_type)
        settings = settings or CaptureSettings(1_000_000, 1 << 30, 1 << 20)
        self.capture = Capture(settings, relations, spill, self.pipe)
        self.pipe.capture = self.capture
        self.libpq = FakeLibpq([])
        self.started = False

    def feed(self, frame_list: list[bytes]) -> None:
        self.libpq.frames += frame_list
        self.libpq.taken_by_c = 0
        accel: AbstractContextManager[Any] = (
            bound(self.libpq) if self.loop == "C" else nullcontext(None)
        )
        with accel as module:
            capture = self.capture
            if not self.started:
                capture.start(2, module, 0)
                self.started = True
            stream = cast(Any, FakeStream(self.libpq))
            while self.libpq.frames:
                capture.read(frames(stream, 0.0, capture.fast))
            capture.read(frames(stream, 0.0, capture.fast))  # a run handed over at the end
        assert self.libpq.outstanding == 0

    def batches(self) -> list[ChangeBatch]:
        """Everything cut so far and what is buffered now, in order."""
        taken = self.capture.buffer.take().batches
        return [batch for cut in self.pipe.cuts for batch in cut] + taken


def raw(batches: list[ChangeBatch]) -> list[tuple[Any, ...]]:
    """The batches as bytes, before any parsing: what the two loops must agree on exactly."""
    return [
        (
            b.table.name,
            bytes(b.data),
            bytes(b.offsets),
            bytes(b.op_codes),
            bytes(b.seqs),
            bytes(b.runs),
        )
        for b in batches
    ]


def rows(batches: list[ChangeBatch]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for batch in batches:
        for row in batch.to_arrow().to_pylist():
            out.append({"table": batch.table.name, **row})
    return out


def run_both(tmp_path: Path, frame_list: list[bytes], **settings: Any) -> dict[str, Run]:
    runs = {}
    for loop in LOOPS:
        run = Run(tmp_path, loop, CaptureSettings(**settings) if settings else None)
        run.feed(frame_list)
        runs[loop] = run
    return runs


def transactions(start: int, count: int, per_txn: int) -> Iterator[bytes]:
    """``count`` transactions of ``per_txn`` inserts into items, ids from ``start``."""
    lsn = 0x4000 + start * 0x100
    for t in range(count):
        lsn += 0x100
        yield begin(lsn, 700 + start + t)
        for i in range(per_txn):
            key = start + t * per_txn + i
            yield insert(ITEMS, str(key), f"item {key}")
        yield commit(lsn, lsn + 0x10)


def test_transactions_keepalives_and_a_handoff_give_the_same_batches_in_both_loops(
    tmp_path: Path,
) -> None:
    first = [
        ITEMS_REL,
        NOTES_REL,
        begin(0x2000, 500, ts=7),
        insert(ITEMS, "1", "one"),
        insert(ITEMS, "2", "two"),
        insert(ITEMS, "3", None),
        update(ITEMS, ["2", "TWO"]),
        delete(ITEMS, "1", None),  # the key tuple: key columns, the rest NULL
        insert(NOTES, "1", "a note"),
        insert(NOTES, "2", "another"),
        commit(0x2000, 0x2010, ts=7),
        keepalive(0x2100, reply=True),  # between transactions: C hands it over
        *transactions(10, 3, 4),  # whole transactions: C commits them itself
        begin(0x9000, 900),
        insert(ITEMS, "100", "x"),
        keepalive(0x9050),  # inside a transaction: the idle position must not move
        insert(NOTES, "100", "y"),
        insert(ITEMS, "101", "z"),
        commit(0x9000, 0x9010),
    ]
    runs = run_both(tmp_path, first)
    py, c = runs["python"], runs["C"]
    assert c.libpq.taken_by_c > 10  # the C loop took most frames itself
    for run in (py, c):
        counts = run.capture.counts
        assert (counts.transactions, counts.changes) == (5, 7 + 12 + 3)
        assert run.pipe.replies == 1  # the keepalive that asked for one
        assert run.capture.idle_lsn == 0x2100  # not the keepalive inside a transaction
        assert run.capture.received_lsn == 0x9050  # the highest WAL end seen
        assert counts.bytes_received == sum(len(f) - 25 for f in first if f[:1] == b"w")
    batches_py, batches_c = py.batches(), c.batches()
    assert raw(batches_py) == raw(batches_c)
    got = rows(batches_c)
    assert [(r["table"], r["Op"], r["id"], r.get("name", r.get("body"))) for r in got[:7]] == [
        ("items", "I", 1, "one"),
        ("items", "I", 2, "two"),
        ("items", "I", 3, None),
        ("items", "U", 2, "TWO"),
        ("items", "D", 1, None),
        ("items", "I", 10, "item 10"),
        ("items", "I", 11, "item 11"),
    ]
    first_row = got[0]
    assert (first_row["_walstream_lsn"], first_row["_walstream_xid"]) == (0x2000, 500)
    assert first_row["_walstream_commit_ts"] == datetime(2000, 1, 1, 0, 0, 0, 7, tzinfo=UTC)
    # positions rise through the stream: seq counts rows within each transaction
    items = [(r["_walstream_lsn"], r["_walstream_seq"]) for r in got if r["table"] == "items"]
    assert items == sorted(items)
    assert {r["id"] for r in got if r["table"] == "notes"} == {1, 2, 100}


@pytest.mark.parametrize("loop", LOOPS)
def test_an_update_that_moves_a_row_to_another_key_is_two_marked_rows(
    tmp_path: Path, loop: str
) -> None:
    run = Run(tmp_path, loop)
    run.feed(
        [
            ITEMS_REL,
            begin(0x2000, 500),
            insert(ITEMS, "1", "one"),
            update(ITEMS, ["5", "one"], old_key=["1", None]),  # key 1 -> 5
            update(ITEMS, ["5", "uno"], old_key=["5", None]),  # same key: one plain update
            commit(0x2000, 0x2010),
        ]
    )
    got = rows(run.batches())
    assert [(r["Op"], r["id"], r["_walstream_key_change"]) for r in got] == [
        ("I", 1, None),
        ("D", 1, True),
        ("U", 5, True),
        ("U", 5, None),
    ]


def test_a_transaction_over_the_budget_is_cut_and_nothing_is_lost(tmp_path: Path) -> None:
    frame_list = [ITEMS_REL, *transactions(0, 1, 300), *transactions(300, 5, 7)]
    runs = run_both(
        tmp_path, frame_list, flush_rows=50, flush_bytes=1 << 30, max_value_size=1 << 20
    )
    for run in runs.values():
        assert run.pipe.cuts  # the large transaction did not wait for its commit
        cut_batches = [b for cut in run.pipe.cuts for b in cut]
        assert cut_batches[0].ends_mid_txn
    # where each loop looks at its budget differs; the rows, in order, must not
    py, c = (rows(runs[loop].batches()) for loop in LOOPS)
    assert py == c
    assert [r["id"] for r in c] == list(range(335))


def test_a_streamed_transaction_is_spilled_then_replayed_at_its_commit(tmp_path: Path) -> None:
    xid = 4242
    frame_list = [
        ITEMS_REL,
        stream_start(xid),
        *(stream_insert(xid, ITEMS, str(i), f"s{i}") for i in range(40)),
        stream_stop(),
        keepalive(0x3000),
        stream_start(xid, first=False),
        *(stream_insert(xid, ITEMS, str(i), f"s{i}") for i in range(40, 90)),
        stream_stop(),
        stream_commit(xid, 0x5000, 0x5010, ts=9),
    ]
    runs = run_both(tmp_path, frame_list)
    for run in runs.values():
        assert run.capture.counts.transactions == 1
        assert run.capture.idle_lsn == 0x3000  # a keepalive between stream blocks
    batches_c = runs["C"].batches()
    assert raw(runs["python"].batches()) == raw(batches_c)
    replayed = rows(batches_c)
    assert [r["id"] for r in replayed] == list(range(90))
    assert {r["_walstream_lsn"] for r in replayed} == {0x5000}
    assert {r["_walstream_xid"] for r in replayed} == {xid}


@pytest.mark.parametrize("loop", LOOPS)
def test_a_value_over_the_limit_fails_the_transaction_or_is_nulled(
    tmp_path: Path, loop: str
) -> None:
    big = "x" * 5000
    frame_list = [ITEMS_REL, begin(0x2000, 1), insert(ITEMS, "1", big), commit(0x2000, 0x2010)]
    strict = Run(tmp_path, loop, CaptureSettings(1000, 1 << 30, 1024, "fail"))
    with pytest.raises(TypeConversionError, match="over --max-value-size"):
        strict.feed(frame_list)
    lenient = Run(tmp_path / "null", loop, CaptureSettings(1000, 1 << 30, 1024, "null"))
    lenient.feed(frame_list)
    assert [(r["id"], r["name"]) for r in rows(lenient.batches())] == [(1, None)]


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize(
    ("frame_list", "error"),
    [
        ([ITEMS_REL, insert(ITEMS, "1", "a")], "Insert outside a transaction"),
        ([begin(0x2000, 1), commit(0x2001, 0x2010)], "differs from the Begin's final LSN"),
        ([begin(0x2000, 1), begin(0x3000, 2)], "inside transaction"),
        ([commit(0x2000, 0x2010)], "Commit without Begin"),
        ([keepalive(1)[:10]], "truncated replication stream message"),
        ([xlog(b"")], "truncated replication stream message"),
        ([b"z" + bytes(30)], "unknown replication stream message type"),
    ],
    ids=["change-outside", "commit-lsn", "nested-begin", "lone-commit", "short-k", "empty-w", "z"],
)
def test_malformed_streams_are_refused_precisely(
    tmp_path: Path, loop: str, frame_list: list[bytes], error: str
) -> None:
    run = Run(tmp_path, loop)
    with pytest.raises(ProtocolError, match=error):
        run.feed(frame_list)


@pytest.mark.parametrize("loop", LOOPS)
def test_the_end_of_the_stream_is_a_lost_connection(tmp_path: Path, loop: str) -> None:
    run = Run(tmp_path, loop)
    run.libpq.end = -1
    with pytest.raises(ConnectionLost):
        run.feed([ITEMS_REL, *transactions(0, 2, 3)])
    assert run.capture.counts.transactions == 2  # what came before the end was taken

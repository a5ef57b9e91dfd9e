"""The pgoutput decoder on bytes captured from PostgreSQL 18, on corrupted bytes, and fuzzed.

The fixtures in ``tests/data/pgoutput_*.json`` were written by ``tests/capture_pgoutput.py``
(see its docstring for the workloads); these tests need no server. Expected values come from
the workloads' SQL, not from the decoder's own output.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walstream.errors import ProtocolError
from walstream.lsn import parse_lsn
from walstream.pg.pgoutput import (
    Begin,
    BeginPrepare,
    Commit,
    CommitPrepared,
    Delete,
    Insert,
    LogicalMessage,
    Message,
    Origin,
    PgOutputDecoder,
    Prepare,
    Relation,
    RollbackPrepared,
    StreamAbort,
    StreamCommit,
    StreamPrepare,
    StreamStart,
    StreamStop,
    Truncate,
    TypeInfo,
    Update,
)
from walstream.pg.wire import PG_EPOCH_US

T = TypeVar("T")
DATA = Path(__file__).parent / "data"
FIXTURES = [
    "v1_text",
    "v2_binary_stream",
    "v2_stream_abort",
    "v3_two_phase",
    "v4_parallel",
    "v4_stream_on",
]
CLASS_OF_TYPE_BYTE: dict[str, type] = {
    "B": Begin,
    "C": Commit,
    "O": Origin,
    "R": Relation,
    "Y": TypeInfo,
    "I": Insert,
    "U": Update,
    "D": Delete,
    "T": Truncate,
    "M": LogicalMessage,
    "S": StreamStart,
    "E": StreamStop,
    "c": StreamCommit,
    "A": StreamAbort,
    "b": BeginPrepare,
    "P": Prepare,
    "K": CommitPrepared,
    "r": RollbackPrepared,
    "p": StreamPrepare,
}
# Commit timestamps of the captures: after 2020, before 2100 (in Unix microseconds).
SANE_TS_US = (1_577_836_800_000_000, 4_102_444_800_000_000)

# OIDs of built-in types used by the capture schema (pg_type.oid, stable across versions).
INT4, INT8, TEXT, VARCHAR, NUMERIC, TIMESTAMPTZ, TEXT_ARRAY = 23, 20, 25, 1043, 1700, 1184, 1009


@dataclass(frozen=True)
class Captured:
    lsn: int  # the LSN pg_logical_slot_peek_binary_changes reported for the message
    xid: int
    data: bytes


@dataclass(frozen=True)
class Fixture:
    name: str
    proto_version: int
    facts: dict[str, Any]
    captured: tuple[Captured, ...]

    def decode_all(self) -> list[Message]:
        decoder = PgOutputDecoder(self.proto_version)
        return [decoder.decode(c.data) for c in self.captured]


@functools.cache
def load(name: str) -> Fixture:
    doc = json.loads((DATA / f"pgoutput_{name}.json").read_text(encoding="utf-8"))
    captured = tuple(
        Captured(parse_lsn(lsn), xid, bytes.fromhex(data)) for lsn, xid, data in doc["messages"]
    )
    return Fixture(name, int(doc["options"]["proto_version"]), doc["facts"], captured)


@functools.cache
def decoded(name: str) -> list[Message]:
    return load(name).decode_all()


def of_type(messages: Sequence[object], cls: type[T]) -> list[T]:
    return [m for m in messages if isinstance(m, cls)]


def relations_by_name(messages: list[Message]) -> dict[str, Relation]:
    return {m.name: m for m in of_type(messages, Relation)}


def changes_of(messages: list[Message], relation: Relation) -> list[Insert | Update | Delete]:
    return [
        m
        for m in messages
        if isinstance(m, Insert | Update | Delete) and m.relation_oid == relation.oid
    ]


def stream_decoder(proto_version: int) -> PgOutputDecoder:
    """A decoder that has just seen a Stream Start (so changes carry an xid)."""
    decoder = PgOutputDecoder(proto_version)
    decoder.decode(b"S" + struct.pack(">IB", 1234, 1))
    return decoder


def unix_us(text: str) -> int:
    moment = datetime.fromisoformat(text).astimezone(UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def int4(value: bytes | None) -> int:
    assert value is not None
    return int(struct.unpack(">i", value)[0])


# --- every capture ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_every_captured_message_decodes_to_the_class_of_its_type_byte(name: str) -> None:
    fixture = load(name)
    for captured, message in zip(fixture.captured, decoded(name), strict=True):
        assert type(message) is CLASS_OF_TYPE_BYTE[chr(captured.data[0])]


@pytest.mark.parametrize("name", FIXTURES)
def test_commit_like_messages_end_at_the_lsn_the_server_reported(name: str) -> None:
    """The SQL interface reports a commit's end LSN as the message position: it must match."""
    fixture = load(name)
    checked = 0
    for captured, message in zip(fixture.captured, decoded(name), strict=True):
        match message:
            case Commit() | StreamCommit() | Prepare() | CommitPrepared() | StreamPrepare():
                assert message.end_lsn == captured.lsn
                checked += 1
            case RollbackPrepared():
                assert message.rollback_end_lsn == captured.lsn
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", FIXTURES)
def test_transaction_timestamps_are_unix_microseconds_of_the_capture_time(name: str) -> None:
    stamps = []
    for message in decoded(name):
        match message:
            case Begin() | Commit() | StreamCommit() | CommitPrepared():
                stamps.append(message.commit_ts_us)
            case BeginPrepare() | Prepare() | StreamPrepare():
                stamps.append(message.prepare_ts_us)
            case RollbackPrepared():
                stamps += [message.prepare_ts_us, message.rollback_ts_us]
            case StreamAbort() if message.abort_ts_us is not None:
                stamps.append(message.abort_ts_us)
    assert stamps
    assert all(SANE_TS_US[0] < ts < SANE_TS_US[1] for ts in stamps)


@pytest.mark.parametrize("name", FIXTURES)
def test_changes_carry_an_xid_exactly_inside_stream_blocks(name: str) -> None:
    in_stream = False
    for message in decoded(name):
        if isinstance(message, StreamStart | StreamStop):
            in_stream = isinstance(message, StreamStart)
            continue
        is_change = isinstance(message, Relation | TypeInfo | Insert | Update | Delete | Truncate)
        if is_change or (isinstance(message, LogicalMessage) and message.transactional):
            assert (message.xid is not None) == in_stream  # type: ignore[union-attr]


# --- v1, text: the shapes of Relation, Type and the changes ----------------------------------


def test_relation_describes_columns_types_typmods_and_key_flags() -> None:
    items = relations_by_name(decoded("v1_text"))["items"]
    mood = of_type(decoded("v1_text"), TypeInfo)[0]
    assert (items.namespace, items.replica_identity, items.xid) == ("public", "d", None)
    assert [(c.name, c.type_oid, c.is_key) for c in items.columns] == [
        ("id", INT4, True),
        ("name", TEXT, False),
        ("mood", mood.oid, False),
        ("price", NUMERIC, False),
        ("seen", TIMESTAMPTZ, False),
        ("tags", TEXT_ARRAY, False),
    ]
    price = items.columns[3]
    assert price.typmod == ((10 << 16) | 2) + 4  # numeric(10,2)
    assert items.columns[0].typmod == -1


def test_relation_reports_each_replica_identity_and_its_key_columns() -> None:
    rels = relations_by_name(decoded("v1_text"))
    keys = {name: [c.name for c in rel.columns if c.is_key] for name, rel in rels.items()}
    identity = {name: rel.replica_identity for name, rel in rels.items()}
    assert identity["pairs"] == "d" and keys["pairs"] == ["region", "num"]  # composite key
    assert identity["ledger"] == "f" and keys["ledger"] == ["id", "amount", "memo"]
    assert identity["by_index"] == "i" and keys["by_index"] == ["code"]
    assert identity["append_only"] == "n" and keys["append_only"] == []
    label = rels["pairs"].columns[2]
    assert (label.type_oid, label.typmod) == (VARCHAR, 20 + 4)
    assert rels["ledger"].columns[1].type_oid == INT8


def test_type_message_names_a_custom_type_before_the_relation_that_uses_it() -> None:
    messages = decoded("v1_text")
    (mood,) = of_type(messages, TypeInfo)
    assert (mood.namespace, mood.name, mood.xid) == ("public", "walstream_mood", None)
    assert messages.index(mood) < messages.index(relations_by_name(messages)["items"])


def test_insert_carries_text_values_and_nulls_as_kinds() -> None:
    messages = decoded("v1_text")
    first, second = changes_of(messages, relations_by_name(messages)["items"])[:2]
    assert isinstance(first, Insert) and isinstance(second, Insert)
    assert first.new.kinds == b"tttttt"
    assert first.new.values == (
        b"1",
        b"alice",
        b"happy",
        b"12.50",
        b"2024-05-01 10:00:00+00",
        b"{a,b}",
    )
    assert second.new.kinds == b"tnnnnn"
    assert second.new.values == (b"2", None, None, None, None, None)


def test_update_sends_old_key_only_when_the_key_changes() -> None:
    messages = decoded("v1_text")
    rels = relations_by_name(messages)
    updates = of_type(changes_of(messages, rels["items"]), Update)
    plain, key_change = updates
    assert (plain.old, plain.old_kind) == (None, None)
    assert plain.new.values[:2] == (b"1", b"alice2")
    assert key_change.old_kind == "K"
    assert key_change.old is not None
    assert key_change.old.kinds == b"tnnnnn" and key_change.old.values[0] == b"2"
    assert key_change.new.values[0] == b"10"

    (pair,) = of_type(changes_of(messages, rels["pairs"]), Update)
    assert pair.old_kind == "K" and pair.old is not None
    assert (pair.old.kinds, pair.old.values) == (b"ttn", (b"eu", b"1", None))
    assert pair.new.values == (b"eu", b"3", b"x")

    (by_index,) = of_type(changes_of(messages, rels["by_index"]), Update)
    assert by_index.old_kind == "K" and by_index.old is not None
    assert by_index.old.values == (b"A", None)


def test_update_under_replica_identity_full_sends_the_whole_old_row() -> None:
    messages = decoded("v1_text")
    (update,) = of_type(changes_of(messages, relations_by_name(messages)["ledger"]), Update)
    assert update.old_kind == "O" and update.old is not None
    assert update.old.values == (b"1", b"100", b"init")
    assert update.new.values == (b"1", b"150", b"init")


def test_update_of_another_column_marks_the_toasted_value_unchanged() -> None:
    fixture = load("v1_text")
    messages = decoded("v1_text")
    insert, update, delete = changes_of(messages, relations_by_name(messages)["docs"])
    assert isinstance(insert, Insert) and isinstance(update, Update)
    body = insert.new.values[1]
    assert body is not None
    assert len(body) == fixture.facts["toast_value_length"]
    assert hashlib.sha256(body).hexdigest() == fixture.facts["toast_value_sha256"]
    assert update.new.kinds == b"tut"
    assert update.new.values == (b"1", None, b"2")
    assert update.old is None
    assert isinstance(delete, Delete) and delete.old.kinds == b"tnn"


def test_delete_sends_the_key_or_under_full_identity_the_old_row() -> None:
    messages = decoded("v1_text")
    rels = relations_by_name(messages)
    (item,) = of_type(changes_of(messages, rels["items"]), Delete)
    assert (item.old_kind, item.old.kinds, item.old.values[0]) == ("K", b"tnnnnn", b"10")
    (row,) = of_type(changes_of(messages, rels["ledger"]), Delete)
    assert (row.old_kind, row.old.values) == ("O", (b"1", b"150", b"init"))


def test_truncate_lists_every_table_including_cascaded_ones_with_its_options() -> None:
    messages = decoded("v1_text")
    rels = relations_by_name(messages)
    cascaded, plain = of_type(messages, Truncate)
    assert cascaded.options == 3 and cascaded.cascade and cascaded.restart_identity
    assert set(cascaded.relation_oids) == {rels[n].oid for n in ("parent", "pairs", "child")}
    assert plain.options == 0 and not plain.cascade and not plain.restart_identity
    assert plain.relation_oids == (rels["by_index"].oid,)


def test_logical_messages_keep_prefix_content_and_transactional_flag() -> None:
    messages = decoded("v1_text")
    inside, outside = of_type(messages, LogicalMessage)
    assert (inside.transactional, inside.prefix, inside.content) == (
        True,
        "walstream",
        b"transactional",
    )
    begin = messages[messages.index(inside) - 1]
    commit = next(m for m in messages[messages.index(inside) :] if isinstance(m, Commit))
    assert isinstance(begin, Begin) and inside.lsn < commit.commit_lsn
    assert (outside.transactional, outside.prefix, outside.content) == (
        False,
        "walstream.bin",
        bytes.fromhex("deadbeef00ff"),
    )
    # a non-transactional message stands alone, between transactions
    assert isinstance(messages[messages.index(outside) - 1], Commit)
    assert isinstance(messages[messages.index(outside) + 1], Begin)


def test_origin_follows_begin_and_the_commit_time_is_the_origins() -> None:
    facts = load("v1_text").facts
    messages = decoded("v1_text")
    (origin,) = of_type(messages, Origin)
    begin = messages[messages.index(origin) - 1]
    assert origin.name == facts["origin_name"]
    assert origin.origin_lsn == parse_lsn(facts["origin_lsn"])
    # pg_replication_origin_xact_setup() set this commit time: checks the epoch conversion
    assert isinstance(begin, Begin)
    assert begin.commit_ts_us == unix_us(facts["origin_ts"]) == 1_704_164_645_123_456


def test_begin_and_commit_agree_on_lsn_time_and_xid() -> None:
    fixture = load("v1_text")
    messages = decoded("v1_text")
    begins = [
        (c, m) for c, m in zip(fixture.captured, messages, strict=True) if isinstance(m, Begin)
    ]
    commits = of_type(messages, Commit)
    assert len(begins) == len(commits) == 9
    for (captured, begin), commit in zip(begins, commits, strict=True):
        assert begin.xid == captured.xid
        assert begin.final_lsn == commit.commit_lsn < commit.end_lsn
        assert captured.lsn <= begin.final_lsn
        assert begin.commit_ts_us == commit.commit_ts_us
        assert commit.flags == 0


# --- v2, binary, streaming ----------------------------------------------------------------


def test_large_transaction_streams_in_blocks_and_commits_with_stream_commit() -> None:
    fixture = load("v2_binary_stream")
    messages = decoded("v2_binary_stream")
    bulk = relations_by_name(messages)["bulk"]
    first_xid = of_type(messages, StreamStart)[0].xid
    starts = [m for m in of_type(messages, StreamStart) if m.xid == first_xid]
    assert len(starts) >= 2
    assert [s.first_segment for s in starts] == [True] + [False] * (len(starts) - 1)
    stream_commit = of_type(messages, StreamCommit)[0]
    assert stream_commit.xid == first_xid
    assert stream_commit.commit_lsn < stream_commit.end_lsn
    rows = fixture.facts["stream_rows"]
    ids = [
        int4(m.new.values[0])
        for m in changes_of(messages, bulk)
        if isinstance(m, Insert) and m.xid == first_xid
    ]
    assert ids == [*range(1, rows + 1), *range(10_001, 10_001 + rows)]


def test_binary_mode_sends_binary_values_and_a_type_message_inside_the_stream() -> None:
    messages = decoded("v2_binary_stream")
    stream_xid = of_type(messages, StreamStart)[0].xid
    items = relations_by_name(messages)["items"]
    (mood,) = of_type(messages, TypeInfo)
    assert (mood.name, mood.xid) == ("walstream_mood", stream_xid)
    assert items.xid == stream_xid and items.columns[2].type_oid == mood.oid
    insert, update, delete = changes_of(messages, items)
    assert isinstance(insert, Insert) and insert.new.kinds == b"bbbbnn"
    assert int4(insert.new.values[0]) == 100 and insert.new.values[1:3] == (b"streamed", b"ok")
    assert isinstance(update, Update) and update.old_kind == "K" and update.old is not None
    assert int4(update.old.values[0]) == 100 and int4(update.new.values[0]) == 101
    assert isinstance(delete, Delete) and int4(delete.old.values[0]) == 101
    assert {m.xid for m in (insert, update, delete)} == {stream_xid}
    (message,) = of_type(messages, LogicalMessage)
    assert (message.xid, message.content) == (stream_xid, b"in stream")
    (truncate,) = of_type(messages, Truncate)
    assert truncate.xid == stream_xid
    assert truncate.relation_oids == (relations_by_name(messages)["append_only"].oid,)


def test_streamed_subtransaction_rollback_sends_stream_abort_with_its_subxid() -> None:
    messages = decoded("v2_binary_stream")
    (abort,) = of_type(messages, StreamAbort)
    assert abort.xid != abort.subxid
    assert (abort.abort_lsn, abort.abort_ts_us) == (None, None)
    # the rolled-back rows were streamed under the subtransaction's xid
    assert any(isinstance(m, Insert) and m.xid == abort.subxid for m in messages)
    later_commit = of_type(messages[messages.index(abort) :], StreamCommit)[0]
    assert later_commit.xid == abort.xid


def test_small_transaction_after_streams_is_not_streamed() -> None:
    messages = decoded("v2_binary_stream")
    begin, insert, commit = messages[-3:]
    assert isinstance(begin, Begin) and isinstance(commit, Commit)
    assert isinstance(insert, Insert) and insert.xid is None
    assert int4(insert.new.values[0]) == 40_000


# --- Stream Abort across protocol versions --------------------------------------------------


def test_stream_abort_carries_lsn_and_time_only_with_parallel_streaming() -> None:
    for name in ("v2_stream_abort", "v4_stream_on"):
        aborts = of_type(decoded(name), StreamAbort)
        assert len(aborts) == 2
        assert all(a.abort_lsn is None and a.abort_ts_us is None for a in aborts)
    fixture = load("v4_parallel")
    messages = decoded("v4_parallel")
    top, sub = of_type(messages, StreamAbort)
    assert top.xid == top.subxid and sub.xid != sub.subxid
    for abort in (top, sub):
        captured = fixture.captured[messages.index(abort)]
        assert abort.abort_lsn is not None and 0 < abort.abort_lsn <= captured.lsn
    assert top.abort_ts_us is not None and sub.abort_ts_us is not None
    assert top.abort_ts_us <= sub.abort_ts_us
    (commit,) = of_type(messages, StreamCommit)
    assert sub.abort_lsn is not None and sub.abort_lsn <= commit.commit_lsn


def test_rolled_back_stream_may_be_an_empty_block() -> None:
    messages = decoded("v4_parallel")
    start, stop, abort = messages[:3]
    assert isinstance(start, StreamStart) and start.first_segment
    assert isinstance(stop, StreamStop) and isinstance(abort, StreamAbort)
    assert abort.xid == start.xid


# --- v3, two-phase ----------------------------------------------------------------------------


def test_prepared_transactions_commit_or_roll_back_by_gid() -> None:
    messages = decoded("v3_two_phase")
    begins = of_type(messages, BeginPrepare)
    prepares = of_type(messages, Prepare)
    assert [b.gid for b in begins] == ["walstream_gid_commit", "walstream_gid_rollback"]
    for begin, prepare in zip(begins, prepares, strict=True):
        assert (begin.prepare_lsn, begin.end_lsn, begin.xid, begin.gid) == (
            prepare.prepare_lsn,
            prepare.end_lsn,
            prepare.xid,
            prepare.gid,
        )
        assert begin.prepare_ts_us == prepare.prepare_ts_us
        assert begin.prepare_lsn < begin.end_lsn
    committed = of_type(messages, CommitPrepared)[0]
    assert (committed.xid, committed.gid) == (prepares[0].xid, prepares[0].gid)
    assert committed.commit_lsn >= prepares[0].end_lsn
    assert committed.commit_ts_us >= prepares[0].prepare_ts_us
    (rolled_back,) = of_type(messages, RollbackPrepared)
    assert (rolled_back.xid, rolled_back.gid) == (prepares[1].xid, "walstream_gid_rollback")
    assert rolled_back.prepare_end_lsn == prepares[1].end_lsn
    assert rolled_back.prepare_ts_us == prepares[1].prepare_ts_us <= rolled_back.rollback_ts_us
    assert rolled_back.prepare_end_lsn < rolled_back.rollback_end_lsn


def test_large_prepared_transaction_streams_then_sends_stream_prepare() -> None:
    messages = decoded("v3_two_phase")
    (stream_prepare,) = of_type(messages, StreamPrepare)
    starts = of_type(messages, StreamStart)
    assert {s.xid for s in starts} == {stream_prepare.xid}
    assert stream_prepare.gid == "walstream_gid_stream"
    assert stream_prepare.prepare_lsn < stream_prepare.end_lsn
    index = messages.index(stream_prepare)
    assert isinstance(messages[index - 1], StreamStop)
    commit = messages[index + 1]
    assert isinstance(commit, CommitPrepared)
    assert (commit.xid, commit.gid) == (stream_prepare.xid, stream_prepare.gid)
    streamed = [m for m in messages if isinstance(m, Insert) and m.xid == stream_prepare.xid]
    assert len(streamed) == load("v3_two_phase").facts["stream_rows"]
    assert streamed[0].new.values == (b"60001", b"120002")


# --- malformed input --------------------------------------------------------------------------


def first_captured(name: str, type_byte: str) -> tuple[PgOutputDecoder, bytes]:
    """A decoder in the state the first message of that type was captured in, and the bytes."""
    fixture = load(name)
    decoder = PgOutputDecoder(fixture.proto_version)
    for captured in fixture.captured:
        if chr(captured.data[0]) == type_byte:
            return decoder, captured.data
        decoder.decode(captured.data)
    raise AssertionError(f"no {type_byte!r} message in {name}")


def test_unknown_message_type_is_a_protocol_error_naming_the_byte() -> None:
    with pytest.raises(ProtocolError, match=r"unknown pgoutput message type 0x5A \('Z'\)"):
        PgOutputDecoder(4).decode(b"Z\x00\x00")
    with pytest.raises(ProtocolError, match=r"unknown pgoutput message type 0x00"):
        PgOutputDecoder(4).decode(b"\x00")


def test_message_type_of_a_later_protocol_version_is_rejected() -> None:
    stream_start = b"S" + struct.pack(">IB", 7, 1)
    with pytest.raises(ProtocolError, match=r"Stream Start\) needs proto_version >= 2"):
        PgOutputDecoder(1).decode(stream_start)
    with pytest.raises(ProtocolError, match=r"Begin Prepare\) needs proto_version >= 3"):
        PgOutputDecoder(2).decode(b"b" + bytes(29) + b"g\x00")


def test_empty_message_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="empty pgoutput message"):
        PgOutputDecoder().decode(b"")


def test_unsupported_protocol_version_is_refused_at_construction() -> None:
    with pytest.raises(ProtocolError, match="unsupported pgoutput proto_version 5"):
        PgOutputDecoder(5)


def test_unknown_tuple_data_kind_is_a_protocol_error() -> None:
    decoder, insert = first_captured("v1_text", "I")
    corrupt = bytearray(insert)
    corrupt[8] = ord("x")  # 'I', oid(4), 'N', ncols(2): the first column's kind
    with pytest.raises(
        ProtocolError,
        match=r"malformed Insert message: unknown tuple data kind 0x78 \('x'\) for column 0",
    ):
        decoder.decode(bytes(corrupt))


def test_value_length_beyond_the_message_is_a_protocol_error_not_a_short_value() -> None:
    decoder, insert = first_captured("v1_text", "I")
    for length in (len(insert), 0x7FFFFFFF, -1, -5):
        corrupt = bytearray(insert)
        corrupt[9:13] = struct.pack(">i", length)
        with pytest.raises(ProtocolError, match=f"declares a value of {length} bytes"):
            decoder.decode(bytes(corrupt))


@pytest.mark.parametrize("name", FIXTURES)
def test_every_captured_message_with_a_trailing_byte_is_rejected(name: str) -> None:
    fixture = load(name)
    decoder = PgOutputDecoder(fixture.proto_version)
    for captured in fixture.captured:
        with pytest.raises(ProtocolError):
            decoder.decode(captured.data + b"\x00")
        decoder.decode(captured.data)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_prefix_of_every_captured_message_is_a_protocol_error(name: str) -> None:
    fixture = load(name)
    decoder = PgOutputDecoder(fixture.proto_version)
    for captured in fixture.captured:
        data = captured.data
        # a v4 parallel Stream Abort without its LSN and time is a valid non-parallel one
        valid_prefix = 9 if data[0] == ord("A") and len(data) == 25 else -1
        # memoryview slices: no copy per prefix, so the 100 KB TOAST message stays cheap
        view = memoryview(data)
        for end in range(len(data)):
            if end == valid_prefix:
                continue
            with pytest.raises(ProtocolError):
                decoder.decode(view[:end])
        decoder.decode(data)


def test_stream_abort_lsn_and_time_are_refused_before_protocol_v4() -> None:
    abort = b"A" + struct.pack(">IIQq", 1, 1, 2, 3)
    assert PgOutputDecoder(4).decode(abort) == StreamAbort(1, 1, 2, 3 + PG_EPOCH_US)
    with pytest.raises(ProtocolError, match="expected exactly 9 bytes, got 25"):
        PgOutputDecoder(3).decode(abort)


def test_invalid_utf8_in_a_relation_name_is_a_protocol_error() -> None:
    decoder, relation = first_captured("v1_text", "R")
    start = relation.index(b"items\x00")
    corrupt = relation[:start] + b"\xffitems" + relation[start + 5 :]
    with pytest.raises(ProtocolError, match=r"malformed Relation message: relation name .* UTF-8"):
        decoder.decode(corrupt)


def test_name_without_nul_terminator_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="origin name at offset 9 has no NUL terminator"):
        PgOutputDecoder().decode(b"O" + struct.pack(">Q", 1) + b"upstream")


def test_unknown_replica_identity_is_a_protocol_error() -> None:
    decoder, relation = first_captured("v1_text", "R")
    start = relation.index(b"items\x00") + 6
    corrupt = relation[:start] + b"x" + relation[start + 1 :]
    with pytest.raises(ProtocolError, match=r"unknown replica identity 0x78 \('x'\)"):
        decoder.decode(corrupt)


def test_truncate_whose_relation_count_disagrees_with_its_length_is_rejected() -> None:
    message = b"T" + struct.pack(">IBI", 2, 0, 16384)
    with pytest.raises(ProtocolError, match="declares 2 relations"):
        PgOutputDecoder().decode(message)


def test_logical_message_content_length_must_match_the_rest() -> None:
    head = b"M" + struct.pack(">BQ", 1, 99) + b"p\x00"
    message = PgOutputDecoder().decode(head + struct.pack(">i", 2) + b"hi")
    assert message == LogicalMessage(None, True, 99, "p", b"hi")
    for length in (3, -1):
        with pytest.raises(ProtocolError, match=f"declares {length} bytes of content"):
            PgOutputDecoder().decode(head + struct.pack(">i", length) + b"hi")


def test_update_and_delete_need_their_tuple_markers() -> None:
    empty_tuple = struct.pack(">H", 0)
    with pytest.raises(ProtocolError, match=r"expected 'K', 'O' or 'N' at offset 5, got 0x58"):
        PgOutputDecoder().decode(b"U" + struct.pack(">I", 1) + b"X" + empty_tuple)
    with pytest.raises(ProtocolError, match=r"expected 'N' at offset 8, got 0x4B"):
        PgOutputDecoder().decode(b"U" + struct.pack(">I", 1) + b"K" + empty_tuple + b"K")
    with pytest.raises(ProtocolError, match=r"expected 'K' or 'O' at offset 5, got 0x4E"):
        PgOutputDecoder().decode(b"D" + struct.pack(">I", 1) + b"N" + empty_tuple)


def test_stream_blocks_must_nest_properly() -> None:
    decoder = stream_decoder(2)
    assert decoder.in_stream
    with pytest.raises(ProtocolError, match="Stream Start inside a stream block"):
        decoder.decode(b"S" + struct.pack(">IB", 1, 0))
    assert decoder.decode(b"E") == StreamStop()
    with pytest.raises(ProtocolError, match="Stream Stop outside a stream block"):
        decoder.decode(b"E")
    decoder = stream_decoder(2)
    decoder.reset()
    assert not decoder.in_stream


def test_memoryview_and_bytes_decode_to_the_same_message() -> None:
    data = load("v1_text").captured[3].data
    frame = memoryview(b"w" + bytes(24) + data)[25:]  # as sliced out of an XLogData frame
    assert PgOutputDecoder().decode(frame) == PgOutputDecoder().decode(data)


# --- fuzzing ----------------------------------------------------------------------------------


def sample_messages() -> list[tuple[int, bool, bytes]]:
    """One captured message per (capture, type byte, stream state): (proto, in_stream, bytes)."""
    seen: dict[tuple[str, str, bool], tuple[int, bool, bytes]] = {}
    for name in FIXTURES:
        fixture = load(name)
        decoder = PgOutputDecoder(fixture.proto_version)
        for captured in fixture.captured:
            key = (name, chr(captured.data[0]), decoder.in_stream)
            if key not in seen and len(captured.data) < 4096:
                seen[key] = (fixture.proto_version, decoder.in_stream, captured.data)
            decoder.decode(captured.data)
    return list(seen.values())


SAMPLES = sample_messages()


def decode_or_protocol_error(decoder: PgOutputDecoder, data: bytes) -> None:
    try:
        message = decoder.decode(data)
    except ProtocolError:
        return
    assert isinstance(message, Message)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[int, bool, bytes]:
    proto, in_stream, data = draw(st.sampled_from(SAMPLES))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(buf)))
        match draw(st.sampled_from(["flip", "cut", "insert", "delete"])):
            case "flip" if buf:
                buf[min(where, len(buf) - 1)] = draw(st.integers(0, 255))
            case "cut":
                del buf[where:]
            case "insert":
                buf[where:where] = draw(st.binary(min_size=1, max_size=8))
            case "delete":
                del buf[where : where + draw(st.integers(1, 8))]
    return proto, in_stream, bytes(buf)


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPE_BYTES = st.sampled_from([ord(c) for c in CLASS_OF_TYPE_BYTE] + [0, 0x5A, 0xFF])


def fresh_decoder(proto: int, in_stream: bool) -> PgOutputDecoder:
    return stream_decoder(proto) if in_stream and proto >= 2 else PgOutputDecoder(proto)


@FUZZ
@given(proto=st.integers(1, 4), in_stream=st.booleans(), data=st.binary(max_size=64))
def test_random_bytes_only_decode_or_raise_protocol_error(
    proto: int, in_stream: bool, data: bytes
) -> None:
    decode_or_protocol_error(fresh_decoder(proto, in_stream), data)


@FUZZ
@given(
    proto=st.integers(1, 4),
    in_stream=st.booleans(),
    type_byte=TYPE_BYTES,
    body=st.binary(max_size=80),
)
def test_random_bodies_of_known_types_only_decode_or_raise_protocol_error(
    proto: int, in_stream: bool, type_byte: int, body: bytes
) -> None:
    decode_or_protocol_error(fresh_decoder(proto, in_stream), bytes([type_byte]) + body)


@FUZZ
@given(case=mutated(), other_proto=st.integers(1, 4))
def test_mutated_captured_messages_only_decode_or_raise_protocol_error(
    case: tuple[int, bool, bytes], other_proto: int
) -> None:
    proto, in_stream, data = case
    decode_or_protocol_error(fresh_decoder(proto, in_stream), data)
    decode_or_protocol_error(fresh_decoder(other_proto, in_stream), data)


def iter_all_captured() -> Iterator[tuple[str, Captured]]:
    for name in FIXTURES:
        for captured in load(name).captured:
            yield name, captured


def test_fixtures_cover_every_message_type() -> None:
    seen = {chr(c.data[0]) for _, c in iter_all_captured()}
    assert seen == set(CLASS_OF_TYPE_BYTE)

"""ChangeBatch's runs: one int64 record per run of a transaction's rows (issue 7 made them
records instead of tuples); the metadata columns, rollback and error messages read them."""

from __future__ import annotations

import pyarrow as pa
import pytest

from walstream.capture.batch import ChangeBatch, Txn
from walstream.capture.columns import encode_tuple
from walstream.convert import builtin_type, converter_for
from walstream.errors import TypeConversionError
from walstream.schema import ColumnSchema, TableSchema

TABLE = TableSchema(1, "public", "t", (ColumnSchema("id", 23, "int4", -1, True),), "d")
TEXT = ord("t")


def make_batch() -> ChangeBatch:
    """Three transactions: 2 rows of xid 10, 3 rows of no xid (a snapshot's), 1 row of xid 12."""
    pg_type = builtin_type(23)
    assert pg_type is not None
    batch = ChangeBatch(TABLE, (converter_for(pg_type, "id"),))
    row = 0
    for xid, lsn, ts, rows in (
        (10, 0x100, 1_000, 2),
        (None, 0x200, 2_000, 3),
        (12, 0x300, 3_000, 1),
    ):
        txn = Txn(xid, lsn, ts, 0)  # as the pipeline does: one Txn for the transaction's rows
        for _ in range(rows):
            batch.append(ord("I"), encode_tuple(bytes([TEXT]), (str(row).encode(),)), txn)
            row += 1
    return batch


def test_metadata_columns_repeat_each_run_over_its_rows() -> None:
    table = make_batch().to_arrow()
    assert table.column("id").to_pylist() == list(range(6))
    lsns = [0x100] * 2 + [0x200] * 3 + [0x300]
    assert table.column("_walstream_lsn").to_pylist() == lsns
    assert table.column("_walstream_xid").to_pylist() == [10, 10, None, None, None, 12]
    assert table.column("_walstream_seq").to_pylist() == [0, 1, 0, 1, 2, 0]
    ts = table.column("_walstream_commit_ts").cast(pa.int64()).to_pylist()
    assert ts == [1_000] * 2 + [2_000] * 3 + [3_000]


def test_first_and_last_read_the_first_and_last_runs() -> None:
    batch = make_batch()
    assert (batch.first_lsn, batch.last_lsn) == (0x100, 0x300)
    assert (batch.first_commit_ts_us, batch.last_commit_ts_us) == (1_000, 3_000)


def test_truncate_keeps_the_runs_that_start_before_the_cut() -> None:
    batch = make_batch()
    batch.truncate(3)  # inside the second run: it keeps its first row
    assert len(batch) == 3 and batch.last_lsn == 0x200
    assert len(batch.runs) == 2 * 32
    batch.truncate(2)  # at the second run's first row: the run goes
    assert len(batch) == 2 and batch.last_lsn == 0x100
    assert len(batch.runs) == 32
    assert batch.to_arrow().column("_walstream_xid").to_pylist() == [10, 10]


def test_a_row_is_described_by_its_own_transaction() -> None:
    batch = make_batch()
    described = [batch._describe(row).rsplit(" ", 1)[1] for row in range(6)]
    assert described == ["0/100"] * 2 + ["0/200"] * 3 + ["0/300"]


JSONB_TABLE = TableSchema(
    2,
    "public",
    "j",
    (ColumnSchema("id", 23, "int4", -1, True), ColumnSchema("doc", 3802, "jsonb", -1, False)),
    "d",
)


def _jsonb_batch(docs: list[bytes | None]) -> ChangeBatch:
    """Binary rows of (id int4, doc jsonb): each doc as sent, version byte included."""
    converters = []
    for column in JSONB_TABLE.columns:
        pg_type = builtin_type(column.type_oid)
        assert pg_type is not None
        converters.append(converter_for(pg_type, column.name))
    batch = ChangeBatch(JSONB_TABLE, tuple(converters))
    txn = Txn(10, 0x100, 1_000, 0)
    for i, doc in enumerate(docs):
        kinds = b"bn" if doc is None else b"bb"
        batch.append(ord("I"), encode_tuple(kinds, (i.to_bytes(4, "big"), doc)), txn)
    return batch


def test_jsonb_loses_its_version_byte_as_the_column_is_parsed() -> None:
    """The parser leaves the version byte out (no second copy); the strings are jsonb's text."""
    docs = [b'\x01{"a": 1}', None, b"\x01" + b'"' + b"x" * 5000 + b'"', b"\x01[]"]
    table = _jsonb_batch(docs).to_arrow()
    assert table.schema.field("doc").type == pa.string()
    expected = [None if d is None else d[1:].decode() for d in docs]
    assert table.column("doc").to_pylist() == expected


def test_jsonb_of_another_version_is_refused() -> None:
    """A value without version byte 1 keeps its bytes, and the jsonb decoder names the fault."""
    with pytest.raises(TypeConversionError, match="jsonb binary format version"):
        _jsonb_batch([b'\x01{"a": 1}', b'\x02{"b": 2}']).to_arrow()

"""Columnar micro-batches: the changes of one table, between two flushes, as Arrow columns.

The read loop appends each change row's TupleData bytes, unparsed, to one buffer per batch
(``ChangeBatch.append``: a buffer extend and two array appends, no Python object per value);
only at flush time, off the read loop, are the rows parsed column by column
(:class:`walstream.capture.columns.TupleColumns`) and whole columns converted to Arrow by
:mod:`walstream.convert`. The commit LSN, xid and commit time are the same for every row of a
transaction, so they are kept once per run of rows of one transaction, not per row.

A batch holds one shape of one table (see :meth:`TableSchema.same_shape`); a schema change
starts a new batch. Row order is the stream's order, so ``(_walstream_lsn, _walstream_seq)`` is
increasing inside a batch.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from ..convert import ColumnConverter, ConversionStats
from ..convert.buffers import Mask, names_column
from ..errors import ProtocolError
from ..layout import META_COLUMN_NAMES, OP_COLUMN
from ..lsn import format_lsn
from ..pg.wire import KIND_BINARY, KIND_TEXT, KIND_UNCHANGED
from ..schema import METADATA_KEY, TableSchema
from .columns import PAD, TupleColumns, encode_tuple

# What a buffered row costs beyond its TupleData bytes, counted against --flush-bytes: its op,
# position and offset here, and at flush its metadata columns and one 16-byte view per value.
ROW_OVERHEAD = 80
VALUE_OVERHEAD = 24

_I64 = struct.Struct("=q")  # offsets and seqs: native int64, as numpy and walstream/_accel.c read
_pack_i64 = _I64.pack
# a run of rows of one transaction: first row, commit LSN, xid (NO_XID: none), commit time;
# native int64 records, which walstream/_accel.c appends too and numpy reads as one array
_RUN = struct.Struct("=4q")
NO_XID = -1


class Target(NamedTuple):
    """One table's buffers as the C loop appends to them (ChangeBatch.append's four)."""

    data: bytearray  # the rows' TupleData, back to back
    offsets: bytearray  # native int64 row ends
    ops: bytearray  # one op byte per row
    seqs: bytearray  # native int64 seq per row


class TableEntry(NamedTuple):
    """A batch as drain_txns() appends whole transactions to it."""

    data: bytearray
    offsets: bytearray
    ops: bytearray
    seqs: bytearray
    runs: bytearray  # int64 records: first row, commit LSN, xid, commit time
    row_cost: int  # what a row costs beyond its bytes (ChangeBatch.nbytes)
    batch: ChangeBatch


@dataclass(slots=True)
class Txn:
    """Where the next row of a transaction goes: its commit position and its next ``seq``."""

    xid: int | None
    commit_lsn: int
    commit_ts_us: int
    seq: int = 0


#: The metadata columns of a change file with their Arrow types, named in :mod:`walstream.layout`
META_COLUMNS: tuple[tuple[str, pa.DataType], ...] = tuple(
    zip(
        META_COLUMN_NAMES,
        (
            pa.timestamp("us", tz="UTC"),  # commit time
            pa.int64(),  # commit LSN
            pa.int64(),  # seq: the row's number in its transaction
            pa.int64(),  # xid
            pa.list_(pa.string()),  # unchanged TOAST columns
            pa.list_(pa.string()),  # lossy columns
            pa.bool_(),  # key change
        ),
        strict=True,
    )
)

#: Op codes of the two rows of an UPDATE that moved a row to another key (DESIGN §2): stored
#: lower case in :attr:`ChangeBatch.op_codes`, written as ``D`` / ``U`` with
#: ``_walstream_key_change`` true, so readers never have to infer a key change from liveness.
KEY_CHANGE_DELETE = ord("d")
KEY_CHANGE_UPDATE = ord("u")


def arrow_schema(table: TableSchema, converters: Sequence[ColumnConverter]) -> pa.Schema:
    """The file schema of DESIGN.md §2: Op, data columns, metadata columns."""
    fields = [pa.field(OP_COLUMN, pa.string())]
    fields += [
        pa.field(c.name, conv.arrow_type) for c, conv in zip(table.columns, converters, strict=True)
    ]
    fields += [pa.field(name, typ) for name, typ in META_COLUMNS]
    return pa.schema(fields, metadata={METADATA_KEY: table.to_json().encode()})


@dataclass
class ChangeBatch:
    """Buffered change rows of one table shape; :meth:`append` is called once per change row."""

    table: TableSchema
    converters: tuple[ColumnConverter, ...]
    # All four are bytearrays so that the C read loop (walstream/_accel.c) can append to them
    # as well; offsets and seqs hold native int64.
    data: bytearray = field(default_factory=bytearray)  # the rows' TupleData, back to back
    offsets: bytearray = field(default_factory=lambda: bytearray(8))  # row r: [r, r+1)
    # b"I", b"U", b"D", b"T" per row; b"d", b"u" for the two rows of a key change
    op_codes: bytearray = field(default_factory=bytearray)
    seqs: bytearray = field(default_factory=bytearray)
    # one _RUN record per run of rows of one transaction (first row, commit LSN, xid, commit
    # time): a bytearray, not tuples, because a batch of small transactions has as many runs as
    # rows and their metadata columns are then one numpy view
    runs: bytearray = field(default_factory=bytearray)
    # a transaction too large for one flush is cut: its pieces' files are named apart
    starts_mid_txn: bool = False
    ends_mid_txn: bool = False
    _run_txn: Txn | None = None
    _row_cost: int = 0
    # per column, the lossy values to_arrow() marked, by kind (reported by the flusher)
    adjusted: list[ConversionStats] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._row_cost = ROW_OVERHEAD + VALUE_OVERHEAD * len(self.table.columns)

    def __len__(self) -> int:
        return len(self.op_codes)

    @property
    def nbytes(self) -> int:
        """What the buffered rows cost in memory, here and when converted at flush: the row
        bytes count twice, since their Arrow copy exists before the buffer is released."""
        return 2 * len(self.data) + self._row_cost * len(self.op_codes)

    @property
    def ops(self) -> str:
        """The rows' ops, one character each (a key change's rows as ``D`` and ``U``)."""
        return self.op_codes.decode().upper()

    def _run(self, index: int) -> tuple[int, int, int, int]:
        """Run ``index`` (negative: from the end) as (first row, commit LSN, xid, time)."""
        if index < 0:
            index += len(self.runs) // _RUN.size
        first, lsn, xid, ts = _RUN.unpack_from(self.runs, index * _RUN.size)
        return first, lsn, xid, ts

    def _run_array(self) -> np.ndarray:
        """All runs as an (n, 4) int64 array, columns as in :data:`_RUN`."""
        return np.frombuffer(self.runs, dtype=np.int64).reshape(-1, 4)

    @property
    def first_lsn(self) -> int:
        return self._run(0)[1]

    @property
    def last_lsn(self) -> int:
        return self._run(-1)[1]

    @property
    def first_seq(self) -> int:
        return int(_I64.unpack_from(self.seqs, 0)[0])

    @property
    def last_seq(self) -> int:
        return int(_I64.unpack_from(self.seqs, len(self.seqs) - 8)[0])

    @property
    def storage(self) -> Target:
        """The buffers :meth:`append` writes, for the C read loop (walstream.capture.fastpath)."""
        return Target(self.data, self.offsets, self.op_codes, self.seqs)

    @property
    def entry(self) -> TableEntry:
        """The batch as the C loop appends whole transactions to it (walstream.capture.fastpath)."""
        return TableEntry(
            self.data, self.offsets, self.op_codes, self.seqs, self.runs, self._row_cost, self
        )

    def continue_run(self, txn: Txn) -> None:
        """``txn``'s next rows extend the run the C loop started for it (a handed-off
        transaction, see ChangeBuffer.adopt)."""
        self._run_txn = txn

    @property
    def split(self) -> bool:
        """True when the first or last transaction in the batch is only partly in it."""
        return self.starts_mid_txn or self.ends_mid_txn

    @property
    def first_commit_ts_us(self) -> int:
        return self._run(0)[3]

    @property
    def last_commit_ts_us(self) -> int:
        return self._run(-1)[3]

    def append(self, op: int, row: bytes | bytearray | memoryview, txn: Txn) -> None:
        """Append one change row: ``op`` is ``ord("I")``... and ``row`` its TupleData bytes
        (empty for a TRUNCATE row: all columns NULL). The row takes ``txn``'s next ``seq``.

        hot path: once per change row. The row is checked when the batch is converted.
        """
        if txn is not self._run_txn:
            self._run_txn = txn
            xid = NO_XID if txn.xid is None else txn.xid
            self.runs += _RUN.pack(len(self.op_codes), txn.commit_lsn, xid, txn.commit_ts_us)
        self.op_codes.append(op)
        self.seqs += _pack_i64(txn.seq)
        txn.seq += 1
        data = self.data
        data += row
        self.offsets += _pack_i64(len(data))

    def add(
        self,
        op: str,
        kinds: bytes | None,
        values: Sequence[bytes | None] | None,
        commit_lsn: int,
        seq: int,
        xid: int | None,
        commit_ts_us: int,
    ) -> None:
        """Append one row given as values (``None`` kinds/values: a TRUNCATE row).

        For rows that do not come from pgoutput (snapshot markers, verify); not a hot path.
        """
        if values is not None and len(values) != len(self.table.columns):
            raise ProtocolError(
                f"{self.table.qualified_name}: a tuple has {len(values)} columns, the relation "
                f"has {len(self.table.columns)}"
            )
        row = b"" if kinds is None or values is None else encode_tuple(kinds, tuple(values))
        self.append(ord(op), row, Txn(xid, commit_lsn, commit_ts_us, seq))

    def truncate(self, length: int) -> None:
        """Forget the rows from ``length`` on (a transaction that will be streamed again)."""
        if length >= len(self.op_codes):
            return
        del self.data[_I64.unpack_from(self.offsets, 8 * length)[0] :]
        del self.offsets[8 * (length + 1) :]
        del self.op_codes[length:]
        del self.seqs[8 * length :]
        # in place: a TableEntry the C loop holds refers to this very bytearray
        keep = int(np.searchsorted(self._run_array()[:, 0], length, side="left"))
        del self.runs[keep * _RUN.size :]
        self._run_txn = None

    def _describe(self, row: int) -> str:
        # the last run starting at or before the row (the first run starts at row 0)
        index = max(int(np.searchsorted(self._run_array()[:, 0], row, side="right")) - 1, 0)
        lsn = self._run(index)[1]
        return f"{self.table.qualified_name}: change row with commit LSN {format_lsn(lsn)}"

    def _column_array(
        self,
        index: int,
        kinds: np.ndarray,
        raw: pa.Array,
        stats: ConversionStats,
        prefix_removed: bool = False,
    ) -> tuple[pa.Array, Mask | None]:
        binary = bool((kinds == KIND_BINARY).any())
        if binary and bool((kinds == KIND_TEXT).any()):
            # pgoutput picks text or binary per type, once per session, and a batch never spans
            # sessions (the pipeline seals batches on reconnect): mixing means a bug upstream.
            raise ProtocolError(
                f"{self.table.qualified_name}.{self.table.columns[index].name}: values arrived "
                "in both text and binary format in one batch"
            )
        converter = self.converters[index]
        return converter.decode_marked(raw, binary, stats, prefix_removed=prefix_removed)

    def _metadata(self) -> list[pa.Array]:
        n = len(self.op_codes)
        runs = self._run_array()
        repeat = np.diff(runs[:, 0], append=n)
        lsn = np.repeat(runs[:, 1], repeat)
        ts = np.repeat(runs[:, 3], repeat)
        xid = np.repeat(runs[:, 2], repeat)
        xid_nulls = xid == NO_XID
        xid_values = np.where(xid_nulls, 0, xid)
        return [
            pa.array(ts, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array(lsn, pa.int64()),
            pa.array(np.frombuffer(self.seqs, dtype=np.int64), pa.int64()),
            pa.array(xid_values, pa.int64(), mask=xid_nulls if xid_nulls.any() else None),
        ]

    def _names(self, marks: list[tuple[int, Mask]]) -> pa.Array:
        """Per row the names of the columns marked (``_walstream_unchanged`` / ``_lossy``)."""
        names = [self.table.columns[i].name for i, _ in marks]
        return names_column(len(self.op_codes), names, [mask for _, mask in marks])

    def to_arrow(self, release: bool = False) -> pa.Table:
        """Convert the whole batch to an Arrow table with the file schema.

        ``release`` frees the row buffer once every column is converted, so a flush never
        holds a large batch twice (raw and Parquet); only the rows' ops and positions remain.
        The lossy values marked on the way are counted in :attr:`adjusted`, per column: this
        batch's own counts, though its converters are shared with the table's other batches
        (which the flusher may be converting at the same time).
        """
        schema = arrow_schema(self.table, self.converters)
        n = len(self.op_codes)
        codes = np.frombuffer(self.op_codes, dtype=np.uint8)
        moved = (codes == KEY_CHANGE_DELETE) | (codes == KEY_CHANGE_UPDATE)
        op_bytes = bytes(self.op_codes).upper() if bool(moved.any()) else self.op_codes
        ops = pa.Array.from_buffers(
            pa.string(),
            n,
            [None, pa.py_buffer(np.arange(n + 1, dtype=np.int32)), pa.py_buffer(op_bytes)],
        )
        arrays: list[pa.Array] = [ops]
        self.data += bytes(PAD)  # slack for the parser's fixed-size reads (past every row)
        columns = TupleColumns(
            self.data,
            np.frombuffer(self.offsets, dtype=np.int64),
            len(self.table.columns),
            self._describe,
        )
        marks: list[tuple[int, Mask]] = []
        lossy: list[tuple[int, Mask]] = []
        self.adjusted = [ConversionStats() for _ in self.table.columns]
        for i in range(len(self.table.columns)):
            converter = self.converters[i]
            kinds, raw, removed = columns.next_column_after(
                converter.binary_prefix, converter.binary_width
            )
            array, lossy_rows = self._column_array(i, kinds, raw, self.adjusted[i], removed)
            arrays.append(array)
            if lossy_rows is not None:
                lossy.append((i, lossy_rows))
            unchanged = kinds == KIND_UNCHANGED
            if bool(unchanged.any()):
                marks.append((i, unchanged))
        arrays += self._metadata()
        arrays.append(self._names(marks))
        arrays.append(self._names(lossy))
        arrays.append(pa.array(moved, pa.bool_(), mask=~moved))  # true on a key change, else null
        table = pa.Table.from_arrays(arrays, schema=schema)
        if release:
            self.data = bytearray()
        return table

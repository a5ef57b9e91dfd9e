"""Columnar micro-batches: the changes of one table, between two flushes, as Arrow columns.

The read loop appends decoded changes (raw pgoutput value bytes, not Python values) to a
``ChangeBatch``; only at flush time, off the read loop, are whole columns converted to Arrow by
:mod:`walstream.convert`. That keeps the per-change cost to a few list appends.

A batch holds one shape of one table (see :meth:`TableSchema.same_shape`); a schema change
starts a new batch. Row order is the stream's order, so ``(_walstream_lsn, _walstream_seq)`` is
increasing inside a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from .convert import ColumnConverter
from .errors import ProtocolError
from .schema import METADATA_KEY, TableSchema

NULL_KIND = 0x6E  # 'n'
UNCHANGED_KIND = 0x75  # 'u'
BINARY_KIND = 0x62  # 'b'
TEXT_KIND = 0x74  # 't'

ROW_OVERHEAD = 120  # the op, position and unchanged-list entries of one row
VALUE_OVERHEAD = 41  # a bytes object header (33) and its list slot (8)

META_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("_walstream_commit_ts", pa.timestamp("us", tz="UTC")),
    ("_walstream_lsn", pa.int64()),
    ("_walstream_seq", pa.int64()),
    ("_walstream_xid", pa.int64()),
    ("_walstream_unchanged", pa.list_(pa.string())),
)


def arrow_schema(table: TableSchema, converters: Sequence[ColumnConverter]) -> pa.Schema:
    """The file schema of DESIGN.md §2: Op, data columns, metadata columns."""
    fields = [pa.field("Op", pa.string())]
    fields += [
        pa.field(c.name, conv.arrow_type) for c, conv in zip(table.columns, converters, strict=True)
    ]
    fields += [pa.field(name, typ) for name, typ in META_COLUMNS]
    return pa.schema(fields, metadata={METADATA_KEY: table.to_json().encode()})


@dataclass
class ChangeBatch:
    """Buffered changes of one table shape; ``add`` is called once per change row."""

    table: TableSchema
    converters: tuple[ColumnConverter, ...]
    ops: list[str] = field(default_factory=list)
    columns: list[list[bytes | None]] = field(default_factory=list)
    commit_ts_us: list[int] = field(default_factory=list)
    lsn: list[int] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    xid: list[int | None] = field(default_factory=list)
    unchanged: list[list[str] | None] = field(default_factory=list)
    # the distinct tuple-kind patterns seen; usually one or two, used to find each column's format
    kind_patterns: set[bytes] = field(default_factory=set)
    nbytes: int = 0
    # a transaction too large for one flush is cut: its pieces' files are named apart
    starts_mid_txn: bool = False
    ends_mid_txn: bool = False

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = [[] for _ in self.table.columns]

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def first_lsn(self) -> int:
        return self.lsn[0]

    @property
    def last_lsn(self) -> int:
        return self.lsn[-1]

    @property
    def first_seq(self) -> int:
        return self.seq[0]

    @property
    def last_seq(self) -> int:
        return self.seq[-1]

    @property
    def split(self) -> bool:
        """True when the first or last transaction in the batch is only partly in it."""
        return self.starts_mid_txn or self.ends_mid_txn

    @property
    def first_commit_ts_us(self) -> int:
        return self.commit_ts_us[0]

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
        """Append one change row. ``kinds``/``values`` None means all columns null (T rows).

        hot path: once per change.
        """
        self.ops.append(op)
        self.commit_ts_us.append(commit_ts_us)
        self.lsn.append(commit_lsn)
        self.seq.append(seq)
        self.xid.append(xid)
        cols = self.columns
        if values is None or kinds is None:
            for col in cols:
                col.append(None)
            self.unchanged.append(None)
            self.nbytes += ROW_OVERHEAD
            return
        if len(values) != len(cols):
            raise ProtocolError(
                f"{self.table.qualified_name}: a tuple has {len(values)} columns, the relation "
                f"has {len(cols)}"
            )
        # What the row really costs in memory, not just its payload: a bytes object and a list
        # slot per value, plus the metadata lists. The flush_bytes budget counts this.
        size = ROW_OVERHEAD + VALUE_OVERHEAD * len(values)
        for col, value in zip(cols, values, strict=False):  # lengths checked above
            col.append(value)
            if value is not None:
                size += len(value)
        self.nbytes += size
        if kinds not in self.kind_patterns:
            self.kind_patterns.add(kinds)
        if UNCHANGED_KIND in kinds:
            names = self.table.columns
            self.unchanged.append(
                [names[i].name for i, k in enumerate(kinds) if k == UNCHANGED_KIND]
            )
        else:
            self.unchanged.append(None)

    def truncate(self, length: int) -> None:
        """Forget the rows from ``length`` on (a transaction that will be streamed again)."""
        if length >= len(self.ops):
            return
        dropped = len(self.ops) - length
        for values in (self.ops, self.commit_ts_us, self.lsn, self.seq, self.xid, self.unchanged):
            del values[length:]
        for col in self.columns:
            del col[length:]
        self.nbytes = max(0, self.nbytes - dropped * (self.nbytes // max(1, length + dropped)))

    def _column_array(self, index: int) -> pa.Array:
        formats = {p[index] for p in self.kind_patterns} & {BINARY_KIND, TEXT_KIND}
        if len(formats) > 1:
            # pgoutput picks text or binary per type, once per session, and a batch never spans
            # sessions (the pipeline seals batches on reconnect): mixing means a bug upstream.
            raise ProtocolError(
                f"{self.table.qualified_name}.{self.table.columns[index].name}: values arrived "
                "in both text and binary format in one batch"
            )
        return self.converters[index].convert(self.columns[index], binary=BINARY_KIND in formats)

    def to_arrow(self, release: bool = False) -> pa.Table:
        """Convert the whole batch to an Arrow table with the file schema.

        ``release`` frees each column's raw values as soon as it is converted, so a flush never
        holds a large batch twice (raw and Arrow); the batch is empty afterwards.
        """
        schema = arrow_schema(self.table, self.converters)
        arrays: list[pa.Array] = [pa.array(self.ops, pa.string())]
        for i in range(len(self.columns)):
            arrays.append(self._column_array(i))
            if release:
                self.columns[i] = []
        arrays += [
            pa.array(self.commit_ts_us, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array(self.lsn, pa.int64()),
            pa.array(self.seq, pa.int64()),
            pa.array(self.xid, pa.int64()),
            pa.array(self.unchanged, pa.list_(pa.string())),
        ]
        return pa.Table.from_arrays(arrays, schema=schema)

"""Full-load files: rows of the snapshot as Parquet in the DMS ``LOAD`` layout (DESIGN.md §2).

Keys: ``<schema>/<table>/LOAD<8 hex>-<snapshot_lsn:016X>.parquet``. Number 0 is the table's ``T``
marker at ``(snapshot_lsn, 0)``: applied before the rows (every row has ``_walstream_seq >= 1``),
it removes from FINAL whatever the load did not see, which is what makes a reload (or a load
restarted after a crash) exact. A row file's number is its chunk and its part in that chunk,
``(chunk index + 1) << 16 | part`` (:func:`file_number`), so whichever worker reads a chunk, and
however often, it writes the same names with the same rows (:mod:`.plan`). A new snapshot has a
new snapshot LSN, so a key never names two different loads.

The columns are the change files' columns (:func:`walstream.capture.batch.arrow_schema`, with the
relation metadata): ``Op = 'I'``, the data converted by the table's converters from the COPY
values, ``_walstream_commit_ts`` = snapshot time, ``_walstream_lsn`` = snapshot LSN,
``_walstream_seq`` from the row's ctid, ``_walstream_xid`` and ``_walstream_unchanged`` null,
``_walstream_lossy`` marked by the converters exactly as in change files.

Bounded memory: a :class:`LoadFileWriter` writes each block of rows as a row group into an
in-memory Parquet file and stores the file (``DurableSink.put`` takes whole objects) once it
reaches ``file_bytes`` compressed, so a worker holds at most one file and one block.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..capture.batch import META_COLUMNS, ChangeBatch, arrow_schema
from ..convert import ColumnConverter
from ..convert.buffers import Mask, names_column
from ..errors import ConfigError
from ..faults import fault_point
from ..layout import load_file_key
from ..pipeline.lossy import report_lossy
from ..pipeline.parquet import (
    COMPRESSION,
    ROW_GROUP_ROWS,
    dictionary_columns,
    encode_parquet,
    write_batch_rows,
)
from ..sink import DurableSink
from .reader import RawRows
from .tables import LoadTable

log = logging.getLogger("walstream.snapshot")

_META = dict(META_COLUMNS)
_COMMIT_TS = _META["_walstream_commit_ts"]
_UNCHANGED = _META["_walstream_unchanged"]


@dataclass(frozen=True, slots=True)
class LoadPosition:
    """Where every row of one snapshot sits: its LSN and its time (µs since the Unix epoch)."""

    snapshot_lsn: int
    snapshot_ts_us: int


@dataclass(frozen=True, slots=True)
class StoredLoadFile:
    table: str
    key: str
    rows: int
    size: int


#: Files one chunk may have: the part is the low 16 bits of the file number.
MAX_PARTS = 1 << 16


def file_number(chunk: int, part: int) -> int:
    """The ``LOAD`` number of part ``part`` of chunk ``chunk`` (0 is the T marker)."""
    return (chunk + 1) << 16 | part


def marker_key(table: LoadTable, snapshot_lsn: int) -> str:
    """The key of the table's ``T`` marker: file number 0 of the load."""
    return load_file_key(table.schema.namespace, table.schema.name, 0, snapshot_lsn)


def truncate_marker(table: LoadTable, position: LoadPosition) -> bytes:
    """Parquet bytes of the table's ``T`` row at ``(snapshot_lsn, 0)``, built like a stream's."""
    batch = ChangeBatch(table.schema, table.converters())
    batch.add("T", None, None, position.snapshot_lsn, 0, None, position.snapshot_ts_us)
    return encode_parquet(batch.to_arrow())


def load_rows(
    table: LoadTable,
    converters: tuple[ColumnConverter, ...],
    schema: pa.Schema,
    raw: RawRows,
    position: LoadPosition,
) -> pa.Table:
    """One block of raw rows -> the file's columns (hot path: once per block)."""
    n = raw.rows
    ops = pa.Array.from_buffers(
        pa.string(),
        n,
        [None, pa.py_buffer(np.arange(n + 1, dtype=np.int32)), pa.py_buffer(b"I" * n)],
    )
    arrays: list[pa.Array] = [ops]
    lossy: list[Mask] = []
    names: list[str] = []
    columns = zip(converters, raw.columns, raw.binary, table.schema.columns, strict=True)
    for conv, values, binary, column in columns:
        array, lossy_rows = conv.decode_marked(values, binary)
        arrays.append(array)
        if lossy_rows is not None:
            lossy.append(lossy_rows)
            names.append(column.name)
    arrays += [
        pa.array(np.full(n, position.snapshot_ts_us, dtype=np.int64)).cast(_COMMIT_TS),
        pa.array(np.full(n, position.snapshot_lsn, dtype=np.int64)),
        raw.seq,
        pa.nulls(n, pa.int64()),
        pa.nulls(n, _UNCHANGED),
        names_column(n, names, lossy),
        pa.nulls(n, pa.bool_()),  # _walstream_key_change
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


class LoadFileWriter:
    """The LOAD files of one chunk of a table; see the module docstring."""

    def __init__(
        self,
        sink: DurableSink,
        table: LoadTable,
        position: LoadPosition,
        chunk: int,
        file_bytes: int,
        on_stored: Callable[[StoredLoadFile], None],
    ) -> None:
        self.table = table
        self.converters = table.converters()
        self.schema = arrow_schema(table.schema, self.converters)
        self._sink = sink
        self._position = position
        self._chunk = chunk
        self._part = 0
        self._file_bytes = file_bytes
        self._on_stored = on_stored
        self._buffer: io.BytesIO | None = None
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def write(self, raw: RawRows) -> None:
        if not raw.rows:
            return
        rows = load_rows(self.table, self.converters, self.schema, raw, self._position)
        if self._writer is None:
            self._buffer = io.BytesIO()
            self._writer = pq.ParquetWriter(
                self._buffer,
                self.schema,
                compression=COMPRESSION,
                write_statistics=True,
                # chosen on the file's first rows: a file is written in one stretch of the table
                use_dictionary=dictionary_columns(rows),
                write_batch_size=write_batch_rows(rows),
            )
        self._writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
        self._rows += rows.num_rows
        assert self._buffer is not None
        if self._buffer.tell() >= self._file_bytes:
            self._store()

    def close(self) -> None:
        """Store the file being written, if it has rows."""
        if self._writer is not None:
            self._store()

    def abandon(self) -> None:
        """Drop the file being written (the load failed; it is redone from a new snapshot)."""
        if self._writer is not None:
            self._writer.close()
        self._writer, self._buffer, self._rows = None, None, 0

    def _store(self) -> None:
        assert self._writer is not None and self._buffer is not None
        self._writer.close()
        data = self._buffer.getvalue()
        rows = self._rows
        self._writer, self._buffer, self._rows = None, None, 0
        schema = self.table.schema
        if self._part >= MAX_PARTS:
            raise ConfigError(
                f"chunk {self._chunk} of {schema.qualified_name} needs more than {MAX_PARTS} "
                "files: lower --chunk-size or raise --memory-budget (larger files)"
            )
        number = file_number(self._chunk, self._part)
        self._part += 1
        key = load_file_key(schema.namespace, schema.name, number, self._position.snapshot_lsn)
        stats = [converter.stats for converter in self.converters]
        report_lossy(schema.qualified_name, (c.name for c in schema.columns), stats, key)
        self._sink.put(key, data)
        log.info(
            "event=load_file_stored table=%s key=%s rows=%d bytes=%d",
            schema.qualified_name,
            self._sink.describe(key),
            rows,
            len(data),
        )
        self._on_stored(StoredLoadFile(schema.qualified_name, key, rows, len(data)))
        fault_point("during_snapshot")

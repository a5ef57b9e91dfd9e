"""Reading a table inside the exported snapshot: one connection per worker, COPY per chunk.

Each worker opens an ordinary connection with the pipeline's pinned session settings
(:func:`walstream.pg.source.connect`, the same DateStyle, TimeZone, extra_float_digits... as the
replication connection, so text values look exactly like the streamed ones), then::

    BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
    SET TRANSACTION SNAPSHOT '<exported name>';

and reads its chunks with ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``: CSV rather than binary
COPY because binary would have to be cut into values by Python, one value at a time, while
pyarrow parses CSV in C++. Session settings keep the load honest: ``row_security = off`` makes a
row-level security policy that would hide rows an error instead of a silent gap (the stream is
not filtered by such policies); ``synchronize_seqscans = off`` and no parallel query keep the
scan order repeatable (the workers are the parallelism).

Bounded memory: the COPY arrives one row per message; rows are appended to a byte buffer until
it holds ``block_bytes``, then that block (always whole rows) is parsed by pyarrow's CSV reader
into one raw binary column per table column (NULL is an unquoted empty field, an empty string
is ``""``), and handed on. Nothing holds more than one block per worker. The values are the
types' text output, so the stream's text decoders (:mod:`walstream.convert`) turn them into
exactly the Arrow values a text-mode or binary-mode stream gives.

Positions: ``_walstream_seq`` numbers a chunk's rows in scan order from
:attr:`~.tables.Chunk.first_seq` (first block * 65536 + 1; a block holds fewer rows than that),
so positions are unique in the table, start at 1, and are the same for every number of workers
(the split depends on the table only, the scan order on the snapshot only). A table read in one
chunk has its rows numbered 1, 2, 3...

Parsing: pyarrow's CSV reader is about three times faster when it may assume that no value
holds a line break; COPY quotes every such value, so a block without a ``"`` takes the fast way.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg import pq, sql

from ..errors import ProtocolError, SourceError
from ..pg import source
from .exported import ExportedSnapshot
from .tables import Chunk, LoadTable

log = logging.getLogger("walstream.snapshot")

_PARSE_QUOTED = pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
_PARSE_PLAIN = pcsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False)


@dataclass(frozen=True)
class RawRows:
    """A block of rows as read: positions, and each column's raw text values (binary arrays)."""

    seq: pa.Array  # int64
    columns: list[pa.Array]
    nbytes: int  # COPY bytes these rows took on the wire

    @property
    def rows(self) -> int:
        return len(self.seq)


class SnapshotSession:
    """A connection whose one transaction sees the exported snapshot; used by one thread."""

    def __init__(self, dsn: str, snapshot: ExportedSnapshot) -> None:
        self._dsn = dsn
        self.snapshot = snapshot
        self.conn: psycopg.Connection[Any] | None = None

    def __enter__(self) -> SnapshotSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        conn = source.connect(self._dsn)
        self.conn = conn
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(self.snapshot.snapshot_name))
        except psycopg.Error as exc:
            self.close()
            raise SourceError(
                f"the exported snapshot {self.snapshot.snapshot_name!r} is no longer valid "
                f"({_pg_message(exc)}): the replication connection that exported it closed or "
                "ran another command; run the snapshot again (walstream snapshot creates and "
                "holds its own)"
            ) from None
        conn.execute("SET LOCAL row_security = off")
        conn.execute("SET LOCAL synchronize_seqscans = off")
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()  # read only: nothing to commit

    def lock(self, table: LoadTable) -> None:
        """ACCESS SHARE on the table, or an error if DDL is queued for it (never a hang).

        The coordinator already holds this lock; a worker that waited behind a queued
        ACCESS EXCLUSIVE request would wait forever (the DDL waits for the coordinator, the
        coordinator for the worker), so workers ask with NOWAIT, as pg_dump's do.
        """
        conn = self.conn
        assert conn is not None, "session is not open"
        target = sql.Identifier(table.schema.namespace, table.schema.name)
        try:
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE NOWAIT").format(target))
        except psycopg.errors.LockNotAvailable:
            raise SourceError(
                f"another session is waiting for an exclusive lock on {table.qualified_name} "
                "(DDL such as ALTER TABLE) while the snapshot reads it: let that finish or "
                "cancel it, then run the snapshot again"
            ) from None
        except psycopg.Error as exc:
            sqlstate = getattr(getattr(exc, "diag", None), "sqlstate", None)
            raise _read_error(table, _pg_message(exc), sqlstate) from None

    def read_chunk(self, table: LoadTable, chunk: Chunk, block_bytes: int) -> Iterator[RawRows]:
        """The chunk's rows, a block of about ``block_bytes`` at a time."""
        conn = self.conn
        assert conn is not None, "session is not open"
        names = [f"c{i}" for i in range(len(table.schema.columns))]
        read_options = pcsv.ReadOptions(column_names=names, use_threads=False)
        convert = pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.binary()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        )
        rows_read = 0
        next_seq = chunk.first_seq
        copy = _CopyOut(conn.pgconn, table.copy_sql(chunk).as_bytes(conn))
        try:
            for buf in copy.blocks(block_bytes):
                raw = _parse(buf, read_options, convert, table.qualified_name, next_seq)
                rows_read += raw.rows
                next_seq += raw.rows
                yield raw
        except _CopyFailed as exc:
            raise _read_error(table, exc.message, exc.sqlstate) from None
        if copy.rows >= 0 and copy.rows != rows_read:
            raise ProtocolError(
                f"{table.qualified_name}: COPY reported {copy.rows} rows but {rows_read} were "
                f"parsed from its output (chunk {chunk.index}); report this as a walstream bug"
            )


class _CopyFailed(Exception):
    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate


class _CopyOut:
    """``COPY ... TO STDOUT`` driven at the libpq level, cut into blocks of whole rows.

    psycopg's ``Copy.read()`` costs a few microseconds of Python per row; here a row costs one
    ``get_copy_data`` call and one append (hot path: once per row). The connection is idle
    again when :meth:`blocks` is exhausted; if it is abandoned half-way, close the connection.
    """

    def __init__(self, pgconn: pq.abc.PGconn, query: bytes) -> None:
        self._pgconn = pgconn
        self._query = query
        self.rows = -1  # from the command tag, once done

    def _wait(self, write: bool = False) -> None:
        fd = self._pgconn.socket
        select.select([] if write else [fd], [fd] if write else [], [], 1.0)

    def _failed(self, result: pq.abc.PGresult | None) -> _CopyFailed:
        if result is None:
            return _CopyFailed(self._pgconn.get_error_message().strip() or "connection lost", None)
        primary = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY)
        sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
        message = (primary or result.error_message or b"").decode(errors="replace")
        return _CopyFailed(message.strip(), None if sqlstate is None else sqlstate.decode())

    def _result(self) -> pq.abc.PGresult | None:
        pgconn = self._pgconn
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                return pgconn.get_result()
            self._wait()

    def blocks(self, block_bytes: int) -> Iterator[bytearray]:
        pgconn = self._pgconn
        try:
            pgconn.send_query(self._query)
            while pgconn.flush():
                self._wait(write=True)
        except psycopg.OperationalError as exc:
            raise _CopyFailed(str(exc).strip(), None) from None
        result = self._result()
        if result is None or result.status != pq.ExecStatus.COPY_OUT:
            error = self._failed(result)
            while self._result() is not None:
                pass
            raise error
        get_copy_data = pgconn.get_copy_data
        buf = bytearray()
        while True:
            size, data = get_copy_data(1)
            if size > 0:
                buf += data
                if len(buf) >= block_bytes:
                    yield buf
                    buf = bytearray()
            elif size == 0:
                self._wait()
                pgconn.consume_input()
            elif size == -1:
                break
            else:
                raise self._failed(None)
        if buf:
            yield buf
        result = self._result()
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            error = self._failed(result)
            while self._result() is not None:
                pass
            raise error
        self.rows = result.command_tuples if result.command_tuples is not None else -1
        while self._result() is not None:  # the end of the statement
            pass


def _parse(
    buf: bytearray,
    read_options: pcsv.ReadOptions,
    convert: pcsv.ConvertOptions,
    table: str,
    first_seq: int,
) -> RawRows:
    """One block of whole CSV rows -> raw columns and positions."""
    read_options.block_size = len(buf) + 1  # one block: a row is never cut (rows can be huge)
    try:
        parsed = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(buf)),
            read_options=read_options,
            parse_options=_PARSE_QUOTED if buf.find(b'"') >= 0 else _PARSE_PLAIN,
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        raise ProtocolError(
            f"{table}: cannot parse COPY output as CSV ({exc}); report this as a walstream bug"
        ) from None
    columns = [parsed.column(i).combine_chunks() for i in range(parsed.num_columns)]
    seq = pa.array(np.arange(first_seq, first_seq + parsed.num_rows, dtype=np.int64))
    return RawRows(seq, columns, len(buf))


def _pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return " ".join(str(primary or exc).split())


def _read_error(table: LoadTable, message: str, sqlstate: str | None) -> SourceError:
    name = table.qualified_name
    if "row-level security" in message:
        return SourceError(
            f"{name} has row-level security that would hide rows from this role, and a load "
            f"must see every row ({message}): run the snapshot as the table owner or a role "
            "with BYPASSRLS"
        )
    if sqlstate == "42501":  # insufficient_privilege
        return SourceError(
            f"reading {name} was refused ({message}): GRANT SELECT ON {name} to the snapshot's role"
        )
    if sqlstate is None or sqlstate.startswith("08"):  # connection exceptions
        return SourceError(
            f"the connection broke while reading {name} ({message}); run the snapshot again: "
            "tables not marked loaded are loaded again from a new snapshot"
        )
    return SourceError(f"reading {name} failed: {message}")

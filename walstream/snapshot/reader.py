"""Reading a table inside the exported snapshot: one connection per worker, COPY per chunk.

Each worker opens an ordinary connection with the pipeline's pinned session settings
(:func:`walstream.pg.source.connect`, the same DateStyle, TimeZone, extra_float_digits... as the
replication connection, so text values look exactly like the streamed ones), then::

    BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
    SET TRANSACTION SNAPSHOT '<exported name>';

and reads its chunks with ``COPY (SELECT ...) TO STDOUT (FORMAT binary)``. Session settings keep
the load honest: ``row_security = off`` makes a row-level security policy that would hide rows
an error instead of a silent gap (the stream is not filtered by such policies);
``synchronize_seqscans = off`` and no parallel query keep the scan order repeatable (the workers
are the parallelism).

Binary, because it is the cheapest form on both sides: the server skips the types' text output
(numeric, timestamps and floats are dear to print) and the values arrive in each type's send
format, which is exactly what pgoutput's binary mode sends, so the stream's binary decoders
(:mod:`walstream.convert`) give the Arrow values a binary-mode (or text-mode) stream gives. A
column whose converter has no binary decoder (:attr:`~.ColumnConverter.binary_supported` False:
text-only types, and ``--as-text`` columns without a formatter) is selected as its text output
instead (:meth:`.LoadTable.copy_sql`), which binary COPY sends as its UTF-8 bytes, and decoded as
text (:attr:`RawRows.binary`), as the stream decodes such a type.

Parsing: a binary COPY tuple is an Int16 field count and per field an Int32 length (-1: NULL)
and the bytes: the shape of pgoutput's TupleData with another framing, so a block of tuples is
parsed column by column by the stream's own parser (:class:`~walstream.capture.columns.
TupleColumns`, in C when built, with the GIL released; numpy otherwise). libpq hands over one
CopyData message per tuple (the protocol sends "one per row"); the first also carries the
11-byte signature, the flags and the header extension, and the last one is the Int16 -1
trailer. The message boundaries are kept as row boundaries, and every one is checked: the
header, the trailer, each row's field count and that its last field ends where its message ends;
anything else is a :class:`ProtocolError`.

Bounded memory: the COPY's messages are appended to a byte buffer (by
``walstream._columns.copy_messages``, a C loop without a Python call per row, when the C parts
are on) until it holds ``block_bytes``; that block (always whole messages) is parsed into one raw
binary column per table column and handed on. Nothing holds more than one block per worker.

Not done: reading the next block on a thread of its own while the worker converts and encodes
this one. Measured (bench/README.md, 2026-12-07), it gained nothing: a chunk is a 64th of a
table, so all but huge tables read each chunk in one block and there is nothing to overlap
within a chunk, and the thread's start and hand-overs cost more than they saved.

Positions: ``_walstream_seq`` numbers a chunk's rows in scan order from
:attr:`~.tables.Chunk.first_seq` (first block * 65536 + 1; a block holds fewer rows than that),
so positions are unique in the table, start at 1, and are the same for every number of workers
(the split depends on the table only, the scan order on the snapshot only). A table read in one
chunk has its rows numbered 1, 2, 3...
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import psycopg
import pyarrow as pa
from psycopg import pq, sql

from ..capture import switch
from ..capture.columns import FRAMING_COPY, PAD, TupleColumns
from ..errors import ProtocolError, SourceError
from ..pg import source
from .exported import ExportedSnapshot
from .tables import Chunk, LoadTable

log = logging.getLogger("walstream.snapshot")

#: Binary COPY's header: the signature, Int32 flags, Int32 length of the header extension.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = len(COPY_SIGNATURE) + 4 + 4
#: Flag bits a reader must understand: 16 says each tuple carries an OID (never asked for
#: here), 17-31 are reserved for flags that change the format. Bits 0-15 may be ignored.
_CRITICAL_FLAGS = 0xFFFF0000
#: The trailer: a field count of -1, in a message of its own.
COPY_TRAILER = b"\xff\xff"

# walstream._columns.copy_messages statuses (its COPY_* in walstream/_columns.c)
_COPY_LIMIT, _COPY_WAIT, _COPY_DONE, _COPY_FAILED = 0, 1, 2, 3
_ENDS = 8192  # room for message ends a block starts with (doubled when full)

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RawRows:
    """A block of rows as read: positions, and each column's raw values (binary arrays),
    in the type's send format where ``binary`` says so, else its text output."""

    seq: pa.Array  # int64
    columns: list[pa.Array]
    binary: tuple[bool, ...]  # per column
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
        binary = table.binary_columns()
        tuples = _CopyTuples(table, chunk, binary)
        copy = _CopyOut(conn.pgconn, table.copy_sql(chunk, binary).as_bytes(conn))
        rows_read = 0
        next_seq = chunk.first_seq
        try:
            for data, ends in copy.blocks(block_bytes):
                raw = tuples.parse(data, ends, next_seq)
                rows_read += raw.rows
                next_seq += raw.rows
                yield raw
        except _CopyFailed as exc:
            raise _read_error(table, exc.message, exc.sqlstate) from None
        tuples.finish()
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
    """``COPY ... TO STDOUT`` driven at the libpq level, cut into blocks of whole messages.

    psycopg's ``Copy.read()`` costs a few microseconds of Python per row; here a row costs one
    ``get_copy_data`` call and two appends (hot path: once per row). The connection is idle
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

    def blocks(self, block_bytes: int) -> Iterator[tuple[bytearray, I64]]:
        """Blocks of about ``block_bytes``: the messages back to back, where each one ends,
        and :data:`~walstream.capture.columns.PAD` zero bytes after the last (the parser's
        slack, so it need not copy the block)."""
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
        native = switch.copy_reader()
        if native is None:
            yield from self._python_blocks(block_bytes)
        else:
            yield from self._native_blocks(native, block_bytes)
        result = self._result()
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            error = self._failed(result)
            while self._result() is not None:
                pass
            raise error
        self.rows = result.command_tuples if result.command_tuples is not None else -1
        while self._result() is not None:  # the end of the statement
            pass

    def _native_blocks(
        self, native: tuple[ModuleType, int, int], block_bytes: int
    ) -> Iterator[tuple[bytearray, I64]]:
        """The messages moved by ``walstream._columns.copy_messages``: no Python per row."""
        columns, get_copy_data, freemem = native
        pgconn = self._pgconn
        address = int(cast(Any, pgconn).pgconn_ptr)  # not in pq.abc
        buf, ends, taken = bytearray(), np.empty(_ENDS, dtype=np.int64), 0
        while True:
            status, taken = columns.copy_messages(
                address, get_copy_data, freemem, buf, ends, taken, block_bytes
            )
            if status == _COPY_LIMIT and len(buf) >= block_bytes:
                buf += bytes(PAD)
                yield buf, ends[:taken]
                buf, ends, taken = bytearray(), np.empty(_ENDS, dtype=np.int64), 0
            elif status == _COPY_LIMIT:  # more messages than room for their ends
                ends = np.concatenate([ends, np.empty(len(ends), dtype=np.int64)])
            elif status == _COPY_WAIT:
                self._wait()
                pgconn.consume_input()
            elif status == _COPY_DONE:
                break
            else:
                raise self._failed(None)
        if taken:
            buf += bytes(PAD)
            yield buf, ends[:taken]

    def _python_blocks(self, block_bytes: int) -> Iterator[tuple[bytearray, I64]]:
        """The same in Python, when the C parts are off: a call and two appends per row."""
        pgconn = self._pgconn
        get_copy_data = pgconn.get_copy_data
        buf = bytearray()
        ends: list[int] = []
        end = ends.append
        while True:
            size, data = get_copy_data(1)
            if size > 0:
                buf += data
                end(len(buf))
                if len(buf) >= block_bytes:
                    buf += bytes(PAD)
                    yield buf, np.array(ends, dtype=np.int64)
                    buf = bytearray()
                    ends = []
                    end = ends.append
            elif size == 0:
                self._wait()
                pgconn.consume_input()
            elif size == -1:
                break
            else:
                raise self._failed(None)
        if buf:
            buf += bytes(PAD)
            yield buf, np.array(ends, dtype=np.int64)


class _CopyTuples:
    """The tuples of one chunk's binary COPY output, a block at a time, checked strictly.

    The first block starts with the header, which must be the one this reader knows; one
    message of exactly the trailer must come last. In between every message is one tuple,
    which :class:`TupleColumns` checks field by field against the message's end.
    """

    def __init__(self, table: LoadTable, chunk: Chunk, binary: tuple[bool, ...]) -> None:
        self._table = table
        self._chunk = chunk
        self._binary = binary
        # each binary column's fixed size, if its type has one (fixed_size_binary, as streamed)
        widths = [c.binary_width for c in table.converters()]
        self._widths = [w if b else None for w, b in zip(widths, binary, strict=True)]
        self._header = False
        self._trailer = False

    def parse(self, data: bytearray, ends: I64, first_seq: int) -> RawRows:
        """One block -> raw columns and positions (hot path: once per block)."""
        offsets = self._rows(data, ends)
        n = len(offsets) - 1
        parser = TupleColumns(
            data, offsets, len(self._binary), self._describe(first_seq), framing=FRAMING_COPY
        )
        columns = [parser.next_column(width)[1] for width in self._widths]
        seq = pa.array(np.arange(first_seq, first_seq + n, dtype=np.int64))
        return RawRows(seq, columns, self._binary, int(ends[-1]) if len(ends) else 0)

    def finish(self) -> None:
        """Called when the COPY is done: it must have ended with its trailer."""
        if not self._trailer:
            self._fail("it ended without the binary COPY trailer")

    def _rows(self, data: bytearray, ends: I64) -> I64:
        """Where each tuple of the block starts and the last ends, without header and trailer."""
        start = 0
        if not self._header:
            start = self._read_header(data, ends)
            if len(ends) and ends[0] == start:  # the header came alone
                ends = ends[1:]
        if len(ends) and self._trailer:
            self._fail("data follows the binary COPY trailer")
        last = int(ends[-2]) if len(ends) > 1 else start
        if len(ends) and data[last : int(ends[-1])] == COPY_TRAILER:
            self._trailer = True
            ends = ends[:-1]
        offsets = np.empty(len(ends) + 1, dtype=np.int64)
        offsets[0] = start
        offsets[1:] = ends
        # a tuple has at least one field (6 bytes): a 2-byte message is a trailer too early
        for row in np.flatnonzero(np.diff(offsets) == len(COPY_TRAILER)):
            if data[offsets[row] : offsets[row + 1]] == COPY_TRAILER:
                self._fail("data follows the binary COPY trailer")
        return offsets

    def _read_header(self, data: bytearray, ends: I64) -> int:
        self._header = True
        first = int(ends[0]) if len(ends) else 0
        if first < _HEADER or data[: len(COPY_SIGNATURE)] != COPY_SIGNATURE:
            self._fail("it does not start with the binary COPY signature")
        flags = int.from_bytes(data[11:15], "big")
        if flags & _CRITICAL_FLAGS:
            self._fail(f"its binary COPY header has flags 0x{flags:08X} this reader does not know")
        start = _HEADER + int.from_bytes(data[15:19], "big")
        if start > first:
            self._fail("its binary COPY header extension is cut off")
        return start

    def _describe(self, first_seq: int) -> Callable[[int], str]:
        """Row ``r`` of the block, in words: the table, its row number in the chunk (from 1)."""
        name, chunk, before = self._table.qualified_name, self._chunk.index, first_seq
        before -= self._chunk.first_seq
        return lambda row: f"{name}: COPY row {before + row + 1} of chunk {chunk}"

    def _fail(self, problem: str) -> None:
        raise ProtocolError(
            f"{self._table.qualified_name}: unexpected COPY output in chunk {self._chunk.index}: "
            f"{problem}; report this as a walstream bug"
        )


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

"""Reading a table inside the exported snapshot: one connection per worker, COPY per chunk.

Each worker opens an ordinary connection with the pipeline's pinned session settings
(:func:`walstream.pg.source.connect`, the same DateStyle, TimeZone, extra_float_digits... as the
replication connection, so text values look exactly like the streamed ones), then::

    BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
    SET TRANSACTION SNAPSHOT '<exported name>';

and reads its chunks with ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``. Two session settings
keep the load honest: ``row_security = off`` makes a row-level security policy that would hide
rows an error instead of a silent gap (the stream is not filtered by such policies), and
``synchronize_seqscans = off`` keeps the scan order of a whole-table read repeatable.

Bounded memory: the COPY arrives one row per message; rows are appended to a byte buffer until
it holds ``block_bytes``, then that block (always whole rows) is parsed by pyarrow's CSV reader
into one raw binary column per table column (NULL is an unquoted empty field, an empty string
is ``""``), and handed on. Nothing holds more than one block per worker. The values are the
types' text output, so the stream's text decoders (:mod:`walstream.convert`) turn them into
exactly the Arrow values a text-mode or binary-mode stream gives.

Positions: ``_walstream_seq`` of a row is derived from its ``ctid`` (block * 65536 + offset,
always >= 1), so it is unique in the table and does not depend on how the table was split or on
how many workers read it. Tables read without ctid (partitioned roots) number rows from 1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from psycopg import sql

from ..errors import ProtocolError, SourceError
from ..pg import source
from .exported import ExportedSnapshot
from .tables import Chunk, LoadTable

log = logging.getLogger("walstream.snapshot")

_CTID = r"^\((?P<block>\d+),(?P<offset>\d+)\)$"
_PARSE = pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)


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
            raise _read_error(table, exc) from None

    def read_chunk(
        self, table: LoadTable, chunk: Chunk, block_bytes: int, first_seq: int = 1
    ) -> Iterator[RawRows]:
        """The chunk's rows, a block of about ``block_bytes`` at a time.

        ``first_seq`` numbers the rows of a table read without ctid (partitioned roots).
        """
        conn = self.conn
        assert conn is not None, "session is not open"
        names = [f"c{i}" for i in range(len(table.schema.columns) + table.split_by_ctid)]
        read_options = pcsv.ReadOptions(column_names=names, use_threads=False)
        convert = pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.binary()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        )
        rows_read = 0
        next_seq = first_seq
        try:
            with conn.cursor() as cur:
                with cur.copy(table.copy_sql(chunk)) as copy:
                    buf = bytearray()
                    while data := copy.read():  # hot path: once per row
                        buf += data
                        if len(buf) >= block_bytes:
                            raw = _parse(buf, read_options, convert, table, next_seq)
                            rows_read += raw.rows
                            next_seq += raw.rows
                            buf = bytearray()
                            yield raw
                    if buf:
                        raw = _parse(buf, read_options, convert, table, next_seq)
                        rows_read += raw.rows
                        yield raw
                copied = cur.rowcount
        except psycopg.Error as exc:
            raise _read_error(table, exc) from None
        if copied >= 0 and copied != rows_read:
            raise ProtocolError(
                f"{table.qualified_name}: COPY reported {copied} rows but {rows_read} were parsed "
                f"from its output (chunk {chunk.index}); report this as a walstream bug"
            )


def _parse(
    buf: bytearray,
    read_options: pcsv.ReadOptions,
    convert: pcsv.ConvertOptions,
    table: LoadTable,
    first_seq: int,
) -> RawRows:
    """One block of whole CSV rows -> raw columns and positions."""
    read_options.block_size = len(buf) + 1  # one block: a row is never cut (rows can be huge)
    try:
        parsed = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(buf)),
            read_options=read_options,
            parse_options=_PARSE,
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        raise ProtocolError(
            f"{table.qualified_name}: cannot parse COPY output as CSV ({exc}); report this as a "
            "walstream bug"
        ) from None
    columns = [parsed.column(i).combine_chunks() for i in range(parsed.num_columns)]
    if table.split_by_ctid:
        ctid = pc.extract_regex(columns.pop(0).cast(pa.string()), _CTID)
        block = pc.struct_field(ctid, "block").cast(pa.int64())
        offset = pc.struct_field(ctid, "offset").cast(pa.int64())
        seq = pc.add(pc.multiply(block, 65536), offset)
    else:
        seq = pa.array(range(first_seq, first_seq + parsed.num_rows), pa.int64())
    return RawRows(seq, columns, len(buf))


def _pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return " ".join(str(primary or exc).split())


def _read_error(table: LoadTable, exc: psycopg.Error) -> SourceError:
    message = _pg_message(exc)
    name = table.qualified_name
    if "row-level security" in message:
        return SourceError(
            f"{name} has row-level security that would hide rows from this role, and a load "
            f"must see every row ({message}): run the snapshot as the table owner or a role "
            "with BYPASSRLS"
        )
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return SourceError(
            f"reading {name} was refused ({message}): GRANT SELECT ON {name} to the snapshot's role"
        )
    if isinstance(exc, psycopg.OperationalError):
        return SourceError(
            f"the connection broke while reading {name} ({message}); run the snapshot again: "
            "tables not marked loaded are loaded again from a new snapshot"
        )
    return SourceError(f"reading {name} failed: {message}")

"""The tables a snapshot loads, seen the way the stream sees them, and their ctid-range chunks.

A LOAD file must have exactly the columns, Arrow types and relation metadata of the change files
of the same table, or the warehouse would see two tables. So the schema is not rebuilt here: the
catalog row is turned into the pgoutput ``Relation`` message the walsender would send (published
columns in attribute order, replica identity flags, type OIDs and typmods) and handed to the
stream's own :class:`~walstream.pg.relations.RelationCache`, which yields the same
:class:`~walstream.schema.TableSchema` and converters as streaming does.

What is published follows the publication: its column list (``pg_publication_tables.attnames``,
PostgreSQL 15+; generated columns are left out before that) and its row filter, which the load
applies as a ``WHERE`` clause, since the stream applies it to every change.

Chunks: a plain table is split into ranges of heap blocks read with ``ctid`` range conditions
(a TID Range Scan, PostgreSQL 14+). The split depends on the table's size only, never on the
number of workers, so rows get the same positions however many workers read them
(:mod:`.reader`); there are up to :data:`TARGET_CHUNKS` chunks, so that workers finish at about
the same time. The last chunk has no upper bound: rows visible to the snapshot cannot sit beyond
the blocks counted after it was taken, and the open end makes that a non-question. Partitioned
tables (published through their root) and servers before 14 are read in one chunk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ..convert import ColumnConverter, PgType, converter_for
from ..convert.choices import DEFAULT_CHOICES, TypeChoices
from ..errors import ConfigError, SourceError
from ..pg import source
from ..pg.pgoutput import Relation, RelationColumn
from ..pg.relations import RelationCache
from ..pg.types import CatalogTypes
from ..schema import TableSchema

Connection = psycopg.Connection[Any]

#: Chunks a table is split into (more when chunks would exceed MAX_CHUNK_BLOCKS).
TARGET_CHUNKS = 64
MIN_CHUNK_BLOCKS = 8
MAX_CHUNK_BLOCKS = 131_072  # 1 GiB of 8 KiB blocks
#: _walstream_seq of a chunk's rows starts at first_block * SEQ_PER_BLOCK + 1; a heap block
#: holds fewer tuples than this (MaxHeapTuplesPerPage is 291 for 8 KiB, 1291 for 32 KiB pages).
SEQ_PER_BLOCK = 65_536


def parse_table_name(name: str) -> tuple[str, str]:
    """``schema.table`` (or ``table``, meaning ``public.table``) -> (schema, table)."""
    schema, dot, table = name.strip().partition(".")
    if not dot:
        return "public", schema
    if not schema or not table:
        raise ConfigError(f"invalid table name {name!r}: expected schema.table")
    return schema, table


@dataclass(frozen=True, slots=True)
class Chunk:
    """Heap blocks ``[first_block, end_block)`` of a table; ``end_block`` None: to the end."""

    index: int
    first_block: int
    end_block: int | None
    blocks: int  # for progress: how many of the table's blocks this chunk stands for

    @property
    def first_seq(self) -> int:
        """``_walstream_seq`` of the chunk's first row; its rows are numbered on from there."""
        return self.first_block * SEQ_PER_BLOCK + 1


@dataclass(frozen=True)
class LoadTable:
    """One published table as the load reads it."""

    relid: int
    relkind: str
    schema: TableSchema
    pg_types: tuple[PgType, ...]
    row_filter: str | None
    blocks: int
    on_lossy: str = "mark"  # --on-lossy (the --as-text choice is in schema.columns)

    @property
    def qualified_name(self) -> str:
        return self.schema.qualified_name

    @property
    def split_by_ctid(self) -> bool:
        return self.relkind == "r"

    def converters(self) -> tuple[ColumnConverter, ...]:
        """Fresh converters (they keep statistics, so each worker needs its own)."""
        return tuple(
            converter_for(t, c.name, as_text=c.as_text, on_lossy=self.on_lossy)
            for t, c in zip(self.pg_types, self.schema.columns, strict=True)
        )

    def chunks(self, tid_range_scan: bool = True) -> list[Chunk]:
        """The block ranges to read; one open-ended chunk when the table cannot be split."""
        if not (self.split_by_ctid and tid_range_scan) or self.blocks <= MIN_CHUNK_BLOCKS:
            return [Chunk(0, 0, None, max(self.blocks, 1))]
        size = math.ceil(self.blocks / TARGET_CHUNKS)
        size = min(max(size, MIN_CHUNK_BLOCKS), MAX_CHUNK_BLOCKS)
        starts = list(range(0, self.blocks, size))
        return [
            Chunk(
                i,
                start,
                None if i == len(starts) - 1 else start + size,
                min(size, self.blocks - start),
            )
            for i, start in enumerate(starts)
        ]

    def binary_columns(self) -> tuple[bool, ...]:
        """Per column: whether it is read in its type's send format (its converter decodes
        that, as in a binary-mode stream), else as its text output."""
        return tuple(c.binary_supported for c in self.converters())

    def copy_sql(self, chunk: Chunk, binary: Sequence[bool] | None = None) -> sql.Composed:
        """``COPY (SELECT columns FROM ONLY t WHERE ctid ...) TO STDOUT (FORMAT binary)``.

        Binary COPY sends each column in its type's send format, except the columns ``binary``
        (default :meth:`binary_columns`) marks False: those are selected as their type's text
        output, which a binary COPY sends as UTF-8 bytes; see :mod:`.reader`.
        """
        if binary is None:
            binary = self.binary_columns()
        columns = [
            sql.Identifier(c.name) if b else _text_output(sql.Identifier(c.name))
            for c, b in zip(self.schema.columns, binary, strict=True)
        ]
        target = sql.Identifier(self.schema.namespace, self.schema.name)
        conditions: list[sql.Composable] = []
        if self.split_by_ctid:
            # ONLY: inheritance children are published (and loaded) as tables of their own
            relation: sql.Composable = sql.SQL("ONLY {}").format(target)
            if chunk.first_block:
                conditions.append(sql.SQL("ctid >= {}::tid").format(f"({chunk.first_block},0)"))
            if chunk.end_block is not None:
                conditions.append(sql.SQL("ctid < {}::tid").format(f"({chunk.end_block},0)"))
        else:
            relation = target
        if self.row_filter:
            # the publication's own expression, from pg_get_expr: the stream filters with it too
            conditions.append(sql.SQL("({})").format(sql.SQL(self.row_filter)))
        where: sql.Composable = sql.SQL("")
        if conditions:
            where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions))
        return sql.SQL("COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT binary)").format(
            sql.SQL(", ").join(columns), relation, where
        )


def _text_output(column: sql.Identifier) -> sql.Composable:
    """The column's text output function's result, NULL for NULL.

    Not ``column::text``: some types have a cast to text that is not their output (inet's adds
    the netmask, ``10.0.0.1/32``; bool's says ``true``; char(n)'s drops the padding), while
    ``format('%s')`` calls the output function, as text COPY and pgoutput's text mode do.
    ``num_nulls``, not ``IS NULL``: a composite whose fields are all NULL is ``IS NULL`` but is
    not a NULL value.
    """
    return sql.SQL(
        "CASE WHEN pg_catalog.num_nulls({0}) = 0 THEN pg_catalog.format('%s', {0}) END"
    ).format(column)


@dataclass(frozen=True, slots=True)
class Published:
    """What a publication sends of one table: which columns, which rows."""

    columns: tuple[str, ...] | None  # None: every column (servers before 15)
    row_filter: str | None


def published_tables(conn: Connection, publication: str) -> dict[tuple[str, str], Published]:
    """(schema, table) -> published columns and row filter, for every table of ``publication``."""
    has_lists = conn.info.server_version >= 150000
    extra = "attnames, rowfilter" if has_lists else "NULL::name[], NULL::text"
    rows = conn.execute(
        f"SELECT schemaname::text, tablename::text, {extra} FROM pg_catalog.pg_publication_tables "
        "WHERE pubname = %s",
        (publication,),
    ).fetchall()
    out: dict[tuple[str, str], Published] = {}
    for schema, table, attnames, rowfilter in rows:
        columns = None if attnames is None else tuple(str(a) for a in attnames)
        out[(str(schema), str(table))] = Published(
            columns, None if rowfilter is None else str(rowfilter)
        )
    return out


def check_publication(conn: Connection, publication: str) -> None:
    """SourceError unless ``publication`` exists and the server decodes logically."""
    wal_level = str(_scalar(conn, "SHOW wal_level"))
    if wal_level != "logical":
        raise SourceError(
            f"wal_level is {wal_level!r}, a snapshot with a replication slot needs 'logical': set "
            "wal_level = logical (Aurora/RDS: rds.logical_replication = 1) and restart the server"
        )
    if conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (publication,)).fetchone():
        return
    raise SourceError(
        f"publication {publication!r} does not exist in database {conn.info.dbname!r}: create it "
        f"(CREATE PUBLICATION {publication} FOR TABLE ...) before the snapshot, so that the "
        "slot streams the changes of the tables it loads"
    )


def select_tables(
    conn: Connection, publication: str, names: Sequence[str]
) -> list[tuple[str, str]]:
    """The tables to load: ``names`` (each checked to exist and be published) or all published.

    Raises SourceError for a missing table, a table outside the publication, or one the role
    cannot read, before anything is created or written.
    """
    published = published_tables(conn, publication)
    if names:
        wanted = list(dict.fromkeys(parse_table_name(n) for n in names))
    else:
        wanted = sorted(published)
        if not wanted:
            raise SourceError(
                f"publication {publication!r} has no tables: add some (ALTER PUBLICATION "
                f"{publication} ADD TABLE ...) or name them with --table"
            )
    user = str(_scalar(conn, "SELECT current_user"))
    for schema, table in wanted:
        qualified = f"{schema}.{table}"
        row = conn.execute(
            "SELECT c.oid::int8, has_table_privilege(c.oid, 'SELECT') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (schema, table),
        ).fetchone()
        if row is None:
            raise SourceError(
                f"table {qualified} does not exist in database {conn.info.dbname!r}: check the "
                "--table name (schema.table, case-sensitive)"
            )
        if (schema, table) not in published:
            raise SourceError(
                f"table {qualified} is not in publication {publication!r}, so its changes would "
                f"not be streamed after the load: ALTER PUBLICATION {publication} ADD TABLE "
                f"{qualified}, or leave it out of --table"
            )
        if not row[1]:
            raise SourceError(
                f"role {user!r} has no SELECT privilege on {qualified}; the snapshot reads tables "
                f"with SQL (REPLICATION alone does not allow it): GRANT SELECT ON {qualified} TO "
                f"{user}"
            )
    return wanted


_COLUMNS = """
SELECT a.attname::text, a.atttypid::int8, a.atttypmod, a.attnum
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped {generated}
ORDER BY a.attnum
"""

_IDENTITY_INDEX_COLUMNS = """
SELECT a.attname::text
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s AND i.indisreplident
"""


def describe_table(
    conn: Connection,
    publication: str,
    schema: str,
    table: str,
    types: CatalogTypes,
    published: dict[tuple[str, str], Published] | None = None,
    choices: TypeChoices = DEFAULT_CHOICES,
) -> LoadTable:
    """The table as the stream would describe it (see module docstring), read on ``conn``.

    Call it inside the snapshot's transaction, so the columns are those of the loaded rows.
    ``published`` is :func:`published_tables` of the publication, read once for many tables.
    """
    if published is None:
        published = published_tables(conn, publication)
    entry = published.get((schema, table))
    if entry is None:
        raise SourceError(f"table {schema}.{table} left publication {publication!r} meanwhile")
    row = conn.execute(
        "SELECT c.oid::int8, c.relkind::text, c.relreplident::text, "
        "pg_relation_size(c.oid) / current_setting('block_size')::int8 "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
        (schema, table),
    ).fetchone()
    if row is None:
        raise SourceError(f"table {schema}.{table} was dropped before the snapshot")
    relid, relkind, identity, blocks = int(row[0]), str(row[1]), str(row[2]), int(row[3])
    generated = ""
    if entry.columns is None and conn.info.server_version >= 120000:
        generated = "AND a.attgenerated = ''"
    columns = conn.execute(_COLUMNS.format(generated=generated), (relid,)).fetchall()
    if entry.columns is not None:
        listed = set(entry.columns)
        columns = [c for c in columns if c[0] in listed]
    if not columns:
        raise SourceError(
            f"table {schema}.{table} publishes no columns in {publication!r}: there is nothing to "
            "load; add columns to the publication's column list"
        )
    if identity == "f":
        key_like = {str(c[0]) for c in columns}
    elif identity == "i":
        key_like = {str(r[0]) for r in conn.execute(_IDENTITY_INDEX_COLUMNS, (relid,))}
    elif identity == "d":
        key_like = set(source.primary_key_columns(conn, relid))
    else:
        key_like = set()
    relation = Relation(
        xid=None,
        oid=relid,
        namespace=schema,
        name=table,
        replica_identity=identity,
        columns=tuple(
            RelationColumn(int(str(c[0]) in key_like), str(c[0]), int(c[1]), int(c[2]))
            for c in columns
        ),
    )
    cache = RelationCache(
        lambda oid: source.primary_key_columns(conn, oid),
        lambda oid, mod: types.resolve(oid, mod),
        choices,
    )
    cached = cache.update(relation)
    return LoadTable(
        relid=relid,
        relkind=relkind,
        schema=cached.table,
        pg_types=tuple(c.pg_type for c in cached.converters),
        row_filter=entry.row_filter,
        blocks=blocks if relkind == "r" else 0,
        on_lossy=choices.on_lossy,
    )


def _scalar(conn: Connection, query: str) -> object:
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]

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
(a TID Range Scan, PostgreSQL 14+). A chunk is the unit of work, of claims and of resuming
(:mod:`.plan`), so its size is bounded both ways: at most ``chunk_bytes`` of the table (heap and
TOAST together, so a TOAST-heavy table is not one enormous chunk), at least
:data:`MIN_CHUNK_BYTES`, and otherwise enough chunks for the workers to finish together. Rows get
their positions from their heap block, never from the split (:attr:`Chunk.first_seq`), so the
split may follow the number of workers. The last chunk has no upper bound: rows visible to the
snapshot cannot sit beyond the blocks counted after it was taken, and the open end makes that a
non-question.

Partitioned tables published through their root (``publish_via_partition_root``) are read
partition by partition: each leaf is chunked like a plain table, and its rows are numbered in a
range of positions of its own (:data:`SEQ_PER_PARTITION`), so the root's LOAD files hold every
leaf without two rows sharing a position. Without ``publish_via_partition_root`` the publication
lists the leaves themselves, and each is loaded as the table the stream names. Servers before 14
read each relation in one chunk.
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

#: Chunks per worker a table is split into, when its size allows, so workers finish together.
CHUNKS_PER_WORKER = 8
#: The smallest chunk worth a claim, a file and a done record.
MIN_CHUNK_BYTES = 4 * 1024 * 1024
#: The largest chunk by default: what a killed worker loses and a resumed load reads again.
CHUNK_BYTES = 1024 * 1024 * 1024
#: Chunks of one table at most: the file number holds the chunk in 16 bits (:mod:`.writer`).
MAX_CHUNKS = 65_535
BLOCK_SIZE = 8192
#: _walstream_seq of a chunk's rows starts at first_block * SEQ_PER_BLOCK + 1; a heap block
#: holds fewer tuples than this (MaxHeapTuplesPerPage is 291 for 8 KiB, 1291 for 32 KiB pages).
SEQ_PER_BLOCK = 65_536
#: Each partition of a root numbers its rows from ordinal * SEQ_PER_PARTITION: 2^32 blocks of
#: 2^16 positions (32 TiB of 8 KiB blocks) fit below it, and 32,767 partitions in an int64.
SEQ_PER_PARTITION = 1 << 48
MAX_PARTITIONS = (1 << 15) - 1


def parse_table_name(name: str) -> tuple[str, str]:
    """``schema.table`` (or ``table``, meaning ``public.table``) -> (schema, table)."""
    schema, dot, table = name.strip().partition(".")
    if not dot:
        return "public", schema
    if not schema or not table:
        raise ConfigError(f"invalid table name {name!r}: expected schema.table")
    return schema, table


@dataclass(frozen=True, slots=True)
class Partition:
    """A leaf partition of a partitioned table, which the load reads on its own."""

    namespace: str
    name: str
    relkind: str
    blocks: int  # heap blocks
    nbytes: int  # heap and TOAST bytes (pg_table_size)
    ordinal: int = 0  # the leaf's place among the root's leaves: its range of positions

    @property
    def split_by_ctid(self) -> bool:
        return self.relkind == "r"


@dataclass(frozen=True, slots=True)
class Chunk:
    """Heap blocks ``[first_block, end_block)`` of one relation; ``end_block`` None: to the end.

    ``index`` numbers the chunks of a table from 0, across its partitions; it names the chunk's
    files (:mod:`.writer`) and its done record (:mod:`.plan`).
    """

    index: int
    first_block: int
    end_block: int | None
    blocks: int  # for progress: how many of the relation's blocks this chunk stands for
    partition: Partition | None = None  # None: the table itself

    @property
    def first_seq(self) -> int:
        """``_walstream_seq`` of the chunk's first row; its rows are numbered on from there."""
        ordinal = 0 if self.partition is None else self.partition.ordinal
        return ordinal * SEQ_PER_PARTITION + self.first_block * SEQ_PER_BLOCK + 1


def split_blocks(blocks: int, nbytes: int, chunk_bytes: int, workers: int) -> list[int]:
    """Start blocks of the chunks of a relation of ``blocks`` heap blocks and ``nbytes`` bytes.

    At most ``chunk_bytes`` per chunk (counting TOAST), at least :data:`MIN_CHUNK_BYTES` (or
    ``chunk_bytes`` when that is smaller), and :data:`CHUNKS_PER_WORKER` per worker in between.
    """
    if blocks <= 1:
        return [0]
    nbytes = max(nbytes, blocks * BLOCK_SIZE)
    smallest = min(MIN_CHUNK_BYTES, chunk_bytes)
    count = max(
        math.ceil(nbytes / chunk_bytes),
        min(CHUNKS_PER_WORKER * max(workers, 1), nbytes // smallest),
        1,
    )
    size = max(math.ceil(blocks / count), 1)
    return list(range(0, blocks, size))


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
    nbytes: int = 0  # heap and TOAST bytes
    #: a partitioned root's leaf partitions, each read on its own (empty: read the table)
    partitions: tuple[Partition, ...] = ()

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

    def chunks(
        self, tid_range_scan: bool = True, chunk_bytes: int = CHUNK_BYTES, workers: int = 4
    ) -> list[Chunk]:
        """The block ranges to read, partition by partition (see the module docstring)."""
        if self.partitions:
            sources: list[tuple[Partition | None, bool, int, int]] = [
                (p, p.split_by_ctid, p.blocks, p.nbytes) for p in self.partitions
            ]
        else:
            sources = [(None, self.split_by_ctid, self.blocks, self.nbytes)]
        out: list[Chunk] = []
        for partition, splittable, blocks, nbytes in sources:
            starts = [0]
            if splittable and tid_range_scan:
                starts = split_blocks(blocks, nbytes, chunk_bytes, workers)
            for i, start in enumerate(starts):
                end = starts[i + 1] if i + 1 < len(starts) else None
                span = (blocks if end is None else end) - start
                out.append(Chunk(len(out), start, end, max(span, 1), partition))
        if len(out) > MAX_CHUNKS:
            raise ConfigError(
                f"{self.qualified_name} would be split into {len(out)} chunks, more than "
                f"{MAX_CHUNKS}: raise --chunk-size"
            )
        return out

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
        part = chunk.partition
        names = (part.namespace, part.name) if part else (self.schema.namespace, self.schema.name)
        target = sql.Identifier(*names)
        conditions: list[sql.Composable] = []
        if part.split_by_ctid if part else self.split_by_ctid:
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
        "pg_relation_size(c.oid) / current_setting('block_size')::int8, pg_table_size(c.oid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
        (schema, table),
    ).fetchone()
    if row is None:
        raise SourceError(f"table {schema}.{table} was dropped before the snapshot")
    relid, relkind, identity, blocks = int(row[0]), str(row[1]), str(row[2]), int(row[3])
    nbytes = int(row[4] or 0)
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
        nbytes=nbytes,
        partitions=leaf_partitions(conn, relid) if relkind == "p" else (),
    )


_LEAVES = """
SELECT n.nspname::text, c.relname::text, c.relkind::text,
       pg_relation_size(c.oid) / current_setting('block_size')::int8, pg_table_size(c.oid)
FROM pg_catalog.pg_partition_tree(%s::regclass) t
JOIN pg_catalog.pg_class c ON c.oid = t.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE t.isleaf
ORDER BY n.nspname, c.relname
"""


def leaf_partitions(conn: Connection, root: int) -> tuple[Partition, ...]:
    """The leaf partitions of the partitioned table ``root``, each with its range of positions.

    Ordered by name, so the ordinals are the same whoever plans; read inside the snapshot, so
    they are the partitions of the loaded rows. Ordinals start at 1: 0 is a plain table's.
    """
    rows = conn.execute(_LEAVES, (root,)).fetchall()
    if len(rows) > MAX_PARTITIONS:
        raise SourceError(
            f"partitioned table {root} has {len(rows)} leaf partitions; a load numbers the rows "
            f"of at most {MAX_PARTITIONS}: load its partitions as tables (a publication without "
            "publish_via_partition_root)"
        )
    return tuple(
        Partition(str(ns), str(name), str(kind), int(blocks), int(nbytes or 0), i + 1)
        for i, (ns, name, kind, blocks, nbytes) in enumerate(rows)
    )


def _scalar(conn: Connection, query: str) -> object:
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]

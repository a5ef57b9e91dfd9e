"""Where table models come from: the change files under DEST, or the source catalog.

``walstream snowflake sql`` can run before any change was streamed (models from the source's
publication) or against a destination that already holds files (models from the newest file of
each table, whose Parquet metadata carries the relation). Both paths give the same model for
the same table: the catalog path resolves types with the same look-ups and the same
:func:`~walstream.convert.arrow_type_for` the pipeline uses when it writes the files, and picks
the key the same way (primary key, else the replica identity index, else none).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from ..convert import arrow_type_for
from ..convert.choices import DEFAULT_CHOICES, TypeChoices
from ..errors import ConfigError, SourceError
from ..layout import is_data_key, table_of
from ..pg.types import read_types
from ..schema import ColumnSchema, TableSchema
from ..sink import DurableSink, open_sink
from .model import TableModel


def _wanted(qualified: str, tables: Iterable[str]) -> bool:
    tables = list(tables)
    return not tables or qualified in tables


def models_from_dest(dest: str | DurableSink, tables: Iterable[str] = ()) -> list[TableModel]:
    """One model per ``<schema>/<table>/`` folder of DEST, from its newest walstream file.

    The newest file by name is the newest by commit time (DESIGN.md §2), so it has the table's
    current columns. ``tables`` (``schema.table``) limits the result.
    """
    sink = open_sink(dest) if isinstance(dest, str) else dest
    wanted = list(tables)
    newest: dict[str, str] = {}
    for key in sink.list(""):
        if not is_data_key(key):
            continue
        qualified = table_of(key)  # folders percent-encode odd names
        name = key.rsplit("/", 1)[1]
        if not _wanted(qualified, wanted):
            continue
        # change files sort by commit time; full-load files (LOAD...) come before them
        if qualified not in newest or _order(name) > _order(newest[qualified].rsplit("/", 1)[1]):
            newest[qualified] = key
    missing = sorted(set(wanted) - set(newest))
    if missing:
        raise ConfigError(
            f"no walstream files for {', '.join(missing)} under {sink.url}; check the names "
            "(schema.table) or generate from the source with --dsn"
        )
    models = []
    for _, key in sorted(newest.items()):
        data = sink.get(key)
        if data is None:
            raise ConfigError(f"{sink.describe(key)} disappeared while reading it; run again")
        schema = pq.read_schema(io.BytesIO(data))
        models.append(TableModel.from_arrow_schema(schema, where=sink.describe(key)))
    return models


def _order(name: str) -> tuple[int, str]:
    return (0 if name.startswith("LOAD") else 1, name)


# Published columns in the order pgoutput sends them, with the table's replica identity.
# ``attnames`` (PostgreSQL 15+ column lists) is read through to_jsonb so that older servers,
# which have no such column, publish every column.
_PUBLISHED = """
SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relreplident::text,
       a.attname::text, a.atttypid::int8, a.atttypmod::int8
FROM pg_catalog.pg_publication_tables pt
JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
JOIN pg_catalog.pg_attribute a
  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
WHERE pt.pubname = %s
  AND (to_jsonb(pt) -> 'attnames' IS NULL OR (to_jsonb(pt) -> 'attnames') ? a.attname)
ORDER BY n.nspname, c.relname, a.attnum
"""

# The key: primary key columns, else those of the replica identity index (what relations.py
# uses for the files too).
_KEY = """
SELECT c.oid::int8, a.attname::text, i.indisprimary
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = ANY (%s) AND (i.indisprimary OR i.indisreplident)
"""


def models_from_source(
    dsn: str,
    publication: str,
    tables: Iterable[str] = (),
    choices: TypeChoices = DEFAULT_CHOICES,
) -> list[TableModel]:
    """One model per table of ``publication``, read from the source catalog, each column typed
    as the stream types it with ``choices`` (``--as-text``)."""
    wanted = list(tables)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = conn.execute(_PUBLISHED, (publication,)).fetchall()
            if not rows:
                raise ConfigError(
                    f"publication {publication!r} does not exist or publishes no table; "
                    "check --publication (SELECT * FROM pg_publication_tables)"
                )
            relids = sorted({int(r[0]) for r in rows})
            keys = conn.execute(_KEY, (relids,)).fetchall()
            catalog = read_types(conn, [int(r[5]) for r in rows])
    except psycopg.Error as exc:
        raise SourceError(f"cannot read the publication's tables from the source: {exc}") from None
    primary: dict[int, set[str]] = {}
    identity: dict[int, set[str]] = {}
    for relid, column, is_primary in keys:
        (primary if is_primary else identity).setdefault(int(relid), set()).add(str(column))
    by_table: dict[int, list[Any]] = {}
    for row in rows:
        by_table.setdefault(int(row[0]), []).append(row)
    models = []
    for relid, cols in by_table.items():
        namespace, name, replident = str(cols[0][1]), str(cols[0][2]), str(cols[0][3])
        if not _wanted(f"{namespace}.{name}", wanted):
            continue
        key = primary.get(relid) or (identity.get(relid, set()) if replident == "i" else set())
        columns = []
        types = {}
        for _, _, _, _, column, type_oid, typmod in cols:
            pg_type = catalog.resolve(int(type_oid), int(typmod))
            as_text = choices.as_text(namespace, name, str(column), pg_type)
            columns.append(
                ColumnSchema(
                    str(column), int(type_oid), pg_type.name, int(typmod), column in key, as_text
                )
            )
            types[str(column)] = pa.string() if as_text else arrow_type_for(pg_type)
        schema = TableSchema(relid, namespace, name, tuple(columns), replident)
        models.append(TableModel.from_schema(schema, types))
    missing = sorted(set(wanted) - {m.qualified_name for m in models})
    if missing:
        raise ConfigError(f"{', '.join(missing)} not in publication {publication!r}")
    return sorted(models, key=lambda m: m.qualified_name)

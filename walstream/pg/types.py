"""Type look-ups in the source catalog, for types that pgoutput only names by OID.

Enums, domains, extension types (citext) and user ranges have OIDs that differ per database, so
the first Relation message that uses one triggers one catalog query (:data:`CATALOG_SQL`, which
follows domains, arrays and ranges down to built-in types); answers are cached for the process.
Also decides whether ``binary 'true'`` is safe for a publication: only when every published
column's type has a binary decoder. This is the only place type information is read from a
server; :mod:`walstream.convert` stays pure.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from ..convert import CATALOG_SQL, PgType, TypeCatalog, builtin_type, converter_for
from ..errors import SourceError

log = logging.getLogger("walstream.types")

Connection = psycopg.Connection[Any]


def read_types(
    conn: Connection, oids: list[int], catalog: TypeCatalog | None = None
) -> TypeCatalog:
    """A TypeCatalog that can resolve every OID of ``oids`` (one CATALOG_SQL query at most)."""
    catalog = TypeCatalog() if catalog is None else catalog
    missing = catalog.missing(oids)
    if missing:
        try:
            rows = conn.execute(CATALOG_SQL, (missing,)).fetchall()
        except psycopg.Error as exc:
            raise SourceError(f"cannot read type information from pg_type: {exc}") from None
        catalog.add_rows(rows)
    return catalog


def resolve_catalog_type(conn: Connection, oid: int, typmod: int = -1) -> PgType:
    """The PgType of a column's type OID and typmod, built in or from the catalog."""
    builtin = builtin_type(oid, typmod)
    if builtin is not None:
        return builtin
    return read_types(conn, [oid]).resolve(oid, typmod)


class CatalogTypes:
    """Resolves type OIDs with a process-wide cache in front of the source catalog."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn  # replaced by the runner after a reconnect
        self._catalog = TypeCatalog()

    def resolve(self, oid: int, typmod: int = -1) -> PgType:
        return read_types(self.conn, [oid], self._catalog).resolve(oid, typmod)


_PUBLISHED_COLUMNS = """
SELECT n.nspname::text, c.relname::text, a.attname::text, a.atttypid::int8, a.atttypmod
FROM pg_catalog.pg_publication_tables pt
JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE pt.pubname = %s
ORDER BY 1, 2, a.attnum
"""


def unsupported_binary_columns(conn: Connection, publication: str) -> list[tuple[str, PgType]]:
    """(``schema.table.column``, type) of published columns whose binary format we do not decode."""
    try:
        rows = conn.execute(_PUBLISHED_COLUMNS, (publication,)).fetchall()
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot list the columns of publication {publication!r}: {exc}"
        ) from None
    catalog = read_types(conn, [int(r[3]) for r in rows])
    out = []
    for schema, table, column, oid, typmod in rows:
        pg_type = catalog.resolve(int(oid), int(typmod))
        if not converter_for(pg_type).binary_supported:
            out.append((f"{schema}.{table}.{column}", pg_type))
    return out


def publication_supports_binary(conn: Connection, publication: str) -> bool:
    """True when every column type of the publication can be streamed with ``binary 'true'``."""
    blockers = unsupported_binary_columns(conn, publication)
    if blockers:
        names = ",".join(f"{name}({t.display_name})" for name, t in blockers[:10])
        log.info("event=binary_off reason=text_only_types columns=%s", names)
    return not blockers

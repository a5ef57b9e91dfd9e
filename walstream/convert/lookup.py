"""Catalog look-ups over an ordinary SQL connection, for types pgoutput only names by OID.

Called when a Relation message arrives (rare), never per change. Kept apart from the rest of
the package, which is pure (bytes in, Arrow out), so converters can be tested without a server.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ..errors import SourceError
from .catalog import CATALOG_SQL, PgType, TypeCatalog, builtin_type
from .converter import converter_for

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


_PUBLISHED_COLUMN_TYPES = """
SELECT DISTINCT a.atttypid::int8, a.atttypmod
FROM pg_catalog.pg_publication_tables pt
JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE pt.pubname = %s
"""


def unsupported_binary_columns(conn: Connection, publication: str) -> list[PgType]:
    """The column types of ``publication``'s tables whose binary format we do not decode."""
    try:
        rows = conn.execute(_PUBLISHED_COLUMN_TYPES, (publication,)).fetchall()
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot list the columns of publication {publication!r}: {exc}"
        ) from None
    catalog = read_types(conn, [int(r[0]) for r in rows])
    types = [catalog.resolve(int(oid), int(typmod)) for oid, typmod in rows]
    return [t for t in types if not converter_for(t).binary_supported]


def publication_supports_binary(conn: Connection, publication: str) -> bool:
    """True when every column type of the publication can be streamed with ``binary 'true'``."""
    return not unsupported_binary_columns(conn, publication)

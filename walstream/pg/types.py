"""Type look-ups in the source catalog, for types the built-in table does not know.

Enums, domains, extension types (citext) and user ranges have OIDs that differ per database, so
the first Relation message that uses one triggers one catalog query (:data:`CATALOG_SQL`, which
follows domains, arrays and ranges down to built-in types); the answer is cached for the
session. Also decides whether ``binary 'true'`` is safe for a publication: only when every
published column's type has a binary decoder.
"""

from __future__ import annotations

import logging

import psycopg

from ..convert import CATALOG_SQL, PgType, TypeCatalog, converter_for

log = logging.getLogger("walstream.types")


class CatalogTypes:
    """Resolves type OIDs with a cache in front of the source catalog."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self.conn = conn
        self._catalog = TypeCatalog()

    def resolve(self, oid: int, typmod: int = -1) -> PgType:
        missing = self._catalog.missing([oid])
        if missing:
            rows = self.conn.execute(CATALOG_SQL, (missing,)).fetchall()
            self._catalog.add_rows(rows)
        return self._catalog.resolve(oid, typmod)


PUBLISHED_COLUMNS_SQL = """
SELECT n.nspname::text, c.relname::text, a.attname::text, a.atttypid::int8, a.atttypmod
FROM pg_catalog.pg_publication_tables pt
JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE pt.pubname = %s
ORDER BY 1, 2, a.attnum
"""


def text_only_columns(types: CatalogTypes, publication: str) -> list[str]:
    """Published columns whose type walstream decodes only in text format."""
    rows = types.conn.execute(PUBLISHED_COLUMNS_SQL, (publication,)).fetchall()
    out = []
    for schema, table, column, oid, typmod in rows:
        pg_type = types.resolve(int(str(oid)), int(str(typmod)))
        if not converter_for(pg_type).binary_supported:
            out.append(f"{schema}.{table}.{column} ({pg_type.display_name})")
    return out


def publication_supports_binary(types: CatalogTypes, publication: str) -> bool:
    blockers = text_only_columns(types, publication)
    if blockers:
        log.info("event=binary_off reason=text_only_types columns=%s", ",".join(blockers[:10]))
    return not blockers

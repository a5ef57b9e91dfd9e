"""What we know about a column's PostgreSQL type, and which Arrow type it becomes.

pgoutput's Relation message gives each column a type OID and a typmod, nothing more. Built-in
types have fixed OIDs, so :func:`builtin_type` answers from a table (no round trip). Everything
else (enums, domains, extension types such as citext, user ranges, arrays of those) is looked up
once per Relation message with :data:`CATALOG_SQL` on an ordinary SQL connection and turned into
a :class:`PgType` by :func:`pg_type_from_catalog_row`; :class:`TypeCatalog` does the recursion
(domain -> base type, array -> element, range -> subtype) over the rows of one query.

:func:`arrow_type_for` is the one place that implements the type table of DESIGN.md §4. Numeric
typmods get a closer look:

- ``numeric`` without a typmod, or with a precision above 38, is exact text (``string``).
- ``numeric(p,s)`` with ``0 <= s <= p <= 38`` is ``decimal128(p,s)``.
- PostgreSQL 15+ allows a negative scale (``numeric(3,-2)`` stores multiples of 100 up to
  99900) and a scale above the precision (``numeric(2,5)`` stores up to 0.00099). Parquet and
  Snowflake need ``0 <= s <= p``, so these become the smallest type that holds every allowed
  value exactly: ``decimal128(p - s, 0)`` and ``decimal128(s, s)``, or text if that needs more
  than 38 digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import pyarrow as pa

from ..errors import SourceError

PG_CATALOG = "pg_catalog"


@dataclass(frozen=True, slots=True)
class PgType:
    """A column's type: enough to pick a converter (name and kind) and an Arrow type (typmod).

    ``element`` is the element type of an array, the base type of a domain, the subtype of a
    range and the range type of a multirange. ``kind`` is one of ``base``, ``enum``, ``array``,
    ``range``, ``multirange``, ``domain``, ``composite``, ``other``.
    """

    oid: int
    name: str
    typmod: int
    kind: str
    element: PgType | None = None
    namespace: str = PG_CATALOG

    @property
    def base(self) -> PgType:
        """This type with every domain layer peeled off."""
        t = self
        while t.kind == "domain" and t.element is not None:
            t = t.element
        return t

    @property
    def display_name(self) -> str:
        """How error messages name the type, e.g. ``numeric(10,2)`` or ``public.mood``."""
        name = self.name if self.namespace == PG_CATALOG else f"{self.namespace}.{self.name}"
        if self.name == "numeric" and self.typmod >= 4:
            precision, scale = numeric_precision_scale(self.typmod)
            return f"numeric({precision},{scale})"
        return name


# (oid, name, array oid, kind, element oid) of the built-in types. OIDs are fixed by
# PostgreSQL's catalog (src/include/catalog/pg_type.dat) and have not changed since they were
# introduced; checked against pg_type of PostgreSQL 18. Only user-visible column types matter:
# internal types (pg_node_tree, pseudo-types, ...) cannot be table columns.
_BUILTINS: tuple[tuple[int, str, int, str, int], ...] = (
    (16, "bool", 1000, "base", 0),
    (17, "bytea", 1001, "base", 0),
    (18, "char", 1002, "base", 0),
    (19, "name", 1003, "base", 0),
    (20, "int8", 1016, "base", 0),
    (21, "int2", 1005, "base", 0),
    (22, "int2vector", 1006, "base", 0),
    (23, "int4", 1007, "base", 0),
    (24, "regproc", 1008, "base", 0),
    (25, "text", 1009, "base", 0),
    (26, "oid", 1028, "base", 0),
    (27, "tid", 1010, "base", 0),
    (28, "xid", 1011, "base", 0),
    (29, "cid", 1012, "base", 0),
    (30, "oidvector", 1013, "base", 0),
    (114, "json", 199, "base", 0),
    (142, "xml", 143, "base", 0),
    (600, "point", 1017, "base", 0),
    (601, "lseg", 1018, "base", 0),
    (602, "path", 1019, "base", 0),
    (603, "box", 1020, "base", 0),
    (604, "polygon", 1027, "base", 0),
    (628, "line", 629, "base", 0),
    (650, "cidr", 651, "base", 0),
    (700, "float4", 1021, "base", 0),
    (701, "float8", 1022, "base", 0),
    (718, "circle", 719, "base", 0),
    (774, "macaddr8", 775, "base", 0),
    (790, "money", 791, "base", 0),
    (829, "macaddr", 1040, "base", 0),
    (869, "inet", 1041, "base", 0),
    (1033, "aclitem", 1034, "base", 0),
    (1042, "bpchar", 1014, "base", 0),
    (1043, "varchar", 1015, "base", 0),
    (1082, "date", 1182, "base", 0),
    (1083, "time", 1183, "base", 0),
    (1114, "timestamp", 1115, "base", 0),
    (1184, "timestamptz", 1185, "base", 0),
    (1186, "interval", 1187, "base", 0),
    (1266, "timetz", 1270, "base", 0),
    (1560, "bit", 1561, "base", 0),
    (1562, "varbit", 1563, "base", 0),
    (1700, "numeric", 1231, "base", 0),
    (1790, "refcursor", 2201, "base", 0),
    (2202, "regprocedure", 2207, "base", 0),
    (2203, "regoper", 2208, "base", 0),
    (2204, "regoperator", 2209, "base", 0),
    (2205, "regclass", 2210, "base", 0),
    (2206, "regtype", 2211, "base", 0),
    (2950, "uuid", 2951, "base", 0),
    (2970, "txid_snapshot", 2949, "base", 0),
    (3220, "pg_lsn", 3221, "base", 0),
    (3614, "tsvector", 3643, "base", 0),
    (3615, "tsquery", 3645, "base", 0),
    (3734, "regconfig", 3735, "base", 0),
    (3769, "regdictionary", 3770, "base", 0),
    (3802, "jsonb", 3807, "base", 0),
    (3904, "int4range", 3905, "range", 23),
    (3906, "numrange", 3907, "range", 1700),
    (3908, "tsrange", 3909, "range", 1114),
    (3910, "tstzrange", 3911, "range", 1184),
    (3912, "daterange", 3913, "range", 1082),
    (3926, "int8range", 3927, "range", 20),
    (4072, "jsonpath", 4073, "base", 0),
    (4089, "regnamespace", 4090, "base", 0),
    (4096, "regrole", 4097, "base", 0),
    (4191, "regcollation", 4192, "base", 0),
    (4451, "int4multirange", 6150, "multirange", 3904),
    (4532, "nummultirange", 6151, "multirange", 3906),
    (4533, "tsmultirange", 6152, "multirange", 3908),
    (4534, "tstzmultirange", 6153, "multirange", 3910),
    (4535, "datemultirange", 6155, "multirange", 3912),
    (4536, "int8multirange", 6157, "multirange", 3926),
    (5038, "pg_snapshot", 5039, "base", 0),
    (5069, "xid8", 271, "base", 0),
)

# oid -> (name, kind, element oid or 0); array types are named like PostgreSQL does: _int4.
_BUILTIN_BY_OID: dict[int, tuple[str, str, int]] = {}
for _oid, _name, _array_oid, _kind, _element in _BUILTINS:
    _BUILTIN_BY_OID[_oid] = (_name, _kind, _element)
    _BUILTIN_BY_OID[_array_oid] = ("_" + _name, "array", _oid)
del _oid, _name, _array_oid, _kind, _element

BUILTIN_OIDS: frozenset[int] = frozenset(_BUILTIN_BY_OID)


def builtin_type(oid: int, typmod: int = -1) -> PgType | None:
    """The built-in type ``oid`` with a column's ``typmod``, or None if ``oid`` is not built in.

    An array column's typmod is its element's (``numeric(10,2)[]`` has the typmod of
    ``numeric(10,2)``), so it is passed on to the element.
    """
    entry = _BUILTIN_BY_OID.get(oid)
    if entry is None:
        return None
    name, kind, element_oid = entry
    element = None
    if kind == "array":
        element = builtin_type(element_oid, typmod)
    elif kind in ("range", "multirange"):
        element = builtin_type(element_oid, -1)
    return PgType(oid, name, typmod, kind, element)


# One row per type needed to understand the OIDs in %s (an int8[]/oid[] parameter), following
# domains to their base type, arrays to their element, ranges to their subtype and multiranges
# to their range, until built-in types are reached (those rows come back too; TypeCatalog
# prefers its own table). Portable to PostgreSQL 10+: pg_range.rngmultitypid only exists from
# 14 on, so it is read through to_jsonb(), which yields NULL where the column is missing.
CATALOG_SQL = """
WITH RECURSIVE wanted(oid) AS (
    SELECT u.oid FROM unnest(%s::oid[]) AS u(oid)
  UNION
    SELECT ref.oid
    FROM wanted w
    JOIN pg_catalog.pg_type t ON t.oid = w.oid
    LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
    LEFT JOIN pg_catalog.pg_range mr ON (to_jsonb(mr) ->> 'rngmultitypid')::oid = t.oid
    CROSS JOIN LATERAL (VALUES
        (NULLIF(t.typbasetype, 0)),
        (CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 AND t.typlen = -1
              THEN t.typelem END),
        (r.rngsubtype),
        (mr.rngtypid)
    ) AS ref(oid)
    WHERE ref.oid IS NOT NULL
)
SELECT
    t.oid::int8 AS oid,
    n.nspname::text AS namespace,
    t.typname::text AS name,
    CASE
        WHEN t.typtype = 'd' THEN 'domain'
        WHEN t.typtype = 'e' THEN 'enum'
        WHEN t.typtype = 'r' THEN 'range'
        WHEN t.typtype = 'm' THEN 'multirange'
        WHEN t.typtype = 'c' THEN 'composite'
        WHEN t.typcategory = 'A' AND t.typelem <> 0 AND t.typlen = -1 THEN 'array'
        WHEN t.typtype = 'b' THEN 'base'
        ELSE 'other'
    END AS kind,
    COALESCE(
        NULLIF(t.typbasetype, 0),
        CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 AND t.typlen = -1 THEN t.typelem END,
        r.rngsubtype,
        mr.rngtypid
    )::int8 AS element_oid,
    CASE WHEN t.typtype = 'd' THEN t.typtypmod END AS element_typmod
FROM wanted w
JOIN pg_catalog.pg_type t ON t.oid = w.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_catalog.pg_range mr ON (to_jsonb(mr) ->> 'rngmultitypid')::oid = t.oid
"""

TypeResolver = Callable[[int, int], PgType]


def pg_type_from_catalog_row(
    row: Sequence[object], resolve: TypeResolver, typmod: int = -1
) -> PgType:
    """Build the PgType of one :data:`CATALOG_SQL` row; ``resolve(oid, typmod)`` gives others.

    ``typmod`` is the column's (from the Relation message). A domain's base type gets the
    domain's own typmod (``CREATE DOMAIN price AS numeric(10,2)``: the column says -1, the
    domain says (10,2)); an array's element gets the column's typmod; a range's subtype none.
    """
    oid, namespace, name, kind, element_oid, element_typmod = row
    element = None
    if element_oid is not None:
        if kind == "domain":
            sub_typmod = -1 if element_typmod is None else int(str(element_typmod))
        elif kind == "array":
            sub_typmod = typmod
        else:
            sub_typmod = -1
        element = resolve(int(str(element_oid)), sub_typmod)
    return PgType(int(str(oid)), str(name), typmod, str(kind), element, str(namespace))


class TypeCatalog:
    """Resolves type OIDs from the built-in table and the rows of one or more CATALOG_SQL runs."""

    def __init__(self, rows: Iterable[Sequence[object]] = ()) -> None:
        self._rows: dict[int, Sequence[object]] = {}
        self.add_rows(rows)

    def add_rows(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self._rows[int(str(row[0]))] = row

    def missing(self, oids: Iterable[int]) -> list[int]:
        """The OIDs of ``oids`` that need a CATALOG_SQL query."""
        return sorted({o for o in oids if o not in BUILTIN_OIDS and o not in self._rows})

    def resolve(self, oid: int, typmod: int = -1) -> PgType:
        builtin = builtin_type(oid, typmod)
        if builtin is not None:
            return builtin
        row = self._rows.get(oid)
        if row is None:
            raise SourceError(
                f"type OID {oid} is neither built in nor in the catalog rows read so far; "
                "it was probably dropped or created after the look-up: restart to read it again"
            )
        return pg_type_from_catalog_row(row, self.resolve, typmod)

    def __contains__(self, oid: object) -> bool:
        return oid in BUILTIN_OIDS or oid in self._rows


def with_typmod(pg_type: PgType, typmod: int) -> PgType:
    """``pg_type`` for a column with ``typmod`` (an array passes it on to its element)."""
    if pg_type.kind == "array" and pg_type.element is not None:
        return replace(pg_type, typmod=typmod, element=with_typmod(pg_type.element, typmod))
    return replace(pg_type, typmod=typmod)


def numeric_precision_scale(typmod: int) -> tuple[int, int]:
    """(precision, scale) of a numeric typmod; the scale is an 11-bit signed field (PG 15+)."""
    packed = typmod - 4
    precision = (packed >> 16) & 0xFFFF
    scale = ((packed & 0x7FF) ^ 1024) - 1024
    return precision, scale


def numeric_arrow_type(typmod: int) -> pa.DataType:
    """decimal128 for a numeric typmod that fits, else string (exact text); see module doc."""
    if typmod < 4:
        return pa.string()
    precision, scale = numeric_precision_scale(typmod)
    if scale < 0:
        precision, scale = precision - scale, 0
    elif scale > precision:
        precision = scale
    if not 1 <= precision <= 38:
        return pa.string()
    return pa.decimal128(precision, scale)


# Built-in base types that are exchanged as text in Arrow; listed so the mapping reads as the
# table of DESIGN.md §4 (everything not listed anywhere also becomes string).
_SCALAR_ARROW: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "oid": pa.int64(),  # uint32 in PostgreSQL
    "float4": pa.float32(),
    "float8": pa.float64(),
    "money": pa.decimal128(38, 2),
    "bytea": pa.binary(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}


def arrow_type_for(pg_type: PgType) -> pa.DataType:
    """The Arrow type of a column of ``pg_type`` (DESIGN.md §4)."""
    t = pg_type.base
    if t.kind == "array":
        if t.element is None:
            return pa.list_(pa.string())
        return pa.list_(arrow_type_for(t.element))
    if t.kind != "base" or t.namespace != PG_CATALOG:
        return pa.string()  # enums, ranges, composites, extension types: their text output
    if t.name == "numeric":
        return numeric_arrow_type(t.typmod)
    return _SCALAR_ARROW.get(t.name, pa.string())

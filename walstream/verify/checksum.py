"""Row counts and checksums of one table, computed inside each engine, never in Python.

``walstream verify`` must compare a source table in PostgreSQL with its FINAL table in the
local DuckDB warehouse or in Snowflake, on tables of hundreds of millions of rows. Pulling the
rows into Python does not scale; comparing engine-native hashes does not work either (each
engine hashes its own types its own way). So each engine turns every row into the same
*canonical text*, hashes it with MD5 (which all three have), and sums the hashes per *bucket*
of keys. Equal buckets hold equal rows (up to a 2**-64 chance per bucket); a differing bucket
is split into sub-buckets (:meth:`Bucket.split`) until it is small enough to list its keys
with their row hashes (:func:`bucket_rows`), which names the differing keys. Every query is one
scan of one table with a GROUP BY: memory is the engine's (one row per bucket), time is linear.

The canonical text of a row
---------------------------

A row's text is the concatenation, over the key columns and the compared data columns in
source order, of one *field* per column followed by ``|``. A field is ``N`` for NULL, or ``V``
then the value's canonical text; a value the pipeline stored inexactly and marked in
``_walstream_lossy`` gets a ``~`` before its field. Text that can hold any character (strings,
JSON strings) has each ``|`` doubled, and an array is ``[`` then one field and ``|`` per element
then ``]``, so two rows of a table never have the same text. The key text (the fields of the
key columns alone) decides the row's bucket.

The canonical text of a value depends on the type FINAL stores it as (DESIGN.md §4; the
column's Arrow type in :class:`~walstream.snowflake.model.ColumnModel`), and is the same in
the three engines whenever FINAL holds the source's value:

============================  ===================================================================
FINAL type                    canonical text
============================  ===================================================================
BOOLEAN                       ``t`` or ``f``
NUMBER(5/10/19,0) (ints, oid) the decimal integer (``-32768``)
NUMBER(p,s) (numeric, money)  fixed-point with exactly ``s`` fraction digits (``-0.05``, ``99900``)
FLOAT (float4, float8)        ``NaN``, ``Infinity``, ``-Infinity``, ``0`` (either sign: the sign
                              of a zero is not compared), else the exact binary value as
                              ``[-]<m>p<e>`` (value = m * 2**e, m an integer of at most 53 bits,
                              e = exponent - 52, subnormals at e = -1074): PostgreSQL reads
                              the IEEE bits (float8send), DuckDB and Snowflake compute it with
                              LN, POWER and FLOOR, exact whatever their LN rounds to
VARCHAR (text, varchar,       PostgreSQL's text output of the value, as pgoutput sends it (the
char(n), enums, inet, ranges, source session uses the replication session's DateStyle, TimeZone,
interval, uuid, timetz, xml,  IntervalStyle, extra_float_digits, bytea_output and lc_monetary:
composites, numeric without   :func:`prepare_source`); every column typed ``--as-text`` too
a usable typmod, ...)
BINARY (bytea)                lower-case hex digits
DATE                          days since 1970-01-01
TIME(6)                       microseconds since midnight
TIMESTAMP_NTZ(6)              microseconds since 1970-01-01 00:00:00
TIMESTAMP_TZ(6)               microseconds since 1970-01-01 00:00:00 UTC (the instant; the
                              offset is not compared)
ARRAY (arrays)                ``[`` + one field per element, flattened in row-major order + ``]``
VARIANT (json, jsonb)         a weaker form, see below
============================  ===================================================================

Lossy values (DESIGN.md §4, ``_walstream_lossy``): the source side computes, in SQL, both the
value FINAL is documented to hold and whether the pipeline marks it, so a clamped value is
compared as the clamped value *and* its mark: dates and timestamps outside 0001-01-01 ..
9999-12-31 23:59:59.999999 (and ±infinity) clamp to the nearer end; ``time 24:00:00`` is
23:59:59.999999; NaN in ``numeric(p,s)`` and bytea over 64 MB are NULL; an array with several
dimensions or a lower bound other than 1 is flattened (and an array is marked when one of its
elements is); a ``json`` object with a repeated key keeps the last one. FINAL's side reads the
mark from ``_walstream_lossy``. A missing or an extra mark, like a wrong nearest value, changes
the row's text. Only columns that may be lossy (``ColumnModel.may_be_lossy``) carry marks.

JSON: no exact form in SQL
--------------------------

FINAL holds json and jsonb as Snowflake VARIANT (DuckDB: JSON). Snowflake documents that the
order of an object's keys in TO_JSON is unpredictable, and stores a number as a fixed-point
value or a double depending on its spelling; none of the three engines can sort the keys of
nested objects without recursion. So a JSON value's canonical text is, instead of the value:
``null``, ``true``, ``false``; ``s`` + the string; ``n`` + the number as a double (the FLOAT
form above); ``a`` + the number of elements of an array; ``o`` + the number of distinct keys
of an object (a repeated key counts once: DuckDB's JSON keeps the text as written, Snowflake's
VARIANT the last value). A changed scalar, a changed type, an added or removed element or key is
found; a changed value *inside* an array or object is not. The row's other columns keep their
exact forms.

Snowflake's ARRAY holds VARIANT elements: each is cast to the element's FINAL type (``::DATE``,
``::NUMBER(p,s)``, ...; ``AS_VARCHAR`` for strings) before its text is taken, with
``TRANSFORM`` (documented: the lambda argument of a semi-structured array is a VARIANT).

Hashes and buckets
------------------

A hash is the first 64 bits of the MD5 of a text, as an unsigned integer: Snowflake's
documented ``MD5_NUMBER_UPPER64`` (its documented example, 'Snowflake' ->
17145559544104499780, is the first 16 hex digits of MD5('Snowflake')); PostgreSQL and DuckDB
read the same 16 hex digits of ``md5()``. PostgreSQL has no unsigned 64-bit integer: it keeps
the signed value and adds 2**64 for the negative ones, in the count and in the modulo. A bucket
is ``key_hash % modulus == residue``; sums of row hashes are NUMERIC, HUGEINT or NUMBER(38) and
cannot overflow below 2**64 rows. Only FINAL's live rows count (not the soft-deleted ones).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

import pyarrow as pa
from psycopg import sql

from ..convert.catalog import PG_CATALOG, PgType
from ..convert.converter import MAX_BINARY_BYTES
from ..convert.datetimes import USECS_PER_DAY
from ..errors import ConfigError
from ..pg.types import Connection, resolve_catalog_type
from ..snowflake.dialects import Dialect, DuckDBDialect, SnowflakeDialect, quote
from ..snowflake.model import ColumnModel, TableModel

__all__ = [
    "POSTGRES",
    "SOURCE_SETTINGS",
    "Bucket",
    "BucketSum",
    "ChecksumTable",
    "Engine",
    "KeyedRow",
    "bucket_checksums",
    "bucket_rows",
    "buckets_rows",
    "changed_after_query",
    "checksum_query",
    "fields_query",
    "key_hashes",
    "prepare_source",
    "row_texts",
    "rows_query",
    "texts_query",
]

#: The source engine (the FINAL engines are named by their dialect objects).
POSTGRES: Final = "postgres"
Engine = Literal["postgres"] | Dialect

#: The replication session's settings (walstream.pg.replication): the text output of the types
#: FINAL keeps as VARCHAR depends on them, so the source side must read with the same ones.
SOURCE_SETTINGS: Final = (
    ("DateStyle", "ISO"),
    ("IntervalStyle", "postgres"),
    ("TimeZone", "UTC"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
    ("lc_monetary", "C"),
)

HASH_SPACE: Final = 2**64
#: The largest modulus a bucket may have (PostgreSQL's modulo runs in int8).
MAX_MODULUS: Final = 2**60

_SEP = "|"  # ends each field; doubled inside text


class Executes(Protocol):
    """A PostgreSQL connection or cursor, a DuckDB connection, a Snowflake cursor."""

    def execute(self, query: Any, /) -> Any: ...


# -- buckets -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, order=True)
class Bucket:
    """The keys whose key hash ``h`` has ``h % modulus == residue``.

    ``Bucket()`` is every key. Splitting a bucket by ``factor`` gives the ``factor`` buckets of
    modulus ``modulus * factor`` inside it: each of its keys is in exactly one of them, and no
    key of another bucket is in any. A differing bucket is narrowed by checking its parts.
    """

    modulus: int = 1
    residue: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.modulus <= MAX_MODULUS:
            raise ConfigError(f"a bucket modulus must be 1 to 2**60, not {self.modulus}")
        if not 0 <= self.residue < self.modulus:
            raise ConfigError(f"a residue must be 0 to {self.modulus - 1}, not {self.residue}")

    def split(self, factor: int) -> tuple[Bucket, ...]:
        """The ``factor`` sub-buckets of this bucket."""
        if factor < 1:
            raise ConfigError(f"a bucket is split into at least 1 part, not {factor}")
        modulus = self.modulus * factor
        return tuple(Bucket(modulus, self.residue + self.modulus * i) for i in range(factor))

    def holds(self, key_hash: int) -> bool:
        return key_hash % self.modulus == self.residue


@dataclass(frozen=True, slots=True)
class BucketSum:
    """A bucket's row count and the sum of its rows' hashes."""

    rows: int
    total: int


@dataclass(frozen=True, slots=True)
class KeyedRow:
    """One row of a bucket: its key as the engine returned it, its row hash, and in FINAL the
    position of the change it reflects (``_walstream_lsn``; None on the source side)."""

    key: tuple[Any, ...]
    row_hash: int
    lsn: int | None = None


# -- the table -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChecksumTable:
    """One table as the checksums see it.

    ``model`` gives the FINAL types and the key; ``pg_types`` the source type of each column
    (needed on the source side only: :meth:`from_source` reads them); ``soft_delete`` says FINAL
    has ``_walstream_deleted``; ``columns`` restricts the compared data columns (the key columns
    are always part of a row), for instance to find which column of a differing bucket differs.
    """

    model: TableModel
    pg_types: Mapping[str, PgType] = field(default_factory=dict)
    soft_delete: bool = False
    columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.model.has_key:
            raise ConfigError(
                f"{self.model.qualified_name} has no key: its FINAL is append-only, a log of "
                "changes rather than a copy of the table, and has no checksum to compare"
            )
        if self.columns is not None:
            known = {c.name for c in self.model.columns}
            unknown = [c for c in self.columns if c not in known]
            if unknown:
                raise ConfigError(
                    f"{self.model.qualified_name} has no column {', '.join(map(repr, unknown))}"
                )

    @classmethod
    def from_source(
        cls, conn: Connection, model: TableModel, *, soft_delete: bool = False
    ) -> ChecksumTable:
        """The table with each column's source type read from the source catalog."""
        types = {
            c.name: resolve_catalog_type(conn, c.type_oid, c.typmod) for c in model.schema.columns
        }
        return cls(model, types, soft_delete)

    def only(self, columns: Iterable[str]) -> ChecksumTable:
        """The same table comparing only ``columns`` (and the key)."""
        return ChecksumTable(self.model, self.pg_types, self.soft_delete, tuple(columns))

    @property
    def key(self) -> tuple[ColumnModel, ...]:
        return self.model.key

    @property
    def compared(self) -> tuple[ColumnModel, ...]:
        """The columns of a row's text: the key and the compared columns, in source order."""
        wanted = None if self.columns is None else set(self.columns)
        return tuple(
            c for c in self.model.columns if c.is_key or wanted is None or c.name in wanted
        )

    def pg_type(self, column: ColumnModel) -> PgType:
        try:
            return self.pg_types[column.name]
        except KeyError:
            raise ConfigError(
                f"{self.model.qualified_name}.{column.name}: no source type known; build the "
                "table with ChecksumTable.from_source to read the source side"
            ) from None


# -- value families ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Family:
    """How FINAL stores a column's values (one row of the module docstring's table)."""

    kind: str  # bool int float decimal text binary date time timestamp timestamptz json list
    precision: int = 0
    scale: int = 0
    element: _Family | None = None


def _family_of(t: pa.DataType, json: bool = False) -> _Family:
    if json:
        return _Family("json")
    if pa.types.is_boolean(t):
        return _Family("bool")
    if pa.types.is_integer(t):
        return _Family("int")
    if pa.types.is_floating(t):
        return _Family("float")
    if pa.types.is_decimal(t):
        return _Family("decimal", t.precision, t.scale)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _Family("text")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return _Family("binary")
    if pa.types.is_date(t):
        return _Family("date")
    if pa.types.is_time(t):
        return _Family("time")
    if pa.types.is_timestamp(t):
        return _Family("timestamptz" if t.tz is not None else "timestamp")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _Family("list", element=_family_of(t.value_type))
    raise ConfigError(f"Arrow type {t} is never written by walstream; upgrade walstream")


def _family(column: ColumnModel) -> _Family:
    return _family_of(column.arrow_type, column.is_json)


# -- the engines' SQL ----------------------------------------------------------------------------
_TWO_52 = 2**52
_TWO_53 = 2**53
_DATE_LO, _DATE_HI = "0001-01-01", "9999-12-31"
_TS_LO, _TS_HI = "0001-01-01 00:00:00", "9999-12-31 23:59:59.999999"
_LAST_US = USECS_PER_DAY - 1


class _Sql(ABC):
    """Canonical texts in one engine's SQL: each method takes a SQL expression of a value (in
    the engine's type for that family) and returns the text of the module docstring, NULL for
    a NULL value (every method is strict, so ``field`` can tell NULL from any value)."""

    def ln(self, x: str) -> str:
        return f"LN({x})"

    def power2(self, x: str) -> str:
        return f"POWER(2, {x})"

    @abstractmethod
    def integer_text(self, x: str) -> str:
        """The decimal text of ``x``, a double holding an integer."""

    @abstractmethod
    def float_literal(self, name: str) -> str:
        """The double ``NaN``, ``Infinity`` or ``-Infinity``."""

    def float_text(self, x: str) -> str:
        """FLOAT's canonical text of the double ``x`` (see the module docstring)."""
        nan, inf, ninf = (self.float_literal(n) for n in ("NaN", "Infinity", "-Infinity"))
        # a safe argument for LN on every row, also those a CASE branch does not keep
        a = f"(CASE WHEN {x} IN ({nan}, {inf}, {ninf}, 0) THEN 1 ELSE ABS({x}) END)"
        e1 = f"GREATEST(FLOOR({self.ln(a)} / {self.ln('2')}), -1022)"
        half = f"FLOOR({e1} / 2)"
        # a * 2**(52 - e1), in two factors: 2**1074 (a subnormal) is not a double
        m0 = f"({a} * {self.power2(f'26 - {half}')} * {self.power2(f'26 - {e1} + {half}')})"
        # LN may round e1 one off near a power of two: one step puts m in [2**52, 2**53)
        big = f"{m0} >= {_TWO_53}"
        small = f"{m0} < {_TWO_52} AND {e1} > -1022"
        m = f"CASE WHEN {big} THEN {m0} / 2 WHEN {small} THEN {m0} * 2 ELSE {m0} END"
        e = f"{e1} - 52 + CASE WHEN {big} THEN 1 WHEN {small} THEN -1 ELSE 0 END"
        return (
            f"CASE WHEN {x} = {nan} THEN 'NaN' WHEN {x} = {inf} THEN 'Infinity' "
            f"WHEN {x} = {ninf} THEN '-Infinity' WHEN {x} = 0 THEN '0' "
            f"ELSE CASE WHEN {x} < 0 THEN '-' ELSE '' END || {self.integer_text(m)} || 'p' || "
            f"{self.integer_text(e)} END"
        )

    @staticmethod
    def escaped(text: str) -> str:
        return f"REPLACE({text}, '{_SEP}', '{_SEP}{_SEP}')"

    @staticmethod
    def boolean(x: str) -> str:
        return f"CASE WHEN {x} THEN 't' WHEN NOT {x} THEN 'f' END"

    @staticmethod
    def field(value: str) -> str:
        return f"COALESCE('V' || {value}, 'N')"


class _FinalSql(_Sql):
    """FINAL's side: values in the dialect's FINAL types (:mod:`walstream.snowflake.model`)."""

    dialect: Dialect

    @abstractmethod
    def value(self, fam: _Family, x: str) -> str:
        """The canonical text of the FINAL value ``x``."""

    @abstractmethod
    def hash(self, text: str) -> str:
        """The first 64 bits of the MD5 of ``text``, unsigned."""

    def modulo(self, x: str, modulus: int) -> str:
        return f"MOD({x}, {modulus})"


class _DuckDBSql(_FinalSql):
    def __init__(self, dialect: DuckDBDialect) -> None:
        self.dialect = dialect

    def integer_text(self, x: str) -> str:
        return f"CAST(CAST({x} AS BIGINT) AS VARCHAR)"

    def float_literal(self, name: str) -> str:
        return f"CAST('{name}' AS DOUBLE)"

    def value(self, fam: _Family, x: str) -> str:
        kind = fam.kind
        if kind == "bool":
            return self.boolean(x)
        if kind in ("int", "decimal"):
            return f"CAST({x} AS VARCHAR)"
        if kind == "float":
            return self.float_text(f"CAST({x} AS DOUBLE)")
        if kind == "text":
            return self.escaped(x)
        if kind == "binary":
            return f"lower(hex({x}))"
        if kind == "date":
            return f"CAST(({x} - DATE '1970-01-01') AS VARCHAR)"
        if kind in ("time", "timestamp", "timestamptz"):
            return f"CAST(epoch_us({x}) AS VARCHAR)"
        if kind == "json":
            return self._json(x)
        assert fam.element is not None
        element = self.field(self.value(fam.element, "_walstream_e"))
        return (
            f"CASE WHEN {x} IS NOT NULL THEN '[' || array_to_string("
            f"[{element} || '{_SEP}' FOR _walstream_e IN {x}], '') || ']' END"
        )

    def _json(self, j: str) -> str:
        string = self.escaped(f"json_extract_string({j}, '$')")
        number = self.float_text(f"CAST({j} AS DOUBLE)")
        return (
            f"CASE json_type({j}) "
            f"WHEN 'OBJECT' THEN 'o' || CAST(len(list_distinct(json_keys({j}))) AS VARCHAR) "
            f"WHEN 'ARRAY' THEN 'a' || CAST(json_array_length({j}) AS VARCHAR) "
            f"WHEN 'VARCHAR' THEN 's' || {string} "
            f"WHEN 'BOOLEAN' THEN CAST({j} AS VARCHAR) "
            f"WHEN 'NULL' THEN 'null' "
            f"ELSE 'n' || {number} END"
        )

    def hash(self, text: str) -> str:
        return f"CAST('0x' || substr(md5({text}), 1, 16) AS UBIGINT)"

    def modulo(self, x: str, modulus: int) -> str:
        return f"({x} % {modulus})"


class _SnowflakeSql(_FinalSql):
    def __init__(self, dialect: SnowflakeDialect) -> None:
        self.dialect = dialect

    def integer_text(self, x: str) -> str:
        return f"TO_VARCHAR(({x})::NUMBER(38,0))"

    def float_literal(self, name: str) -> str:
        # the documented spellings of FLOAT's special values (NaN equals NaN in Snowflake)
        spelled = {"NaN": "NaN", "Infinity": "inf", "-Infinity": "-inf"}[name]
        return f"'{spelled}'::FLOAT"

    def value(self, fam: _Family, x: str) -> str:
        kind = fam.kind
        if kind == "bool":
            return self.boolean(x)
        if kind == "int":
            return f"TO_VARCHAR({x})"
        if kind == "decimal":
            return self._decimal(x, fam.scale)
        if kind == "float":
            return self.float_text(x)
        if kind == "text":
            return self.escaped(x)
        if kind == "binary":
            return f"LOWER(HEX_ENCODE({x}))"
        if kind == "date":
            return f"TO_VARCHAR(DATEDIFF(DAY, '1970-01-01'::DATE, {x}))"
        if kind == "time":
            return f"TO_VARCHAR(DATEDIFF(MICROSECOND, '00:00:00'::TIME, {x}))"
        if kind in ("timestamp", "timestamptz"):
            return f"TO_VARCHAR(DATE_PART(EPOCH_MICROSECOND, {x}))"
        if kind == "json":
            return self._json(x)
        assert fam.element is not None
        element = self.field(self.value(fam.element, self._element(fam.element, "walstream_e")))
        return (
            f"CASE WHEN {x} IS NOT NULL THEN '[' || ARRAY_TO_STRING("
            f"TRANSFORM({x}, walstream_e -> {element} || '{_SEP}'), '') || ']' END"
        )

    @staticmethod
    def _element(fam: _Family, e: str) -> str:
        """An ARRAY element (a VARIANT) as the family's FINAL type; JSON null is NULL."""
        if fam.kind == "text":
            return f"AS_VARCHAR({e})"  # the string itself (a cast would keep JSON's quotes)
        types = {
            "bool": "BOOLEAN",
            "int": "NUMBER(38,0)",
            "decimal": f"NUMBER({fam.precision},{fam.scale})",
            "float": "FLOAT",
            "binary": "BINARY",
            "date": "DATE",
            "time": "TIME(6)",
            "timestamp": "TIMESTAMP_NTZ(6)",
            "timestamptz": "TIMESTAMP_TZ(6)",
        }
        if fam.kind not in types:  # json has no array form in the files (list<string>)
            raise ConfigError(f"arrays of {fam.kind} are never written by walstream")
        return f"IFF(IS_NULL_VALUE({e}), NULL, {e}::{types[fam.kind]})"

    def _decimal(self, x: str, scale: int) -> str:
        """Fixed point with ``scale`` fraction digits, from integer parts only (so the text
        does not depend on how TO_VARCHAR formats a NUMBER with a scale)."""
        whole = f"TRUNC(ABS({x}))"
        text = f"CASE WHEN {x} < 0 THEN '-' ELSE '' END || TO_VARCHAR({whole}::NUMBER(38,0))"
        if scale > 0:
            digits = f"((ABS({x}) - {whole}) * {10**scale})::NUMBER(38,0)"
            text += f" || '.' || LPAD(TO_VARCHAR({digits}), {scale}, '0')"
        return f"CASE WHEN {x} IS NOT NULL THEN {text} END"

    def _json(self, v: str) -> str:
        return (
            f"CASE WHEN IS_OBJECT({v}) THEN 'o' || TO_VARCHAR(ARRAY_SIZE(OBJECT_KEYS({v}))) "
            f"WHEN IS_ARRAY({v}) THEN 'a' || TO_VARCHAR(ARRAY_SIZE({v})) "
            f"WHEN IS_VARCHAR({v}) THEN 's' || {self.escaped(f'AS_VARCHAR({v})')} "
            f"WHEN IS_BOOLEAN({v}) THEN CASE WHEN {v}::BOOLEAN THEN 'true' ELSE 'false' END "
            f"WHEN IS_NULL_VALUE({v}) THEN 'null' "
            f"ELSE 'n' || {self.float_text(f'{v}::FLOAT')} END"
        )

    def hash(self, text: str) -> str:
        return f"MD5_NUMBER_UPPER64({text})"


# -- the source side -----------------------------------------------------------------------------
# Base types whose cast to text is not their output function (pg_cast: a function, not I/O).
_OUTPUT_NOT_CAST = frozenset({"bool", "char", "bpchar", "inet", "cidr"})


class _PostgresSql(_Sql):
    """The source side: the values FINAL holds, computed from the source's, and the marks."""

    def integer_text(self, x: str) -> str:
        return f"(({x})::int8)::text"

    def float_literal(self, name: str) -> str:
        return f"'{name}'::float8"

    def power2(self, x: str) -> str:
        return f"power(2::float8, {x})"

    def float_text(self, x: str) -> str:
        """The same text as :meth:`_Sql.float_text`, read from the IEEE 754 bits (float8send):
        cheaper than the logarithms, and PostgreSQL can."""
        bits = f"('x' || encode(float8send({x}), 'hex'))::bit(64)::int8"
        exponent = f"(({bits} >> 52) & 2047)"
        fraction = f"({bits} & {_TWO_52 - 1})"
        m = f"CASE WHEN {exponent} = 0 THEN {fraction} ELSE {fraction} + {_TWO_52} END"
        e = f"CASE WHEN {exponent} = 0 THEN -1074 ELSE {exponent} - 1075 END"
        return (
            f"CASE WHEN {x} = 'NaN'::float8 THEN 'NaN' WHEN {x} = 'Infinity'::float8 "
            f"THEN 'Infinity' WHEN {x} = '-Infinity'::float8 THEN '-Infinity' "
            f"WHEN {x} = 0 THEN '0' "
            f"ELSE CASE WHEN {x} < 0 THEN '-' ELSE '' END || ({m})::text || 'p' || ({e})::text END"
        )

    @staticmethod
    def output(x: str, pg: PgType) -> str:
        """The text pgoutput sends for ``x`` (its type's output function)."""
        base = pg.base
        if base.namespace == PG_CATALOG and base.kind == "base" and base.name in _OUTPUT_NOT_CAST:
            return f"CASE WHEN {x} IS NOT NULL THEN format('%s', {x}) END"
        return f"({x})::text"

    def value(self, fam: _Family, x: str, pg: PgType) -> str:
        """The canonical text of what FINAL holds for the source value ``x``."""
        kind = fam.kind
        base = pg.base
        if kind == "bool":
            return self.boolean(x)
        if kind == "int":
            return f"({x})::text"
        if kind == "float":
            return self.float_text(f"({x})::float8")
        if kind == "decimal":
            if base.name == "numeric":  # NaN: NULL in FINAL (and marked)
                return f"CASE WHEN ({x})::numeric <> 'NaN' THEN ({x})::numeric::text END"
            return f"({x})::numeric::text"  # money: two fraction digits
        if kind == "text":
            return self.escaped(self.output(x, pg))
        if kind == "binary":
            return f"CASE WHEN octet_length({x}) <= {MAX_BINARY_BYTES} THEN encode({x}, 'hex') END"
        if kind in ("date", "time", "timestamp", "timestamptz"):
            # LEAST and GREATEST skip NULLs: only a value is clamped
            return f"CASE WHEN {x} IS NOT NULL THEN {self._temporal(kind, x)} END"
        if kind == "json":
            return self._json(f"({x})::jsonb")
        assert fam.element is not None and base.element is not None
        return self._array(fam.element, x, base.element)

    def _temporal(self, kind: str, x: str) -> str:
        if kind == "date":
            day = f"LEAST(GREATEST(({x})::date, '{_DATE_LO}'::date), '{_DATE_HI}'::date)"
            return f"({day} - '1970-01-01'::date)::text"
        if kind == "time":
            return f"LEAST((extract(epoch FROM ({x})::time) * 1000000)::int8, {_LAST_US})::text"
        if kind == "timestamp":
            return self._micros(f"({x})::timestamp")
        return self._micros(f"(({x})::timestamptz AT TIME ZONE 'UTC')")

    def _micros(self, ts: str) -> str:
        """Microseconds since 1970 of a timestamp, clamped to the storable range. Built from
        the date and the time of day, exact on every version (extract(epoch) is a double
        before PostgreSQL 14)."""
        t = f"LEAST(GREATEST({ts}, '{_TS_LO}'::timestamp), '{_TS_HI}'::timestamp)"
        return (
            f"(({t}::date - '1970-01-01'::date)::int8 * {USECS_PER_DAY} + "
            f"(extract(epoch FROM {t}::time) * 1000000)::int8)::text"
        )

    def _json(self, j: str) -> str:
        scalar = f"({j} #>> '{{}}')"  # a scalar's value as text (a string unquoted)
        string = self.escaped(scalar)
        n = f"{scalar}::numeric"
        as_double = (
            f"CASE WHEN abs({n}) > 1.7976931348623157e308 THEN sign({n}) * 'Infinity'::float8 "
            f"WHEN abs({n}) < 2.4703282292062328e-324 THEN 0::float8 ELSE {n}::float8 END"
        )
        return (
            f"CASE jsonb_typeof({j}) "
            f"WHEN 'object' THEN 'o' || (SELECT count(*) FROM jsonb_object_keys({j}))::text "
            f"WHEN 'array' THEN 'a' || jsonb_array_length({j})::text "
            f"WHEN 'string' THEN 's' || {string} "
            f"WHEN 'boolean' THEN {scalar} "
            f"WHEN 'null' THEN 'null' "
            f"ELSE 'n' || {self.float_text(as_double)} END"
        )

    def _array(self, fam: _Family, x: str, element: PgType) -> str:
        """Elements in row-major order whatever the dimensions and bounds (unnest), each as
        FINAL holds it. Composite elements go through text[] (unnest would expand them into
        their fields, and could not tell a NULL element from one of NULL fields)."""
        if element.base.kind == "composite":
            source, element = f"({x})::text[]", PgType(25, "text", -1, "base")
        else:
            source = x
        item = self.field(self.value(fam, "wu.e", element))
        return (
            f"CASE WHEN {x} IS NOT NULL THEN '[' || coalesce((SELECT string_agg({item} || "
            f"'{_SEP}', '' ORDER BY wu.o) FROM unnest({source}) WITH ORDINALITY AS wu(e, o)), '') "
            f"|| ']' END"
        )

    def lossy(self, fam: _Family, x: str, pg: PgType, column: ColumnModel) -> str | None:
        """SQL true when the pipeline marks the value ``x`` lossy, None when it never does."""
        base = pg.base
        kind = fam.kind
        if kind == "date":
            return f"({x})::date NOT BETWEEN '{_DATE_LO}'::date AND '{_DATE_HI}'::date"
        if kind == "timestamp":
            return f"({x})::timestamp NOT BETWEEN '{_TS_LO}'::timestamp AND '{_TS_HI}'::timestamp"
        if kind == "timestamptz":
            return (
                f"({x})::timestamptz NOT BETWEEN '{_TS_LO}+00'::timestamptz "
                f"AND '{_TS_HI}+00'::timestamptz"
            )
        if kind == "time":
            return f"({x})::time > '23:59:59.999999'::time"
        if kind == "decimal":
            return f"({x})::numeric = 'NaN'" if base.name == "numeric" else None
        if kind == "binary":
            return f"octet_length({x}) > {MAX_BINARY_BYTES}"
        if kind == "json":
            return self._duplicate_keys(x) if base.name == "json" else None
        if kind == "text" and base.name == "json" and base.namespace == PG_CATALOG:
            # a json element of an array: marked as in a json column (its text is kept)
            return self._duplicate_keys(x) if column.may_be_lossy else None
        if kind != "list" or fam.element is None or base.element is None:
            return None
        shape = f"(array_ndims({x}) > 1 OR array_lower({x}, 1) <> 1)"
        inner = self.lossy(fam.element, "wu.e", base.element, column)
        if inner is None or base.element.base.kind == "composite":
            return shape
        return f"({shape} OR EXISTS (SELECT 1 FROM unnest({x}) AS wu(e) WHERE {inner}))"

    @staticmethod
    def _duplicate_keys(x: str) -> str:
        """True when a json object anywhere in ``x`` repeats a key (jsonb, Snowflake's VARIANT
        and DuckDB's reading keep the last one). json_each keeps every pair, decoded."""
        return (
            "EXISTS (WITH RECURSIVE n(v) AS ("
            f"SELECT ({x})::json UNION ALL "
            "SELECT c.value FROM n, LATERAL ("
            "SELECT value FROM json_each(CASE WHEN json_typeof(n.v) = 'object' THEN n.v END) "
            "UNION ALL "
            "SELECT value FROM json_array_elements("
            "CASE WHEN json_typeof(n.v) = 'array' THEN n.v END)) AS c) "
            "SELECT 1 FROM n WHERE json_typeof(n.v) = 'object' AND "
            "(SELECT count(*) <> count(DISTINCT key) FROM json_each(n.v)))"
        )

    @staticmethod
    def hash(text: str) -> str:
        """The first 64 bits of MD5, signed (see the module docstring)."""
        return f"('x' || substr(md5({text}), 1, 16))::bit(64)::int8"

    @staticmethod
    def modulo(x: str, modulus: int) -> str:
        """The unsigned hash's residue, from the signed one, in int8."""
        wrap = HASH_SPACE % modulus
        signed = f"({x}) % {modulus} + CASE WHEN {x} < 0 THEN {wrap} ELSE 0 END"
        return f"(({signed} + {modulus}) % {modulus})"


# -- the queries ---------------------------------------------------------------------------------
def _final_sql(dialect: Dialect) -> _FinalSql:
    if isinstance(dialect, SnowflakeDialect):
        return _SnowflakeSql(dialect)
    if isinstance(dialect, DuckDBDialect):
        return _DuckDBSql(dialect)
    raise ConfigError(f"no checksums for the {dialect.name} dialect")


def _fields(table: ChecksumTable, engine: Engine) -> tuple[str, str, list[tuple[str, str]]]:
    """(relation, key text, [(column, its field with its lossy mark)]) of ``table`` in
    ``engine``'s SQL; the row text is the fields in order."""
    key: list[str] = []
    fields: list[tuple[str, str]] = []
    if isinstance(engine, Dialect):
        final = _final_sql(engine)
        relation = engine.names(table.model).final
        for column in table.compared:
            x = engine.ident(column.name)
            text = final.field(final.value(_family(column), x)) + f" || '{_SEP}'"
            if column.is_key:
                key.append(text)
            if column.may_be_lossy:
                marked = engine.list_has("_walstream_lossy", column.name)
                text = f"CASE WHEN {marked} THEN '~' ELSE '' END || {text}"
            fields.append((column.name, text))
    else:
        pg = _PostgresSql()
        relation = f"{quote(table.model.namespace)}.{quote(table.model.name)}"
        for column in table.compared:
            x = quote(column.name)
            fam = _family(column)
            ptype = table.pg_type(column)
            text = pg.field(pg.value(fam, x, ptype)) + f" || '{_SEP}'"
            mark = pg.lossy(fam, x, ptype, column) if column.may_be_lossy else None
            if column.is_key:
                key.append(text)
            if mark is not None:
                text = f"CASE WHEN {mark} THEN '~' ELSE '' END || {text}"
            fields.append((column.name, text))
    return relation, " || ".join(key), fields


def _texts(table: ChecksumTable, engine: Engine) -> tuple[str, str, str]:
    """(relation, key text, row text) of ``table`` in ``engine``'s SQL."""
    relation, key, fields = _fields(table, engine)
    return relation, key, " || ".join(text for _, text in fields)


def _literal(engine: Engine, text: str) -> str:
    if isinstance(engine, Dialect):
        return engine.literal(text)
    return "'" + text.replace("'", "''") + "'"  # standard_conforming_strings (on since 9.1)


def fields_query(table: ChecksumTable, engine: Engine, keys: Sequence[str]) -> str:
    """For the rows whose key text is one of ``keys`` (a few differing ones): the key text,
    then per compared column its canonical field (``f0``, ``f1``...) and its value as the
    engine holds it (``v0``, ``v1``...): which columns differ, and what each side holds. FINAL:
    live rows only."""
    relation, key, fields = _fields(table, engine)
    ident = engine.ident if isinstance(engine, Dialect) else quote
    columns = ", ".join(
        f"{text} AS f{i}, {ident(name)} AS v{i}" for i, (name, text) in enumerate(fields)
    )
    wanted = ", ".join(_literal(engine, k) for k in keys) or "NULL"
    live = ""
    if isinstance(engine, Dialect) and table.soft_delete:
        live = " AND NOT COALESCE(_walstream_deleted, FALSE)"
    return f"SELECT {key} AS kt, {columns} FROM {relation} WHERE {key} IN ({wanted}){live}"


def changed_after_query(
    table: ChecksumTable, engine: Dialect, keys: Sequence[str], lsn: int, relation: str
) -> str:
    """The key texts among ``keys`` that ``relation`` (FINAL, soft-deleted rows included, or
    its tombstones) changed after ``lsn``: keys in flux when FINAL is ahead of a snapshot."""
    _, key, _ = _fields(table, engine)
    wanted = ", ".join(engine.literal(k) for k in keys) or "NULL"
    return (
        f"SELECT {key} AS kt FROM {relation} "
        f"WHERE _walstream_lsn > {int(lsn)} AND {key} IN ({wanted})"
    )


def _hash(engine: Engine, text: str) -> str:
    if isinstance(engine, Dialect):
        return _final_sql(engine).hash(text)
    return _PostgresSql.hash(text)


def _modulo(engine: Engine, x: str, modulus: int) -> str:
    if isinstance(engine, Dialect):
        return _final_sql(engine).modulo(x, modulus)
    return _PostgresSql.modulo(x, modulus)


def _hashed(table: ChecksumTable, engine: Engine, extra: Sequence[tuple[str, str]] = ()) -> str:
    """A query of ``kt`` (key text), ``kh`` (key hash), ``rh`` (row hash) and the ``extra``
    (expression, name) columns, one row per row of the table (FINAL: per live row)."""
    relation, key, row = _texts(table, engine)
    where = ""
    if isinstance(engine, Dialect) and table.soft_delete:
        where = " WHERE NOT COALESCE(_walstream_deleted, FALSE)"
    inner = ", ".join([f"{key} AS kt", f"{row} AS rt", *(f"{e} AS {n}" for e, n in extra)])
    outer = ", ".join(
        [
            "t.kt",
            f"{_hash(engine, 't.kt')} AS kh",
            f"{_hash(engine, 't.rt')} AS rh",
            *(f"t.{n}" for _, n in extra),
        ]
    )
    return f"SELECT {outer} FROM (SELECT {inner} FROM {relation}{where}) AS t"


def checksum_query(
    table: ChecksumTable, engine: Engine, buckets: int, within: Bucket | None = None
) -> str:
    """The query of :func:`bucket_checksums`: rows ``(residue, count, sum of row hashes)``."""
    within = within or Bucket()
    modulus = within.modulus * buckets
    if buckets < 1 or modulus > MAX_MODULUS:
        raise ConfigError(f"cannot cut {within} into {buckets} buckets (at most 2**60 in all)")
    where = ""
    if within.modulus > 1:
        where = f" WHERE {_modulo(engine, 'h.kh', within.modulus)} = {within.residue}"
    if isinstance(engine, Dialect):
        total = "SUM(h.rh)"
    else:  # the unsigned sum, from the signed hashes
        total = f"sum(h.rh) + {HASH_SPACE} * count(*) FILTER (WHERE h.rh < 0)"
    return (
        f"SELECT {_modulo(engine, 'h.kh', modulus)} AS bucket, COUNT(*) AS n, {total} AS total "
        f"FROM ({_hashed(table, engine)}) AS h{where} GROUP BY 1"
    )


def rows_query(table: ChecksumTable, engine: Engine, bucket: Bucket | Sequence[Bucket]) -> str:
    """The query of :func:`bucket_rows`: the key text, key hash and row hash, the key columns
    and, on FINAL's side, ``_walstream_lsn`` of every row of ``bucket`` (or of several buckets
    of one modulus, then also the bucket, ``b``, last)."""
    ident = engine.ident if isinstance(engine, Dialect) else quote
    extra = [(ident(c.name), f"k{i}") for i, c in enumerate(table.key)]
    if isinstance(engine, Dialect):
        extra.append(("_walstream_lsn", "lsn"))
    names = ", ".join(f"h.{n}" for _, n in extra)
    if isinstance(bucket, Bucket):
        where = f"{_modulo(engine, 'h.kh', bucket.modulus)} = {bucket.residue}"
        hashed = _hashed(table, engine, extra)
        return f"SELECT h.kt, h.rh, {names} FROM ({hashed}) AS h WHERE {where}"
    (modulus,) = {b.modulus for b in bucket}
    residues = ", ".join(str(b.residue) for b in bucket)
    hashed = _hashed(table, engine, extra)
    inner = f"SELECT h.*, {_modulo(engine, 'h.kh', modulus)} AS b FROM ({hashed}) AS h"
    return f"SELECT h.kt, h.rh, {names}, h.b FROM ({inner}) AS h WHERE h.b IN ({residues})"


def texts_query(table: ChecksumTable, engine: Engine, bucket: Bucket | None = None) -> str:
    """The key text and the row text of every row (of ``bucket``): the canonical texts
    themselves, to see which field of a differing row differs."""
    relation, key, row = _texts(table, engine)
    conditions = []
    if isinstance(engine, Dialect) and table.soft_delete:
        conditions.append("NOT COALESCE(_walstream_deleted, FALSE)")
    if bucket is not None and bucket.modulus > 1:
        conditions.append(
            f"{_modulo(engine, _hash(engine, key), bucket.modulus)} = {bucket.residue}"
        )
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {key} AS kt, {row} AS rt FROM {relation}{where}"


def _run(cursor: Executes, query: str) -> list[Sequence[Any]]:
    # psycopg sends a query without parameters as it is (its % signs are not placeholders)
    rows: list[Sequence[Any]] = cursor.execute(query).fetchall()
    return rows


def bucket_checksums(
    cursor: Executes,
    engine: Engine,
    table: ChecksumTable,
    buckets: int,
    within: Bucket | None = None,
) -> dict[Bucket, BucketSum]:
    """Row count and sum of row hashes of each non-empty bucket of ``within`` (every key by
    default) cut into ``buckets``, computed in ``engine``: :data:`POSTGRES` on a source
    connection whose session has :data:`SOURCE_SETTINGS` (:func:`prepare_source`), or FINAL's
    dialect on its connection. The caller compares the dicts of two engines; a bucket missing
    from one is empty there. One scan of the table, one result row per bucket."""
    within = within or Bucket()
    modulus = within.modulus * buckets
    out: dict[Bucket, BucketSum] = {}
    for residue, rows, total in _run(cursor, checksum_query(table, engine, buckets, within)):
        out[Bucket(modulus, int(residue))] = BucketSum(int(rows), int(total))
    return out


def bucket_rows(
    cursor: Executes, engine: Engine, table: ChecksumTable, bucket: Bucket
) -> dict[str, KeyedRow]:
    """Every row of ``bucket`` by its canonical key text, with its key values and row hash.

    The same key has the same key text in every engine, so the dicts of two engines match up:
    a key in one only is missing (or extra), a key whose row hashes differ has a differing
    value. Meant for a bucket small enough to list: narrow a large one first with
    :meth:`Bucket.split` and :func:`bucket_checksums`."""
    out: dict[str, KeyedRow] = {}
    width = len(table.key)
    for row in _run(cursor, rows_query(table, engine, bucket)):
        lsn = row[2 + width] if isinstance(engine, Dialect) else None
        out[str(row[0])] = KeyedRow(
            tuple(row[2 : 2 + width]),
            int(row[1]) % HASH_SPACE,
            None if lsn is None else int(lsn),
        )
    return out


def buckets_rows(
    cursor: Executes, engine: Engine, table: ChecksumTable, buckets: Sequence[Bucket]
) -> dict[Bucket, dict[str, KeyedRow]]:
    """:func:`bucket_rows` of several buckets of one modulus, in one scan."""
    if not buckets:
        return {}
    (modulus,) = {b.modulus for b in buckets}
    out: dict[Bucket, dict[str, KeyedRow]] = {b: {} for b in buckets}
    width = len(table.key)
    final = isinstance(engine, Dialect)
    for row in _run(cursor, rows_query(table, engine, buckets)):
        lsn = row[2 + width] if final else None
        out[Bucket(modulus, int(row[-1]))][str(row[0])] = KeyedRow(
            tuple(row[2 : 2 + width]),
            int(row[1]) % HASH_SPACE,
            None if lsn is None else int(lsn),
        )
    return out


def key_hashes(
    cursor: Executes, engine: Engine, table: ChecksumTable, keys: Sequence[str]
) -> dict[str, int]:
    """The row hash of each of ``keys`` (key texts) that the table holds now (FINAL: live
    rows): a few differing keys looked at again."""
    if not keys:
        return {}
    wanted = ", ".join(_literal(engine, k) for k in keys)
    query = f"SELECT h.kt, h.rh FROM ({_hashed(table, engine)}) AS h WHERE h.kt IN ({wanted})"
    return {str(k): int(rh) % HASH_SPACE for k, rh in _run(cursor, query)}


def row_texts(
    cursor: Executes, engine: Engine, table: ChecksumTable, bucket: Bucket | None = None
) -> dict[str, str]:
    """Each row's canonical text by its key text (of ``bucket``, else of the whole table):
    split at the unescaped ``|`` of two engines' texts of a key, the fields that differ are
    the columns that differ. For a few rows only, like :func:`bucket_rows`."""
    return {str(k): str(r) for k, r in _run(cursor, texts_query(table, engine, bucket))}


def prepare_source(conn: Executes) -> None:
    """Give the source session the replication session's settings (:data:`SOURCE_SETTINGS`)."""
    for name, value in SOURCE_SETTINGS:
        conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))

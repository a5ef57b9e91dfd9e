"""The warehouse-side table model: a source table as the Snowflake and DuckDB sides see it.

A :class:`TableModel` is a :class:`~walstream.schema.TableSchema` (names, PostgreSQL types, key)
plus the Arrow type each column has in the change files. Everything the warehouse generates,
for Snowflake and for the local DuckDB warehouse alike, is derived from it (:mod:`.ddl`,
:mod:`.merge`), so the two can never disagree about columns, keys or types.

A model comes from one of two places, and both give the same answer for the same table:

- a change file's Parquet schema (:meth:`TableModel.from_arrow_schema`): the data columns'
  Arrow types plus the relation stored under :data:`walstream.schema.METADATA_KEY`;
- the source catalog (:mod:`.discover`), whose types go through the same
  :func:`walstream.convert.arrow_type_for` that the pipeline uses to write the files.

The warehouse type of a column is decided here, once, from its Arrow type and its PostgreSQL
type name (DESIGN.md §4): the Arrow type says how the value is stored, the PostgreSQL name adds
what Arrow cannot say (``json``/``jsonb`` become VARIANT, ``uuid`` a 36-character VARCHAR).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from ..convert.converter import MAX_BINARY_BYTES, MAX_VARCHAR_BYTES
from ..errors import ConfigError
from ..layout import META_COLUMN_NAMES, OP_COLUMN, RESERVED_PREFIX
from ..schema import METADATA_KEY, TableSchema

#: Change-file columns that are not data columns (DESIGN.md §2).
FILE_META_COLUMNS = (OP_COLUMN, *META_COLUMN_NAMES)

#: Snowflake's largest VARCHAR (also VARIANT, ARRAY) and BINARY, in characters and bytes. A
#: column declared without a length gets 16 MB / 8 MB, and a longer value makes Snowpipe skip
#: its whole file; a BINARY's length cannot be raised later. So every column is declared with
#: the maximum, and ``--max-value-size`` stays within BINARY's (DESIGN.md §4).
SNOWFLAKE_MAX_VARCHAR = MAX_VARCHAR_BYTES
SNOWFLAKE_MAX_BINARY = MAX_BINARY_BYTES

# PostgreSQL types whose values have a fixed size: they are never TOASTed, so an UPDATE always
# sends them and they never appear in ``_walstream_unchanged``. Every other type may.
_FIXED_WIDTH_TYPES = frozenset(
    {
        "bool",
        "int2",
        "int4",
        "int8",
        "oid",
        "float4",
        "float8",
        "money",
        "date",
        "time",
        "timetz",
        "timestamp",
        "timestamptz",
        "interval",
        "uuid",
        "macaddr",
        "macaddr8",
        "char",
        "name",
        "pg_lsn",
        "tid",
        "xid",
        "xid8",
        "cid",
    }
)

_JSON_TYPES = frozenset({"json", "jsonb"})


@dataclass(frozen=True, slots=True)
class ColumnModel:
    """One source column: its name, PostgreSQL type name, Arrow type in the files, and key flag."""

    name: str
    pg_type: str
    arrow_type: pa.DataType
    is_key: bool
    as_text: bool = False  # --as-text: PostgreSQL's text output, VARCHAR whatever the type

    @property
    def is_json(self) -> bool:
        """json/jsonb: text in the files, VARIANT (Snowflake) or JSON (DuckDB) in FINAL (not
        when typed as text: a json value with duplicate keys then stays exactly as it was)."""
        return (
            self.pg_type in _JSON_TYPES and not self.as_text and pa.types.is_string(self.arrow_type)
        )

    @property
    def may_be_lossy(self) -> bool:
        """True when a value of this column may be stored inexactly (DESIGN.md §4): dates,
        times, timestamps, numeric(p,s), arrays, json objects with duplicate keys, and bytea
        over Snowflake's 64 MB."""
        t = self.arrow_type
        return (
            pa.types.is_binary(t)
            or pa.types.is_date(t)
            or pa.types.is_time(t)
            or pa.types.is_timestamp(t)
            or pa.types.is_decimal(t)
            or pa.types.is_list(t)
            or (self.pg_type == "json" and self.is_json)
        )

    @property
    def may_be_unchanged(self) -> bool:
        """True when an UPDATE may leave this column out as unchanged TOAST."""
        return not self.is_key and self.pg_type not in _FIXED_WIDTH_TYPES


def snowflake_type(column: ColumnModel) -> str:
    """The FINAL column type in Snowflake (DESIGN.md §4)."""
    if column.is_json:
        return "VARIANT"
    if column.pg_type == "uuid" and pa.types.is_string(column.arrow_type):
        return "VARCHAR(36)"
    return _snowflake_arrow_type(column.arrow_type, column.name)


def snowflake_staging_type(column: ColumnModel) -> str:
    """The STAGING column type: FINAL's, except JSON stays text until the MERGE parses it."""
    if column.is_json:
        return f"VARCHAR({SNOWFLAKE_MAX_VARCHAR})"
    return snowflake_type(column)


def _snowflake_arrow_type(t: pa.DataType, name: str) -> str:
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_int16(t):
        return "NUMBER(5,0)"
    if pa.types.is_int32(t):
        return "NUMBER(10,0)"
    if pa.types.is_int64(t):
        return "NUMBER(19,0)"
    if pa.types.is_floating(t):
        return "FLOAT"
    if pa.types.is_decimal(t):
        return f"NUMBER({t.precision},{t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return f"VARCHAR({SNOWFLAKE_MAX_VARCHAR})"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return f"BINARY({SNOWFLAKE_MAX_BINARY})"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_time64(t):
        return "TIME(6)"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP_TZ(6)" if t.tz is not None else "TIMESTAMP_NTZ(6)"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "ARRAY"
    raise ConfigError(
        f"column {name!r} has Arrow type {t} that walstream never writes; "
        "the file was not written by walstream, or by a newer version: upgrade walstream"
    )


def duckdb_type(column: ColumnModel) -> str:
    """The FINAL column type in the local DuckDB warehouse (native types, JSON for json)."""
    if column.is_json:
        return "JSON"
    return _duckdb_arrow_type(column.arrow_type, column.name)


def duckdb_staging_type(column: ColumnModel) -> str:
    if column.is_json:
        return "VARCHAR"
    return duckdb_type(column)


def _duckdb_arrow_type(t: pa.DataType, name: str) -> str:
    scalars = (
        (pa.types.is_boolean, "BOOLEAN"),
        (pa.types.is_int16, "SMALLINT"),
        (pa.types.is_int32, "INTEGER"),
        (pa.types.is_int64, "BIGINT"),
        (pa.types.is_float32, "REAL"),
        (pa.types.is_float64, "DOUBLE"),
        (pa.types.is_string, "VARCHAR"),
        (pa.types.is_large_string, "VARCHAR"),
        (pa.types.is_binary, "BLOB"),
        (pa.types.is_large_binary, "BLOB"),
        (pa.types.is_date32, "DATE"),
        (pa.types.is_time64, "TIME"),
    )
    for test, name_ in scalars:
        if test(t):
            return name_
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz is not None else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _duckdb_arrow_type(t.value_type, name) + "[]"
    raise ConfigError(
        f"column {name!r} has Arrow type {t} that walstream never writes; "
        "the file was not written by walstream, or by a newer version: upgrade walstream"
    )


@dataclass(frozen=True, slots=True)
class TableModel:
    """A source table as the warehouse sees it; see the module docstring."""

    schema: TableSchema
    columns: tuple[ColumnModel, ...]

    def __post_init__(self) -> None:
        for column in self.columns:
            if column.name.lower().startswith(RESERVED_PREFIX):
                raise ConfigError(
                    f"{self.qualified_name}: column {column.name!r} starts with "
                    f"{RESERVED_PREFIX!r}, which walstream reserves for its own columns; "
                    "rename the column or leave it out of the publication (column list)"
                )

    @property
    def namespace(self) -> str:
        return self.schema.namespace

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def qualified_name(self) -> str:
        return self.schema.qualified_name

    @property
    def key(self) -> tuple[ColumnModel, ...]:
        return tuple(c for c in self.columns if c.is_key)

    @property
    def has_key(self) -> bool:
        """False for tables without a primary key or identity index: FINAL is append-only."""
        return bool(self.key)

    @property
    def values(self) -> tuple[ColumnModel, ...]:
        """The non-key columns."""
        return tuple(c for c in self.columns if not c.is_key)

    @classmethod
    def from_schema(cls, schema: TableSchema, arrow_types: dict[str, pa.DataType]) -> TableModel:
        columns = []
        for col in schema.columns:
            if col.name not in arrow_types:
                raise ConfigError(
                    f"{schema.qualified_name}: no Arrow type for column {col.name!r}; "
                    "the file's schema and its walstream.relation metadata disagree"
                )
            columns.append(
                ColumnModel(col.name, col.type_name, arrow_types[col.name], col.is_key, col.as_text)
            )
        return cls(schema, tuple(columns))

    @classmethod
    def from_arrow_schema(cls, arrow_schema: pa.Schema, where: str = "file") -> TableModel:
        """The model of a change file: its data columns plus the relation in its metadata."""
        metadata = arrow_schema.metadata or {}
        relation = metadata.get(METADATA_KEY)
        if relation is None:
            raise ConfigError(
                f"{where} has no {METADATA_KEY.decode()} metadata, so its table's columns and "
                "key are unknown; only files written by walstream can define a table "
                "(load a walstream file of the table first)"
            )
        schema = TableSchema.from_json(relation)
        types = {f.name: f.type for f in arrow_schema if f.name not in FILE_META_COLUMNS}
        return cls.from_schema(schema, types)

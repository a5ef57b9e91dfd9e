"""Raw pgoutput column values -> Arrow arrays, per DESIGN.md §4.

pgoutput sends every column value as bytes: the type's text output (tuple kind ``'t'``) or its
binary send format (``'b'``, with ``binary 'true'``). The batch layer buffers those bytes per
column and, at flush time, hands a whole column to its :class:`ColumnConverter`, which returns
one Arrow array. Text and binary give identical Arrow values for the same PostgreSQL value.

Modules, in the order data flows through them:

- :mod:`.catalog`: :class:`PgType`, the built-in OID table, the catalog query for other types,
  and the PostgreSQL -> Arrow type mapping;
- :mod:`.converter`: :func:`converter_for` picks the decoders of a column;
- :mod:`.text` / :mod:`.binary`: bulk column decoders for each format;
- :mod:`.arrays`: array values split into one element column (decoded like a scalar column);
- :mod:`.formats`: binary values printed as PostgreSQL's text (string-typed columns, ranges);
- :mod:`.datetimes`: calendar arithmetic beyond Python's datetime (BC, year 10000+, infinity);
- :mod:`.buffers`: Arrow/numpy plumbing; :mod:`.context`: errors and :class:`ConversionStats`.

The catalog queries that feed :class:`PgType` live in :mod:`walstream.pg.types`: this package
never talks to a server.

Decisions on values that do not fit (each counted in ConversionStats or raised as
TypeConversionError, never silently changed):

- date/timestamp ``infinity`` / ``-infinity`` -> 9999-12-31 [23:59:59.999999] / 0001-01-01
  [00:00:00], counted. Finite values are exact, BC and years past 9999 included; timestamps
  after 294247-01-10 (past Arrow's int64 microseconds) raise.
- ``time '24:00:00'`` -> 23:59:59.999999 (Arrow's time64 stops before midnight), counted.
- numeric: unconstrained or precision > 38 -> exact text (``NaN``, ``Infinity`` as text);
  numeric(p,s) -> decimal128, where ``NaN`` (the one non-number a constrained column can
  hold) raises, telling the user to make the column unconstrained. Negative scales and scales
  above the precision (PostgreSQL 15+) widen to a decimal128 that holds every allowed value.
- money -> decimal128(38,2), assuming lc_monetary=C (two fraction digits).
- multi-dimensional arrays -> flattened row-major, counted; array lower bounds are dropped.
- float NaN payloads -> the canonical NaN (PostgreSQL prints them all as ``NaN``).
"""

from __future__ import annotations

from .catalog import (
    BUILTIN_OIDS,
    CATALOG_SQL,
    PgType,
    TypeCatalog,
    arrow_type_for,
    builtin_type,
    numeric_arrow_type,
    pg_type_from_catalog_row,
    with_typmod,
)
from .context import (
    CLAMPED_END_OF_DAY,
    CLAMPED_INFINITY,
    FLATTENED_ARRAY,
    ConversionStats,
)
from .converter import ArrayConverter, ColumnConverter, converter_for, text_formatter

__all__ = [
    "BUILTIN_OIDS",
    "CATALOG_SQL",
    "CLAMPED_END_OF_DAY",
    "CLAMPED_INFINITY",
    "FLATTENED_ARRAY",
    "ArrayConverter",
    "ColumnConverter",
    "ConversionStats",
    "PgType",
    "TypeCatalog",
    "arrow_type_for",
    "builtin_type",
    "converter_for",
    "numeric_arrow_type",
    "pg_type_from_catalog_row",
    "text_formatter",
    "with_typmod",
]

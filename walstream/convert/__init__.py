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

Values that do not fit never stop the stream and are never changed silently (DESIGN.md §1
guarantee 7): each is stored as the nearest value the files can hold, or NULL, and *marked*
(:mod:`.context`): its column is named in the row's ``_walstream_lossy``, counted by kind.

- date/timestamp ``infinity`` / ``-infinity`` -> 9999-12-31 [23:59:59.999999] / 0001-01-01
  [00:00:00] (``infinity``); finite values outside 0001-01-01 .. 9999-12-31 (BC, years past
  9999, up to PostgreSQL's 294276) -> the nearest end (``out_of_range``).
- ``time '24:00:00'`` -> 23:59:59.999999 (Arrow's time64 stops before midnight).
- numeric: unconstrained or precision > 38 -> exact text (``NaN``, ``Infinity`` as text);
  numeric(p,s) -> decimal128, where ``NaN`` (the one non-number a constrained column can
  hold) becomes NULL (``numeric_nan``). Negative scales and scales above the precision
  (PostgreSQL 15+) widen to a decimal128 that holds every allowed value.
- money -> decimal128(38,2): the session pins lc_monetary=C (two fraction digits).
- arrays with several dimensions -> flattened row-major, lower bounds other than 1 dropped
  (``array_shape``); an array is also lossy when one of its elements is.
- float NaN payloads -> the canonical NaN (PostgreSQL prints them all as ``NaN``): exact.

``as_text=True`` (``--as-text``) types a column as PostgreSQL's text output instead: exact for
every value. ``on_lossy="fail"`` (``--on-lossy fail``) raises instead of marking.
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
    LOSSY_ARRAY_SHAPE,
    LOSSY_END_OF_DAY,
    LOSSY_INFINITY,
    LOSSY_JSON_DUPLICATE_KEYS,
    LOSSY_KINDS,
    LOSSY_NAN,
    LOSSY_OUT_OF_RANGE,
    LOSSY_TOO_LARGE,
    ON_LOSSY_CHOICES,
    ConversionStats,
)
from .converter import ArrayConverter, ColumnConverter, converter_for, text_formatter

__all__ = [
    "BUILTIN_OIDS",
    "CATALOG_SQL",
    "CLAMPED_END_OF_DAY",
    "CLAMPED_INFINITY",
    "FLATTENED_ARRAY",
    "LOSSY_ARRAY_SHAPE",
    "LOSSY_END_OF_DAY",
    "LOSSY_INFINITY",
    "LOSSY_JSON_DUPLICATE_KEYS",
    "LOSSY_KINDS",
    "LOSSY_NAN",
    "LOSSY_OUT_OF_RANGE",
    "LOSSY_TOO_LARGE",
    "ON_LOSSY_CHOICES",
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

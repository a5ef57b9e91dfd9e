"""One ColumnConverter per column: raw pgoutput values of a whole batch -> one Arrow array.

:func:`converter_for` picks, from the column's :class:`PgType`, the Arrow type (DESIGN.md §4,
:func:`.catalog.arrow_type_for`) and a pair of column decoders: one for the text format
(:mod:`.text`) and one for the binary send format (:mod:`.binary`), or none when we do not
decode that type's binary format (``binary_supported`` is then False and the stream must run
without ``binary 'true'``; pgoutput picks the format per type, not per column).

Text-only types (no binary decoder): tsvector, tsquery, the geometric types, pg_lsn, xid and
the other system types, composites, arrays of those, ranges of those, and any extension type
other than citext. They are all strings of their text output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from . import binary, text
from .arrays import binary_array_elements, text_array_elements
from .buffers import null_mask, raw_column
from .catalog import PG_CATALOG, PgType, arrow_type_for
from .context import FLATTENED_ARRAY, ColumnContext, ConversionStats, Decoder
from .formats import (
    FORMATTERS,
    TEXT_SEND_EXTENSION_TYPES,
    Formatter,
    multirange_formatter,
    range_formatter,
    text_utf8,
)


@dataclass(frozen=True, slots=True)
class _Codec:
    text: Decoder
    binary: Decoder | None
    binary_width: int | None = None  # fixed size of the binary format, for array fast paths


_STRING = _Codec(text.utf8, None)
_TEXT_LIKE = _Codec(text.utf8, binary.utf8)

# pg_catalog base types with a non-string Arrow type, or a faster binary path than the
# per-value formatter.
_CODECS: dict[str, _Codec] = {
    "bool": _Codec(text.boolean, binary.boolean, 1),
    "int2": _Codec(text.number(pa.int16()), binary.integer(">i2", pa.int16(), "int16"), 2),
    "int4": _Codec(text.number(pa.int32()), binary.integer(">i4", pa.int32(), "int32"), 4),
    "int8": _Codec(text.number(pa.int64()), binary.integer(">i8", pa.int64(), "int64"), 8),
    "oid": _Codec(text.number(pa.int64()), binary.integer(">u4", pa.int64(), "int64"), 4),
    "float4": _Codec(text.number(pa.float32()), binary.floating(">f4", pa.float32()), 4),
    "float8": _Codec(text.number(pa.float64()), binary.floating(">f8", pa.float64()), 8),
    "money": _Codec(text.money, binary.money, 8),
    "bytea": _Codec(text.bytea, binary.bytea),
    "date": _Codec(text.date, binary.date, 4),
    "time": _Codec(text.time, binary.time, 8),
    "timestamp": _Codec(
        text.timestamp(pa.timestamp("us")), binary.timestamp(pa.timestamp("us")), 8
    ),
    "timestamptz": _Codec(
        text.timestamp(pa.timestamp("us", tz="UTC")),
        binary.timestamp(pa.timestamp("us", tz="UTC")),
        8,
    ),
    "uuid": _Codec(text.utf8, binary.hex_string(16, (4, 2, 2, 2, 6), b"-"), 16),
    "macaddr": _Codec(text.utf8, binary.hex_string(6, (1,) * 6, b":"), 6),
    "macaddr8": _Codec(text.utf8, binary.hex_string(8, (1,) * 8, b":"), 8),
    "jsonb": _Codec(text.utf8, binary.jsonb),
    "text": _TEXT_LIKE,
    "varchar": _TEXT_LIKE,
    "bpchar": _TEXT_LIKE,
    "name": _TEXT_LIKE,
    "json": _TEXT_LIKE,
    "xml": _TEXT_LIKE,
}

_FIXED_WIDTH = {"char": 1, "timetz": 12, "interval": 16}


def text_formatter(pg_type: PgType) -> Formatter | None:
    """binary -> PostgreSQL text for ``pg_type``, or None if its binary format is unknown."""
    t = pg_type.base
    if t.kind == "enum":
        return text_utf8
    if t.kind == "range" and t.element is not None:
        bound = text_formatter(t.element)
        return None if bound is None else range_formatter(bound)
    if t.kind == "multirange" and t.element is not None and t.element.base.element is not None:
        bound = text_formatter(t.element.base.element)
        return None if bound is None else multirange_formatter(bound)
    if t.kind != "base":
        return None
    if t.namespace == PG_CATALOG:
        return FORMATTERS.get(t.name)
    return text_utf8 if t.name in TEXT_SEND_EXTENSION_TYPES else None


def _codec(pg_type: PgType, arrow_type: pa.DataType) -> _Codec:
    t = pg_type.base
    if t.kind == "base" and t.namespace == PG_CATALOG:
        if t.name == "numeric":
            decode_text = text.decimal(arrow_type) if pa.types.is_decimal(arrow_type) else text.utf8
            return _Codec(decode_text, binary.numeric(arrow_type))
        if t.name in _CODECS:
            return _CODECS[t.name]
    fmt = text_formatter(t)
    if fmt is text_utf8:
        return _TEXT_LIKE
    if fmt is None:
        return _STRING
    width = _FIXED_WIDTH.get(t.name) if t.kind == "base" else None
    return _Codec(text.utf8, binary.formatted(fmt), width)


class ColumnConverter:
    """Converts one column's raw pgoutput values, a batch at a time, to ``arrow_type``.

    ``stats`` counts the values that were adjusted (infinity clamped, arrays flattened; see
    :mod:`.context`); read and reset it with ``stats.take()`` after each flush to log it. A
    caller that decodes several batches of one column at once (the flusher encodes two jobs
    in parallel) passes each call its own ``stats`` instead: the converter keeps no other
    state, so it is then safe to share between threads.
    """

    pg_type: PgType
    arrow_type: pa.DataType
    binary_supported: bool
    binary_width: int | None
    stats: ConversionStats
    column: str | None

    def __init__(
        self,
        pg_type: PgType,
        column: str | None = None,
        stats: ConversionStats | None = None,
    ) -> None:
        self.pg_type = pg_type
        self.arrow_type = arrow_type_for(pg_type)
        self.column = column
        self.stats = ConversionStats() if stats is None else stats
        self._ctx = ColumnContext(pg_type, column, self.stats)
        self._codec = _codec(pg_type, self.arrow_type)
        self.binary_supported = self._codec.binary is not None
        self.binary_width = self._codec.binary_width

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.pg_type.display_name} -> {self.arrow_type}, "
            f"binary_supported={self.binary_supported})"
        )

    def convert(self, values: Sequence[bytes | None], binary: bool) -> pa.Array:
        """Raw values (None = SQL NULL), all text or all binary format -> ``arrow_type``.

        Raises TypeConversionError when a value cannot be represented without changing it.
        """
        return self.decode(raw_column(values), binary)

    def decode(self, raw: pa.Array, binary: bool, stats: ConversionStats | None = None) -> pa.Array:
        """Like :meth:`convert`, from an Arrow binary array of the raw values; adjusted values
        are counted in ``stats`` when given, else in ``self.stats``."""
        if len(raw) == 0:
            return pa.array([], type=self.arrow_type)
        ctx = self._context(stats)
        if not binary:
            return self._codec.text(raw, ctx)
        if self._codec.binary is None:
            raise ctx.error(
                "the binary format of this type is not decoded",
                None,
                "run the stream in text mode (walstream run --binary off)",
            )
        return self._codec.binary(raw, ctx)

    def _context(self, stats: ConversionStats | None) -> ColumnContext:
        """The column's context, counting adjusted values in ``stats`` when given."""
        return self._ctx if stats is None else ColumnContext(self.pg_type, self.column, stats)


class ArrayConverter(ColumnConverter):
    """``list<element>``: the array values are split, then the elements decoded in bulk."""

    element: ColumnConverter

    def __init__(
        self,
        pg_type: PgType,
        column: str | None = None,
        stats: ConversionStats | None = None,
    ) -> None:
        element_type = pg_type.base.element
        if element_type is None:
            raise ValueError(f"array type {pg_type.display_name} without an element type")
        self.pg_type = pg_type
        self.column = column
        self.stats = ConversionStats() if stats is None else stats
        self._ctx = ColumnContext(pg_type, column, self.stats)
        self.element = converter_for(element_type, column, self.stats)
        self.arrow_type = pa.list_(self.element.arrow_type)
        self.binary_supported = self.element.binary_supported
        self.binary_width = None
        # array_out separates elements with the element type's typdelim: ',' for every type
        # but box
        base = element_type.base
        self._delimiter = ";" if (base.name, base.namespace) == ("box", PG_CATALOG) else ","

    def decode(self, raw: pa.Array, binary: bool, stats: ConversionStats | None = None) -> pa.Array:
        if len(raw) == 0:
            return pa.array([], type=self.arrow_type)
        ctx = self._context(stats)
        if binary:
            if not self.binary_supported:
                raise ctx.error(
                    "the binary format of the element type is not decoded",
                    None,
                    "run the stream in text mode (walstream run --binary off)",
                )
            offsets, elements, multidim = binary_array_elements(raw, self.element.binary_width, ctx)
        else:
            offsets, elements, multidim = text_array_elements(
                text.utf8(raw, ctx), self._delimiter, ctx
            )
        ctx.stats.add(FLATTENED_ARRAY, multidim)
        values = self.element.decode(elements, binary, ctx.stats)
        nulls = null_mask(raw)
        return pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()),
            values,
            type=self.arrow_type,
            mask=None if nulls is None else pa.array(nulls, pa.bool_()),
        )


def converter_for(
    pg_type: PgType, column: str | None = None, stats: ConversionStats | None = None
) -> ColumnConverter:
    """The converter of a column of ``pg_type`` (``column`` names it in error messages)."""
    if pg_type.base.kind == "array":
        return ArrayConverter(pg_type, column, stats)
    return ColumnConverter(pg_type, column, stats)

"""One ColumnConverter per column: raw pgoutput values of a whole batch -> one Arrow array.

:func:`converter_for` picks, from the column's :class:`PgType`, the Arrow type (DESIGN.md §4,
:func:`.catalog.arrow_type_for`) and a pair of column decoders: one for the text format
(:mod:`.text`) and one for the binary send format (:mod:`.binary`), or none when we do not
decode that type's binary format (``binary_supported`` is then False and the stream must run
without ``binary 'true'``; pgoutput picks the format per type, not per column).

Text-only types (no binary decoder): tsvector, tsquery, the geometric types, pg_lsn, xid and
the other system types, composites, arrays of those, ranges of those, and any extension type
other than citext. They are all strings of their text output.

``as_text=True`` is the lossless choice (DESIGN.md §4, ``--as-text``): the column is a string of
PostgreSQL's text output whatever its type (binary values are printed with :mod:`.formats`), so
no value of it is ever lossy. ``on_lossy`` is the column's answer to a value it cannot store
exactly (:data:`.context.ON_LOSSY_CHOICES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import binary, text
from .arrays import binary_array_elements, text_array_elements
from .buffers import Mask, null_mask, raw_column
from .catalog import PG_CATALOG, PgType, arrow_type_for
from .context import (
    LOSSY_ARRAY_SHAPE,
    LOSSY_TOO_LARGE,
    ColumnContext,
    ConversionStats,
    Decoder,
    RowMarks,
)
from .formats import (
    FORMATTERS,
    TEXT_SEND_EXTENSION_TYPES,
    Formatter,
    array_formatter,
    multirange_formatter,
    range_formatter,
    text_utf8,
)


@dataclass(frozen=True, slots=True)
class _Codec:
    text: Decoder
    binary: Decoder | None
    binary_width: int | None = None  # fixed size of the binary format, for array fast paths
    # bytes every binary value starts with, and the decoder of the values without them: the
    # column parser can leave the prefix out as it copies the values (jsonb's version byte)
    binary_prefix: bytes = b""
    after_prefix: Decoder | None = None


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
    "jsonb": _Codec(text.utf8, binary.jsonb, None, binary.JSONB_VERSION, binary.jsonb_text),
    "text": _TEXT_LIKE,
    "varchar": _TEXT_LIKE,
    "bpchar": _TEXT_LIKE,
    "name": _TEXT_LIKE,
    "json": _Codec(text.json_duplicate_keys(text.utf8), text.json_duplicate_keys(binary.utf8)),
    "xml": _TEXT_LIKE,
}

_FIXED_WIDTH = {"char": 1, "timetz": 12, "interval": 16}


def array_delimiter(element_type: PgType) -> str:
    """array_out's element separator: the element type's typdelim, ',' for every type but box."""
    base = element_type.base
    return ";" if (base.name, base.namespace) == ("box", PG_CATALOG) else ","


def text_formatter(pg_type: PgType) -> Formatter | None:
    """binary -> PostgreSQL text for ``pg_type``, or None if its binary format is unknown."""
    t = pg_type.base
    if t.kind == "array" and t.element is not None:
        element = text_formatter(t.element)
        return None if element is None else array_formatter(element, array_delimiter(t.element))
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


def _text_codec(pg_type: PgType) -> _Codec:
    """The lossless choice: PostgreSQL's text output whatever the type."""
    fmt = text_formatter(pg_type)
    if fmt is text_utf8:
        return _TEXT_LIKE
    return _STRING if fmt is None else _Codec(text.utf8, binary.formatted(fmt))


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

    ``stats`` counts the lossy values by kind (see :mod:`.context`); read and reset it with
    ``stats.take()`` after each flush to log it. A caller that decodes several batches of one
    column at once (the flusher encodes two jobs in parallel) passes each call its own
    ``stats`` instead: the converter keeps no other state, so it is then safe to share between
    threads. :meth:`decode_marked` also says which rows were lossy.
    """

    pg_type: PgType
    arrow_type: pa.DataType
    binary_supported: bool
    binary_width: int | None
    binary_prefix: bytes
    stats: ConversionStats
    column: str | None
    as_text: bool
    on_lossy: str

    def __init__(
        self,
        pg_type: PgType,
        column: str | None = None,
        stats: ConversionStats | None = None,
        *,
        as_text: bool = False,
        on_lossy: str = "mark",
    ) -> None:
        self.pg_type = pg_type
        self.as_text = as_text
        self.on_lossy = on_lossy
        self.arrow_type = pa.string() if as_text else arrow_type_for(pg_type)
        self.column = column
        self.stats = ConversionStats() if stats is None else stats
        self._codec = _text_codec(pg_type) if as_text else _codec(pg_type, self.arrow_type)
        self.binary_supported = self._codec.binary is not None
        self.binary_width = self._codec.binary_width
        self.binary_prefix = self._codec.binary_prefix if self._codec.after_prefix else b""

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
        """Like :meth:`convert`, from an Arrow binary array of the raw values; lossy values
        are counted in ``stats`` when given, else in ``self.stats``."""
        return self.decode_marked(raw, binary, stats)[0]

    def decode_marked(
        self,
        raw: pa.Array,
        binary: bool,
        stats: ConversionStats | None = None,
        *,
        prefix_removed: bool = False,
    ) -> tuple[pa.Array, Mask | None]:
        """:meth:`decode`, and the rows whose value is lossy (None when none is).

        ``prefix_removed``: binary values already without :attr:`binary_prefix` (the column
        parser left it out as it copied them).
        """
        marks = RowMarks(len(raw))
        ctx = self._context(stats, marks)
        if binary and prefix_removed and self.binary_prefix and len(raw):
            after = self._codec.after_prefix
            assert after is not None  # binary_prefix is set only with it
            return _within_warehouse_size(after(raw, ctx), ctx), marks.rows
        array = self._decode(raw, binary, ctx)
        return array, marks.rows

    def _decode(self, raw: pa.Array, binary: bool, ctx: ColumnContext) -> pa.Array:
        if len(raw) == 0:
            return pa.array([], type=self.arrow_type)
        if not binary:
            return _within_warehouse_size(self._codec.text(raw, ctx), ctx)
        if self._codec.binary is None:
            raise ctx.error(
                "the binary format of this type is not decoded",
                None,
                "run the stream in text mode (walstream run --binary off)",
            )
        return _within_warehouse_size(self._codec.binary(raw, ctx), ctx)

    def _context(self, stats: ConversionStats | None, marks: RowMarks) -> ColumnContext:
        """A decode call's context: lossy values counted in ``stats`` (default ``self.stats``)
        and their rows in ``marks``."""
        counts = self.stats if stats is None else stats
        return ColumnContext(self.pg_type, self.column, counts, marks, self.on_lossy)


class ArrayConverter(ColumnConverter):
    """``list<element>``: the array values are split, then the elements decoded in bulk."""

    element: ColumnConverter

    def __init__(
        self,
        pg_type: PgType,
        column: str | None = None,
        stats: ConversionStats | None = None,
        *,
        on_lossy: str = "mark",
    ) -> None:
        element_type = pg_type.base.element
        if element_type is None:
            raise ValueError(f"array type {pg_type.display_name} without an element type")
        self.pg_type = pg_type
        self.as_text = False
        self.on_lossy = on_lossy
        self.column = column
        self.stats = ConversionStats() if stats is None else stats
        self.element = converter_for(element_type, column, self.stats, on_lossy=on_lossy)
        self.arrow_type = pa.list_(self.element.arrow_type)
        self.binary_supported = self.element.binary_supported
        self.binary_width = None
        self.binary_prefix = b""
        self._delimiter = array_delimiter(element_type)

    def _decode(self, raw: pa.Array, binary: bool, ctx: ColumnContext) -> pa.Array:
        if len(raw) == 0:
            return pa.array([], type=self.arrow_type)
        if binary:
            if not self.binary_supported:
                raise ctx.error(
                    "the binary format of the element type is not decoded",
                    None,
                    "run the stream in text mode (walstream run --binary off)",
                )
            offsets, elements, reshaped = binary_array_elements(raw, self.element.binary_width, ctx)
        else:
            offsets, elements, reshaped = text_array_elements(
                text.utf8(raw, ctx), self._delimiter, ctx
            )
        if reshaped is not None:
            ctx.mark(LOSSY_ARRAY_SHAPE, reshaped, lambda: raw.filter(pa.array(reshaped))[0].as_py())
        values, lossy_elements = self.element.decode_marked(elements, binary, ctx.stats)
        if lossy_elements is not None and ctx.marks is not None:
            # a row is lossy when one of its elements is
            seen = np.zeros(len(lossy_elements) + 1, dtype=np.int64)
            np.cumsum(lossy_elements, out=seen[1:])
            ctx.marks.add(seen[offsets[1:]] > seen[offsets[:-1]])
        nulls = null_mask(raw)
        return pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()),
            values,
            type=self.arrow_type,
            mask=None if nulls is None else pa.array(nulls, pa.bool_()),
        )


#: The largest value Snowflake holds: VARCHAR (and VARIANT) 128 MB, BINARY 64 MB (documented
#: maxima; the warehouse DDL declares them, walstream.snowflake.model). Text is kept within
#: its maximum by --max-value-size (default 128 MB), but a bytea of 64 to 128 MB passes it (in
#: binary mode; its hex text would be over 128 MB): such a value would make Snowpipe skip its
#: whole file, so it is stored as NULL and marked (``too_large``).
MAX_VARCHAR_BYTES = 128 * 1024 * 1024
MAX_BINARY_BYTES = 64 * 1024 * 1024


def _within_warehouse_size(array: pa.Array, ctx: ColumnContext) -> pa.Array:
    """``array`` with each binary value over the warehouse's maximum NULL, marked.

    hot path: one buffer size check per column; values are measured only when the column's
    data as a whole is over the limit, which no value can be otherwise.
    """
    if not pa.types.is_binary(array.type):
        return array
    limit = MAX_BINARY_BYTES
    data = array.buffers()[2]
    if data is None or data.size <= limit:
        return array
    over = pc.greater(pc.binary_length(array), limit).fill_null(False)
    if not pc.any(over).as_py():
        return array
    mask = np.asarray(over.to_numpy(zero_copy_only=False), dtype=np.bool_)
    sizes = pc.binary_length(array.filter(over))
    ctx.mark(LOSSY_TOO_LARGE, mask, lambda: f"<{sizes[0].as_py():,} bytes, over {limit:,}>")
    return pc.if_else(over, pa.scalar(None, array.type), array)


def converter_for(
    pg_type: PgType,
    column: str | None = None,
    stats: ConversionStats | None = None,
    *,
    as_text: bool = False,
    on_lossy: str = "mark",
) -> ColumnConverter:
    """The converter of a column of ``pg_type`` (``column`` names it in error messages);
    ``as_text`` and ``on_lossy`` as in the module docstring."""
    if pg_type.base.kind == "array" and not as_text:
        return ArrayConverter(pg_type, column, stats, on_lossy=on_lossy)
    return ColumnConverter(pg_type, column, stats, as_text=as_text, on_lossy=on_lossy)

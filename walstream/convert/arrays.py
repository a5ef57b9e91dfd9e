"""Array values, text and binary, split into one flat column of element values.

An array column becomes ``list<element>`` in Arrow: list boundaries plus one element column.
So the parsers here only find where each element's raw bytes are; the element column is then
decoded by the element type's own decoder, in bulk, exactly like a scalar column (an ``int4[]``
column's elements go through the same numpy path as an ``int4`` column).

Text (array_out): ``{1,2,NULL}``, elements double-quoted with backslash escapes when they
contain the delimiter, braces, quotes, backslashes or white space, or are empty or ``NULL``;
an unquoted ``NULL`` is SQL NULL; ``[0:2]={...}`` decorates arrays whose lower bound is not 1.
Binary (array_send): ndim, has-null flag, element OID, (size, lower bound) per dimension, then
each element as int32 length (-1 = NULL) and bytes.

Decisions: lower bounds are dropped (Arrow lists start at 0; ``[0:2]={1,2,3}`` is ``[1,2,3]``).
Multi-dimensional arrays are flattened in row-major order (``{{1,2},{3,4}}`` is ``[1,2,3,4]``)
because Arrow lists have one dimension and Snowflake ARRAY columns are usually read flat. Both
change the value, so the parsers return which rows they reshaped and the converter marks them
lossy (``array_shape``); ``--as-text`` keeps such a column exact as array_out text.

hot path: once per array column per flush. A column of simple text arrays (no quotes, no
nesting; most numeric and many text arrays) is split with Arrow kernels; binary arrays of a
fixed-width element type without NULLs are cut with one numpy reshape. Other values are parsed
one by one.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .buffers import I64, U8, Mask, offsets_and_data, valid_mask
from .context import ColumnContext

_ARRAY_HEADER = struct.Struct(">iiI")
_I32 = struct.Struct(">i")
_DIMENSION = struct.Struct(">ii")  # size, lower bound


class ArrayFormatError(ValueError):
    """A raw array value does not follow array_out / array_send."""


# -- text ----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _token_pattern(delimiter: bytes) -> re.Pattern[bytes]:
    d = re.escape(delimiter)
    return re.compile(
        rb"(\{)|(\})|(" + d + rb')|"((?:[^"\\]|\\.)*)"|([^{}"\\' + d + rb"]+)|(.)",
        re.DOTALL,
    )


_UNESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def parse_text_array(value: bytes, delimiter: bytes, out: list[bytes | None]) -> bool:
    """Append the elements of one array_out text to ``out``; return True if the list loses
    its shape (several dimensions, or a lower bound other than 1)."""
    decorated = False
    if value[:1] == b"[":  # dimension decoration: [lo:hi][lo:hi]={...}, only when a bound != 1
        eq = value.find(b"=")
        if eq < 0:
            raise ArrayFormatError("dimension decoration without '='")
        value = value[eq + 1 :]
        decorated = True
    if value[:1] != b"{" or value[-1:] != b"}":
        raise ArrayFormatError("array text must be enclosed in braces")
    depth = max_depth = 0
    for m in _token_pattern(delimiter).finditer(value):
        if m.group(1) is not None:
            depth += 1
            max_depth = max(max_depth, depth)
        elif m.group(2) is not None:
            depth -= 1
            if depth < 0:
                raise ArrayFormatError("unbalanced braces")
        elif m.group(3) is not None:
            continue
        elif m.group(4) is not None:
            quoted = m.group(4)
            out.append(_UNESCAPE.sub(rb"\1", quoted) if b"\\" in quoted else quoted)
        elif m.group(5) is not None:
            element = m.group(5)
            out.append(None if element == b"NULL" else element)
        else:
            raise ArrayFormatError(f"unexpected character {m.group(6)!r}")
    if depth != 0:
        raise ArrayFormatError("unbalanced braces")
    return decorated or max_depth > 1


def _simple_text_arrays(strings: pa.Array, delimiter: str) -> tuple[I64, pa.Array]:
    """Split ``{a,b,NULL}`` arrays (no quotes, no nesting) with Arrow kernels."""
    inner = pc.utf8_slice_codeunits(strings, 1, -1)
    lists = pc.split_pattern(inner, pattern=delimiter)
    flat = lists.flatten()
    offsets = np.asarray(lists.offsets.to_numpy(), dtype=np.int64)
    offsets -= offsets[0]
    # '{}' splits into one empty element; an element is never empty otherwise (array_out
    # quotes empty strings), so empty elements are exactly the empty arrays.
    empty = np.asarray(pc.equal(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False))
    if empty.any():
        removed = np.zeros(len(flat) + 1, dtype=np.int64)
        removed[1:] = np.cumsum(empty)
        offsets = offsets - removed[offsets]
        flat = flat.filter(pa.array(~empty))
    is_null = pc.equal(flat, "NULL")
    elements = pc.if_else(is_null, pa.scalar(None, pa.string()), flat)
    return offsets, elements.cast(pa.binary())


def text_array_elements(
    strings: pa.Array, delimiter: str, ctx: ColumnContext
) -> tuple[I64, pa.Array, Mask | None]:
    """(list boundaries, flat element raw values, the reshaped rows or None)."""
    if len(strings) == 0:
        return np.zeros(1, dtype=np.int64), pa.array([], pa.binary()), None
    simple = pc.match_substring_regex(strings, r'^\{[^{}"\\]*\}$')
    if pc.all(simple).as_py() is not False:
        offsets, elements = _simple_text_arrays(strings, delimiter)
        return offsets, elements, None
    delim = delimiter.encode()
    out: list[bytes | None] = []
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    reshaped = np.zeros(len(strings), dtype=np.bool_)
    for i, value in enumerate(strings.cast(pa.binary()).to_pylist()):
        if value is not None:
            try:
                reshaped[i] = parse_text_array(value, delim, out)
            except ArrayFormatError as exc:
                raise ctx.error(f"malformed array text ({exc})", value) from None
        offsets[i + 1] = len(out)
    return offsets, pa.array(out, pa.binary()), reshaped if reshaped.any() else None


# -- binary --------------------------------------------------------------------------------


def _header(value: bytes) -> tuple[int, bool, bool, int]:
    """(element count, has-null flag, reshaped: several dimensions or a lower bound other
    than 1, offset of the first element)."""
    ndim, flags, _element_oid = _ARRAY_HEADER.unpack_from(value)
    if ndim < 0 or ndim > 6 or flags not in (0, 1):
        raise ArrayFormatError("malformed array header")
    count = 1 if ndim else 0
    reshaped = ndim > 1
    for k in range(ndim):
        size, lower = _DIMENSION.unpack_from(value, 12 + 8 * k)
        if size < 0:
            raise ArrayFormatError("negative dimension size")
        count *= size
        reshaped = reshaped or lower != 1
    return count, bool(flags), reshaped, 12 + 8 * ndim


def _elements_one_by_one(value: bytes, count: int, pos: int, out: list[bytes | None]) -> None:
    end = len(value)
    for _ in range(count):
        (length,) = _I32.unpack_from(value, pos)
        pos += 4
        if length == -1:
            out.append(None)
            continue
        if length < 0 or pos + length > end:
            raise ArrayFormatError("element length beyond the value")
        out.append(value[pos : pos + length])
        pos += length
    if pos != end:
        raise ArrayFormatError("trailing bytes after the last element")


def _be_int32(data: U8, positions: I64) -> I64:
    """The big-endian int32 at each of ``positions`` in ``data``."""
    b = data[positions[:, None] + np.arange(4)].astype(np.int64)
    value = (b[:, 0] << 24) | (b[:, 1] << 16) | (b[:, 2] << 8) | b[:, 3]
    signed: I64 = np.where(value >= 2**31, value - 2**32, value)
    return signed


def _one_dim_fixed_width(raw: pa.Array, width: int) -> tuple[I64, pa.Array] | None:
    """Every array empty or 1-D, no NULL elements, ``width``-byte elements: numpy only.

    Such an array is a 20-byte header and then (int32 length = width, element) records, so
    the element regions of the whole column are cut out with one mask. Returns None when the
    column is not of this shape (the general parser then handles, or rejects, it).
    """
    offsets, data = offsets_and_data(raw)
    valid = valid_mask(raw)
    starts = offsets[:-1][valid]
    lengths = np.diff(offsets)[valid]
    if np.any(lengths < 12):
        return None
    ndim = _be_int32(data, starts)
    if np.any((ndim != 0) & (ndim != 1)) or np.any(_be_int32(data, starts + 4) != 0):
        return None
    one = ndim == 1
    counts = np.zeros(len(starts), dtype=np.int64)
    if one.any():
        if np.any(lengths[one] < 20) or np.any(_be_int32(data, starts[one] + 16) != 1):
            return None  # a lower bound other than 1: the general parser marks it
        counts[one] = _be_int32(data, starts[one] + 12)
    if np.any(counts < 0) or np.any(lengths != np.where(one, 20 + counts * (4 + width), 12)):
        return None
    marks = np.zeros(len(data) + 1, dtype=np.int64)
    marks[starts[one] + 20] += 1
    marks[starts[one] + lengths[one]] -= 1
    records = data[np.cumsum(marks[:-1]) > 0].reshape(-1, 4 + width)
    if np.any(records[:, :4] != np.frombuffer(_I32.pack(width), dtype=np.uint8)):
        return None
    elements = np.ascontiguousarray(records[:, 4:])
    per_row = np.zeros(len(raw), dtype=np.int64)
    per_row[valid] = counts
    list_offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum(per_row, out=list_offsets[1:])
    array = pa.Array.from_buffers(pa.binary(width), len(elements), [None, pa.py_buffer(elements)])
    return list_offsets, array


def binary_array_elements(
    raw: pa.Array, width: int | None, ctx: ColumnContext
) -> tuple[I64, pa.Array, Mask | None]:
    """(list boundaries, flat element raw values, the reshaped rows or None).

    hot path: a column of 1-D arrays of a fixed-width element type without NULL elements is
    cut with numpy (:func:`_one_dim_fixed_width`); anything else is parsed array by array.
    """
    if width is not None:
        fast = _one_dim_fixed_width(raw, width)
        if fast is not None:
            return fast[0], fast[1], None
    values = raw.to_pylist()
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    out: list[bytes | None] = []
    reshaped = np.zeros(len(values), dtype=np.bool_)
    try:
        for i, value in enumerate(values):
            if value is not None:
                count, _, reshaped[i], pos = _header(value)
                _elements_one_by_one(value, count, pos, out)
            offsets[i + 1] = len(out)
    except (ArrayFormatError, struct.error) as exc:
        raise ctx.error(f"malformed binary array ({exc})") from None
    return offsets, pa.array(out, pa.binary()), reshaped if reshaped.any() else None

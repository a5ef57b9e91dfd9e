"""Column decoders for the binary send format (pgoutput tuple kind ``'b'``, ``binary 'true'``).

Fixed-width formats (bool, integers, floats, money, date, time, timestamps, uuid, macaddr) are
decoded as one big-endian numpy view over the concatenated values, never value by value.
Text-like types send their UTF-8 text; jsonb sends a version byte and then its text. The rest
(numeric, interval, timetz, inet, bit strings, ranges) are printed value by value with
:mod:`.formats` to exactly the text PostgreSQL would have sent, because text and binary streams
must give the same Arrow values.

Every decoder returns what the text decoder of the same type returns for the same values;
tests/test_convert.py checks that against a live server.

hot path: once per column per flush.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from . import datetimes as dt
from . import text
from .buffers import (
    big_endian,
    fixed_width_matrix,
    fixed_width_strings,
    hex_groups,
    null_mask,
    offsets_and_data,
    strip_prefix,
    valid_mask,
    validity_buffer,
    variable_width_array,
)
from .context import (
    LOSSY_END_OF_DAY,
    LOSSY_INFINITY,
    LOSSY_OUT_OF_RANGE,
    ColumnContext,
    Decoder,
)
from .formats import NUMERIC_NEG, NUMERIC_POS, Formatter, numeric_text


def _matrix(raw: pa.Array, width: int, ctx: ColumnContext) -> np.ndarray:
    try:
        return fixed_width_matrix(raw, width)
    except pa.ArrowInvalid:
        raise ctx.error(f"binary value is not {width} bytes long") from None


def _numbers(raw: pa.Array, dtype: str, ctx: ColumnContext) -> np.ndarray:
    try:
        return big_endian(raw, dtype)
    except pa.ArrowInvalid:
        raise ctx.error(f"binary value is not {np.dtype(dtype).itemsize} bytes long") from None


def boolean(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    return pa.array(_matrix(raw, 1, ctx)[:, 0] != 0, type=pa.bool_(), mask=null_mask(raw))


def integer(dtype: str, arrow_type: pa.DataType, native: str) -> Decoder:
    """int2/int4/int8 (and oid: unsigned, widened to int64)."""

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        values = _numbers(raw, dtype, ctx).astype(native)
        return pa.array(values, arrow_type, null_mask(raw))

    return decode


def floating(dtype: str, arrow_type: pa.DataType) -> Decoder:
    """float4/float8. NaN payloads vary in binary but print as ``NaN``: canonicalize them."""

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        values = _numbers(raw, dtype, ctx)
        nan = np.isnan(values)
        if nan.any():
            values[nan] = np.nan
        return pa.array(values, arrow_type, null_mask(raw))

    return decode


def _per_value_strings(raw: pa.Array, fmt: Formatter, ctx: ColumnContext) -> pa.Array:
    out: list[str | None] = []
    append = out.append
    for value in raw.to_pylist():
        if value is None:
            append(None)
            continue
        try:
            append(fmt(value))
        except (ValueError, IndexError, struct.error) as exc:
            raise ctx.error(f"malformed binary value ({exc})", value) from None
    return pa.array(out, pa.string())


def formatted(fmt: Formatter) -> Decoder:
    """A string column printed value by value with one of :mod:`.formats`."""

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        return _per_value_strings(raw, fmt, ctx)

    return decode


def numeric(arrow_type: pa.DataType) -> Decoder:
    """numeric -> PostgreSQL's digits (exact), then the text decoder: decimal128 or string.

    numeric(p, s) with p <= 18 (the common money-like columns) takes a vectorised path first:
    the unscaled value fits an int64. Anything it does not take exactly (NaN, infinities, a
    malformed value, digits past the scale) goes the per-value way, which explains the error.
    """
    as_text = text.decimal(arrow_type) if pa.types.is_decimal(arrow_type) else None
    vectorised = as_text is not None and arrow_type.precision <= _INT64_DIGITS

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        if vectorised:
            exact = _numeric_int64(raw, arrow_type)
            if exact is not None:
                return exact
        strings = _per_value_strings(raw, numeric_text, ctx)
        return strings if as_text is None else as_text(strings, ctx)

    return decode


_INT64_DIGITS = 18
_POW10 = np.array([10**k for k in range(_INT64_DIGITS + 1)], dtype=np.int64)


def _numeric_int64(raw: pa.Array, arrow_type: pa.DataType) -> pa.Array | None:
    """numeric(p <= 18, s) values as decimal128 in a few numpy passes, or None to fall back.

    A numeric is Int16 ndigits, Int16 weight, UInt16 sign, Int16 dscale, then ndigits base-10000
    digits, digit k worth ``10000 ** (weight - k)``. Scaled by ``10 ** s``, digit k contributes
    ``digit * 10 ** (4 * (weight - k) + s)``: an exact int64 sum when the value fits p digits.
    """
    n = len(raw)
    offsets, data = offsets_and_data(raw)
    valid = valid_mask(raw)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    if bool(np.any(valid & (lengths < 8))):
        return None
    if len(data) == 0:
        data = np.zeros(8, dtype=np.uint8)
    head_idx = np.minimum(starts[:, None] + np.arange(8), len(data) - 1)
    head = data[head_idx].astype(np.int64)
    ndigits = (head[:, 0] << 8) | head[:, 1]
    weight = (head[:, 2] << 8) | head[:, 3]
    weight = np.where(weight >= 1 << 15, weight - (1 << 16), weight)
    sign = (head[:, 4] << 8) | head[:, 5]
    dscale = (head[:, 6] << 8) | head[:, 7]
    if bool(np.any(valid & (dscale != max(arrow_type.scale, 0)))):
        return None  # PostgreSQL prints numeric(p,s) with exactly s digits; anything else is odd
    ndigits = np.where(valid, ndigits, 0)
    sign = np.where(valid, sign, NUMERIC_POS)
    if bool(np.any((sign != NUMERIC_POS) & (sign != NUMERIC_NEG))):
        return None  # NaN, infinities or a malformed sign
    if bool(np.any(ndigits >= 1 << 15)) or bool(np.any(valid & (lengths != 8 + 2 * ndigits))):
        return None
    scale = arrow_type.scale
    unscaled = np.zeros(n, dtype=np.int64)
    for k in range(int(ndigits.max()) if n else 0):
        has = ndigits > k
        pos = np.minimum(starts + 8 + 2 * k, len(data) - 2)
        digit = (data[pos].astype(np.int64) << 8) | data[pos + 1]
        digit = np.where(has, digit, 0)
        exponent = np.where(has, 4 * (weight - k) + scale, 0)
        if bool(np.any(digit > 9999)) or bool(np.any(exponent > _INT64_DIGITS)):
            return None
        # each term below 10**18, so a sum of the few terms of a value stays inside int64
        big = exponent > _INT64_DIGITS - 4
        if bool(np.any(big & (digit >= _POW10[np.clip(_INT64_DIGITS - exponent, 0, 18)]))):
            return None
        down = np.minimum(np.maximum(-exponent, 0), _INT64_DIGITS)
        if bool(np.any(has & (exponent < -_INT64_DIGITS) & (digit != 0))):
            return None
        divisor = _POW10[down]
        if bool(np.any(digit % divisor != 0)):
            return None  # digits past the scale: the exact path raises or rounds as it must
        unscaled += (digit // divisor) * _POW10[np.maximum(exponent, 0)]
    if bool(np.any(unscaled >= _POW10[arrow_type.precision])):
        return None
    unscaled = np.where(sign == NUMERIC_NEG, -unscaled, unscaled)
    words = np.empty((n, 2), dtype="<i8")
    words[:, 0] = unscaled
    words[:, 1] = unscaled >> 63
    return pa.Array.from_buffers(
        arrow_type, n, [validity_buffer(valid), pa.py_buffer(words.tobytes())]
    )


def money(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """int64 cents (lc_monetary=C has 2 fraction digits) -> decimal128(38,2) storage, which is
    the 128-bit two's complement of the same integer."""
    cents = _numbers(raw, ">i8", ctx).astype(np.int64)
    words = np.empty((len(cents), 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension
    validity = validity_buffer(valid_mask(raw))
    return pa.Array.from_buffers(
        pa.decimal128(38, 2), len(cents), [validity, pa.py_buffer(words.tobytes())]
    )


def utf8(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """text, varchar, bpchar, name, citext, enum labels, json, xml: the send format is the text."""
    return text.utf8(raw, ctx)


JSONB_VERSION = b"\x01"  # the one binary format of jsonb: this byte, then the text


def jsonb(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """Version byte 1, then the same text jsonb_out prints."""
    offsets, data = offsets_and_data(raw)
    valid = valid_mask(raw)
    if np.any(np.diff(offsets)[valid] == 0) or np.any(data[offsets[:-1][valid]] != 1):
        raise ctx.error("unknown jsonb binary format version (expected 1)")
    offsets, data, valid = strip_prefix(raw, 1)
    try:
        return variable_width_array(pa.string(), offsets, data, valid, check_utf8=True)
    except pa.ArrowInvalid:
        raise ctx.error("jsonb value is not valid UTF-8") from None


def jsonb_text(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """jsonb values whose version byte the column parser already checked and left out: only
    the UTF-8 check is left (no copy)."""
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        raise ctx.error("jsonb value is not valid UTF-8") from None


def bytea(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    return raw


def hex_string(width: int, groups: tuple[int, ...], separator: bytes) -> Decoder:
    """uuid (canonical lowercase 8-4-4-4-12) and macaddr/macaddr8 (``08:00:2b:01:02:03``)."""

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        chars = hex_groups(_matrix(raw, width, ctx), groups, separator)
        return fixed_width_strings(chars, valid_mask(raw) if raw.null_count else None)

    return decode


def _clamp(
    values: np.ndarray,
    raw: pa.Array,
    infinity: tuple[int, int],
    bounds: tuple[int, int],
    shown: Callable[[int], str],
    ctx: ColumnContext,
) -> None:
    """Clamp ``values`` (PostgreSQL units, in place) to the storable range ``bounds``, marking
    the ``infinity`` sentinels and finite values outside it (see datetimes).

    hot path: one pass over the column when every value is in range (the usual case); the
    sentinels are outside the range, so they are found in that pass too.
    """
    low, high = bounds
    outside = (values < low) | (values > high)
    if not outside.any():
        return
    outside &= valid_mask(raw)
    for sentinel, end in zip(infinity, bounds, strict=True):
        hit = outside & (values == sentinel)
        if hit.any():
            ctx.mark(LOSSY_INFINITY, hit, functools.partial(shown, sentinel))
            values[hit] = end
            outside &= ~hit
    for beyond, end in ((outside & (values < low)), low), ((outside & (values > high)), high):
        if beyond.any():
            first = int(values[np.flatnonzero(beyond)[0]])
            ctx.mark(LOSSY_OUT_OF_RANGE, beyond, functools.partial(shown, first))
            values[beyond] = end


def date(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """int32 days since 2000-01-01 (INT32 min/max are -infinity/infinity) -> date32 within
    the storable range of :mod:`.datetimes` (values outside it clamped and marked)."""
    days = _numbers(raw, ">i4", ctx).astype(np.int64)
    infinity = (dt.DATE_NEG_INFINITY, dt.DATE_POS_INFINITY)
    bounds = (dt.DATE_MIN_DAYS - dt.PG_EPOCH_DAYS, dt.DATE_MAX_DAYS - dt.PG_EPOCH_DAYS)
    _clamp(days, raw, infinity, bounds, dt.date_text, ctx)
    days += dt.PG_EPOCH_DAYS
    return pa.array(days.astype(np.int32), pa.int32(), null_mask(raw)).view(pa.date32())


def time(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """int64 microseconds since midnight; 24:00:00 is clamped and marked as in the text
    decoder."""
    us = _numbers(raw, ">i8", ctx).astype(np.int64)
    outside = ((us < 0) | (us > dt.USECS_PER_DAY)) & valid_mask(raw)
    if outside.any():  # PostgreSQL's time is 00:00:00 to 24:00:00: not a time it sent
        value = int(us[np.flatnonzero(outside)[0]])
        raise ctx.error(f"binary time of {value} microseconds is outside 00:00 to 24:00")
    over = (us >= dt.USECS_PER_DAY) & valid_mask(raw)
    if over.any():
        ctx.mark(LOSSY_END_OF_DAY, over, lambda: "24:00:00")
        us[over] = dt.USECS_PER_DAY - 1
    return pa.array(us, pa.time64("us"), null_mask(raw))


def timestamp(arrow_type: pa.DataType) -> Decoder:
    """int64 microseconds since 2000-01-01 (UTC for timestamptz; INT64 min/max are
    -infinity/infinity) within the storable range of :mod:`.datetimes` (values outside it,
    up to PostgreSQL's year 294276, clamped and marked)."""
    with_zone = arrow_type.tz is not None
    infinity = (dt.TIMESTAMP_NEG_INFINITY, dt.TIMESTAMP_POS_INFINITY)
    bounds = (dt.TIMESTAMP_MIN_US - dt.PG_EPOCH_US, dt.TIMESTAMP_MAX_US - dt.PG_EPOCH_US)

    def shown(pg_us: int) -> str:
        return dt.timestamp_text(pg_us, with_zone)

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        us = _numbers(raw, ">i8", ctx).astype(np.int64)
        _clamp(us, raw, infinity, bounds, shown, ctx)
        us += dt.PG_EPOCH_US
        return pa.array(us, pa.int64(), null_mask(raw)).view(arrow_type)

    return decode

"""Column decoders for the text format (pgoutput tuple kind ``'t'``).

Each decoder takes a whole column of raw values as an Arrow binary array and returns the
column's Arrow array. The text is each type's output function under the replication session's
settings (DateStyle=ISO, IntervalStyle=postgres, TimeZone=UTC, extra_float_digits=3,
bytea_output=hex, lc_monetary=C, UTF-8), which these decoders assume and check: a value in any
other shape raises TypeConversionError rather than being guessed at.

hot path: these run once per column per flush over every buffered value. Parsing is Arrow
compute kernels (casts, regex matches) and numpy over whole buffers; Python touches single
values only for rare irregular ones (BC dates, years past 9999, infinity).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import datetimes as dt
from .buffers import (
    HEX_VALUE,
    null_mask,
    offsets_and_data,
    strip_prefix,
    valid_mask,
    variable_width_array,
)
from .context import (
    LOSSY_END_OF_DAY,
    LOSSY_JSON_DUPLICATE_KEYS,
    LOSSY_NAN,
    ColumnContext,
    Decoder,
)


def _first_invalid_utf8(raw: pa.Array) -> bytes | None:
    for value in raw.to_pylist():
        if value is not None:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return bytes(value)
    return None


def utf8(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """The values as strings (a UTF-8 check, no copy): every string-typed column."""
    if pa.types.is_string(raw.type):
        return raw
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        raise ctx.error(
            "value is not valid UTF-8",
            _first_invalid_utf8(raw),
            "walstream expects a UTF8 server_encoding",
        ) from None


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey
    return out


def json_duplicate_keys(decode: Decoder) -> Decoder:
    """``json`` (not jsonb) keeps an object's repeated keys as written, and Snowflake's VARIANT
    (PARSE_JSON with 'd') keeps only the last one: such a value is stored exactly in the files
    but not in FINAL, so its row is marked (``json_duplicate_keys``). Only values with at least
    two ``:`` can repeat a key, so scalars and arrays of scalars are never parsed."""

    def check(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        strings = decode(raw, ctx)
        maybe = pc.greater_equal(pc.count_substring(strings, ":"), 2).fill_null(False)
        positions = np.flatnonzero(np.asarray(maybe.to_numpy(zero_copy_only=False)))
        if len(positions) == 0:
            return strings
        hit = np.zeros(len(strings), dtype=np.bool_)
        for i, text in zip(positions, strings.take(pa.array(positions)).to_pylist(), strict=True):
            try:
                json.loads(text, object_pairs_hook=_no_duplicates)
            except _DuplicateKey:
                hit[i] = True
            except ValueError:
                pass  # PostgreSQL checked it is JSON; a parser difference is not a duplicate
        if hit.any():
            ctx.mark(LOSSY_JSON_DUPLICATE_KEYS, hit, lambda: strings.filter(pa.array(hit))[0])
        return strings

    return check


def _first_where(strings: pa.Array, mask: pa.Array) -> object:
    """The first value of ``strings`` where ``mask`` is true (for error messages)."""
    picked = strings.filter(mask)
    return picked[0].as_py() if len(picked) else None


def _check(strings: pa.Array, ok: pa.Array, ctx: ColumnContext, problem: str, fix: str) -> None:
    """Raise unless ``ok`` is true for every non-NULL value."""
    bad = pc.invert(ok)
    if pc.any(bad).as_py():
        raise ctx.error(problem, _first_where(strings, bad), fix)


def _cast(strings: pa.Array, arrow_type: pa.DataType, ctx: ColumnContext) -> pa.Array:
    try:
        return strings.cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ctx.error(f"cannot convert to {arrow_type}: {exc}") from None


def boolean(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    is_true = pc.equal(raw, pa.scalar(b"t", pa.binary()))
    is_false = pc.equal(raw, pa.scalar(b"f", pa.binary()))
    _check(raw, pc.or_(is_true, is_false), ctx, "expected 't' or 'f'", "")
    return is_true


def number(arrow_type: pa.DataType) -> Decoder:
    """int2/int4/int8/oid/float4/float8: Arrow's parsers read PostgreSQL's output exactly,
    including ``NaN``, ``Infinity``, ``-Infinity`` and ``-0``."""

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        return _cast(utf8(raw, ctx), arrow_type, ctx)

    return decode


_NON_FINITE = pa.array(["NaN", "Infinity", "-Infinity"])


def decimal(arrow_type: pa.DataType) -> Decoder:
    """numeric(p,s) -> decimal128. PostgreSQL prints exactly s fraction digits, so the cast
    never rounds; ``NaN`` (allowed in any numeric column; infinity is not, in a constrained
    one) has no decimal: it is stored as NULL and marked lossy (``numeric_nan``)."""

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        strings = utf8(raw, ctx)
        special = pc.is_in(strings, value_set=_NON_FINITE)
        if pc.any(special).as_py():
            mask = np.asarray(special.to_numpy(zero_copy_only=False), dtype=np.bool_)
            ctx.mark(LOSSY_NAN, mask, lambda: _first_where(strings, special))
            strings = pc.if_else(special, pa.scalar(None, pa.string()), strings)
        # Arrow's cast turns text of more than 38 digits into 0 without an error (fuzz
        # finding), so text longer than numeric(p,s) can print is refused first
        too_long = pc.greater(pc.utf8_length(strings), longest)
        if pc.any(too_long).as_py():
            raise ctx.error(
                f"{_first_where(strings, too_long)} is longer than {arrow_type} can print"
            )
        return _cast(strings, arrow_type, ctx)

    precision, scale = arrow_type.precision, arrow_type.scale
    # sign, integer digits (at least "0"), point and fraction digits
    longest = 1 + max(precision - scale, 1) + (1 + scale if scale > 0 else 0)
    return decode


_MONEY_RE = r"^-?\$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}$"


def money(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """money as printed with lc_monetary=C (``-$1,234.56``) -> decimal128(38,2)."""
    strings = utf8(raw, ctx)
    _check(
        strings,
        pc.match_substring_regex(strings, _MONEY_RE),
        ctx,
        "money not in the lc_monetary=C format",
        "set lc_monetary = 'C' for the walstream role, or use binary mode",
    )
    plain = pc.replace_substring_regex(strings, r"[$,]", "")
    return _cast(plain, pa.decimal128(38, 2), ctx)


def bytea(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """bytea_output=hex: ``\\x`` then two hex digits per byte, decoded over the whole column."""
    prefixed = pc.starts_with(raw, pattern="\\x")
    _check(raw, prefixed, ctx, "bytea not in hex format", "set bytea_output = 'hex'")
    offsets, data, valid = strip_prefix(raw, 2)
    lengths = np.diff(offsets)
    if np.any(lengths % 2):
        raise ctx.error("bytea hex text has an odd number of digits")
    nibbles = HEX_VALUE[data]
    if np.any(nibbles == 255):
        raise ctx.error("bytea hex text has a non-hex character")
    decoded = ((nibbles[0::2] << 4) | nibbles[1::2]).astype(np.uint8)
    return variable_width_array(pa.binary(), offsets // 2, decoded, valid)


def _fast_and_slow(
    strings: pa.Array, regular_pattern: str, arrow_type: pa.DataType
) -> tuple[pa.Array, np.ndarray]:
    """Cast the values matching ``regular_pattern`` with Arrow; return the result and the
    positions of the other non-NULL values, which the caller parses one by one."""
    regular = pc.match_substring_regex(strings, regular_pattern)
    irregular = np.flatnonzero(
        np.asarray(pc.invert(regular).fill_null(False).to_numpy(zero_copy_only=False))
    )
    if len(irregular) == 0:
        return strings.cast(arrow_type), irregular
    only_regular = pc.if_else(regular, strings, pa.scalar(None, pa.string()))
    return only_regular.cast(arrow_type), irregular


def _patch(
    cast: pa.Array,
    positions: np.ndarray,
    values: list[int],
    storage: str,
    arrow_type: pa.DataType,
    nulls: np.ndarray | None,
) -> pa.Array:
    ints = np.array(cast.cast(storage).fill_null(0).to_numpy(zero_copy_only=False), dtype=storage)
    ints[positions] = values
    return pa.array(ints, type=storage, mask=nulls).view(arrow_type)


_DATE_REGULAR = r"^\d{4}-\d\d-\d\d$"


def date(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """ISO dates; ``BC``, 5+ digit years and infinity go the slow way (clamped to the storable
    range of :mod:`.datetimes` and marked lossy)."""
    strings = utf8(raw, ctx)
    try:
        cast, irregular = _fast_and_slow(strings, _DATE_REGULAR, pa.date32())
    except pa.ArrowInvalid as exc:
        raise ctx.error(f"invalid date: {exc}") from None
    if len(irregular) == 0:
        return cast
    days: list[int] = []
    for i, text in zip(irregular, strings.take(pa.array(irregular)).to_pylist(), strict=True):
        try:
            value, loss = dt.parse_date(text)
        except ValueError as exc:
            raise ctx.error(f"invalid date ({exc})", text) from None
        if loss:
            ctx.mark_positions(loss, np.array([i]), len(strings), text)
        days.append(value)
    return _patch(cast, irregular, days, "int32", pa.date32(), null_mask(raw))


_TIMESTAMP_REGULAR = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$"
_TIMESTAMPTZ_REGULAR = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$"


def timestamp(arrow_type: pa.DataType) -> Decoder:
    """ISO timestamps (``+00`` offsets for timestamptz); irregular values as for dates."""
    pattern = _TIMESTAMPTZ_REGULAR if arrow_type.tz is not None else _TIMESTAMP_REGULAR

    def decode(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
        strings = utf8(raw, ctx)
        try:
            cast, irregular = _fast_and_slow(strings, pattern, arrow_type)
        except pa.ArrowInvalid as exc:
            raise ctx.error(f"invalid timestamp: {exc}") from None
        if len(irregular) == 0:
            return cast
        micros: list[int] = []
        for i, text in zip(irregular, strings.take(pa.array(irregular)).to_pylist(), strict=True):
            try:
                value, loss = dt.parse_timestamp(text)
            except ValueError as exc:
                raise ctx.error(f"invalid timestamp ({exc})", text) from None
            if loss:
                ctx.mark_positions(loss, np.array([i]), len(strings), text)
            micros.append(value)
        return _patch(cast, irregular, micros, "int64", arrow_type, null_mask(raw))

    return decode


_TIME_RE = r"^\d\d:\d\d:\d\d(\.\d{1,6})?$"
_TIME_PLACES = np.array(
    [
        36_000_000_000,
        3_600_000_000,
        0,
        600_000_000,
        60_000_000,
        0,
        10_000_000,
        1_000_000,
        0,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ],
    dtype=np.int64,
)


def time(raw: pa.Array, ctx: ColumnContext) -> pa.Array:
    """``HH:MM:SS[.ffffff]`` -> time64(us) with numpy over a fixed-width layout.

    ``24:00:00`` (valid in PostgreSQL, not in Arrow) becomes 23:59:59.999999, marked lossy.
    """
    strings = utf8(raw, ctx)
    _check(strings, pc.match_substring_regex(strings, _TIME_RE), ctx, "invalid time", "")
    # pad every value to HH:MM:SS.ffffff: a missing fraction is ".000000"
    short = pc.equal(pc.utf8_length(strings), 8)
    dotted = pc.if_else(short, pc.binary_join_element_wise(strings, ".", ""), strings)
    padded = pc.utf8_rpad(dotted, width=15, padding="0").fill_null("00:00:00.000000")
    _, data = offsets_and_data(padded)
    digits = (data.reshape(len(strings), 15).astype(np.int64) - ord("0")) @ _TIME_PLACES
    over = (digits >= dt.USECS_PER_DAY) & valid_mask(raw)
    if np.any(over):
        ctx.mark(LOSSY_END_OF_DAY, over, lambda: "24:00:00")
        digits[over] = dt.USECS_PER_DAY - 1
    return pa.array(digits, type=pa.time64("us"), mask=null_mask(raw))

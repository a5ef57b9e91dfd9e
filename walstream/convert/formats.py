"""Binary send format -> PostgreSQL's own text output, one value at a time.

Types that are strings in Arrow (``interval``, ``inet``, ranges, unconstrained ``numeric``, ...)
must read the same whether the stream sends them as text or binary, so a binary value is
printed exactly as the type's output function would print it (with the replication session's
settings: DateStyle=ISO, IntervalStyle=postgres, TimeZone=UTC, extra_float_digits=3,
bytea_output=hex, lc_monetary=C). Range bounds need the text of their subtype, so every type
with a binary decoder has a formatter here.

These functions are per value (the formats are variable and branchy); the column decoders in
:mod:`.binary` call them only where no vectorized path exists. Each raises ``ValueError`` or
``struct.error`` on malformed input; the caller turns that into a TypeConversionError.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from . import datetimes as dt

Formatter = Callable[[bytes], str]

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")
_NUMERIC_HEADER = struct.Struct(">hhHh")
_TIMETZ = struct.Struct(">qi")
_INTERVAL = struct.Struct(">qii")

NUMERIC_POS = 0x0000
NUMERIC_NEG = 0x4000
NUMERIC_NAN = 0xC000
NUMERIC_PINF = 0xD000
NUMERIC_NINF = 0xF000


def _exact(value: bytes, size: int) -> None:
    if len(value) != size:
        raise ValueError(f"expected {size} bytes, got {len(value)}")


def text_utf8(value: bytes) -> str:
    return value.decode("utf-8")


def jsonb_text(value: bytes) -> str:
    if value[:1] != b"\x01":
        raise ValueError("unknown jsonb binary version (expected 1)")
    return value[1:].decode("utf-8")


def bool_text(value: bytes) -> str:
    _exact(value, 1)
    return "t" if value[0] else "f"


def char_text(value: bytes) -> str:
    """charout of the single-byte ``"char"`` type: high-bit bytes print as octal escapes."""
    _exact(value, 1)
    byte = value[0]
    if byte >= 0x80:
        return f"\\{byte:03o}"
    return chr(byte) if byte else ""


def int_text(value: bytes) -> str:
    if len(value) not in (2, 4, 8):
        raise ValueError(f"expected 2, 4 or 8 bytes, got {len(value)}")
    return str(int.from_bytes(value, "big", signed=True))


def oid_text(value: bytes) -> str:
    _exact(value, 4)
    return str(int.from_bytes(value, "big", signed=False))


def _shortest_float_text(digits: str, exponent: int, fixed_below: int) -> str:
    """Ryu's layout as PostgreSQL prints it: ``digits`` is d.ddd x 10**exponent."""
    if -4 <= exponent < fixed_below:
        if exponent >= 0:
            whole, frac = digits[: exponent + 1].ljust(exponent + 1, "0"), digits[exponent + 1 :]
            return whole + ("." + frac if frac else "")
        return "0." + "0" * (-exponent - 1) + digits
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def _float_text(value: float, shortest: str, fixed_below: int) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    # ``shortest`` is the digits of abs(value): the sign comes from the value itself
    _, digit_tuple, exp = Decimal(shortest).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exp = int(exp) + len(digit_tuple) - len(digits)
    text = _shortest_float_text(digits, exp + len(digits) - 1, fixed_below)
    return "-" + text if value < 0 else text


def float8_text(value: bytes) -> str:
    """float8out with extra_float_digits > 0: shortest round-trip digits (what repr gives)."""
    _exact(value, 8)
    (number,) = _F64.unpack(value)
    return _float_text(number, repr(abs(number)), 15)


def float4_text(value: bytes) -> str:
    _exact(value, 4)
    (number,) = _F32.unpack(value)
    return _float_text(number, str(abs(np.float32(number))), 6)


def numeric_text(value: bytes) -> str:
    """numeric_out of the binary format: base-10000 digits, weight, sign, display scale."""
    ndigits, weight, sign, dscale = _NUMERIC_HEADER.unpack_from(value)
    if sign == NUMERIC_NAN:
        return "NaN"
    if sign == NUMERIC_PINF:
        return "Infinity"
    if sign == NUMERIC_NINF:
        return "-Infinity"
    if sign not in (NUMERIC_POS, NUMERIC_NEG) or ndigits < 0 or dscale < 0:
        raise ValueError("malformed numeric header")
    _exact(value, 8 + 2 * ndigits)
    digits = struct.unpack_from(f">{ndigits}H", value, 8)
    text = "%04d" * ndigits % digits
    point = (weight + 1) * 4  # the decimal point's position in ``text``
    if point < 0:
        text, point = "0" * -point + text, 0
    elif point > len(text):
        text += "0" * (point - len(text))
    whole = text[:point].lstrip("0") or "0"
    result = whole
    if dscale > 0:
        result += "." + text[point : point + dscale].ljust(dscale, "0")
    return "-" + result if sign == NUMERIC_NEG else result


def money_text(value: bytes) -> str:
    """cash_out with lc_monetary=C: ``$1,234.56`` and ``-$1,234.56``."""
    _exact(value, 8)
    (cents,) = _I64.unpack(value)
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}${whole:,}.{frac:02d}"


def bytea_text(value: bytes) -> str:
    return "\\x" + value.hex()


def uuid_text(value: bytes) -> str:
    _exact(value, 16)
    h = value.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def macaddr_text(value: bytes) -> str:
    if len(value) not in (6, 8):
        raise ValueError(f"expected 6 or 8 bytes, got {len(value)}")
    return ":".join(f"{b:02x}" for b in value)


def bit_text(value: bytes) -> str:
    """bit_out / varbit_out: the bit length, then the bits, first bit in the high bit."""
    (length,) = _I32.unpack_from(value)
    data = value[4:]
    if length < 0 or len(data) != (length + 7) // 8:
        raise ValueError("malformed bit string")
    if not data:
        return ""
    return format(int.from_bytes(data, "big"), f"0{len(data) * 8}b")[:length]


def date_text(value: bytes) -> str:
    _exact(value, 4)
    return dt.date_text(_I32.unpack(value)[0])


def time_text(value: bytes) -> str:
    _exact(value, 8)
    return dt.time_text(_I64.unpack(value)[0])


def timetz_text(value: bytes) -> str:
    _exact(value, 12)
    return dt.timetz_text(*_TIMETZ.unpack(value))


def timestamp_text(value: bytes) -> str:
    _exact(value, 8)
    return dt.timestamp_text(_I64.unpack(value)[0], with_zone=False)


def timestamptz_text(value: bytes) -> str:
    _exact(value, 8)
    return dt.timestamp_text(_I64.unpack(value)[0], with_zone=True)


def interval_text(value: bytes) -> str:
    _exact(value, 16)
    return dt.interval_text(*_INTERVAL.unpack(value))


PGSQL_AF_INET = 2
PGSQL_AF_INET6 = 3


def _ipv6_text(addr: bytes) -> str:
    """inet_net_ntop_ipv6's address part: the longest zero run (2+ words, first on ties) is
    ``::``, and IPv4-mapped/compatible addresses end in dotted quad."""
    words = struct.unpack(">8H", addr)
    best_base, best_len, cur_base, cur_len = -1, 0, -1, 0
    for i, word in enumerate((*words, 1)):  # the sentinel closes a trailing run
        if word == 0 and i < 8:
            if cur_base == -1:
                cur_base, cur_len = i, 1
            else:
                cur_len += 1
        elif cur_base != -1:
            if best_base == -1 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if best_len < 2:
        best_base = -1
    out: list[str] = []
    for i in range(8):
        if best_base != -1 and best_base <= i < best_base + best_len:
            if i == best_base:
                out.append(":")
            continue
        if i:
            out.append(":")
        if (
            i == 6
            and best_base == 0
            and (
                best_len == 6
                or (best_len == 7 and words[7] != 0x0001)
                or (best_len == 5 and words[5] == 0xFFFF)
            )
        ):
            out.append(".".join(str(b) for b in addr[12:]))
            break
        out.append(f"{words[i]:x}")
    if best_base != -1 and best_base + best_len == 8:
        out.append(":")
    return "".join(out)


def _inet_text(value: bytes, is_cidr_type: bool) -> str:
    """network_out: the address, then ``/bits`` unless it is a full-length inet mask."""
    family, bits, _is_cidr, size = value[0], value[1], value[2], value[3]
    addr = value[4:]
    if len(addr) != size:
        raise ValueError("malformed inet")
    if family == PGSQL_AF_INET and size == 4:
        text = ".".join(str(b) for b in addr)
        full = 32
    elif family == PGSQL_AF_INET6 and size == 16:
        text = _ipv6_text(addr)
        full = 128
    else:
        raise ValueError("unknown inet address family")
    if bits != full or is_cidr_type:
        text += f"/{bits}"
    return text


def inet_text(value: bytes) -> str:
    return _inet_text(value, False)


def cidr_text(value: bytes) -> str:
    return _inet_text(value, True)


# -- ranges --------------------------------------------------------------------------------

RANGE_EMPTY = 0x01
RANGE_LB_INC = 0x02
RANGE_UB_INC = 0x04
RANGE_LB_INF = 0x08
RANGE_UB_INF = 0x10
RANGE_LB_NULL = 0x20
RANGE_UB_NULL = 0x40

_RANGE_QUOTE_CHARS = frozenset('"\\()[],')


def range_bound_quote(text: str) -> str:
    """range_bound_escape: quote empty bounds and bounds with special characters or spaces."""
    if text and not any(c in _RANGE_QUOTE_CHARS or c in " \t\n\r\v\f" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'


def _range_text(value: bytes, pos: int, end: int, bound: Formatter) -> str:
    flags = value[pos]
    pos += 1
    if flags & RANGE_EMPTY:
        if pos != end:
            raise ValueError("malformed empty range")
        return "empty"
    parts = ["[" if flags & RANGE_LB_INC else "("]
    for has_bound, separator in (
        (not flags & (RANGE_LB_INF | RANGE_LB_NULL), ","),
        (not flags & (RANGE_UB_INF | RANGE_UB_NULL), "]" if flags & RANGE_UB_INC else ")"),
    ):
        if has_bound:
            (length,) = _I32.unpack_from(value, pos)
            pos += 4
            if length < 0 or pos + length > end:
                raise ValueError("malformed range bound")
            parts.append(range_bound_quote(bound(value[pos : pos + length])))
            pos += length
        parts.append(separator)
    if pos != end:
        raise ValueError("trailing bytes after a range")
    return "".join(parts)


def range_formatter(bound: Formatter) -> Formatter:
    """range_out of range_send's format: flags byte, then each finite bound (int32 length)."""

    def format_range(value: bytes) -> str:
        return _range_text(value, 0, len(value), bound)

    return format_range


def multirange_formatter(bound: Formatter) -> Formatter:
    """multirange_out: ``{[1,3),[5,7)}`` from a range count and length-prefixed ranges."""

    def format_multirange(value: bytes) -> str:
        (count,) = _I32.unpack_from(value)
        pos = 4
        ranges = []
        for _ in range(count):
            (length,) = _I32.unpack_from(value, pos)
            pos += 4
            if length < 1 or pos + length > len(value):
                raise ValueError("malformed multirange")
            ranges.append(_range_text(value, pos, pos + length, bound))
            pos += length
        if pos != len(value):
            raise ValueError("trailing bytes after a multirange")
        return "{" + ",".join(ranges) + "}"

    return format_multirange


_ARRAY_QUOTE_CHARS = frozenset('{}"\\ \t\n\r\v\f')


def _array_element_text(text: str, delimiter: str) -> str:
    """array_out's quoting: empty, ``NULL``-like or special-character elements are quoted."""
    if (
        text
        and text.upper() != "NULL"
        and delimiter not in text
        and not any(c in _ARRAY_QUOTE_CHARS for c in text)
    ):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_formatter(element: Formatter, delimiter: str = ",") -> Formatter:
    """array_out of array_send's format: ndim, flags, element OID, (size, lower bound) per
    dimension, then int32-length-prefixed elements; ``[lo:hi]=`` when a lower bound is not 1.

    Used when an array column is typed as text (the lossless choice) in a binary stream.
    """

    def format_array(value: bytes) -> str:
        ndim, flags, _oid = struct.unpack_from(">iiI", value)
        if ndim < 0 or ndim > 6 or flags not in (0, 1):
            raise ValueError("malformed array header")
        if ndim == 0:
            return "{}"
        dims = [struct.unpack_from(">ii", value, 12 + 8 * k) for k in range(ndim)]
        pos = 12 + 8 * ndim
        items: list[str] = []
        for _ in range(math.prod(size for size, _ in dims)):
            (length,) = _I32.unpack_from(value, pos)
            pos += 4
            if length == -1:
                items.append("NULL")
                continue
            if length < 0 or pos + length > len(value):
                raise ValueError("element length beyond the value")
            items.append(_array_element_text(element(value[pos : pos + length]), delimiter))
            pos += length
        if pos != len(value):
            raise ValueError("trailing bytes after the last element")
        for size, _ in reversed(dims):  # innermost dimension first
            items = [
                "{" + delimiter.join(items[i : i + size]) + "}" for i in range(0, len(items), size)
            ] or ["{}"]
        prefix = ""
        if any(lower != 1 for _, lower in dims):
            prefix = "".join(f"[{lower}:{lower + size - 1}]" for size, lower in dims) + "="
        return prefix + items[0]

    return format_array


# Built-in (pg_catalog) base types whose binary format we can print; the rest is text-only.
FORMATTERS: dict[str, Formatter] = {
    "bool": bool_text,
    "char": char_text,
    "int2": int_text,
    "int4": int_text,
    "int8": int_text,
    "oid": oid_text,
    "float4": float4_text,
    "float8": float8_text,
    "numeric": numeric_text,
    "money": money_text,
    "text": text_utf8,
    "varchar": text_utf8,
    "bpchar": text_utf8,
    "name": text_utf8,
    "xml": text_utf8,
    "json": text_utf8,
    "jsonb": jsonb_text,
    "bytea": bytea_text,
    "uuid": uuid_text,
    "macaddr": macaddr_text,
    "macaddr8": macaddr_text,
    "inet": inet_text,
    "cidr": cidr_text,
    "bit": bit_text,
    "varbit": bit_text,
    "date": date_text,
    "time": time_text,
    "timetz": timetz_text,
    "timestamp": timestamp_text,
    "timestamptz": timestamptz_text,
    "interval": interval_text,
}

# Extension types (any schema) whose send format is plain text.
TEXT_SEND_EXTENSION_TYPES = frozenset({"citext"})

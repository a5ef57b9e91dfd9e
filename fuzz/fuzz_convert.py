"""Fuzz harness: the column converters of :mod:`walstream.convert` on hostile raw values.

At flush time every buffered column goes through ``ColumnConverter.convert(values, binary)``
(``decode`` on an Arrow array for the snapshot loader). The values are whatever bytes pgoutput
or COPY delivered, so the converters' contract is: return one Arrow array of the column's type,
or raise a :class:`~walstream.errors.WalstreamError` (TypeConversionError) that names the
column and value. This harness feeds fuzzed columns of every type walstream maps (all built-in
types and their arrays, constrained numerics, varchar(n), and an enum, a domain, a user range,
a composite and citext as the catalog describes them) in text and binary format, and checks
the result:

- it is a ``pa.Array`` of ``converter.arrow_type`` with one entry per value;
- it passes ``validate(full=True)`` (a corrupt array would only fail later, in Parquet);
- a NULL value is a null entry and a non-NULL value is not;
- a text number keeps its value: an integer, float8, money or numeric(p,s) that converts
  equals what Python's ``int`` / ``float`` / ``Decimal`` read from the same text (no value
  is silently changed, DESIGN.md §4);
- binary and text agree (DESIGN.md §4: the same PostgreSQL value gives the same Arrow value in
  either format): a binary column that converts is printed value by value as PostgreSQL's text
  (``walstream.convert.text_formatter``, the printer the binary decoders use for string-typed
  columns and range bounds), and the text converter must accept that text and return the same
  array. This is what catches a vectorised binary path (fixed-width numbers, the int64 numeric
  path) that disagrees with the per-value text path.

Input layout: byte 0 picks the type (index into :data:`TYPES`), byte 1 the mode (bit 0:
binary format; bit 1: hand the converter a sliced Arrow array, as the snapshot loader may);
the rest is chunks (:mod:`fuzz.inputs`), one value each, a NULL chunk being SQL NULL.
Anything else escaping is a finding.

Run: ``python -m fuzz run convert`` (atheris) or import :func:`TestOneInput` (tests).
"""

from __future__ import annotations

import itertools
import math
import struct
from decimal import Decimal
from typing import Any

import pyarrow as pa

from walstream.convert import BUILTIN_OIDS, PgType, builtin_type, converter_for, text_formatter
from walstream.convert.converter import ArrayConverter, ColumnConverter
from walstream.errors import WalstreamError

from .inputs import split_chunks

MAX_VALUES = 32
BINARY = 1
SLICED = 2


def _numeric(precision: int, scale: int) -> PgType:
    # typmod packs (precision << 16 | scale & 0x7FF) + 4; the scale may be negative (PG 15+)
    t = builtin_type(1700, ((precision << 16) | (scale & 0x7FF)) + 4)
    assert t is not None
    return t


def _builtin(oid: int, typmod: int = -1) -> PgType:
    t = builtin_type(oid, typmod)
    assert t is not None
    return t


def _types() -> list[tuple[str, PgType]]:
    """Every type the harness can pick, named; the order is the input's type byte."""
    named = [(t.name, t) for t in (_builtin(oid) for oid in sorted(BUILTIN_OIDS))]
    numeric_10_2 = _numeric(10, 2)
    text = _builtin(25)
    extra = [
        ("numeric(10,2)", numeric_10_2),
        ("numeric(38,0)", _numeric(38, 0)),
        ("numeric(38,38)", _numeric(38, 38)),
        ("numeric(3,-2)", _numeric(3, -2)),
        ("numeric(2,5)", _numeric(2, 5)),
        ("numeric(50,2)", _numeric(50, 2)),
        ("numeric(10,2)[]", _builtin(1231, numeric_10_2.typmod)),
        ("varchar(10)", _builtin(1043, 14)),
        ("bpchar(3)", _builtin(1042, 7)),
        ("public.mood", PgType(90001, "mood", -1, "enum", None, "public")),
        ("public.price", PgType(90002, "price", -1, "domain", numeric_10_2, "public")),
        (
            "public.floatrange",
            PgType(90003, "floatrange", -1, "range", _builtin(701), "public"),
        ),
        (
            "public.textrange",
            PgType(90004, "textrange", -1, "range", text, "public"),
        ),
        ("public.pair", PgType(90005, "pair", -1, "composite", None, "public")),
        ("public.citext", PgType(90006, "citext", -1, "base", None, "public")),
        (
            "public._mood",
            PgType(90007, "_mood", -1, "array", PgType(90001, "mood", -1, "enum", None, "public")),
        ),
        ("public.hstore", PgType(90008, "hstore", -1, "base", None, "public")),
    ]
    return named + extra


TYPES: list[tuple[str, PgType]] = _types()
TYPE_INDEX: dict[str, int] = {name: i for i, (name, _) in enumerate(TYPES)}

_CONVERTERS: dict[int, ColumnConverter] = {}


def _converter(index: int) -> ColumnConverter:
    conv = _CONVERTERS.get(index)
    if conv is None:
        name, pg_type = TYPES[index]
        conv = _CONVERTERS[index] = converter_for(pg_type, f"fuzz_{name}")
    return conv


def TestOneInput(data: bytes) -> None:
    """One fuzz input: convert one column; only WalstreamError may escape the converter."""
    if len(data) < 2:
        return
    conv = _converter(data[0] % len(TYPES))
    mode = data[1]
    values = list(itertools.islice(split_chunks(data[2:]), MAX_VALUES))
    binary = bool(mode & BINARY)
    try:
        if mode & SLICED:
            raw = pa.array([b"\x00padding", *values, b"tail"], pa.binary()).slice(1, len(values))
            out = conv.decode(raw, binary)
        else:
            out = conv.convert(values, binary)
    except WalstreamError:
        return
    assert isinstance(out, pa.Array), f"{conv!r} returned {type(out)}"
    assert out.type == conv.arrow_type, f"{conv!r} returned {out.type}"
    assert len(out) == len(values), f"{conv!r} returned {len(out)} values for {len(values)}"
    out.validate(full=True)
    nulls = [v is None for v in values]
    assert out.is_null().to_pylist() == nulls, f"{conv!r} moved NULLs"
    if binary:
        _check_text_agrees(conv, values, out)
    else:
        _check_numbers_unchanged(conv, values, out)


_PARSERS: dict[str, Any] = {
    "int2": int,
    "int4": int,
    "int8": int,
    "oid": int,
    "float8": float,
    "numeric": Decimal,
    "money": lambda text: Decimal(text.replace("$", "").replace(",", "")),
}


def _check_numbers_unchanged(
    conv: ColumnConverter, values: list[bytes | None], out: pa.Array
) -> None:
    t = conv.pg_type.base
    parse = _PARSERS.get(t.name) if t.kind == "base" else None
    if parse is None or (t.name == "numeric" and not pa.types.is_decimal(conv.arrow_type)):
        return
    for value, got in zip(values, out.to_pylist(), strict=True):
        if value is None:
            continue
        try:
            expected = parse(value.decode())
        except (ValueError, ArithmeticError):
            continue  # Python reads it differently: no oracle for this value
        same = got == expected or (
            isinstance(got, float) and math.isnan(got) and expected != expected
        )
        assert same, f"{conv!r}: text {value!r} became {got!r}"


def _comparable(array: pa.Array) -> list[Any]:
    """Values to compare: temporal ones as integers (they may lie outside Python's datetime),
    floats by their repr (NaN equals NaN, -0 differs from 0)."""
    t = array.type
    if pa.types.is_date32(t):
        array = array.view(pa.int32())
    elif pa.types.is_timestamp(t) or pa.types.is_time64(t):
        array = array.view(pa.int64())
    values: list[Any] = array.to_pylist()
    if pa.types.is_floating(t):
        return [None if v is None else "NaN" if math.isnan(v) else repr(v) for v in values]
    return values


def _check_text_agrees(conv: ColumnConverter, values: list[bytes | None], out: pa.Array) -> None:
    fmt = None if isinstance(conv, ArrayConverter) else text_formatter(conv.pg_type)
    if fmt is None:
        return
    try:
        texts = [None if v is None else fmt(v).encode() for v in values]
    except (ValueError, IndexError, struct.error):
        return  # a value the printer rejects: the binary decoder took a shortcut, not a finding
    try:
        from_text = conv.convert(texts, False)
    except WalstreamError as exc:
        raise AssertionError(
            f"{conv!r}: binary values convert but their text {texts!r} does not: {exc}"
        ) from None
    assert _comparable(from_text) == _comparable(out), (
        f"{conv!r}: binary and text differ: {_comparable(out)!r} != {_comparable(from_text)!r} "
        f"(text {texts!r})"
    )

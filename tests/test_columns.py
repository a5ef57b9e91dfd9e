"""Columnar TupleData parsing (walstream.capture.columns) agrees with the per-message decoder.

Rows are random TupleData (every kind, empty and long values, TRUNCATE rows without a tuple);
each column parsed over all rows at once must give the same kinds and values as
``pgoutput.read_tuple`` gives row by row. Damaged rows must raise ProtocolError and nothing
else (no IndexError from numpy, no silent garbage). Every test runs through both parsers: the C
one (walstream._columns) and numpy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walstream.capture.columns import PAD, TupleColumns, encode_tuple
from walstream.capture.switch import column_parser
from walstream.errors import ProtocolError
from walstream.pg.pgoutput import read_tuple
from walstream.pg.wire import KIND_NULL

KINDS = b"ntub"
PATHS = [
    pytest.param(False, id="numpy"),
    pytest.param(
        True,
        id="C",
        marks=pytest.mark.skipif(column_parser() is None, reason="walstream._columns is not built"),
    ),
]


def _value(draw: st.DrawFn, kind: int, width: int | None) -> bytes | None:
    if kind in b"nu":
        return None
    if width is not None and kind == ord("b"):
        return draw(st.binary(min_size=width, max_size=width))
    return draw(st.binary(min_size=0, max_size=40))


Row = tuple[bytes, list[bytes | None]] | None  # kinds and values; None: a TRUNCATE row


@st.composite
def batches(draw: st.DrawFn) -> tuple[int, list[int | None], list[Row]]:
    ncols = draw(st.integers(1, 6))
    widths = [draw(st.sampled_from([None, None, 1, 4, 8, 16])) for _ in range(ncols)]
    rows: list[Row] = []
    for _ in range(draw(st.integers(0, 30))):
        if draw(st.integers(0, 9)) == 0:
            rows.append(None)  # a TRUNCATE row
            continue
        kinds = bytes(draw(st.sampled_from(KINDS)) for _ in range(ncols))
        rows.append((kinds, [_value(draw, k, w) for k, w in zip(kinds, widths, strict=True)]))
    return ncols, widths, rows


def _buffer(rows: list[Row]) -> tuple[bytearray, np.ndarray]:
    data = bytearray()
    offsets = [0]
    for row in rows:
        if row is not None:
            data += encode_tuple(row[0], row[1])
        offsets.append(len(data))
    return data, np.array(offsets, dtype=np.int64)


@pytest.mark.parametrize("use_native", PATHS)
@settings(max_examples=300, deadline=None)
@given(batch=batches())
def test_columns_equal_the_row_by_row_decoder(use_native: bool, batch: tuple) -> None:
    ncols, widths, rows = batch
    data, offsets = _buffer(rows)
    decoded = [None if r is None else read_tuple(bytes(encode_tuple(*r)), 0)[0] for r in rows]
    parser = TupleColumns(data, offsets, ncols, lambda row: f"row {row}", use_native=use_native)
    for col in range(ncols):
        kinds, values = parser.next_column(widths[col])
        for r, row in enumerate(decoded):
            expected_kind = KIND_NULL if row is None else row.kinds[col]
            expected_value = None if row is None else row.values[col]
            assert kinds[r] == expected_kind
            got = values[r].as_py()
            assert got == expected_value
        if pa.types.is_fixed_size_binary(values.type):
            assert values.type.byte_width == widths[col]


@pytest.mark.parametrize("use_native", PATHS)
def test_a_fixed_width_column_is_fixed_size_binary_without_copying_offsets(
    use_native: bool,
) -> None:
    rows = [(b"bb", [i.to_bytes(8, "big"), b"x" * 20]) for i in range(5)]
    data, offsets = _buffer(rows)
    parser = TupleColumns(data + bytes(PAD), offsets, 2, str, use_native=use_native)
    _, first = parser.next_column(8)
    _, second = parser.next_column(None)
    assert first.type == pa.binary(8)
    assert [int.from_bytes(v, "big") for v in first.to_pylist()] == list(range(5))
    assert second.to_pylist() == [b"x" * 20] * 5


@pytest.mark.parametrize("use_native", PATHS)
@settings(max_examples=400, deadline=None)
@given(batch=batches(), data=st.data())
def test_damaged_rows_raise_protocol_error_only(
    use_native: bool, batch: tuple, data: st.DataObject
) -> None:
    ncols, _, rows = batch
    buf, offsets = _buffer(rows)
    if not len(buf):
        return
    damaged = bytearray(buf)
    how = data.draw(st.sampled_from(["flip", "cut"]))
    if how == "flip":
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    else:  # the last row loses its tail: offsets say the buffer is shorter
        cut = data.draw(st.integers(1, len(damaged)))
        damaged = damaged[: len(damaged) - cut]
        offsets = np.minimum(offsets, len(damaged))
    try:
        parser = TupleColumns(
            damaged, offsets, ncols, lambda row: f"row {row}", use_native=use_native
        )
        for _ in range(ncols):
            parser.next_column(data.draw(st.sampled_from([None, 4, 8])))
    except ProtocolError:
        pass


@pytest.mark.parametrize("use_native", PATHS)
@pytest.mark.parametrize(
    ("rows", "ncols", "problem"),
    [
        ([b"\x00\x01x"], 1, "row 0: malformed tuple: unknown tuple data kind 0x78 for column 0"),
        ([b"\x00\x01t\x00\x00"], 1, "row 0: malformed tuple: column 0 length is cut off"),
        ([b"\x00\x01t\x00\x00\x00\x05ab"], 1, "row 0: malformed tuple: column 0 is longer"),
        ([b"\x00\x01t\xff\xff\xff\xffab"], 1, "row 0: malformed tuple: column 0 is longer"),
        ([b"\x00\x02n"], 2, "row 0: malformed tuple: column 1 is past the row"),
        ([b"\x00\x01n", b"\x00\x01nn"], 1, "row 1: malformed tuple: bytes follow its last column"),
        ([b"\x00\x00n"], 0, "row 0: malformed tuple: bytes follow its last column"),
        ([b"\x00"], 1, "row 0: malformed tuple: it ends before its column count"),
    ],
)
def test_a_malformed_row_is_named_with_its_column(
    use_native: bool, rows: list[bytes], ncols: int, problem: str
) -> None:
    data = b"".join(rows)
    offsets = np.cumsum([0] + [len(r) for r in rows], dtype=np.int64)
    with pytest.raises(ProtocolError) as caught:
        parser = TupleColumns(data, offsets, ncols, lambda row: f"row {row}", use_native=use_native)
        for _ in range(ncols):
            parser.next_column(None)
    assert str(caught.value).startswith(problem)


def test_wrong_column_count_names_the_row() -> None:
    data, offsets = _buffer([(b"t", [b"a"]), (b"tt", [b"a", b"b"])])
    with pytest.raises(ProtocolError, match="row 1: the tuple has 2 columns, the relation has 1"):
        TupleColumns(data, offsets, 1, lambda row: f"row {row}")


@pytest.mark.parametrize("use_native", PATHS)
@settings(max_examples=200, deadline=None)
@given(batch=batches(), prefix=st.sampled_from([b"\x01", b"\x01\x02"]), stamp=st.booleans())
def test_a_prefix_is_left_out_only_when_every_binary_value_has_it(
    use_native: bool, batch: tuple, prefix: bytes, stamp: bool
) -> None:
    """Values come back without ``prefix`` exactly when every value is binary and has it;
    otherwise they come back whole, as next_column gives them."""
    ncols, _, rows = batch
    if stamp:  # most values then carry the prefix
        rows = [
            None if r is None else (r[0], [None if v is None else prefix + v for v in r[1]])
            for r in rows
        ]
    data, offsets = _buffer(rows)
    whole = TupleColumns(data, offsets, ncols, str, use_native=use_native)
    parser = TupleColumns(data, offsets, ncols, str, use_native=use_native)
    for _ in range(ncols):
        kinds, expected = whole.next_column(None)
        got_kinds, got, removed = parser.next_column_after(prefix, None)
        assert (got_kinds == kinds).all()
        values = [v for v in expected.to_pylist() if v is not None]
        binary = [k for k in kinds if k in b"tb"]
        should = all(k == ord("b") for k in binary) and all(
            v[: len(prefix)] == prefix for v in values
        )
        assert removed == should
        cut = len(prefix) if should else 0
        assert got.to_pylist() == [None if v is None else v[cut:] for v in expected.to_pylist()]

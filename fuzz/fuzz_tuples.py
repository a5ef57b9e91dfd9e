"""Fuzz harness: the columnar TupleData parser :class:`walstream.capture.columns.TupleColumns`.

The read loop appends each change row's TupleData bytes unparsed to a batch buffer; at flush
time ``TupleColumns`` parses all rows together, one column at a time: in C
(:mod:`walstream._columns`) when it is built, with numpy otherwise. Both paths are run on every
input, each on its own. It promises
to check the rows as strictly as :mod:`walstream.pg.pgoutput` checks a decoded message and to
raise ProtocolError otherwise. This harness holds it to that *differentially*: every row is
also decoded on its own by ``PgOutputDecoder`` (as the TupleData of an Insert message), and

- if every row decodes there with the relation's column count, ``TupleColumns`` must return,
  column by column, exactly the kinds and values the decoder found;
- if any row does not, ``TupleColumns`` must raise ProtocolError (at construction or at some
  column), and nothing else.

Each column is asked for with a ``fixed_width`` (the size of a fixed-width binary format, as the
batch passes it): when every value has that size the parser takes its ``fixed_size_binary``
path, whose values must be the same.

Input layout: byte 0 is the relation's column count (``b % 17``) and the fixed width
(``WIDTHS[b // 17 % 7]``); the rest is chunks
(:mod:`fuzz.inputs`), each one row's TupleData bytes; a NULL chunk is a row without a tuple
(what a TRUNCATE row is in a batch: all columns NULL). Anything else escaping is a finding.

Run: ``python -m fuzz run tuples`` (atheris) or import :func:`TestOneInput` (tests).
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from walstream.capture.columns import TupleColumns
from walstream.capture.switch import column_parser
from walstream.errors import ProtocolError
from walstream.pg.pgoutput import Insert, PgOutputDecoder, TupleData
from walstream.pg.wire import KIND_NULL

from .inputs import split_chunks

MAX_ROWS = 32
MAX_COLUMNS = 16
WIDTHS = (None, 1, 2, 4, 8, 12, 16)
_INSERT_HEAD = b"I\x00\x00\x40\x00N"  # an Insert into relation 16384, new tuple follows


def _reference(row: bytes, ncols: int) -> TupleData | None:
    """The row as the message decoder reads it, or None if it rejects it for this relation."""
    try:
        message = PgOutputDecoder(1).decode(_INSERT_HEAD + row)
    except ProtocolError:
        return None
    assert isinstance(message, Insert)
    return message.new if len(message.new.kinds) == ncols else None


def _expected_type(expected: list[TupleData | None], column: int, width: int | None) -> pa.DataType:
    """fixed_size_binary(width) when every value of the column is binary of that size."""
    if width is None:
        return pa.binary()
    for tup in expected:
        if tup is None or tup.kinds[column] in b"nu":
            continue
        value = tup.values[column]
        if tup.kinds[column] != ord("b") or value is None or len(value) != width:
            return pa.binary()
    return pa.binary(width)


def TestOneInput(data: bytes) -> None:
    """One fuzz input: parse its rows column by column, in C and with numpy; compare each with
    the message decoder."""
    if not data:
        return
    ncols = data[0] % (MAX_COLUMNS + 1)
    width = WIDTHS[data[0] // (MAX_COLUMNS + 1) % len(WIDTHS)]
    rows = [b"" if r is None else r for r in itertools.islice(split_chunks(data[1:]), MAX_ROWS)]
    expected = [None if not r else _reference(r, ncols) for r in rows]
    valid = all(e is not None for r, e in zip(rows, expected, strict=True) if r)
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    for use_native in (False, True) if column_parser() is not None else (False,):
        _check(rows, offsets, ncols, width, expected, valid, use_native)


def _check(
    rows: list[bytes],
    offsets: np.ndarray,
    ncols: int,
    width: int | None,
    expected: list[TupleData | None],
    valid: bool,
    use_native: bool,
) -> None:
    path = "C" if use_native else "numpy"
    try:
        columns = TupleColumns(
            b"".join(rows), offsets, ncols, lambda row: f"row {row}", use_native=use_native
        )
        got = [columns.next_column(width) for _ in range(ncols)]
    except ProtocolError:
        assert not valid, (
            f"TupleColumns ({path}) rejected rows that the message decoder accepts (relation "
            f"of {ncols} columns)"
        )
        return
    assert valid, (
        f"TupleColumns ({path}) accepted a row that the message decoder rejects (relation of "
        f"{ncols} columns)"
    )
    for c, (kinds, values) in enumerate(got):
        assert len(kinds) == len(values) == len(rows)
        values.validate(full=True)
        assert values.type == _expected_type(expected, c, width), f"{path}: column {c}: type"
        py_values = values.to_pylist()
        for r, tup in enumerate(expected):
            if tup is None:  # a row without a tuple: every column NULL
                assert (kinds[r], py_values[r]) == (KIND_NULL, None), f"{path}: row {r} column {c}"
            else:
                assert kinds[r] == tup.kinds[c], f"{path}: row {r} column {c}: kind"
                assert py_values[r] == tup.values[c], f"{path}: row {r} column {c}: value"

"""Columnar TupleData parsing: a whole batch of pgoutput rows, one column at a time.

Why it exists: parsing TupleData value by value in Python (a ``bytes`` slice, a list slot and a
tuple per row) was the largest single cost of the read loop. Instead, the read loop appends
each row's TupleData bytes unparsed to one buffer and records where each row starts
(:class:`walstream.batch.ChangeBatch`); at flush time, off the read loop, :class:`TupleColumns`
walks all rows together, column by column, with numpy: for column ``i`` every row's kind byte,
value length and value position is one vector operation, so the cost is per column, not per
value. The values never become Python objects: each column is returned as an Arrow
``binary_view`` array whose views point into the row buffer, cast once (in C++) to a plain
binary array for the type converters of :mod:`walstream.convert`.

The TupleData layout (PostgreSQL protocol, "Logical Replication Message Formats"): Int16 column
count, then per column a kind byte: ``n`` NULL, ``u`` unchanged TOASTed value (not sent), ``t``
text or ``b`` binary followed by an Int32 length and that many bytes. Everything a row buffer
holds is checked here as strictly as :mod:`walstream.pg.pgoutput` checks a decoded message:
the column count, every kind byte, every length against the row's end, and that the last column
ends exactly at the row's end. A violation is a :class:`ProtocolError` naming the row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import ProtocolError

KIND_NULL = 0x6E  # 'n'
KIND_UNCHANGED = 0x75  # 'u'
KIND_TEXT = 0x74  # 't'
KIND_BINARY = 0x62  # 'b'

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

_INLINE = 12  # an Arrow view holds values of up to 12 bytes inline
_INLINE_RANGE = np.arange(_INLINE, dtype=np.int64)
_BE32_WEIGHTS = np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.int64)
_BE16_WEIGHTS = np.array([1 << 8, 1], dtype=np.int64)


def _big_endian(u8: U8, positions: I64, weights: I64) -> I64:
    """The unsigned big-endian integers of ``len(weights)`` bytes at ``positions``."""
    idx = positions[:, None] + np.arange(len(weights), dtype=np.int64)
    return u8[idx].astype(np.int64) @ weights  # type: ignore[no-any-return]


class TupleColumns:
    """Parses the TupleData rows of one batch, one column per :meth:`next_column` call.

    ``data`` holds the rows back to back; row ``r`` is ``data[offsets[r]:offsets[r + 1]]``. A
    row of zero bytes has no tuple (a TRUNCATE row): all its columns are NULL. ``describe``
    turns a row number into words for error messages (the table and LSN).
    """

    def __init__(
        self,
        data: bytes | bytearray,
        offsets: I64,
        ncols: int,
        describe: Callable[[int], str],
    ) -> None:
        if len(data) >= 1 << 31:
            raise ProtocolError(
                f"{describe(0)}: a batch holds 2 GiB or more of row data; lower --flush-bytes"
            )
        self._data = data
        self._u8: U8 = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(1, np.uint8)
        self._buffer = pa.py_buffer(data)
        self._describe = describe
        self.ncols = ncols
        self.rows = len(offsets) - 1
        self._end: I64 = offsets[1:]
        pos: I64 = offsets[:-1].copy()
        present: Mask = self._end > pos
        self._present: Mask | None = None if bool(present.all()) else present
        self._column = 0
        if self.rows and bool(present.any()):
            short = present & (self._end - pos < 2)
            self._fail_where(short, "ends before its column count")
            heads = pos[present] if self._present is not None else pos
            counts = _big_endian(self._u8, heads, _BE16_WEIGHTS)
            wrong = counts != ncols
            if bool(wrong.any()):
                row = int(np.flatnonzero(present)[int(np.argmax(wrong))])
                raise ProtocolError(
                    f"{describe(row)}: the tuple has {int(counts[int(np.argmax(wrong))])} "
                    f"columns, the relation has {ncols}"
                )
            pos = pos + np.where(present, 2, 0)
        self._pos = pos

    def _fail_where(self, bad: Mask, what: str) -> None:
        if bool(bad.any()):
            row = int(np.argmax(bad))
            where = f"{self._describe(row)}: malformed tuple"
            raise ProtocolError(f"{where}: column {self._column} {what}")

    def next_column(self) -> tuple[U8, pa.Array]:
        """The next column: every row's kind byte and the values as an Arrow binary array.

        NULL, unchanged and tuple-less rows are NULL in the array; their kind tells which.
        """
        if self._column >= self.ncols:
            raise IndexError("no more columns")
        u8, pos, end, present = self._u8, self._pos, self._end, self._present
        inside = pos < end
        if present is not None:
            self._fail_where(present & ~inside, "is past the end of the row")
        else:
            self._fail_where(~inside, "is past the end of the row")
        last = len(self._data) - 1
        kinds: U8 = u8[np.minimum(pos, max(last, 0))]
        if present is not None:
            kinds = np.where(present, kinds, KIND_NULL).astype(np.uint8)
        has_value: Mask = (kinds == KIND_TEXT) | (kinds == KIND_BINARY)
        known = has_value | (kinds == KIND_NULL) | (kinds == KIND_UNCHANGED)
        if not bool(known.all()):
            row = int(np.argmax(~known))
            raise ProtocolError(
                f"{self._describe(row)}: malformed tuple: unknown tuple data kind "
                f"0x{int(kinds[row]):02X} for column {self._column}"
            )
        lengths = np.zeros(self.rows, dtype=np.int64)
        if bool(has_value.any()):
            head = pos[has_value] + 1
            self._fail_where(_scatter(has_value, head + 4 > end[has_value]), "length is cut off")
            lens = _big_endian(u8, head, _BE32_WEIGHTS)
            lens = np.where(lens >= 1 << 31, lens - (1 << 32), lens)  # Int32 is signed
            bad = (lens < 0) | (head + 4 + lens > end[has_value])
            self._fail_where(_scatter(has_value, bad), "declares more bytes than the row has")
            lengths[has_value] = lens
        starts = pos + 5
        self._pos = pos + np.where(has_value, 5 + lengths, 1)
        if present is not None:
            self._pos = np.where(present, self._pos, pos)
        self._column += 1
        if self._column == self.ncols:
            rest = self._pos != end
            self._fail_where(rest if present is None else rest & present, "is followed by bytes")
        return kinds, self._values(starts, lengths, has_value)

    def _values(self, starts: I64, lengths: I64, valid: Mask) -> pa.Array:
        """Arrow views into the row buffer (no copy of long values), as one binary array."""
        n = self.rows
        if n == 0:
            return pa.array([], type=pa.binary())
        lens = np.where(valid, lengths, 0)
        views = np.zeros((n, 4), dtype=np.int32)
        views[:, 0] = lens
        raw = views.view(np.uint8).reshape(n, 16)
        idx = starts[:, None] + _INLINE_RANGE
        np.minimum(idx, max(len(self._data) - 1, 0), out=idx)
        inline = self._u8[idx]
        inline[_INLINE_RANGE[None, :] >= lens[:, None]] = 0
        raw[:, 4:16] = inline
        long = lens > _INLINE
        if bool(long.any()):
            views[long, 2] = 0  # the one data buffer
            views[long, 3] = starts[long]
        validity = None if bool(valid.all()) else pa.array(valid, pa.bool_()).buffers()[1]
        array = pa.Array.from_buffers(
            pa.binary_view(), n, [validity, pa.py_buffer(views), self._buffer]
        )
        return array.cast(pa.binary())


def _scatter(where: Mask, values: Mask) -> Mask:
    """``values`` (one per True of ``where``) spread back to the full length of ``where``."""
    out = np.zeros(len(where), dtype=np.bool_)
    out[where] = values
    return out


def encode_tuple(kinds: bytes, values: list[bytes | None] | tuple[bytes | None, ...]) -> bytes:
    """TupleData bytes for ``kinds``/``values`` (for rows that do not come from pgoutput)."""
    parts = [len(kinds).to_bytes(2, "big")]
    for kind, value in zip(kinds, values, strict=True):
        parts.append(bytes((kind,)))
        if kind in (KIND_TEXT, KIND_BINARY):
            assert value is not None
            parts.append(len(value).to_bytes(4, "big"))
            parts.append(value)
    return b"".join(parts)

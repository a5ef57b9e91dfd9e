"""Columnar TupleData parsing: a whole batch of pgoutput rows, one column at a time.

Why it exists: parsing TupleData value by value in Python (a ``bytes`` slice, a list slot and a
tuple per row) was the largest single cost of the read loop. Instead, the read loop appends each
row's TupleData bytes unparsed to one buffer and records where each row starts
(:class:`walstream.capture.batch.ChangeBatch`); at flush time, off the read loop,
:class:`TupleColumns` walks all rows together, column by column, with numpy: for column ``i``
every row's kind byte, value length and value position is one vector operation, so the cost is
per column, not per value. The values never become Python objects: each column is returned as an
Arrow ``binary_view`` array whose views point into the row buffer, cast once (in C++) to a plain
binary array for the type converters of :mod:`walstream.convert`.

The TupleData layout (PostgreSQL protocol, "Logical Replication Message Formats"): Int16 column
count, then per column a kind byte: ``n`` NULL, ``u`` unchanged TOASTed value (not sent), ``t``
text or ``b`` binary followed by an Int32 length and that many bytes. Everything a row buffer
holds is checked here as strictly as :mod:`walstream.pg.pgoutput` checks a decoded message: the
column count, every kind byte, every length against the row's end, and that the last column ends
exactly at the row's end. A violation is a :class:`ProtocolError` naming the row.

Each column is parsed by the C extension :mod:`walstream._columns` when it is built (one pass
over the rows instead of a dozen numpy passes, which on a 40-column table was 40% of walstream's
CPU), and by numpy otherwise or when the C parts are off (:mod:`walstream.capture.switch`). Both
apply the same checks and give the same arrays; the tests run every case through both.

The tuples of a binary ``COPY ... TO STDOUT`` (the snapshot's read, :mod:`walstream.snapshot`)
have the same shape with another framing (:data:`FRAMING_COPY`): an Int16 field count, then per
field an Int32 length (-1 for NULL) and the value in its type's send format, which is what
pgoutput's binary mode sends. Their columns come out as binary TupleData columns would: kind
``b`` for a value, ``n`` for NULL, the same arrays for the same converters.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import ProtocolError
from ..pg.wire import KIND_BINARY, KIND_NULL, KIND_TEXT, KIND_UNCHANGED
from .switch import column_parser

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

_INLINE = 12  # an Arrow view holds values of up to 12 bytes inline
PAD = 16  # zero bytes after the rows, so fixed-size reads near the end stay in the buffer
# _INLINE_KEEP[k]: 0xFF for the inline bytes that belong to a value of k bytes, 0 for the rest
_INLINE_KEEP = np.where(np.arange(_INLINE)[None, :] < np.arange(_INLINE + 1)[:, None], 0xFF, 0)
_INLINE_KEEP = _INLINE_KEEP.astype(np.uint8)


# Why a row is malformed: the codes of walstream/_columns.c (E_SHORT is found before any
# column is parsed, in numpy either way), in the words of both paths.
E_PAST, E_KIND, E_CUT, E_LONG, E_REST, E_SHORT = 1, 2, 3, 4, 5, 6

# How a value is framed, as walstream/_columns.c names it: pgoutput's TupleData (a kind byte,
# then a length for text and binary values) or binary COPY (a length, -1 for NULL).
FRAMING_TUPLE, FRAMING_COPY = 0, 1
COPY_NULL_LENGTH = -1


def _problem(code: int, column: int, detail: int) -> str:
    if code == E_KIND:
        return f"unknown tuple data kind 0x{detail:02X} for column {column}"
    if code == E_REST:
        return "bytes follow its last column"
    if code == E_SHORT:
        return "it ends before its column count"
    what = {E_PAST: "is past the row", E_CUT: "length is cut off", E_LONG: "is longer than the row"}
    return f"column {column} {what[code]}"


def _windows(u8: U8, width: int) -> U8:
    """Every ``width``-byte window of ``u8`` as a row: ``_windows(u8, 4)[p]`` is
    ``u8[p:p + 4]``, and indexing it with an array of positions copies one row per position
    (a C loop of small copies instead of ``width`` index computations per value)."""
    return np.lib.stride_tricks.as_strided(
        u8, shape=(len(u8) - width + 1, width), strides=(1, 1), writeable=False
    )


def _int32_at(w4: U8, positions: I64) -> I64:
    """The signed big-endian Int32 at each position."""
    return w4[positions].view(">i4").ravel().astype(np.int64)


class TupleColumns:
    """Parses the TupleData rows of one batch, one column per :meth:`next_column` call.

    ``data`` holds the rows back to back; row ``r`` is ``data[offsets[r]:offsets[r + 1]]``. A
    row of zero bytes has no tuple (a TRUNCATE row): all its columns are NULL. ``describe``
    turns a row number into words for error messages (the table and LSN). Reads past the last
    row need 16 bytes of slack after it: give a buffer with them, or one is copied. ``framing``
    :data:`FRAMING_COPY`: the rows are binary COPY tuples (see the module docstring); each must
    then have bytes (a COPY row always has its field count).
    """

    def __init__(
        self,
        data: bytes | bytearray,
        offsets: I64,
        ncols: int,
        describe: Callable[[int], str],
        use_native: bool | None = None,
        framing: int = FRAMING_TUPLE,
    ) -> None:
        if len(data) >= 1 << 31:
            raise ProtocolError(
                f"{describe(0)}: a batch holds 2 GiB or more of row data; lower --flush-bytes"
            )
        self._native = None if use_native is False else column_parser()
        if use_native and self._native is None:
            raise RuntimeError("walstream._columns is not built")
        self.rows = len(offsets) - 1
        used = int(offsets[-1]) if self.rows >= 0 and len(offsets) else 0
        u8: U8 = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(0, np.uint8)
        if len(u8) - used < PAD:
            u8 = np.concatenate([u8[:used], np.zeros(PAD, dtype=np.uint8)])
        self._u8 = u8
        self._buffer = pa.py_buffer(u8)
        self._w4 = _windows(u8, 4)
        self._w12 = _windows(u8, _INLINE)
        self._describe = describe
        self.ncols = ncols
        self._framing = framing
        self._end: I64 = np.ascontiguousarray(offsets[1:])
        pos: I64 = offsets[:-1].copy()
        present: Mask = self._end > pos
        self._present: Mask | None = None if bool(present.all()) else present
        self._column = 0
        if framing == FRAMING_COPY and self._present is not None:
            self._fail(int(np.argmax(~present)), E_SHORT)
        if self.rows and bool(present.any()):
            short = present & (self._end - pos < 2)
            self._fail_where(short, E_SHORT)
            heads = pos[present] if self._present is not None else pos
            counts = _windows(u8, 2)[heads].view(">u2").ravel()
            wrong = counts != ncols
            if bool(wrong.any()):
                first = int(np.argmax(wrong))
                row = int(np.flatnonzero(present)[first])
                raise ProtocolError(
                    f"{describe(row)}: the tuple has {int(counts[first])} columns, the "
                    f"relation has {ncols}"
                )
            pos = pos + 2 if self._present is None else pos + np.where(present, 2, 0)
        self._pos = pos
        if ncols == 0 and self.rows:  # no column will check that each row ends where it should
            rest = pos != self._end
            self._fail_where(rest if self._present is None else rest & present, E_REST)
        if self._native is not None:  # the C parser's per-row scratch, reused by every column
            self._starts: I64 = np.empty(self.rows, dtype=np.int64)
            self._lengths = np.empty(self.rows, dtype=np.int32)

    def _fail(self, row: int, code: int, detail: int = 0) -> None:
        problem = _problem(code, self._column, detail)
        raise ProtocolError(f"{self._describe(row)}: malformed tuple: {problem}")

    def _fail_where(self, bad: Mask, code: int) -> None:
        if bool(bad.any()):
            self._fail(int(np.argmax(bad)), code)

    def next_column(self, fixed_width: int | None = None) -> tuple[U8, pa.Array]:
        """The next column: every row's kind byte and the values as an Arrow binary array.

        NULL, unchanged and tuple-less rows are NULL in the array; their kind tells which.
        ``fixed_width``: the size of the type's binary format, if fixed; when every value is
        binary and of that size the array is ``fixed_size_binary`` (no offsets, no views).
        """
        kinds, array, _ = self.next_column_after(b"", fixed_width)
        return kinds, array

    def next_column_after(
        self, prefix: bytes, fixed_width: int | None = None
    ) -> tuple[U8, pa.Array, bool]:
        """:meth:`next_column`, with ``prefix`` left out of every value when all have it.

        Why: jsonb's binary format is a version byte before the text. Dropping it while the
        values are copied out of the row buffer saves copying every jsonb value a second time
        (16 KiB TOASTed values made that copy a sixth of a toast run's copying). The third
        item says whether the prefix was left out: only when every value is binary and starts
        with it (a batch of NULLs and unchanged values counts); otherwise the values are whole
        and the type's own decoder reports what is wrong with them.
        """
        if self._column >= self.ncols:
            raise IndexError("no more columns")
        width = fixed_width if fixed_width is not None and 0 < fixed_width <= PAD else None
        if self._native is not None:
            kinds, array, removed = self._native_column(width, prefix)
        else:
            kinds, array, removed = self._numpy_column(width, prefix)
        self._column += 1
        return kinds, array, removed

    def _skip_prefix(
        self, kinds: U8, starts: I64, lengths: npt.NDArray[np.integer], prefix: bytes
    ) -> int:
        """Moves each binary value's start past ``prefix`` in place, if every value has it.

        Returns how many values were shortened, or -1 when some value is text, too short or
        starts otherwise (then nothing is changed).
        """
        valued = kinds == KIND_BINARY
        if not prefix or bool((kinds == KIND_TEXT).any()):
            return -1
        at = starts[valued]
        if bool((lengths[valued] < len(prefix)).any()):
            return -1
        for k, byte in enumerate(prefix):
            if bool((self._u8[at + k] != byte).any()):
                return -1
        starts[valued] += len(prefix)
        lengths[valued] -= len(prefix)
        return len(at)

    def _native_column(self, width: int | None, prefix: bytes) -> tuple[U8, pa.Array, bool]:
        """One column through walstream._columns: a pass to check, a pass to copy the values
        into buffers from Arrow's pool (which reuses freed pages; fresh ones cost zeroing)."""
        assert self._native is not None
        present = None if self._present is None else self._present.view(np.uint8)
        last = self._column == self.ncols - 1
        kinds: U8 = np.empty(self.rows, dtype=np.uint8)
        code, row, detail, values, texts, odd, total = self._native.scan_column(
            self._u8,
            self._pos,
            self._end,
            present,
            self._starts,
            self._lengths,
            kinds,
            last,
            width or 0,
            self._framing,
        )
        if code:
            self._fail(row, code, detail)
        shortened = -1
        if prefix and self._framing == FRAMING_TUPLE:
            shortened = self._skip_prefix(kinds, self._starts, self._lengths, prefix)
        if shortened > 0:
            total -= shortened * len(prefix)
        n = self.rows
        fixed = width is not None and texts == 0 and odd == 0
        validity = None if values == n else pa.allocate_buffer((n + 7) // 8)
        offsets = None if fixed else pa.allocate_buffer(4 * (n + 1))
        data = pa.allocate_buffer(n * width if fixed and width else total)
        self._native.fill_column(
            self._u8, self._starts, self._lengths, kinds, validity, offsets, data, width or 0
        )
        removed = shortened >= 0
        if offsets is None:
            array = pa.Array.from_buffers(pa.binary(width or 0), n, [validity, data])
            return kinds, array, removed
        return kinds, pa.Array.from_buffers(pa.binary(), n, [validity, offsets, data]), removed

    def _numpy_column(self, fixed_width: int | None, prefix: bytes) -> tuple[U8, pa.Array, bool]:
        """One column with numpy: a vector operation per step, over all rows at once."""
        pos, end, present = self._pos, self._end, self._present
        inside = pos < end
        self._fail_where(~inside if present is None else present & ~inside, E_PAST)
        if self._framing == FRAMING_COPY:
            copy_kinds, copy_array = self._numpy_copy_column(fixed_width)
            return copy_kinds, copy_array, False
        kinds: U8 = self._u8[pos]
        if present is not None:
            kinds = np.where(present, kinds, KIND_NULL).astype(np.uint8)
        has_value: Mask = (kinds == KIND_TEXT) | (kinds == KIND_BINARY)
        every = bool(has_value.all())
        if not every:
            known = has_value | (kinds == KIND_NULL) | (kinds == KIND_UNCHANGED)
            if not bool(known.all()):
                row = int(np.argmax(~known))
                self._fail(row, E_KIND, int(kinds[row]))
        if every:
            self._fail_where(pos + 5 > end, E_CUT)
            lengths = _int32_at(self._w4, pos + 1)
            self._fail_where((lengths < 0) | (pos + 5 + lengths > end), E_LONG)
        else:
            lengths = np.zeros(self.rows, dtype=np.int64)
            if bool(has_value.any()):
                head = pos[has_value] + 1
                self._fail_where(_scatter(has_value, head + 4 > end[has_value]), E_CUT)
                lens = _int32_at(self._w4, head)
                bad = (lens < 0) | (head + 4 + lens > end[has_value])
                self._fail_where(_scatter(has_value, bad), E_LONG)
                lengths[has_value] = lens
        starts = pos + 5
        self._pos = pos + 5 + lengths if every else pos + np.where(has_value, 5 + lengths, 1)
        if present is not None:
            self._pos = np.where(present, self._pos, pos)
        if self._column == self.ncols - 1:
            rest = self._pos != end
            self._fail_where(rest if present is None else rest & present, E_REST)
        removed = self._skip_prefix(kinds, starts, lengths, prefix) >= 0 if prefix else False
        array = self._array(kinds, starts, lengths, has_value, every, fixed_width)
        return kinds, array, removed

    def _numpy_copy_column(self, fixed_width: int | None) -> tuple[U8, pa.Array]:
        """One column of binary COPY tuples with numpy (every row has a tuple): the length
        first, -1 for NULL; the kinds those values would have in TupleData."""
        pos, end = self._pos, self._end
        self._fail_where(pos + 4 > end, E_CUT)
        lengths = _int32_at(self._w4, pos)
        has_value: Mask = lengths != COPY_NULL_LENGTH
        self._fail_where(has_value & ((lengths < 0) | (pos + 4 + lengths > end)), E_LONG)
        every = bool(has_value.all())
        if not every:
            lengths = np.where(has_value, lengths, 0)
        kinds: U8 = np.where(has_value, KIND_BINARY, KIND_NULL).astype(np.uint8)
        starts = pos + 4
        self._pos = starts + lengths
        if self._column == self.ncols - 1:
            self._fail_where(self._pos != end, E_REST)
        return kinds, self._array(kinds, starts, lengths, has_value, every, fixed_width)

    def _array(
        self,
        kinds: U8,
        starts: I64,
        lengths: I64,
        has_value: Mask,
        every: bool,
        fixed_width: int | None,
    ) -> pa.Array:
        """The values as ``fixed_size_binary`` when all are binary of the fixed width, else
        as binary."""
        if (
            fixed_width is not None
            and not bool((kinds == KIND_TEXT).any())
            and bool((lengths[has_value] == fixed_width).all())
        ):
            return self._fixed(starts, fixed_width, has_value, every)
        return self._values(starts, lengths, has_value, every)

    def _validity(self, valid: Mask, every: bool) -> pa.Buffer | None:
        return None if every else pa.array(valid, pa.bool_()).buffers()[1]

    def _fixed(self, starts: I64, width: int, valid: Mask, every: bool) -> pa.Array:
        """Equal-size values as ``fixed_size_binary(width)``: one row copy per value."""
        at = starts if every else np.where(valid, starts, 0)
        matrix = _windows(self._u8, width)[at]
        return pa.Array.from_buffers(
            pa.binary(width), self.rows, [self._validity(valid, every), pa.py_buffer(matrix)]
        )

    def _values(self, starts: I64, lengths: I64, valid: Mask, every: bool) -> pa.Array:
        """Arrow views into the row buffer (no copy of long values), as one binary array."""
        n = self.rows
        if n == 0:
            return pa.array([], type=pa.binary())
        lens = lengths if every else np.where(valid, lengths, 0)
        at = starts if every else np.where(valid, starts, 0)
        views = np.empty((n, 4), dtype=np.int32)
        views[:, 0] = lens
        inline = self._w12[at]  # the value's first 12 bytes (or fewer, then zeroed)
        inline &= _INLINE_KEEP[np.minimum(lens, _INLINE)]
        raw = views.view(np.uint8).reshape(n, 16)
        raw[:, 4:16] = inline
        long = lens > _INLINE
        if bool(long.any()):
            views[long, 2] = 0  # the one data buffer
            views[long, 3] = at[long]
        array = pa.Array.from_buffers(
            pa.binary_view(),
            n,
            [self._validity(valid, every), pa.py_buffer(views), self._buffer],
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

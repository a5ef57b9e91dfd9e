"""Raw column bytes as Arrow and numpy buffers: the building blocks of the bulk decoders.

A column arrives as a list of ``bytes | None``. ``pa.array(values, pa.binary())`` turns it into
one Arrow binary array in a single C loop (nulls have zero length); from there the decoders
work on whole buffers: a fixed-width binary format (int4, timestamp, uuid, ...) is one numpy
view of ``n * width`` bytes, a variable-width one is an offsets array plus one data array.
Nothing here knows about PostgreSQL types.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

# ASCII code -> hex digit value, 255 for "not a hex digit"
HEX_VALUE: U8 = np.full(256, 255, dtype=np.uint8)
HEX_VALUE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10, dtype=np.uint8)
HEX_VALUE[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)
HEX_VALUE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)
# nibble -> lowercase hex ASCII
HEX_DIGIT: U8 = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).copy()


def raw_column(values: Sequence[bytes | None]) -> pa.Array:
    """The raw values as one Arrow binary array (hot path: a single C loop)."""
    return pa.array(values, type=pa.binary())


def valid_mask(raw: pa.Array) -> Mask:
    """True where the value is not NULL."""
    if raw.null_count == 0:
        return np.ones(len(raw), dtype=np.bool_)
    return np.asarray(raw.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def null_mask(raw: pa.Array) -> Mask | None:
    """True where the value is NULL, or None when there is no NULL (pa.array's ``mask``)."""
    if raw.null_count == 0:
        return None
    return np.asarray(raw.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)


def fixed_width_matrix(raw: pa.Array, width: int) -> U8:
    """The values of a fixed-width format as an ``(n, width)`` byte matrix (NULL rows: zeros).

    Raises ``pa.ArrowInvalid`` if a value has another length.
    """
    if raw.type != pa.binary(width):
        raw = raw.cast(pa.binary(width))
    n = len(raw)
    data = raw.buffers()[1]
    if data is None or n == 0:
        return np.zeros((n, width), dtype=np.uint8)
    flat = np.frombuffer(data, dtype=np.uint8, count=n * width, offset=raw.offset * width)
    return flat.reshape(n, width)


def big_endian(raw: pa.Array, dtype: str) -> npt.NDArray[np.generic]:
    """A fixed-width big-endian number format (``'>i4'``, ``'>f8'``, ...) as native numpy."""
    be = np.dtype(dtype)
    matrix = fixed_width_matrix(raw, be.itemsize)
    return np.ascontiguousarray(matrix).view(be).reshape(len(raw)).astype(be.newbyteorder("="))


def offsets_and_data(raw: pa.Array) -> tuple[I64, U8]:
    """A binary/string array's value boundaries (from 0, length n + 1) and its bytes."""
    n = len(raw)
    buffers = raw.buffers()
    width = 8 if pa.types.is_large_binary(raw.type) or pa.types.is_large_string(raw.type) else 4
    if buffers[1] is None:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(
        buffers[1],
        dtype=np.int32 if width == 4 else np.int64,
        count=n + 1,
        offset=raw.offset * width,
    ).astype(np.int64)
    start, end = int(offsets[0]), int(offsets[-1])
    if buffers[2] is None or end == start:
        data = np.zeros(0, dtype=np.uint8)
    else:
        data = np.frombuffer(buffers[2], dtype=np.uint8, count=end - start, offset=start)
    return offsets - start, data


def validity_buffer(valid: Mask | None) -> pa.Buffer | None:
    """An Arrow validity bitmap for ``valid`` (None when every value is valid)."""
    if valid is None or bool(valid.all()):
        return None
    return pa.array(valid, type=pa.bool_()).buffers()[1]


def variable_width_array(
    arrow_type: pa.DataType,
    offsets: I64,
    data: U8 | bytes,
    valid: Mask | None,
    check_utf8: bool = False,
) -> pa.Array:
    """A binary or string array from value boundaries and bytes (no copy of ``data``).

    ``check_utf8`` validates a string array (raises ``pa.ArrowInvalid``); decoders that only
    produce ASCII skip it.
    """
    n = len(offsets) - 1
    if int(offsets[-1]) >= 2**31:
        raise OverflowError("a column batch holds 2 GiB or more of values")
    offsets_buffer = pa.py_buffer(np.ascontiguousarray(offsets, dtype=np.int32))
    data_buffer = pa.py_buffer(data if isinstance(data, bytes) else np.ascontiguousarray(data))
    array = pa.Array.from_buffers(
        arrow_type, n, [validity_buffer(valid), offsets_buffer, data_buffer]
    )
    if check_utf8:
        array.validate(full=True)
    return array


LONG_VALUE_BYTES = 256  # mean value size from which strip_prefix copies value by value


def strip_prefix(raw: pa.Array, length: int) -> tuple[I64, U8, Mask]:
    """Drop the first ``length`` bytes of every non-NULL value (callers check they are there).

    Returns the new boundaries and bytes, and the validity mask.
    """
    offsets, data = offsets_and_data(raw)
    valid = valid_mask(raw)
    starts = offsets[:-1][valid]
    if len(starts) and len(data) >= LONG_VALUE_BYTES * len(starts):
        # long values (TOASTed jsonb): copying each value's tail runs at memory speed, where
        # the byte mask below touches every byte three times (measured 11% of a toast run)
        ends = offsets[1:][valid]
        tails = [data[s:e] for s, e in zip((starts + length).tolist(), ends.tolist(), strict=True)]
        sizes = np.zeros(len(offsets) - 1, dtype=np.int64)
        sizes[valid] = ends - starts - length
        new_offsets = np.zeros(len(offsets), dtype=np.int64)
        np.cumsum(sizes, out=new_offsets[1:])
        return new_offsets, np.concatenate(tails), valid
    keep = np.ones(len(data), dtype=np.bool_)
    for k in range(length):
        keep[starts + k] = False
    removed = np.zeros(len(offsets), dtype=np.int64)
    removed[1:] = np.cumsum(valid.astype(np.int64) * length)
    return offsets - removed, data[keep], valid


def fixed_width_strings(chars: U8, valid: Mask | None) -> pa.Array:
    """Equal-length ASCII strings from an ``(n, width)`` byte matrix."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return variable_width_array(pa.string(), offsets, chars.reshape(-1), valid)


def hex_groups(matrix: U8, groups: Sequence[int], separator: bytes) -> U8:
    """Bytes as lowercase hex, ``groups`` bytes per group, groups joined by ``separator``.

    ``hex_groups(m, (4, 2, 2, 2, 6), b"-")`` is the canonical UUID layout.
    """
    n = matrix.shape[0]
    hexed = np.empty((n, matrix.shape[1] * 2), dtype=np.uint8)
    hexed[:, 0::2] = HEX_DIGIT[matrix >> 4]
    hexed[:, 1::2] = HEX_DIGIT[matrix & 0x0F]
    sep = np.frombuffer(separator, dtype=np.uint8)
    parts: list[U8] = []
    pos = 0
    for i, size in enumerate(groups):
        if i:
            parts.append(np.broadcast_to(sep, (n, len(sep))))
        parts.append(hexed[:, pos : pos + 2 * size])
        pos += 2 * size
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def numpy_to_arrow(
    values: npt.NDArray[np.generic], arrow_type: pa.DataType, nulls: Mask | None
) -> pa.Array:
    """A numpy array (native byte order) as an Arrow array of ``arrow_type``."""
    return pa.array(values, type=arrow_type, mask=nulls)


def names_column(size: int, names: Sequence[str], masks: Sequence[Mask]) -> pa.Array:
    """``list<string>``: per row the ``names`` whose mask is true there, null when none.

    Builds ``_walstream_unchanged`` and ``_walstream_lossy`` (DESIGN.md §2) from per-column row
    masks without a Python object per row.
    """
    if not masks:
        return pa.nulls(size, pa.list_(pa.string()))
    matrix = np.zeros((size, len(masks)), dtype=np.bool_)
    for j, mask in enumerate(masks):
        matrix[:, j] = mask
    _, cols = np.nonzero(matrix)  # row-major: each row's names in column order
    counts = matrix.sum(axis=1)
    offsets = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()),
        pa.array(list(names), pa.string()).take(pa.array(cols, pa.int64())),
        type=pa.list_(pa.string()),
        mask=pa.array(counts == 0, pa.bool_()),
    )

"""Parquet bytes: how a batch becomes a file and back (compression, dictionaries, row groups).

Where each file goes is :mod:`walstream.layout`.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 1_000_000
COMPRESSION = "zstd"


# Above this mean value size a string or binary column is written without a dictionary.
DICTIONARY_MAX_VALUE_BYTES = 64
# A column gets a dictionary when at most this share of a sample of its values is distinct.
DICTIONARY_MAX_DISTINCT = 0.25
DICTIONARY_SAMPLE = 2048


def dictionary_columns(table: pa.Table) -> list[str]:
    """The column paths worth dictionary-encoding: those whose values repeat.

    Why: a dictionary hashes every value, and Parquet falls back to plain encoding only once
    the dictionary page is full, after the hashing was paid; for columns of mostly distinct
    values (keys, amounts, timestamps, LSNs) the dictionary indices then compress worse under
    zstd than the plain values do. Measured on the bench workloads' files: writing every
    column with a dictionary took 0.41 s of CPU for wide-update's 300k rows and gave 27 MB;
    dictionaries only where a sample of the values repeats gave ~17 MB in under half the time,
    and the same held for narrow-insert (19.3 -> ~9.3 MB) and mixed-oltp. Repeating columns
    (the op, transaction metadata of large transactions, status codes) keep their dictionary.
    Long strings and binaries (TOASTed text and jsonb) never get one: they are almost never
    reused, and hashing them was ~40% of encoding 16 KiB values.
    """
    names: list[str] = []
    n = table.num_rows
    sample = table
    if n > DICTIONARY_SAMPLE:  # evenly spread rows: one gather for every column
        sample = table.take(np.linspace(0, n - 1, DICTIONARY_SAMPLE).astype(np.int64))
    for field, column, sampled in zip(table.schema, table.columns, sample.columns, strict=True):
        kind = field.type
        if pa.types.is_list(kind):
            names += [field.name, f"{field.name}.list.element"]
            continue
        if column.null_count == len(column):
            continue
        if _mean_value_bytes(kind, column) > DICTIONARY_MAX_VALUE_BYTES:
            continue
        if _repeats(sampled):
            names.append(field.name)
    return names


def _mean_value_bytes(kind: pa.DataType, column: pa.ChunkedArray) -> float:
    """The mean size of a string or binary column's values (0 for other types, or no values)."""
    stringlike = pa.types.is_string(kind) or pa.types.is_binary(kind)
    values = len(column) - column.null_count
    if not (stringlike or pa.types.is_large_string(kind)) or not values:
        return 0.0
    return float(column.nbytes / values)


def _repeats(sample: pa.ChunkedArray) -> bool:
    """Whether at most DICTIONARY_MAX_DISTINCT of the sample's values differ."""
    values = len(sample) - sample.null_count
    if values == 0:
        return True
    try:
        distinct = pc.count_distinct(sample).as_py()
    except pa.ArrowNotImplementedError:  # a type without hashing: as Parquet decides
        return True
    return bool(distinct <= max(1, DICTIONARY_MAX_DISTINCT * values))


# Arrow's Parquet writer takes this many rows at a time (its default) and only then checks
# whether the page is full; with 16 KiB values one batch is a 16 MiB page instead of a 1 MiB one.
WRITE_BATCH_ROWS = 1024
DATA_PAGE_BYTES = 1024 * 1024  # Arrow's default data page size
MIN_WRITE_BATCH_ROWS = 64


def write_batch_rows(table: pa.Table) -> int:
    """Rows per writer batch: about one data page of the column with the longest values.

    Why: the writer grows a page by whole batches, so long values made pages of up to 16 MiB,
    each a buffer that large to fill and compress. Batches sized to the page made encoding
    toast's files 5x cheaper (0.72 -> 0.14 s of CPU for 40 files, 620 MB of values); for short
    values the default is kept (wide-update, narrow-insert, mixed-oltp: within 3%).
    """
    longest = max(
        (_mean_value_bytes(f.type, c) for f, c in zip(table.schema, table.columns, strict=True)),
        default=0.0,
    )
    if longest <= DATA_PAGE_BYTES / WRITE_BATCH_ROWS:
        return WRITE_BATCH_ROWS
    return max(MIN_WRITE_BATCH_ROWS, int(DATA_PAGE_BYTES // longest))


def encode_parquet(table: pa.Table) -> bytes:
    """Parquet bytes: zstd, statistics on, schema metadata kept (it carries the relation)."""
    buf = io.BytesIO()
    pq.write_table(
        table,
        buf,
        compression=COMPRESSION,
        write_statistics=True,
        row_group_size=ROW_GROUP_ROWS,
        use_dictionary=dictionary_columns(table),
        write_batch_size=write_batch_rows(table),
    )
    return buf.getvalue()


def decode_parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))

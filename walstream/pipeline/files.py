"""Parquet files in the AWS DMS layout: their keys and their bytes (DESIGN.md §2).

A key is never reused for different content, because Snowpipe skips a file name it has already
loaded. Keys are built from the commit LSNs of the first and last transaction in the file; a
batch holds one contiguous stretch of the stream, so a file of whole transactions is fully
determined by that LSN range. When a transaction is cut across files (it was too large for one
flush, or the table's shape changed inside it), the file's exact position range is added:
``.<first_seq>_<last_seq>``. Either way the same key always means the same rows.
"""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 1_000_000
COMPRESSION = "zstd"


def key_segment(name: str) -> str:
    """A schema or table name as one path segment of a key, unchanged unless it must not be.

    PostgreSQL allows any character in a quoted identifier; a ``/`` would add a level to the
    DMS layout and ``.``/``..`` would walk out of it, so those (and ``%``, which escapes them,
    and control characters) are percent-encoded. Ordinary names, unicode included, stay as
    they are so existing Snowpipe paths keep matching.
    """
    if name in (".", ".."):
        return name.replace(".", "%2E")
    if not any(c in name for c in "/%") and name.isprintable():
        return name
    return "".join(
        f"%{ord(c):02X}" if c in "/%" or (not c.isprintable() and ord(c) < 128) else c for c in name
    )


def change_file_key(
    namespace: str,
    table: str,
    first_commit_ts_us: int,
    first_lsn: int,
    last_lsn: int,
    split_seqs: tuple[int, int] | None = None,
) -> str:
    """``<schema>/<table>/<YYYYMMDD-HHMMSSmmm>-<first_lsn:016X>-<last_lsn:016X>.parquet``.

    ``split_seqs`` (first and last ``_walstream_seq``) is given for a file whose first or last
    transaction is cut, and appears as ``.<first_seq>_<last_seq>`` before ``.parquet``.
    """
    ts = dt.datetime.fromtimestamp(first_commit_ts_us / 1_000_000, tz=dt.UTC)
    stamp = ts.strftime("%Y%m%d-%H%M%S") + f"{ts.microsecond // 1000:03d}"
    suffix = f".{split_seqs[0]}_{split_seqs[1]}" if split_seqs else ""
    return (
        f"{key_segment(namespace)}/{key_segment(table)}/"
        f"{stamp}-{first_lsn:016X}-{last_lsn:016X}{suffix}.parquet"
    )


# Above this mean value size a string or binary column is written without a dictionary.
DICTIONARY_MAX_VALUE_BYTES = 64


def dictionary_columns(table: pa.Table) -> list[str]:
    """The column paths worth dictionary-encoding: all but string/binary columns of long values.

    Why: building a dictionary hashes every value, and for long values (TOASTed text and jsonb,
    documents) it is almost never reused: Parquet falls back to plain encoding once the
    dictionary page is full, after the hashing was paid. Skipping it there made encoding
    ~40% faster on 16 KiB values, with the same file size (zstd finds the repeats).
    """
    names: list[str] = []
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type
        if pa.types.is_list(kind):
            names += [field.name, f"{field.name}.list.element"]
            continue
        if pa.types.is_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_string(kind):
            values = len(column) - column.null_count
            if values and column.nbytes / values > DICTIONARY_MAX_VALUE_BYTES:
                continue
        names.append(field.name)
    return names


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
    )
    return buf.getvalue()


def decode_parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))

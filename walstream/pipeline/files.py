"""Parquet files in the AWS DMS layout: their keys and their bytes (DESIGN.md §2).

A key is never reused for different content, because Snowpipe skips a file name it has already
loaded. Keys are built from the commit LSNs of the first and last transaction in the file, and a
batch only ever holds whole transactions of one contiguous stretch of the stream, so the same
key always means the same rows. The one exception, a table whose shape changes in the middle of
a transaction, gets a ``.<part>`` suffix on every part after the first.
"""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 1_000_000
COMPRESSION = "zstd"


def change_file_key(
    namespace: str, table: str, first_commit_ts_us: int, first_lsn: int, last_lsn: int, part: int
) -> str:
    """``<schema>/<table>/<YYYYMMDD-HHMMSSmmm>-<first_lsn:016X>-<last_lsn:016X>.parquet``."""
    ts = dt.datetime.fromtimestamp(first_commit_ts_us / 1_000_000, tz=dt.UTC)
    stamp = ts.strftime("%Y%m%d-%H%M%S") + f"{ts.microsecond // 1000:03d}"
    suffix = f".{part}" if part else ""
    return f"{namespace}/{table}/{stamp}-{first_lsn:016X}-{last_lsn:016X}{suffix}.parquet"


def encode_parquet(table: pa.Table) -> bytes:
    """Parquet bytes: zstd, statistics on, schema metadata kept (it carries the relation)."""
    buf = io.BytesIO()
    pq.write_table(
        table,
        buf,
        compression=COMPRESSION,
        write_statistics=True,
        row_group_size=ROW_GROUP_ROWS,
        use_dictionary=True,
    )
    return buf.getvalue()


def decode_parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))

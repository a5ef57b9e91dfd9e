"""Parquet encoding choices (walstream.pipeline.parquet): dictionaries only where values repeat.

Why it matters: a dictionary over mostly distinct values costs hashing and makes the file
larger under zstd (bench: wide-update 27 -> 16 MB, and ~half the encoding CPU, without them).
Whatever is chosen, the file must read back to the same table.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from walstream.pipeline.parquet import (
    DICTIONARY_SAMPLE,
    WRITE_BATCH_ROWS,
    decode_parquet,
    dictionary_columns,
    encode_parquet,
    write_batch_rows,
)


def _table(n: int) -> pa.Table:
    return pa.table(
        {
            "Op": pa.array(["U"] * n),
            "id": pa.array(range(n), pa.int64()),  # distinct: plain
            "status": pa.array([f"s{i % 5}" for i in range(n)]),  # five values: dictionary
            "doc": pa.array(["x" * 100] * n),  # long values: never a dictionary
            "empty": pa.array([None] * n, pa.int32()),  # no values: nothing to encode
            "tags": pa.array([["a", "b"]] * n, pa.list_(pa.string())),
        }
    )


def test_dictionaries_go_to_repeating_columns_only() -> None:
    for n in (100, DICTIONARY_SAMPLE * 3 + 7):  # whole column and an evenly spread sample
        assert dictionary_columns(_table(n)) == ["Op", "status", "tags", "tags.list.element"]


def test_the_file_reads_back_to_the_same_table_with_the_chosen_encodings() -> None:
    table = _table(5000)
    data = encode_parquet(table)
    assert decode_parquet(data).equals(table)
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(6)}
    assert "RLE_DICTIONARY" in encodings["status"]
    assert "RLE_DICTIONARY" not in encodings["id"]
    assert "RLE_DICTIONARY" not in encodings["doc"]


def test_long_values_are_written_a_page_at_a_time() -> None:
    short = _table(100)
    assert write_batch_rows(short) == WRITE_BATCH_ROWS
    toast = pa.table({"id": pa.array(range(300), pa.int64()), "body": ["x" * 16384] * 300})
    assert write_batch_rows(toast) == 64  # 1 MiB pages / 16 KiB values
    huge = pa.table({"body": ["y" * (1 << 21)] * 3})
    assert write_batch_rows(huge) == 64  # never fewer rows than that
    assert decode_parquet(encode_parquet(toast)).equals(toast)

"""Reading back what walstream stored: every change file of a destination, as Python rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from walstream.layout import META_COLUMN_NAMES, OP_COLUMN
from walstream.pipeline.parquet import decode_parquet
from walstream.sink import DurableSink, open_sink


def change_files(dest: str | DurableSink) -> dict[str, list[str]]:
    """``schema.table`` -> change file keys (sorted), checkpoint excluded."""
    sink = open_sink(dest) if isinstance(dest, str) else dest
    out: dict[str, list[str]] = {}
    for key in sink.list(""):
        if key.startswith("_walstream/") or not key.endswith(".parquet"):
            continue
        schema, table, _ = key.split("/", 2)
        out.setdefault(f"{schema}.{table}", []).append(key)
    return out


def read_table(dest: str | DurableSink, table: str, dedupe: bool = True) -> list[dict[str, Any]]:
    """All change rows of one table in (lsn, seq) order; repeats of a position count once."""
    sink = open_sink(dest) if isinstance(dest, str) else dest
    rows: list[dict[str, Any]] = []
    for key in change_files(sink).get(table, []):
        data = sink.get(key)
        assert data is not None
        rows.extend(decode_parquet(data).to_pylist())
    rows.sort(key=lambda r: (r["_walstream_lsn"], r["_walstream_seq"]))
    if not dedupe:
        return rows
    seen: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        pos = (row["_walstream_lsn"], row["_walstream_seq"])
        if pos in seen:
            assert seen[pos] == row, f"same position {pos} with different content"
        seen[pos] = row
    return list(seen.values())


def read_file(sink: DurableSink, key: str) -> pa.Table:
    data = sink.get(key)
    assert data is not None
    return decode_parquet(data)


def apply_changes(
    rows: list[dict[str, Any]], key: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Replay change rows into the table state they describe (a tiny reference MERGE).

    Unchanged-TOAST columns keep the value the key (or, for a key change, the old key) had.
    """
    meta = {OP_COLUMN, *META_COLUMN_NAMES}
    state: dict[tuple[Any, ...], dict[str, Any]] = {}
    deleted: tuple[int, int, dict[str, Any] | None] | None = None  # (lsn, seq, old row)
    for row in rows:
        op, lsn, seq = row["Op"], row["_walstream_lsn"], row["_walstream_seq"]
        data = {k: v for k, v in row.items() if k not in meta}
        if op == "T":
            state.clear()
            continue
        k = tuple(data[c] for c in key)
        if op == "D":
            deleted = (lsn, seq, state.pop(k, None))
            continue
        if deleted is not None and op == "U" and deleted[:2] == (lsn, seq - 1):
            prior = deleted[2] or {}  # key change: unchanged columns come from the old key
        else:
            prior = state.get(k) or {}
        for col in row["_walstream_unchanged"] or []:
            data[col] = prior.get(col)
        state[k] = data
    return state

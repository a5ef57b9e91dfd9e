"""A large full load is merged over several task runs, a bounded slice of rows per run.

A task run must cost what its rows cost (Snowflake times a task out after an hour, and a MERGE
of a whole billion-row load in one transaction is what the issue found). A full load with more
rows than ``MergeOptions.load_slice_rows`` is merged in slices in ``_walstream_seq`` order, one
per run: the T marker and the first slice, then the next slices, then the rest with the stream
changes after it. While it is sliced the table has no watermark (FINAL is not the source as of
any LSN) and records which load it is merging and how far.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pyarrow as pa

from tests.simulated_source import SimSource, SimTable, to_arrow
from walstream.layout import load_file_key
from walstream.pipeline.manifest import ManifestFile, load_manifest
from walstream.pipeline.parquet import encode_parquet
from walstream.sink import open_sink
from walstream.snowflake.options import MergeOptions
from walstream.warehouse import LocalWarehouse

ROWS = 1_000_000
SLICE = 250_000


def test_a_million_row_load_merges_in_bounded_slices_then_the_stream_follows(
    tmp_path: Path,
) -> None:
    sink = open_sink(f"file://{tmp_path}/dest")
    table = SimTable("big", toast=False)
    source = SimSource(1, [table])
    snapshot_lsn = 0x1000000
    ts = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    files = []
    marker = to_arrow(table.schema, table.arrow_types, [
        {"Op": "T", "_walstream_lsn": snapshot_lsn, "_walstream_seq": 0,
         "_walstream_commit_ts": ts}])  # fmt: skip
    key = load_file_key("public", "big", 0, snapshot_lsn)
    sink.put(key, encode_parquet(marker))
    files.append(ManifestFile("public.big", key, 1))
    per_file = ROWS // 4
    for number in range(1, 5):
        first = (number - 1) * per_file + 1
        ids = pa.array(range(first, first + per_file), pa.int32())
        n = len(ids)
        arrays = {
            "Op": pa.array(["I"] * n),
            "id": ids,
            "label": pa.array([f"row {i}" for i in range(first, first + per_file)]),
            "n": pa.array(range(first, first + per_file), pa.int64()),
            "big": pa.nulls(n, pa.string()),
            "doc": pa.nulls(n, pa.string()),
            "_walstream_commit_ts": pa.array([ts] * n, pa.timestamp("us", "UTC")),
            "_walstream_lsn": pa.array([snapshot_lsn] * n, pa.int64()),
            "_walstream_seq": pa.array(range(first * 3, (first + per_file) * 3, 3), pa.int64()),
        }
        empty = to_arrow(table.schema, table.arrow_types, [])
        columns = [
            arrays[f.name] if f.name in arrays else pa.nulls(n, f.type) for f in empty.schema
        ]
        part = pa.Table.from_arrays(columns, schema=empty.schema)
        key = load_file_key("public", "big", number, snapshot_lsn)
        sink.put(key, encode_parquet(part))
        files.append(ManifestFile("public.big", key, n))
    load_manifest("sim_big", snapshot_lsn, files, origin=True).write(sink)
    # the stream after the snapshot: updates and deletes of loaded rows, new rows
    source.lsn = snapshot_lsn + 0x100
    table.state = {1: {"id": 1, "label": "row 1", "n": 1, "big": None, "doc": None},
                   ROWS: {"id": ROWS, "label": f"row {ROWS}", "n": ROWS, "big": None,
                          "doc": None}}  # fmt: skip
    source.rows["big"] = [
        _change(source, "U", {"id": 1, "label": "changed", "n": 1}),
        _change(source, "D", {"id": ROWS}),
        _change(source, "I", {"id": ROWS + 1, "label": "new", "n": 7}),
    ]
    source.txns = [r["_walstream_lsn"] for r in source.rows["big"]]
    stream_keys = source.write_range(sink, "big", source.txns[0], source.txns[-1], origin=False)
    assert len(stream_keys) == 2

    with LocalWarehouse(str(tmp_path / "wh.duckdb"), MergeOptions(load_slice_rows=SLICE)) as wh:
        runs: list[tuple[int, object, object]] = []  # after each task run: FINAL rows, marks
        task = wh._run_task

        def counted(name: str) -> None:
            task(name)
            count = wh.conn.execute('SELECT count(*) FROM public."big"').fetchall()[0][0]
            mark = wh.watermarks()[0]
            runs.append((int(count), mark["lsn"], mark["load_seq"]))

        wh._run_task = counted  # type: ignore[method-assign]
        for _ in range(6):
            wh.load(sink)  # stages what is new, runs the task (a run per table at least)
            if runs[-1][1] is not None:
                break
        counts = [0] + [c for c, _, _ in runs]
        assert all(b - a <= SLICE for a, b in itertools.pairwise(counts)), counts
        sliced = [r for r in runs if r[1] is None]
        # the T marker and the rows, a slice per run; no watermark while slices remain
        assert len(sliced) == -(-(ROWS + 1) // SLICE) - 1
        assert all(seq is not None for _, _, seq in sliced)
        mark = wh.watermarks()[0]
        assert mark["lsn"] == source.txns[-1] and mark["load_lsn"] is None
        assert runs[-1][0] == ROWS  # one deleted, one new
        got = wh.conn.execute(
            'SELECT "id", "label" FROM public."big" WHERE "id" IN (1, 2, 1000000, 1000001) '
            "ORDER BY 1"
        ).fetchall()
        assert got == [(1, "changed"), (2, "row 2"), (ROWS + 1, "new")]
        staged = wh.conn.execute('SELECT count(*) FROM public."_walstream_staging_big"')
        assert staged.fetchall() == [(0,)]  # every merged slice pruned


def _change(source: SimSource, op: str, values: dict[str, object]) -> dict[str, object]:
    source.lsn += 0x100
    row: dict[str, object] = {"Op": op, "id": None, "label": None, "n": None, "big": None}
    row.update(values, doc=None, _walstream_commit_ts=None, _walstream_lsn=source.lsn,
               _walstream_seq=0, _walstream_xid=source.lsn // 16, _walstream_unchanged=None,
               _walstream_key_change=None)  # fmt: skip
    return row

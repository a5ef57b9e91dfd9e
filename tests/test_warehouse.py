"""The local DuckDB warehouse: Snowpipe-like loading and the MERGE of DESIGN.md §3.

Histories come from a simulated source (tests/simulated_source.py) so that hundreds of random
histories, file cuts, batchings, replays and arrival orders run in seconds; the oracle
(tests/test_oracle.py) runs the same warehouse on real PostgreSQL changes.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.changes import apply_changes
from tests.simulated_source import EPOCH_US, SimSource, SimTable, cover_with_a_manifest, to_arrow
from walstream.layout import change_file_key
from walstream.pipeline.parquet import encode_parquet
from walstream.schema import ColumnSchema, TableSchema
from walstream.sink import DurableSink, open_sink
from walstream.snowflake.options import MergeOptions
from walstream.warehouse import LocalWarehouse

COLUMNS = ["id", "label", "n", "big", "doc"]


def final_rows(wh: LocalWarehouse, table: str, where: str = "") -> dict[int, dict[str, Any]]:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    rows = wh.conn.execute(f'SELECT {cols} FROM public."{table}" {where}').fetchall()
    out = {}
    for row in rows:
        record = dict(zip(COLUMNS, row, strict=True))
        record["doc"] = None if record["doc"] is None else json.loads(record["doc"])
        assert record["id"] not in out, f"key {record['id']} twice in FINAL"
        out[record["id"]] = record
    return out


def expected(table: SimTable) -> dict[int, dict[str, Any]]:
    return {
        k: {**v, "doc": None if v["doc"] is None else json.loads(v["doc"])}
        for k, v in table.state.items()
    }


def history(seed: int, transactions: int = 60, **table_options: Any) -> tuple[SimSource, SimTable]:
    table = SimTable(**table_options)
    source = SimSource(seed, [table])
    for _ in range(transactions):
        source.transaction(source.rng.randint(1, 6))
    return source, table


def random_cuts(source: SimSource, rng: random.Random, p: float) -> list[int]:
    return [i for i in range(len(source.txns)) if rng.random() < p]


@pytest.fixture
def sink(tmp_path: Path) -> DurableSink:
    return open_sink(f"file://{tmp_path}/dest")


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("batching", ["all-at-once", "file-by-file", "random"])
def test_final_equals_source_for_random_histories_in_any_batching(
    seed: int, batching: str, sink: DurableSink, wh: LocalWarehouse
) -> None:
    source, table = history(seed)
    rng = random.Random(seed)
    source.write_files(sink, "sim", random_cuts(source, rng, 0.3))
    if batching == "all-at-once":
        wh.load(sink)
    elif batching == "file-by-file":
        wh.load(sink, files_per_batch=1)
    else:
        keys = sorted(k for k in sink.list("") if k.endswith((".parquet", ".json")))
        while keys:
            take = rng.randint(1, 4)
            wh.load(sink, keys=keys[:take])
            keys = keys[take:]
    assert final_rows(wh, "sim") == expected(table)
    assert wh.final_tables() == [("public", "sim")]
    # the tiny reference replay agrees (a cross-check of the simulation itself)
    state = apply_changes(source.table_rows("sim"), ["id"])
    assert {k[0] for k in state} == set(table.state)


@pytest.mark.parametrize("seed", range(6))
def test_loading_the_same_files_again_or_replayed_overlapping_files_changes_nothing(
    seed: int, sink: DurableSink, wh: LocalWarehouse, tmp_path: Path
) -> None:
    source, table = history(seed, transactions=50)
    rng = random.Random(seed)
    source.write_files(sink, "sim", random_cuts(source, rng, 0.3))
    wh.load(sink)
    before = final_rows(wh, "sim")
    assert before == expected(table)

    report = wh.load(sink)
    assert report.files == 0 and report.skipped > 0

    # a crash replays from an earlier ack: the same changes, cut differently, new names
    for _ in range(4):
        first = rng.randrange(len(source.txns))
        last = rng.randrange(first, len(source.txns))
        source.write_range(sink, "sim", source.txns[first], source.txns[last])
    replay = open_sink(f"file://{tmp_path}/replayed")
    source.write_files(replay, "sim", random_cuts(source, rng, 0.5))
    assert wh.load(sink).files > 0
    assert wh.load(replay).files > 0
    assert final_rows(wh, "sim") == before


@pytest.mark.parametrize("seed", range(5))
def test_files_arriving_in_any_order_give_the_same_final_thanks_to_tombstones(
    seed: int, sink: DurableSink, wh: LocalWarehouse
) -> None:
    """Snowpipe may load files in any order; without unchanged TOAST, every row carries its
    values, and tombstones plus the truncate watermark keep late, older changes out."""
    source, table = history(seed, transactions=60, toast=False)
    rng = random.Random(seed)
    keys = source.write_files(sink, "sim", random_cuts(source, rng, 0.5))
    rng.shuffle(keys)
    for key in keys:
        wh.load(sink, keys=[key])
    assert final_rows(wh, "sim") == expected(table)


def test_an_old_insert_replayed_after_its_delete_does_not_resurrect_the_key(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    """DESIGN §3: the replayed D is skipped (known name), the replayed I has a new name."""
    source = SimSource(1, [SimTable(toast=False)])
    _append(source, {"Op": "I", "id": 7, "label": "x", "n": 1})
    _append(source, {"Op": "D", "id": 7})
    both = source.write_range(sink, "sim", source.txns[0], source.txns[1])
    wh.load(sink, keys=both)
    assert final_rows(wh, "sim") == {}
    replayed_insert = source.write_range(sink, "sim", source.txns[0], source.txns[0])
    assert replayed_insert != both
    assert wh.load(sink, keys=replayed_insert).files == 1
    assert final_rows(wh, "sim") == {}
    tombstones = wh.conn.execute('SELECT "id" FROM public."_walstream_tombstones_sim"').fetchall()
    assert tombstones == [(7,)]


def _append(source: SimSource, row: dict[str, Any]) -> None:
    source.lsn += 0x100
    full = {c: row.get(c) for c in ["Op", *COLUMNS]}
    full.update(
        _walstream_commit_ts=None,
        _walstream_lsn=source.lsn,
        _walstream_seq=0,
        _walstream_xid=1,
        _walstream_unchanged=None,
    )
    source.rows["sim"].append(full)
    source.txns.append(source.lsn)


def test_changes_before_a_truncate_that_arrive_late_are_ignored(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    table = SimTable(toast=False)
    source = SimSource(3, [table])
    for _ in range(10):
        source.transaction(3)
    _truncate(source)
    table.state.clear()
    for _ in range(5):
        source.transaction(2)
    early = source.write_range(sink, "sim", source.txns[0], source.txns[9])
    rest = source.write_range(sink, "sim", source.txns[10], source.txns[-1])
    wh.load(sink, keys=rest)
    wh.load(sink, keys=early)
    assert final_rows(wh, "sim") == expected(table)
    watermark = wh.conn.execute(
        'SELECT _walstream_lsn FROM public."_walstream_truncates_sim"'
    ).fetchall()
    assert watermark == [(source.txns[10],)]


def _truncate(source: SimSource) -> None:
    source.lsn += 0x100
    source.rows["sim"].append(
        {
            "Op": "T",
            **{c: None for c in COLUMNS},
            "_walstream_commit_ts": None,
            "_walstream_lsn": source.lsn,
            "_walstream_seq": 0,
            "_walstream_xid": 1,
            "_walstream_unchanged": None,
        }
    )
    source.txns.append(source.lsn)


@pytest.mark.parametrize("seed", range(4))
def test_soft_delete_keeps_deleted_rows_marked_and_live_rows_equal_to_source(
    seed: int, sink: DurableSink, tmp_path: Path
) -> None:
    source, table = history(seed)
    source.write_files(sink, "sim", random_cuts(source, random.Random(seed), 0.3))
    with LocalWarehouse(str(tmp_path / "soft.duckdb"), MergeOptions(soft_delete=True)) as wh:
        wh.load(sink, files_per_batch=2)
        live = final_rows(wh, "sim", "WHERE NOT _walstream_deleted")
        assert live == expected(table)
        deleted = final_rows(wh, "sim", "WHERE _walstream_deleted")
        assert not set(deleted) & set(live)
        ever = {r["id"] for r in source.table_rows("sim") if r["Op"] in ("I", "U")}
        assert set(deleted) | set(live) <= ever


def test_keyless_table_final_is_the_change_log_each_change_once(
    sink: DurableSink, wh: LocalWarehouse, tmp_path: Path
) -> None:
    source, _ = history(5, keyless=True)
    rng = random.Random(5)
    source.write_files(sink, "sim", random_cuts(source, rng, 0.3))
    replay = open_sink(f"file://{tmp_path}/replay")
    source.write_files(replay, "sim", random_cuts(source, rng, 0.6))
    wh.load(sink)
    wh.load(replay)
    got = wh.conn.execute(
        'SELECT _walstream_op, "id", "label", _walstream_lsn, _walstream_seq '
        'FROM public."sim" ORDER BY _walstream_lsn, _walstream_seq'
    ).fetchall()
    want = [
        (r["Op"], r["id"], r["label"], r["_walstream_lsn"], r["_walstream_seq"])
        for r in source.table_rows("sim")
    ]
    assert got == want


def test_full_load_rows_without_op_or_position_count_as_inserts_before_any_change(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    table = SimTable(toast=False)
    rows = [
        {"Op": None, "id": i, "label": f"l{i}", "n": i, "big": None, "doc": None}
        for i in range(1, 4)
    ]
    sink.put("public/sim/LOAD00000001.parquet", encode_parquet(_arrow(table, rows)))
    update = {
        "Op": "U",
        "id": 2,
        "label": "changed",
        "n": 20,
        "big": None,
        "doc": None,
        "_walstream_lsn": 0x5000,
        "_walstream_seq": 0,
    }
    sink.put(
        change_file_key("public", "sim", EPOCH_US, 0x5000, 0x5000),
        encode_parquet(_arrow(table, [update])),
    )
    cover_with_a_manifest(sink)
    wh.load(sink)
    got = final_rows(wh, "sim")
    assert {k: v["label"] for k, v in got.items()} == {1: "l1", 2: "changed", 3: "l3"}


def _arrow(table: SimTable, rows: list[dict[str, Any]]) -> pa.Table:
    return to_arrow(table.schema, table.arrow_types, rows)


def test_unchanged_toast_takes_the_final_value_from_an_earlier_load(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    table = SimTable()
    big = "x" * 500
    first = {"Op": "I", "id": 1, "label": "a", "n": 1, "big": big, "doc": '{"a": 1}'}
    later = {
        "Op": "U",
        "id": 1,
        "label": "b",
        "n": 2,
        "big": None,
        "doc": None,
        "_walstream_unchanged": ["big", "doc"],
        "_walstream_lsn": 0x2000,
    }
    rekey = [
        {
            "Op": "D",
            "id": 1,
            "_walstream_lsn": 0x3000,
            "_walstream_seq": 0,
            "_walstream_key_change": True,
        },
        {
            "Op": "U",
            "id": 9,
            "label": "c",
            "n": 3,
            "_walstream_key_change": True,
            "_walstream_unchanged": ["big", "doc"],
            "_walstream_lsn": 0x3000,
            "_walstream_seq": 1,
        },
    ]
    for lsn, rows in ((0x1000, [first]), (0x2000, [later]), (0x3000, rekey)):
        for row in rows:
            row.setdefault("_walstream_lsn", lsn)
            row.setdefault("_walstream_seq", 0)
        key = change_file_key("public", "sim", EPOCH_US + lsn, lsn, lsn)
        sink.put(key, encode_parquet(_arrow(table, rows)))
        cover_with_a_manifest(sink)
        wh.load(sink)
    got = final_rows(wh, "sim")
    assert got == {9: {"id": 9, "label": "c", "n": 3, "big": big, "doc": {"a": 1}}}


@pytest.mark.parametrize("split", [False, True])
def test_delete_then_update_of_another_key_in_one_transaction_is_not_a_key_change(
    split: bool, sink: DurableSink, wh: LocalWarehouse
) -> None:
    """D(k1), U(k2) with consecutive seqs looks like a key change; k2 being live says it is not:
    k2's unchanged columns keep k2's value, not k1's (whether k2 is live in the same batch or
    already in FINAL)."""
    table = SimTable()
    inserts = [
        {"Op": "I", "id": 1, "big": "one" * 50, "_walstream_lsn": 0x1000, "_walstream_seq": 0},
        {"Op": "I", "id": 2, "big": "two" * 50, "_walstream_lsn": 0x1000, "_walstream_seq": 1},
    ]
    changes = [
        {"Op": "D", "id": 1, "_walstream_lsn": 0x2000, "_walstream_seq": 0},
        {
            "Op": "U",
            "id": 2,
            "label": "x",
            "_walstream_unchanged": ["big", "doc"],
            "_walstream_lsn": 0x2000,
            "_walstream_seq": 1,
        },
    ]
    for rows in [inserts, changes] if split else [inserts + changes]:
        first, last = rows[0]["_walstream_lsn"], rows[-1]["_walstream_lsn"]
        key = change_file_key("public", "sim", EPOCH_US + first, first, last)
        sink.put(key, encode_parquet(_arrow(table, rows)))
        cover_with_a_manifest(sink)
        wh.load(sink)
    assert final_rows(wh, "sim") == {
        2: {"id": 2, "label": "x", "n": None, "big": "two" * 50, "doc": None}
    }


def test_tombstones_older_than_the_retention_are_pruned(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    source = SimSource(2, [SimTable(toast=False)])
    _append(source, {"Op": "I", "id": 1, "label": "a"})
    _append(source, {"Op": "D", "id": 1})
    source.write_range(sink, "sim", source.txns[0], source.txns[1])
    cover_with_a_manifest(sink)
    wh.load(sink)
    tombstones = 'public."_walstream_tombstones_sim"'
    assert wh.conn.execute(f"SELECT count(*) FROM {tombstones}").fetchall() == [(1,)]
    wh.conn.execute(
        f"UPDATE {tombstones} SET _walstream_merged_at = _walstream_merged_at - INTERVAL 8 DAY"
    )
    _append(source, {"Op": "I", "id": 2, "label": "b"})
    source.write_range(sink, "sim", source.txns[2], source.txns[2])
    cover_with_a_manifest(sink)
    wh.load(sink)
    assert wh.conn.execute(f"SELECT count(*) FROM {tombstones}").fetchall() == [(0,)]


def test_a_column_added_at_the_source_is_added_to_final(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    table = SimTable(toast=False)
    sink.put(
        change_file_key("public", "sim", EPOCH_US, 0x1000, 0x1000),
        encode_parquet(
            _arrow(table, [{"Op": "I", "id": 1, "label": "a", "_walstream_lsn": 0x1000}])
        ),
    )
    cover_with_a_manifest(sink)
    wh.load(sink)
    wider = TableSchema(
        table.schema.oid,
        "public",
        "sim",
        (*table.schema.columns, ColumnSchema("extra", 25, "text", -1, False)),
        "d",
    )
    types = {**table.arrow_types, "extra": pa.string()}
    row = {"Op": "I", "id": 2, "label": "b", "extra": "e", "_walstream_lsn": 0x2000}
    for name in ("_walstream_seq", "_walstream_xid", "_walstream_commit_ts"):
        row.setdefault(name, None)
    row["_walstream_seq"] = 0
    sink.put(
        change_file_key("public", "sim", EPOCH_US + 1, 0x2000, 0x2000),
        encode_parquet(to_arrow(wider, types, [row])),
    )
    cover_with_a_manifest(sink)
    wh.load(sink)
    got = wh.conn.execute('SELECT "id", "extra" FROM public."sim" ORDER BY 1').fetchall()
    assert got == [(1, None), (2, "e")]


def test_a_file_without_walstream_metadata_is_refused_with_a_clear_error(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    """Like Snowpipe, the file fails alone (recorded with its error, not tried again)."""
    key = "public/sim/LOAD00000001.parquet"
    sink.put(key, encode_parquet(pa.table({"id": [1]})))
    report = wh.load(sink)
    ((url, error),) = report.failed
    assert url == sink.describe(key) and "walstream.relation" in error and report.files == 0
    (failure,) = wh.load_failures()
    assert failure["file"] == key and failure["table_name"] == "public.sim"
    assert "walstream.relation" in str(failure["error"])
    assert wh.load(sink).skipped == 1  # the name is not tried again by itself


@pytest.mark.parametrize("files_per_batch", [None, 7])
def test_a_row_keeps_its_unchanged_toast_across_a_long_chain_of_key_changes(
    files_per_batch: int | None, sink: DurableSink, wh: LocalWarehouse
) -> None:
    """id 1 -> 2 -> ... -> 70, each key change leaving big unchanged: the chain is followed
    across many pointer-jumping rounds within a batch, and through FINAL across batches."""
    table = SimTable()
    big = "B" * 400
    lsn = 0x1000
    insert = {"Op": "I", "id": 1, "label": "x", "big": big, "doc": '{"d": 1}'}
    files = [[{**insert, "_walstream_lsn": lsn, "_walstream_seq": 0}]]
    for key in range(1, 70):
        lsn += 0x100
        files.append(
            [
                {
                    "Op": "D",
                    "id": key,
                    "_walstream_lsn": lsn,
                    "_walstream_seq": 0,
                    "_walstream_key_change": True,
                },
                {
                    "Op": "U",
                    "id": key + 1,
                    "_walstream_key_change": True,
                    "label": f"x{key}",
                    "_walstream_unchanged": ["big", "doc"],
                    "_walstream_lsn": lsn,
                    "_walstream_seq": 1,
                },
            ]
        )
    for rows in files:
        first = rows[0]["_walstream_lsn"]
        key = change_file_key("public", "sim", EPOCH_US + first, first, first)
        sink.put(key, encode_parquet(_arrow(table, rows)))
    cover_with_a_manifest(sink)
    wh.load(sink, files_per_batch=files_per_batch)
    assert final_rows(wh, "sim") == {
        70: {"id": 70, "label": "x69", "n": None, "big": big, "doc": {"d": 1}}
    }
    tombstones = wh.conn.execute('SELECT count(*) FROM public."_walstream_tombstones_sim"')
    assert tombstones.fetchall() == [(69,)]


def test_a_table_whose_name_is_percent_encoded_in_its_folder_loads_under_its_real_name(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    odd = 'odd/name %41 "x"'
    table = SimTable(name=odd)
    source = SimSource(9, [table])
    for _ in range(20):
        source.transaction(3)
    keys = source.write_files(sink, odd, [4, 9])
    files = [k for k in keys if k.endswith(".parquet")]
    assert all(k.startswith("public/odd%2Fname %2541") for k in files)
    report = wh.load(sink)
    assert report.tables == {f"public.{odd}": len(files)}
    assert final_rows(wh, odd.replace('"', '""')) == expected(table)


def _shape(*columns: tuple[str, int, str, bool]) -> tuple[TableSchema, dict[str, pa.DataType]]:
    arrow = {"int4": pa.int32(), "int8": pa.int64(), "text": pa.string()}
    arrow["numeric"] = pa.decimal128(10, 2)
    schema = TableSchema(
        16384,
        "public",
        "items",
        tuple(
            ColumnSchema(n, oid, t, 655366 if t == "numeric" else -1, k) for n, oid, t, k in columns
        ),
        "d",
    )
    return schema, {n: arrow[t] for n, _, t, _ in columns}


def _put(
    sink: DurableSink, shape: tuple[TableSchema, dict[str, pa.DataType]], rows: list[dict[str, Any]]
) -> None:
    lsn = rows[0]["_walstream_lsn"]
    for seq, row in enumerate(rows):
        row.setdefault("_walstream_seq", seq)
    key = change_file_key("public", "items", EPOCH_US + lsn, lsn, rows[-1]["_walstream_lsn"])
    sink.put(key, encode_parquet(to_arrow(shape[0], shape[1], rows)))


def test_schema_changes_rename_retype_add_and_drop_columns_going_forward(
    sink: DurableSink, wh: LocalWarehouse
) -> None:
    v1 = _shape(
        ("id", 23, "int4", True),
        ("name", 25, "text", False),
        ("qty", 23, "int4", False),
        ("obsolete", 25, "text", False),
    )
    # name renamed to title, qty widened to int8, obsolete dropped, price added
    v2 = _shape(
        ("id", 23, "int4", True),
        ("title", 25, "text", False),
        ("qty", 20, "int8", False),
        ("price", 1700, "numeric", False),
    )
    _put(sink, v1, [
        {"Op": "I", "id": 1, "name": "a", "qty": 1, "obsolete": "x", "_walstream_lsn": 0x1000},
        {"Op": "I", "id": 2, "name": "b", "qty": 2, "obsolete": "y", "_walstream_lsn": 0x1000},
    ])  # fmt: skip
    cover_with_a_manifest(sink)
    wh.load(sink)
    update = {"Op": "U", "id": 1, "title": "a2", "qty": 5_000_000_000, "price": Decimal("1.50")}
    _put(sink, v2, [{**update, "_walstream_lsn": 0x3000}])
    # a file of the older shape between the two arrives late (Snowpipe order): the newer
    # shape is staged and FINAL follows it at once, but nothing after the gap is merged
    late = {"Op": "I", "id": 3, "name": "c", "qty": 3, "obsolete": "z", "_walstream_lsn": 0x2000}
    _put(sink, v1, [late])
    late_key = change_file_key("public", "items", EPOCH_US + 0x2000, 0x2000, 0x2000)
    cover_with_a_manifest(sink)
    wh.load(sink, keys=[k for k in sink.list("") if k != late_key])
    got = wh.conn.execute('SELECT "id", "title", "qty", "price" FROM public."items" ORDER BY 1')
    assert got.fetchall() == [(1, "a", 1, None), (2, "b", 2, None)]
    columns = wh.conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'items'"
    ).fetchall()
    assert [c for (c,) in columns if not c.startswith("_walstream_")] == [
        "id",
        "title",
        "qty",
        "price",
    ]
    # the late file of the older shape merges into the columns FINAL still has under the same
    # names; a renamed or dropped column's value is not kept
    wh.load(sink)
    got = wh.conn.execute('SELECT "id", "title", "qty", "price" FROM public."items" ORDER BY 1')
    rows = got.fetchall()
    assert rows[:2] == [(1, "a2", 5_000_000_000, Decimal("1.50")), (2, "b", 2, None)]
    assert rows[2] == (3, None, 3, None)


def test_soft_delete_switched_on_for_a_table_with_rows_keeps_final_exact(
    sink: DurableSink, tmp_path: Path
) -> None:
    """Rows FINAL held before the switch get ``_walstream_deleted`` NULL: they are live, and
    their columns carry into later changes that leave them unchanged (unchanged TOAST)."""
    source, table = history(5, transactions=80)
    keys = source.write_files(sink, "sim", random_cuts(source, random.Random(5), 0.3))
    path = str(tmp_path / "wh.duckdb")
    half = len(keys) // 2
    with LocalWarehouse(path) as wh:
        wh.load(sink, keys=keys[:half])
        assert final_rows(wh, "sim")  # rows to switch over
    with LocalWarehouse(path, MergeOptions(soft_delete=True)) as wh:
        wh.load(sink, keys=keys[half:])
        assert final_rows(wh, "sim", "WHERE _walstream_deleted IS NOT TRUE") == expected(table)
        deleted = final_rows(wh, "sim", "WHERE _walstream_deleted")
        assert deleted and not set(deleted) & set(table.state)


def test_a_row_from_before_soft_delete_carries_its_unchanged_toast_value(
    sink: DurableSink, tmp_path: Path
) -> None:
    source = SimSource(1, [SimTable()])
    big = "x" * 300
    _append(source, {"Op": "I", "id": 1, "label": "a", "n": 1, "big": big})
    _append(source, {"Op": "U", "id": 1, "label": "b", "n": 2, "big": None})
    source.rows["sim"][-1]["_walstream_unchanged"] = ["big"]
    first = source.write_range(sink, "sim", source.txns[0], source.txns[0])
    second = source.write_range(sink, "sim", source.txns[1], source.txns[1])
    path = str(tmp_path / "wh.duckdb")
    with LocalWarehouse(path) as wh:
        wh.load(sink, keys=first)
    with LocalWarehouse(path, MergeOptions(soft_delete=True)) as wh:
        wh.load(sink, keys=second)
        row = final_rows(wh, "sim")[1]
        assert (row["label"], row["big"]) == ("b", big)

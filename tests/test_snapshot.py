"""Initial load and table reload through the whole pipeline, checked by the oracle.

A real PostgreSQL keeps taking writes while a snapshot loads, the slot streams the rest, the
local DuckDB warehouse merges LOAD and change files, and FINAL is compared row by row with the
source. Also: the ctid split does not change the rows, a crash in the middle of a snapshot
changes nothing in FINAL, a reload removes rows FINAL should no longer have, and the LOAD
files carry exactly the Arrow values a stream carries.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.changes import change_files, read_file, read_table
from tests.conftest import PgDatabase
from tests.streaming import run_config, wait_for
from walstream.faults import KILL_EXIT_CODE
from walstream.lsn import parse_lsn
from walstream.pipeline.runner import Runner
from walstream.sink import DurableSink, open_sink
from walstream.snapshot import LOADED, SnapshotConfig, initial_load, run_snapshot
from walstream.snapshot.exported import SlotSnapshot
from walstream.snapshot.tables import Chunk, LoadTable
from walstream.warehouse import LocalWarehouse

LOAD_KEY = re.compile(r"^public/(\w+)/LOAD[0-9A-F]{8}-([0-9A-F]{16})\.parquet$")

SCHEMA = """
CREATE TABLE accounts (id int PRIMARY KEY, name text, amount numeric(10,2), big text);
ALTER TABLE accounts ALTER COLUMN big SET STORAGE EXTERNAL;  -- big values TOASTed: unchanged
CREATE TABLE lines (order_id int, line int, sku text, qty int, PRIMARY KEY (order_id, line));
CREATE PUBLICATION walstream FOR TABLE accounts, lines;
"""
COLUMNS = {"accounts": ["id", "name", "amount", "big"], "lines": ["order_id", "line", "sku", "qty"]}


def setup_source(db: PgDatabase, accounts: int = 1500, lines: int = 2000) -> None:
    db.execute(SCHEMA)
    db.execute(
        "INSERT INTO accounts SELECT g, 'name ' || g, g * 1.25, "
        "CASE WHEN g %% 10 = 0 THEN repeat(md5(g::text), 100) END "
        "FROM generate_series(1, %s) g",
        (accounts,),
    )
    db.execute(
        "INSERT INTO lines SELECT g / 4, g %% 4, 'sku-' || g, g %% 9 FROM generate_series(1, %s) g",
        (lines,),
    )


class Workload(threading.Thread):
    """Random short transactions (inserts, updates, key changes, deletes) until stopped."""

    def __init__(self, dsn: str, seed: int, tables: tuple[str, ...] = ("accounts", "lines")):
        super().__init__(daemon=True)
        self.dsn = dsn
        self.rng = random.Random(seed)
        self.tables = tables
        self.stop = threading.Event()
        self.transactions = 0
        self.error: BaseException | None = None
        self._next_id = 1_000_000 + seed * 100_000

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self.stop.is_set():
                    with conn.transaction():
                        for _ in range(self.rng.randint(1, 4)):
                            self._change(conn)
                    self.transactions += 1
        except BaseException as exc:
            self.error = exc

    def _change(self, conn: psycopg.Connection[Any]) -> None:
        rng = self.rng
        table = rng.choice(self.tables)
        roll = rng.random()
        if table == "accounts":
            victim = rng.randint(1, 1600)
            if roll < 0.3:
                self._next_id += 1
                conn.execute(
                    "INSERT INTO accounts VALUES (%s, %s, %s, NULL)",
                    (self._next_id, f"new {self._next_id}", rng.randint(0, 10**6) / 100),
                )
            elif roll < 0.6:  # name only: a TOASTed big value is sent as unchanged
                conn.execute("UPDATE accounts SET name = %s WHERE id = %s", (f"u{roll}", victim))
            elif roll < 0.7:
                self._next_id += 1
                conn.execute("UPDATE accounts SET id = %s WHERE id = %s", (self._next_id, victim))
            elif roll < 0.8:
                conn.execute("UPDATE accounts SET amount = amount + 1 WHERE id = %s", (victim,))
            else:
                conn.execute("DELETE FROM accounts WHERE id = %s", (victim,))
        else:
            order = rng.randint(0, 520)
            if roll < 0.4:
                conn.execute(
                    "INSERT INTO lines VALUES (%s, %s, 'w', 1) ON CONFLICT DO NOTHING",
                    (order, rng.randint(0, 6)),
                )
            elif roll < 0.7:
                conn.execute("UPDATE lines SET qty = qty + 1 WHERE order_id = %s", (order,))
            else:
                conn.execute("DELETE FROM lines WHERE order_id = %s", (order,))

    def wait(self, transactions: int, timeout: float = 60.0) -> None:
        """Wait until ``transactions`` more transactions have committed."""
        target = self.transactions + transactions
        wait_for(lambda: self.transactions >= target or self.error is not None, timeout)
        assert self.error is None, self.error

    def finish(self) -> None:
        self.stop.set()
        self.join(30)
        assert self.error is None, self.error


def stream_until_current(db: PgDatabase, dest: str) -> Runner:
    wait_for(lambda: slot_inactive(db), what="the slot to be free")
    until = parse_lsn(db.current_lsn())
    # a commit after the target, so the stream reaches it without waiting for a keepalive
    db.execute("SELECT pg_logical_emit_message(true, 'walstream-test', 'until')")
    runner = Runner(run_config(db, dest, until_lsn=until))
    runner.run()
    return runner


def slot_inactive(db: PgDatabase, slot: str = "sf_sync") -> bool:
    rows = db.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return bool(rows) and rows[0][0] is None


def source_rows(db: PgDatabase, table: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    cols = COLUMNS[table]
    key = 1 if table == "accounts" else 2
    rows = db.execute(f"SELECT {', '.join(cols)} FROM {table}")
    return {tuple(r[:key]): tuple(r) for r in rows}


def final_rows(wh: LocalWarehouse, table: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    cols = COLUMNS[table]
    key = 1 if table == "accounts" else 2
    rows = wh.conn.execute(f'SELECT {", ".join(cols)} FROM public."{table}"').fetchall()
    out = {tuple(r[:key]): tuple(r) for r in rows}
    assert len(out) == len(rows), f"a key appears twice in FINAL {table}"
    return out


def assert_final_equals_source(db: PgDatabase, wh: LocalWarehouse, dest: str) -> None:
    wh.load(dest)
    for table in COLUMNS:
        want, got = source_rows(db, table), final_rows(wh, table)
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])[:5]
        assert not (missing or extra or differ), (
            f"{table}: FINAL differs from the source: missing {missing}, extra {extra}, "
            f"different {[(short(want[k]), short(got[k])) for k in differ]}"
        )


def short(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v[:20] + "..." if isinstance(v, str) and len(v) > 20 else v for v in row)


def load_rows(sink: DurableSink, table: str) -> list[dict[str, Any]]:
    """Every row of the table's LOAD files (T markers included)."""
    rows = []
    for key in change_files(sink).get(f"public.{table}", []):
        if key.split("/")[-1].startswith("LOAD"):
            rows.extend(read_file(sink, key).to_pylist())
    return rows


# -- initial load + stream under a concurrent workload ----------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_initial_load_under_concurrent_writes_then_stream_gives_final_equal_to_source(
    db: PgDatabase, tmp_path: Path, wh: LocalWarehouse, seed: int
) -> None:
    setup_source(db)
    dest = f"file://{tmp_path}/dest"
    workload = Workload(db.dsn, seed)
    workload.start()
    try:
        workload.wait(5)
        summary = initial_load(run_config(db, dest), workers=2, memory_budget=8 << 20)
        workload.wait(20)  # and the source keeps changing after the snapshot
    finally:
        workload.finish()
    assert summary.created_slot and summary.slot == "sf_sync"
    assert summary.consistent_point == summary.snapshot_lsn + 1
    stream_until_current(db, dest)
    assert_final_equals_source(db, wh, dest)

    sink = open_sink(dest)
    for table in COLUMNS:
        rows = load_rows(sink, table)
        markers = [r for r in rows if r["Op"] == "T"]
        assert len(markers) == 1 and markers[0]["_walstream_seq"] == 0
        loaded = [r for r in rows if r["Op"] != "T"]
        assert {r["Op"] for r in loaded} == {"I"}
        assert all(r["_walstream_seq"] >= 1 and r["_walstream_xid"] is None for r in loaded)
        assert {r["_walstream_lsn"] for r in rows} == {summary.snapshot_lsn}
        assert (
            len({r["_walstream_seq"] for r in loaded})
            == len(loaded)
            == summary.tables[f"public.{table}"].rows
        )
        changes = [r for r in read_table(sink, f"public.{table}") if r["_walstream_xid"]]
        assert changes, "the workload after the snapshot was streamed"
        # the stream starts right after the snapshot: nothing loaded is streamed again
        assert min(r["_walstream_lsn"] for r in changes) > summary.snapshot_lsn
    for key in sink.list("public/"):
        match = LOAD_KEY.match(key)
        if match:
            assert int(match.group(2), 16) == summary.snapshot_lsn
    checkpoint = json.loads(sink.get("_walstream/sf_sync/checkpoint.json") or b"{}")
    for table in COLUMNS:
        state = checkpoint["tables"][f"public.{table}"]["snapshot"]
        assert state["state"] == LOADED
        assert parse_lsn(state["snapshot_lsn"]) == summary.snapshot_lsn

    # run --snapshot initial again: everything is loaded, nothing is done
    again = initial_load(run_config(db, dest), workers=2)
    assert not again.tables and sorted(again.skipped) == ["public.accounts", "public.lines"]


def test_loaded_rows_are_exactly_the_source_at_the_consistent_point(
    db: PgDatabase, tmp_path: Path, wh: LocalWarehouse
) -> None:
    """With a snapshot held by the caller (--use-snapshot) while the source keeps changing."""
    setup_source(db)
    dest = f"file://{tmp_path}/dest"
    workload = Workload(db.dsn, seed=11)
    workload.start()
    try:
        workload.wait(5)
        with SlotSnapshot(db.dsn, "sf_sync", temporary=False) as held:
            snap = held.snapshot
            assert snap is not None
            with psycopg.connect(db.dsn, autocommit=True) as conn:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snap.snapshot_name))
                expected = {
                    table: sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}"))
                    for table, cols in COLUMNS.items()
                }
            workload.wait(10)  # the source moves on before the load reads a row
            summary = run_snapshot(
                SnapshotConfig(
                    db.dsn,
                    "sf_sync",
                    "walstream",
                    dest,
                    workers=2,
                    use_snapshot=snap.snapshot_name,
                    consistent_point=snap.consistent_point,
                    progress="none",
                )
            )
        workload.wait(10)
    finally:
        workload.finish()
    assert summary.snapshot_lsn == snap.consistent_point - 1
    sink = open_sink(dest)
    for table, cols in COLUMNS.items():
        loaded = sorted(tuple(r[c] for c in cols) for r in load_rows(sink, table) if r["Op"] == "I")
        assert loaded == expected[table], f"{table}: LOAD rows differ from the snapshot's rows"
    stream_until_current(db, dest)
    assert_final_equals_source(db, wh, dest)


# -- the ctid split ---------------------------------------------------------------------------


def test_ctid_split_with_1_2_and_4_workers_gives_identical_rows_and_final(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db, accounts=6000, lines=10)
    db.execute("DELETE FROM accounts WHERE id % 7 = 3")  # holes in the heap
    db.execute("UPDATE accounts SET name = 'moved' WHERE id % 11 = 0")  # rows in later blocks
    db.create_slot()
    results = {}
    for workers in (1, 2, 4):
        dest = f"file://{tmp_path}/w{workers}"
        summary = run_snapshot(
            SnapshotConfig(
                db.dsn,
                "sf_sync",
                "walstream",
                dest,
                tables=("public.accounts",),
                workers=workers,
                memory_budget=4 << 20,  # several blocks and files per worker
                chunk_bytes=128 << 10,  # several chunks
                progress="none",
            )
        )
        assert not summary.created_slot and summary.slot and summary.slot != "sf_sync"
        if workers > 1:
            assert summary.chunks > workers
        rows = [r for r in load_rows(open_sink(dest), "accounts") if r["Op"] == "I"]
        results[workers] = sorted(
            (r["_walstream_seq"], r["id"], r["name"], r["amount"], r["big"]) for r in rows
        )
        with LocalWarehouse(str(tmp_path / f"wh{workers}.duckdb")) as wh:
            wh.load(dest)
            assert final_rows(wh, "accounts") == source_rows(db, "accounts")
    assert results[1] == results[2] == results[4]
    assert len(results[1]) == len(source_rows(db, "accounts"))


def test_chunks_cover_every_block_once_and_the_last_is_open_ended() -> None:
    def table(blocks: int, relkind: str = "r", nbytes: int = 0) -> LoadTable:
        return LoadTable(1, relkind, None, (), None, blocks, nbytes=nbytes)  # type: ignore[arg-type]

    gib = 1 << 30
    for blocks in (0, 5, 9, 100, 1000, 1_000_003, 10**9):
        for workers in (1, 2, 4):
            chunks = table(blocks).chunks(workers=workers)
            assert chunks[0].first_block == 0 and chunks[-1].end_block is None
            for a, b in itertools.pairwise(chunks):
                assert a.end_block == b.first_block
                assert b.first_seq - a.first_seq >= a.blocks * 291  # room for every row of a block
            assert sum(c.blocks for c in chunks) == max(blocks, 1)
            assert [c.index for c in chunks] == list(range(len(chunks)))
            size = blocks * 8192
            # at most a chunk-size each, at least 4 MiB each, 8 per worker in between
            assert len(chunks) <= max(8 * workers, -(-size // gib), 1)
            assert len(chunks) >= min(-(-size // gib), 8 * workers, max(size // (4 << 20), 1))
    # a small table is one chunk; 1 GiB of blocks with a TOAST of 9 GiB is ten chunks of ~1 GiB
    assert len(table(100).chunks()) == 1
    assert len(table(131_072, nbytes=10 * gib).chunks(workers=1)) == 10
    assert len(table(131_072).chunks(workers=1)) == 8  # 8 per worker when the size allows
    assert len(table(131_072).chunks(chunk_bytes=64 << 20, workers=1)) == 16
    assert table(1000, "p").chunks() == [Chunk(0, 0, None, 1000)]
    assert table(100_000).chunks(tid_range_scan=False) == [Chunk(0, 0, None, 100_000)]


# -- reload while streaming -------------------------------------------------------------------


def test_reload_while_streaming_with_concurrent_deletes_and_updates_makes_final_exact(
    db: PgDatabase, s3_dest: str, wh: LocalWarehouse
) -> None:
    setup_source(db)
    dest = s3_dest  # S3 (moto server), as in production
    initial_load(run_config(db, dest), workers=2, progress="none")
    runner = Runner(run_config(db, dest))
    streaming = threading.Thread(target=runner.run, daemon=True)
    streaming.start()
    try:
        # FINAL drifts: changes made while the table is out of the publication never stream
        db.execute("ALTER PUBLICATION walstream DROP TABLE accounts")
        db.execute("DELETE FROM accounts WHERE id % 5 = 0")
        db.execute("UPDATE accounts SET name = 'unseen' WHERE id % 7 = 0")
        db.execute("ALTER PUBLICATION walstream ADD TABLE accounts")
        db.execute("UPDATE lines SET qty = 100 WHERE order_id < 10")
        lsn = parse_lsn(db.current_lsn())
        wait_for(lambda: runner.acked_lsn >= lsn, what="the stream to catch up")
        wh.load(dest)
        assert len(final_rows(wh, "accounts")) > len(source_rows(db, "accounts"))

        workload = Workload(db.dsn, seed=7, tables=("accounts",))
        workload.start()
        try:
            workload.wait(5)
            summary = run_snapshot(
                SnapshotConfig(
                    db.dsn,
                    "sf_sync",
                    "walstream",
                    dest,
                    tables=("public.accounts",),
                    workers=2,
                    memory_budget=8 << 20,
                    progress="none",
                )
            )
            workload.wait(20)
        finally:
            workload.finish()
        assert not summary.created_slot and summary.tables["public.accounts"].state == LOADED
        runner.cfg.until_lsn = parse_lsn(db.current_lsn())
        db.execute("SELECT pg_logical_emit_message(true, 'walstream-test', 'until')")
        streaming.join(60)
        assert not streaming.is_alive()
    finally:
        runner.request_stop()
        streaming.join(30)
    assert_final_equals_source(db, wh, dest)
    snapshots = {
        int(m.group(2), 16)
        for key in open_sink(dest).list("public/accounts/")
        if (m := LOAD_KEY.match(key))
    }
    assert len(snapshots) == 2 and max(snapshots) == summary.snapshot_lsn


# -- crash in the middle of a snapshot --------------------------------------------------------

SNAPSHOT_CLI = (
    "import sys\n"
    "from walstream.cli import cli, main\n"
    "from walstream.commands.snapshot import snapshot\n"
    "main.add_command(snapshot)\n"
    "sys.argv[0] = 'walstream'\n"
    "cli()\n"
)


def snapshot_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``walstream snapshot ...`` in a child process (registered the way cli.py registers it)."""
    return subprocess.run(
        [sys.executable, "-c", SNAPSHOT_CLI, "snapshot", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "WALSTREAM_LOG_FORMAT": "text", **(env or {})},
        timeout=timeout,
        check=False,
    )


def test_kill_during_snapshot_then_restart_leaves_no_trace_of_the_partial_load_in_final(
    db: PgDatabase, tmp_path: Path, wh: LocalWarehouse
) -> None:
    setup_source(db, accounts=4000, lines=4000)
    dest = f"file://{tmp_path}/dest"
    proc = snapshot_cli(
        "--dsn", db.dsn, "--dest", dest, "--create-slot", "--workers", "2",
        "--memory-budget", "4MB", "--chunk-size", "64KB",
        env={"WALSTREAM_FAULTS": "during_snapshot=kill@3"},
    )  # fmt: skip
    assert proc.returncode == KILL_EXIT_CODE, proc.stderr
    assert "fault point during_snapshot reached" in proc.stderr
    sink = open_sink(dest)
    checkpoint = json.loads(sink.get("_walstream/sf_sync/checkpoint.json") or b"{}")
    states = {t: e["snapshot"]["state"] for t, e in checkpoint["tables"].items()}
    assert set(states.values()) - {LOADED}, states
    partial = {key: sink.get(key) for key in sink.list("public/")}
    assert sum(1 for key in partial if "LOAD00000000" not in key) >= 3  # the dead snapshot's

    # the source changes rows the partial load holds, before the restart
    with db.connect() as conn:
        conn.execute("DELETE FROM accounts WHERE id % 3 = 0")
        conn.execute("UPDATE accounts SET name = 'after the crash' WHERE id % 3 = 1")
        conn.execute("DELETE FROM lines WHERE order_id % 2 = 0")

    summary = initial_load(run_config(db, dest), workers=2, progress="none")
    assert not summary.created_slot
    assert set(summary.tables) | set(summary.skipped) == {"public.accounts", "public.lines"}
    assert set(summary.tables) == {t for t, s in states.items() if s != LOADED}
    stream_until_current(db, dest)
    assert_final_equals_source(db, wh, dest)
    checkpoint = json.loads(sink.get("_walstream/sf_sync/checkpoint.json") or b"{}")
    assert {e["snapshot"]["state"] for e in checkpoint["tables"].values()} == {LOADED}
    # the partial files are still there, untouched: the new load wrote under new names, after a
    # T marker that orders them before itself
    assert all(sink.get(key) == data for key, data in partial.items())
    new_keys = [k for k in sink.list("public/") if k not in partial and "LOAD" in k]
    assert new_keys and all(k.endswith(f"-{summary.snapshot_lsn:016X}.parquet") for k in new_keys)


# -- same values as the stream ----------------------------------------------------------------


def test_load_files_have_the_stream_schema_and_values_for_every_type(
    db: PgDatabase, tmp_path: Path
) -> None:
    from tests.test_types_e2e import COLUMNS as ZOO_COLUMNS
    from tests.test_types_e2e import load_zoo, same, stream

    load_zoo(db)  # creates the slot, then inserts the rows: the stream carries them
    streamed = {r["id"]: r for r in stream(db, f"file://{tmp_path}/stream", "on")}
    dest = f"file://{tmp_path}/load"
    run_snapshot(SnapshotConfig(db.dsn, "sf_sync", "walstream", dest, progress="none"))
    sink = open_sink(dest)
    loaded = {r["id"]: r for r in load_rows(sink, "zoo") if r["Op"] == "I"}
    assert sorted(loaded) == sorted(streamed)
    for rid, row in loaded.items():
        for name in ["id", *ZOO_COLUMNS]:
            assert same(row[name], streamed[rid][name]), (rid, name, row[name], streamed[rid][name])
    change_key = change_files(f"file://{tmp_path}/stream")["public.zoo"][0]
    load_key = next(k for k in change_files(sink)["public.zoo"] if k.endswith(".parquet"))
    stream_schema = read_file(open_sink(f"file://{tmp_path}/stream"), change_key).schema
    assert read_file(sink, load_key).schema.equals(stream_schema, check_metadata=True)


def test_publication_column_list_row_filter_and_partition_root_are_loaded_as_published(
    db: PgDatabase, tmp_path: Path
) -> None:
    db.execute(
        """
        CREATE TABLE wide (id int PRIMARY KEY, keep text, secret text,
                           twice int GENERATED ALWAYS AS (id * 2) STORED);
        INSERT INTO wide (id, keep, secret)
            SELECT g, 'k' || g, 's' || g FROM generate_series(1, 50) g;
        CREATE TABLE events (id int, at date, note text, PRIMARY KEY (id, at))
            PARTITION BY RANGE (at);
        CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');
        CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2024-07-01') TO ('2025-01-01');
        INSERT INTO events SELECT g, date '2024-01-01' + g, 'n' || g FROM generate_series(1, 300) g;
        CREATE PUBLICATION walstream FOR TABLE wide (id, keep) WHERE (id % 2 = 0), events
            WITH (publish_via_partition_root = true);
        """
    )
    db.create_slot()
    dest = f"file://{tmp_path}/dest"
    summary = run_snapshot(SnapshotConfig(db.dsn, "sf_sync", "walstream", dest, progress="none"))
    assert set(summary.tables) == {"public.wide", "public.events"}
    sink = open_sink(dest)
    wide = [r for r in load_rows(sink, "wide") if r["Op"] == "I"]
    assert sorted((r["id"], r["keep"]) for r in wide) == [(i, f"k{i}") for i in range(2, 51, 2)]
    assert "secret" not in wide[0] and "twice" not in wide[0]
    events = [r for r in load_rows(sink, "events") if r["Op"] == "I"]
    # read partition by partition: each leaf numbers its rows in a range of its own
    assert len(events) == 300 and len({r["_walstream_seq"] for r in events}) == 300
    first_half = datetime.date(2024, 7, 1)
    assert all(r["_walstream_seq"] >> 48 == (1 if r["at"] < first_half else 2) for r in events)
    # the stream describes both tables the same way
    db.execute("INSERT INTO wide (id, keep, secret) VALUES (100, 'x', 'y')")
    db.execute("INSERT INTO events VALUES (1000, '2024-08-01', 'z')")
    stream_dest = f"file://{tmp_path}/stream"
    stream_until_current(db, stream_dest)
    for table in ("wide", "events"):
        change_key = change_files(stream_dest)[f"public.{table}"][0]
        streamed = read_file(open_sink(stream_dest), change_key)
        load_key = next(k for k in change_files(sink)[f"public.{table}"] if "LOAD00010000" in k)
        assert read_file(sink, load_key).schema.equals(streamed.schema, check_metadata=True)


def test_one_column_tables_keep_nulls_empty_strings_quotes_and_line_breaks(
    db: PgDatabase, tmp_path: Path
) -> None:
    """COPY CSV writes a one-column NULL as an empty line: it must stay a row, in both parsers."""
    texts = [None, "", '"', 'say "hi"', "a\nb", "\\N", ",", " padded ", "é✓"]
    db.execute("CREATE TABLE solo_text (v text); CREATE TABLE solo_int (v int)")
    with db.connect() as conn:
        for value in texts:
            conn.execute("INSERT INTO solo_text VALUES (%s)", (value,))
        conn.execute("INSERT INTO solo_int VALUES (NULL), (1), (NULL), (NULL), (2)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE solo_text, solo_int")
    db.create_slot()
    dest = f"file://{tmp_path}/dest"
    run_snapshot(SnapshotConfig(db.dsn, "sf_sync", "walstream", dest, progress="none"))
    sink = open_sink(dest)
    for table, want in (("solo_text", texts), ("solo_int", [None, 1, None, None, 2])):
        rows = sorted((r for r in load_rows(sink, table) if r["Op"] == "I"),
                      key=lambda r: r["_walstream_seq"])  # fmt: skip
        assert [r["v"] for r in rows] == want
        assert [r["_walstream_seq"] for r in rows] == list(range(1, len(want) + 1))


def test_tables_with_odd_names_get_load_and_change_files_in_one_escaped_folder(
    db: PgDatabase, tmp_path: Path
) -> None:
    """A ``/`` in a table name would add a level to the layout and ``..`` would walk out of it:
    full-load keys escape them like change keys (walstream/layout.py key_segment), so the table's
    one pipe (and the local warehouse) finds both, and FINAL equals the source. With the other
    hostile names of tests/test_hostile.py: quotes, spaces, unicode, 63 characters."""
    long = "t" * 63
    odd = '"Odd Schema"."we""ird tåble 🎉"'
    db.execute('CREATE SCHEMA "Odd Schema"')
    db.execute(
        'CREATE TABLE "a/b" (id int PRIMARY KEY, v text); CREATE TABLE ".." (id int PRIMARY KEY);'
        f'CREATE TABLE {odd} ("Key Col" int PRIMARY KEY, "naïve ""quoted"" col" text);'
        f'CREATE TABLE "{long}" (id int PRIMARY KEY, "{long}" text)'
    )
    db.execute("INSERT INTO \"a/b\" VALUES (1, 'x'), (2, 'y'); INSERT INTO \"..\" VALUES (7)")
    db.execute(f"INSERT INTO {odd} VALUES (1, 'ü'); INSERT INTO \"{long}\" VALUES (1, 'l')")
    db.execute(f'CREATE PUBLICATION walstream FOR TABLE "a/b", "..", {odd}, "{long}"')
    db.create_slot()
    dest = f"file://{tmp_path}/dest"
    run_snapshot(SnapshotConfig(db.dsn, "sf_sync", "walstream", dest, progress="none"))
    db.execute('UPDATE "a/b" SET v = \'z\' WHERE id = 2; INSERT INTO ".." VALUES (8)')
    db.execute(f"INSERT INTO {odd} VALUES (2, 'v'); UPDATE \"{long}\" SET \"{long}\" = 'm'")
    Runner(run_config(db, dest, until_lsn=parse_lsn(db.current_lsn()))).run()
    files = change_files(dest)
    assert sorted(files) == sorted(
        ["public.%2E%2E", "public.a%2Fb", 'Odd Schema.we"ird tåble 🎉', f"public.{long}"]
    )
    for keys in files.values():
        # one folder per table holds its full-load and its change files
        assert len({k.rsplit("/", 1)[0] for k in keys}) == 1, keys
        assert any("/LOAD" in k for k in keys) and any("/LOAD" not in k for k in keys), keys
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        assert wh.conn.execute('SELECT id, v FROM public."a/b" ORDER BY 1').fetchall() == [
            (1, "x"),
            (2, "z"),
        ]
        assert wh.conn.execute('SELECT id FROM public.".." ORDER BY 1').fetchall() == [(7,), (8,)]
        sql = f'SELECT "Key Col", "naïve ""quoted"" col" FROM {odd} ORDER BY 1'
        assert wh.conn.execute(sql).fetchall() == [
            (1, "ü"),
            (2, "v"),
        ]
        sql = f'SELECT id, "{long}" FROM public."{long}"'
        assert wh.conn.execute(sql).fetchall() == [(1, "m")]

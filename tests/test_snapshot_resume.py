"""A full load shared by worker processes, killed at random points, and resumed chunk by chunk.

Real components only: an embedded PostgreSQL with a workload writing during the load, DEST on a
moto S3 server (127.0.0.1), worker processes started with ``walstream snapshot --join`` and
killed with SIGKILL (at named fault points, or by a timer while they read), the coordinator
holding the snapshot in this process, the stream after the load, and the local DuckDB
warehouse whose FINAL is compared row by row with the source. What is counted: every chunk's
``snapshot_chunk_start`` and ``snapshot_chunk_done`` lines over all worker runs.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tests.conftest import PgDatabase
from tests.test_snapshot import (
    SNAPSHOT_CLI,
    Workload,
    assert_final_equals_source,
    setup_source,
    snapshot_cli,
    stream_until_current,
)
from walstream.errors import SinkError
from walstream.faults import KILL_EXIT_CODE
from walstream.metrics import parse_exposition
from walstream.sink import open_sink
from walstream.snapshot import LOADED, SnapshotConfig, SnapshotSummary, run_snapshot
from walstream.snapshot.plan import LoadPlan, PlanTable, read_plan
from walstream.snapshot.progress import Progress, ProgressCollector
from walstream.snapshot.tables import Chunk, Partition
from walstream.warehouse import LocalWarehouse

START = re.compile(r"event=snapshot_chunk_start table=\S+ chunk=\d+ ordinal=(\d+)")
DONE = re.compile(r"event=snapshot_chunk_done table=\S+ chunk=\d+ ordinal=(\d+)")


def join_worker(dsn: str, dest: str, env: Mapping[str, str], log: Path) -> subprocess.Popen[str]:
    """``walstream snapshot --join`` in a child process, its log in the file ``log``."""
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", SNAPSHOT_CLI, "snapshot", "--join", "--dsn", dsn, "--dest",
             dest, "--workers", "1", "--join-wait", "10"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            env={**os.environ, "WALSTREAM_LOG_FORMAT": "text", **env},
        )  # fmt: skip


def killed(proc: subprocess.Popen[str]) -> bool:
    return proc.returncode in (KILL_EXIT_CODE, -signal.SIGKILL)


def test_workers_killed_at_random_points_read_again_only_chunks_not_done(
    db: PgDatabase, s3_dest: str, tmp_path: Path
) -> None:
    rng = random.Random(21)
    setup_source(db, accounts=6000, lines=12000)
    workload = Workload(db.dsn, seed=21)
    workload.start()
    summary: list[SnapshotSummary] = []
    errors: list[BaseException] = []

    def coordinate() -> None:  # holds the snapshot; reads nothing itself
        try:
            config = SnapshotConfig(
                db.dsn, "sf_sync", "walstream", s3_dest, workers=0, create_slot=True,
                chunk_bytes=64 << 10, memory_budget=4 << 20, progress="log",
            )  # fmt: skip
            summary.append(run_snapshot(config))
        except BaseException as exc:
            errors.append(exc)

    coordinator = threading.Thread(target=coordinate, daemon=True)
    coordinator.start()
    kills = 0
    runs: list[subprocess.Popen[str]] = []
    deadline = time.monotonic() + 240
    try:
        while coordinator.is_alive() and time.monotonic() < deadline:
            alive = []
            for proc in runs:
                if proc.poll() is None:
                    alive.append(proc)
                else:
                    kills += killed(proc)
            runs = alive
            while len(runs) < 2:  # two workers at a time, each killed at a random point
                env: dict[str, str] = {}
                timer = None
                if kills < 4:
                    how = rng.choice(["during_snapshot", "after_chunk", "timer"])
                    if how == "timer":
                        timer = rng.uniform(0.3, 1.5)
                    else:
                        env["WALSTREAM_FAULTS"] = f"{how}=kill@{rng.randint(1, 4)}"
                log = tmp_path / f"worker-{len(list(tmp_path.glob('worker-*')))}.log"
                proc = join_worker(db.dsn, s3_dest, env, log)
                if timer is not None:
                    threading.Timer(timer, _kill, (proc,)).start()
                runs.append(proc)
            time.sleep(0.1)
        coordinator.join(60)
    finally:
        for proc in runs:
            proc.wait(60)
            kills += killed(proc)
        workload.finish()
    assert not errors, errors
    assert summary and not coordinator.is_alive()
    sink = open_sink(s3_dest)
    plan = read_plan(sink, "sf_sync")
    assert plan is not None and plan.finished and plan.chunk_count >= 8
    text = "".join(log.read_text() for log in tmp_path.glob("worker-*.log"))
    starts = Counter(int(m) for m in START.findall(text))
    dones = Counter(int(m) for m in DONE.findall(text))
    # every chunk was recorded done exactly once, and read again only after a kill took it
    assert dones == Counter(range(plan.chunk_count)), dones
    reread = sum(starts.values()) - plan.chunk_count
    assert kills >= 3 and 0 <= reread <= kills, (kills, reread, starts)
    assert set(starts) == set(range(plan.chunk_count))
    print(f"chunks={plan.chunk_count} kills={kills} chunks read again={reread}")
    stream_until_current(db, s3_dest)
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        assert_final_equals_source(db, wh, s3_dest)


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)


def test_the_coordinator_killed_takes_its_snapshot_along_and_the_same_command_reloads_the_rest(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db, accounts=3000, lines=4000)
    dest = f"file://{tmp_path}/dest"
    command = ("--dsn", db.dsn, "--dest", dest, "--create-slot", "--workers", "2",
               "--memory-budget", "4MB", "--chunk-size", "64KB")  # fmt: skip
    killed = snapshot_cli(*command, env={"WALSTREAM_FAULTS": "after_chunk=kill@4"})
    assert killed.returncode == KILL_EXIT_CODE, killed.stderr
    sink = open_sink(dest)
    lost = read_plan(sink, "sf_sync")
    assert lost is not None and not lost.finished and len(lost.done_ordinals(sink)) > 0

    # a worker cannot join: the snapshot went with its coordinator (one line, exit 3: source)
    joined = snapshot_cli("--join", "--dsn", db.dsn, "--dest", dest, "--join-wait", "0")
    assert joined.returncode == 3, joined.stderr
    assert "can no longer be joined: its exported snapshot is gone" in joined.stderr
    assert "Traceback" not in joined.stderr

    db.execute("DELETE FROM accounts WHERE id % 3 = 0")  # the source moves on meanwhile
    db.execute("UPDATE lines SET qty = qty + 100 WHERE order_id % 5 = 0")
    again = snapshot_cli(*command)
    assert again.returncode == 0, again.stderr
    assert "event=snapshot_lost" in again.stderr and lost.snapshot_name in again.stderr
    plan = read_plan(sink, "sf_sync")
    assert plan is not None and plan.finished and plan.snapshot_lsn > lost.snapshot_lsn
    # never a mix: every row file of the new load is of the new snapshot and listed in its
    # own done records; the lost load's files stay, ordered before the new T marker
    new_done = plan.done(sink, {})
    listed = {key for record in new_done.values() for key, _ in record.files}
    assert listed and all(k.endswith(f"-{plan.snapshot_lsn:016X}.parquet") for k in listed)
    stream_until_current(db, dest)
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        assert_final_equals_source(db, wh, dest)


def test_a_second_coordinator_is_refused_while_the_first_holds_the_snapshot(
    db: PgDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    setup_source(db, accounts=2000, lines=10)
    dest = f"file://{tmp_path}/dest"
    db.create_slot()
    config = SnapshotConfig(
        db.dsn, "sf_sync", "walstream", dest, workers=0, chunk_bytes=64 << 10,
        progress="none", stall_seconds=0.5,
    )  # fmt: skip
    first = threading.Thread(target=lambda: run_snapshot(config), daemon=True)
    first.start()
    sink = open_sink(dest)
    deadline = time.monotonic() + 30
    while read_plan(sink, "sf_sync") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    second = snapshot_cli("--dsn", db.dsn, "--dest", dest)
    assert second.returncode == 3 and "is still running: its coordinator holds" in second.stderr
    assert "walstream snapshot --join --slot sf_sync" in second.stderr
    joined = snapshot_cli("--join", "--dsn", db.dsn, "--dest", dest, "--workers", "2")
    assert joined.returncode == 0, joined.stderr
    first.join(60)
    assert not first.is_alive()
    plan = read_plan(sink, "sf_sync")
    assert plan is not None and plan.finished
    # the coordinator alone read nothing, and said so while it waited for workers
    assert "event=snapshot_stalled" in caplog.text and "--join) are running" in caplog.text


def test_join_without_a_running_load_says_so_and_exits_0(db: PgDatabase, tmp_path: Path) -> None:
    joined = snapshot_cli(
        "--join", "--dsn", db.dsn, "--dest", f"file://{tmp_path}/d", "--join-wait", "0"
    )
    assert joined.returncode == 0, joined.stderr
    assert "event=snapshot_join_nothing" in joined.stderr


@pytest.mark.parametrize("via_root", [True, False])
def test_eight_partitions_load_in_parallel_as_the_publication_streams_them(
    db: PgDatabase, tmp_path: Path, via_root: bool
) -> None:
    db.execute(
        "CREATE TABLE events (id int, shard int, note text, PRIMARY KEY (id, shard)) "
        "PARTITION BY LIST (shard)"
    )
    for i in range(8):
        db.execute(f"CREATE TABLE events_{i} PARTITION OF events FOR VALUES IN ({i})")
    db.execute(
        "INSERT INTO events SELECT g, g % 8, repeat('n', g % 50) || g "
        "FROM generate_series(1, 40000) g"
    )
    db.execute(
        "CREATE PUBLICATION walstream FOR TABLE events "
        f"WITH (publish_via_partition_root = {str(via_root).lower()})"
    )
    dest = f"file://{tmp_path}/dest"
    summary = run_snapshot(
        SnapshotConfig(
            db.dsn, "sf_sync", "walstream", dest, workers=3, create_slot=True,
            chunk_bytes=64 << 10, progress="none",
        )
    )  # fmt: skip
    tables = {"public.events"} if via_root else {f"public.events_{i}" for i in range(8)}
    assert set(summary.tables) == tables
    assert all(t.state == LOADED for t in summary.tables.values())
    sink = open_sink(dest)
    folders = {key.split("/")[1] for key in sink.list("public/")}
    assert folders == {t.split(".")[1] for t in tables}  # files under the root's prefix, or not
    plan = read_plan(sink, "sf_sync")
    assert plan is not None and plan.chunk_count >= 16  # every partition split in chunks
    if via_root:
        assert {c.partition.name for _, _, c in plan.chunks() if c.partition} == {
            f"events_{i}" for i in range(8)
        }
    db.execute("UPDATE events SET note = 'after' WHERE id % 7 = 0")
    db.execute("DELETE FROM events WHERE id % 11 = 0")
    db.execute("INSERT INTO events VALUES (50001, 3, 'new')")
    stream_until_current(db, dest)
    want = sorted(db.execute("SELECT id, shard, note FROM events"))
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        got: list[tuple[object, ...]] = []
        for table in sorted(tables):
            name = table.split(".")[1]
            got += wh.conn.execute(f'SELECT id, shard, note FROM public."{name}"').fetchall()
    assert sorted(got) == want


def test_progress_counts_each_chunk_once_and_serves_rates_eta_and_totals_as_gauges() -> None:
    progress = Progress()
    progress.start([("public.a", 100, 4), ("public.b", 10, 1)])
    progress.chunk_started("public.a", 0)
    progress.advance("public.a", 0, 500, 5000)
    assert progress.tables["public.a"].rows == 500  # in flight
    progress.chunk_done("public.a", 0, 25, 1000, 10_000)
    progress.chunk_done("public.a", 0, 25, 1000, 10_000)  # a worker and the coordinator
    progress.chunk_done("public.a", 1, 25, 1000, 10_000)  # read by a worker elsewhere
    entry = progress.tables["public.a"]
    assert (entry.rows, entry.bytes, entry.chunks_done, entry.blocks_done) == (2000, 20_000, 2, 50)
    eta = entry.eta()
    assert eta is not None and eta >= 0  # half the blocks done: about as long again
    registry = CollectorRegistry()
    registry.register(ProgressCollector(progress))
    scraped = {
        (name, labels.get("table")): value
        for name, labels, value in parse_exposition(generate_latest(registry).decode())
    }
    assert scraped[("walstream_snapshot_rows", "public.a")] == 2000
    assert scraped[("walstream_snapshot_chunks_done", "*")] == 2
    assert scraped[("walstream_snapshot_chunks", "*")] == 5
    assert scraped[("walstream_snapshot_eta_seconds", "public.b")] == -1  # nothing done yet
    assert scraped[("walstream_snapshot_loaded", "public.a")] == 0
    progress.table_done("public.b", 2)
    assert progress.tables["public.b"].eta() == 0.0


def test_a_plan_reads_back_as_written_and_a_damaged_one_names_itself_and_the_fix() -> None:
    leaf = Partition("public", "events_1", "r", 40, 40 * 8192, 1)
    chunks = (Chunk(0, 0, 20, 20, leaf), Chunk(1, 20, None, 20, leaf))
    plan = LoadPlan(
        slot="sf_sync", publication="walstream", snapshot_name="00000003-00000002-1",
        identity="750:750:", consistent_point=0x1000, snapshot_lsn=0xFFF,
        snapshot_ts_us=1_700_000_000_000_000, block_bytes=1 << 20, file_bytes=4 << 20,
        as_text=("numeric",), on_lossy="mark",
        tables=(PlanTable("public", "events", chunks, 0), PlanTable("s", "t.x", chunks[:1], 2)),
    )  # fmt: skip
    again = LoadPlan.from_json(plan.to_json(), "here")
    assert again == plan
    assert [o for o, _, _ in again.chunks()] == [0, 1, 2] and again.table("s.t.x").relname == "t.x"
    assert again.chunks().__next__()[2].first_seq == (1 << 48) + 1  # the leaf's own range
    with pytest.raises(SinkError, match=r"the snapshot plan here is unreadable .*delete it"):
        LoadPlan.from_json(b'{"version": 1}', "here")

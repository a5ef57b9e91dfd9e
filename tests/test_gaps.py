"""Nothing is skipped without notice (DESIGN.md §1 guarantee 8): a slot that is ahead of what
walstream recorded as stored is refused, loudly, with both positions and the ways out.

The record is the checkpoint, written before every ack, idle positions included, so the slot
can never legitimately be ahead of it. Each test streams, then does what an operator (or an
accident) does to the slot, and starts walstream again.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from tests.changes import read_table
from tests.cli_run import walstream
from tests.conftest import PgDatabase, write_wal_until_lost
from tests.streaming import BackgroundRunner, run_to_current, wait_for
from walstream.embedded import LocalPostgres
from walstream.errors import SourceError
from walstream.layout import checkpoint_key
from walstream.lsn import format_lsn, parse_lsn
from walstream.pipeline.checkpoint import Checkpoint
from walstream.pipeline.runner import RunConfig, Runner
from walstream.sink import open_sink
from walstream.warehouse import LocalWarehouse


def _setup(db: PgDatabase) -> None:
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()


def _insert(db: PgDatabase, first: int, count: int) -> None:
    db.execute(
        "INSERT INTO t SELECT g, 'v' || g FROM generate_series(%s::int, %s::int) g",
        (first, first + count - 1),
    )


def _stored_ids(dest: str) -> set[int]:
    return {int(r["id"]) for r in read_table(dest, "public.t")}


def test_a_recreated_slot_is_refused_with_both_positions_and_nothing_is_written(
    db: PgDatabase, tmp_path: Path
) -> None:
    _setup(db)
    dest = f"file://{tmp_path}/dest"
    _insert(db, 1, 10)
    run_to_current(db, dest)
    recorded = Checkpoint.load(open_sink(dest), "sf_sync").acked_lsn
    _insert(db, 11, 50)  # never streamed: lost with the old slot
    db.execute("SELECT pg_drop_replication_slot('sf_sync')")
    db.create_slot()
    _insert(db, 61, 5)
    slot = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    files_before = sorted(p.name for p in (tmp_path / "dest").rglob("*.parquet"))
    with pytest.raises(SourceError) as refused:
        run_to_current(db, dest)
    message = str(refused.value)
    assert format_lsn(slot) in message and format_lsn(recorded) in message
    assert "--accept-gap" in message and "snapshot" in message
    assert refused.value.exit_code == 3
    assert sorted(p.name for p in (tmp_path / "dest").rglob("*.parquet")) == files_before
    assert parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0") == slot  # nothing acked


def test_the_cli_exits_3_with_one_line_and_accept_gap_goes_on_and_logs_it(
    db: PgDatabase, tmp_path: Path
) -> None:
    _setup(db)
    dest = f"file://{tmp_path}/dest"
    _insert(db, 1, 10)
    run_to_current(db, dest)
    _insert(db, 11, 50)
    # advanced by hand past the 50 rows: they are never streamed
    db.execute("SELECT pg_replication_slot_advance('sf_sync', pg_current_wal_lsn())")
    _insert(db, 61, 5)
    until = db.current_lsn()
    args = ["run", "--dsn", db.dsn, "--dest", dest, "--until-lsn", until]
    result = walstream(*args)
    assert result.returncode == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("walstream: error")]
    assert len(errors) == 1 and "advanced by hand" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    accepted = walstream(*args, "--accept-gap", env={"WALSTREAM_FLUSH_INTERVAL": "200ms"})
    assert accepted.returncode == 0, accepted.stderr
    assert "event=gap_accepted" in accepted.stderr
    assert _stored_ids(dest) == set(range(1, 11)) | set(range(61, 66))
    # accepted once: the next start has nothing to complain about
    again = walstream(*args)
    assert again.returncode == 0, again.stderr


def test_an_idle_slot_is_recorded_before_it_is_confirmed(db: PgDatabase, tmp_path: Path) -> None:
    """Writes outside the publication move the slot by keepalives alone: each confirmed
    position was recorded first, so the next start sees no gap."""
    _setup(db)
    db.execute("CREATE TABLE other (id int)")
    dest = f"file://{tmp_path}/dest"
    _insert(db, 1, 3)
    run_to_current(db, dest)
    db.execute("INSERT INTO other SELECT generate_series(1, 1000)")
    run_to_current(db, dest)  # the position of the unpublished writes is confirmed
    slot = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    recorded = Checkpoint.load(open_sink(dest), "sf_sync").acked_lsn
    assert recorded >= slot
    _insert(db, 4, 2)
    run_to_current(db, dest)  # no refusal
    assert _stored_ids(dest) == set(range(1, 6))


def test_a_corrupt_checkpoint_is_kept_aside_and_refused_and_a_forged_one_is_not_trusted(
    db: PgDatabase, tmp_path: Path
) -> None:
    _setup(db)
    dest = f"file://{tmp_path}/dest"
    _insert(db, 1, 3)
    run_to_current(db, dest)
    path = tmp_path / "dest" / checkpoint_key("sf_sync")
    doc = json.loads(path.read_text())
    doc["acked_lsn"] = "FF/0"  # forged: far ahead of the slot
    path.write_text(json.dumps(doc))
    _insert(db, 4, 2)
    run_to_current(db, dest)  # the slot decides where the stream resumes
    assert _stored_ids(dest) == set(range(1, 6))
    assert parse_lsn(json.loads(path.read_text())["acked_lsn"]) < parse_lsn("FF/0")
    path.write_text('{"acked_lsn": 5')  # torn
    with pytest.raises(SourceError, match="could not be read"):
        run_to_current(db, dest)
    assert list(path.parent.glob("checkpoint.json.corrupt-*"))


def test_a_slot_dropped_while_walstream_runs_stops_it_with_exit_3(
    db: PgDatabase, tmp_path: Path
) -> None:
    """Not retried forever while looking healthy: on reconnect the slot is checked as at
    start-up."""
    _setup(db)
    dest = f"file://{tmp_path}/dest"
    _insert(db, 1, 3)
    bg = BackgroundRunner.start(db, dest, reconnect_attempts=0)
    try:
        wait_for(lambda: bool(_active_pid(db)), 30, "the slot to be streamed", bg)

        def dropped() -> bool:
            pid = _active_pid(db)
            if pid:
                db.execute("SELECT pg_terminate_backend(%s)", (pid,))
                return False
            try:
                db.execute("SELECT pg_drop_replication_slot('sf_sync')")
            except psycopg.Error:
                return False
            return True

        wait_for(dropped, 30, "the slot to be dropped")
        with pytest.raises(SourceError, match="was dropped while walstream ran") as stopped:
            bg.join(timeout=60)
        assert stopped.value.exit_code == 3
    finally:
        bg.runner.request_stop()


def _active_pid(db: PgDatabase) -> int | None:
    rows = db.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'sf_sync'")
    return None if not rows or rows[0][0] is None else int(str(rows[0][0]))


def test_two_slots_on_one_dest_never_overwrite_each_others_files(
    db: PgDatabase, tmp_path: Path
) -> None:
    """A blue/green move, or tables split over slots: two slots whose publications share a
    table write the same table at the same LSNs. Each file keeps its own key (the slot is in
    it), every file is intact, and FINAL equals the source."""
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE t")
    db.execute("CREATE PUBLICATION green FOR TABLE t WHERE (id > 10)")
    db.create_slot("blue")
    db.create_slot("green")
    _insert(db, 1, 30)
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, slot="blue")
    run_to_current(db, dest, slot="green", publication="green")
    files = sorted((tmp_path / "dest" / "public" / "t").glob("*.parquet"))
    assert {f.name.rsplit("-", 1)[1] for f in files} == {"blue.parquet", "green.parquet"}
    rows = {f.name: pq.read_table(f).num_rows for f in files}
    assert sorted(rows.values()) == [20, 30], rows  # neither replaced the other
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        final = wh.conn.execute("SELECT id, v FROM public.t ORDER BY id").fetchall()
    assert final == [(i, f"v{i}") for i in range(1, 31)]


def test_status_reports_the_gap_as_critical(db: PgDatabase, tmp_path: Path) -> None:
    _setup(db)
    dest = f"file://{tmp_path}/dest"
    _insert(db, 1, 3)
    run_to_current(db, dest)
    assert walstream("status", "--dsn", db.dsn, "--dest", dest).returncode != 2
    _insert(db, 4, 20)
    db.execute("SELECT pg_replication_slot_advance('sf_sync', pg_current_wal_lsn())")
    result = walstream("status", "--dsn", db.dsn, "--dest", dest, "--json")
    assert result.returncode == 2, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [p["code"] for p in problems if p["severity"] == "critical"] == ["gap"], problems


def test_a_slot_invalidated_while_walstream_runs_stops_it_with_exit_3(
    tiny_wal_server: LocalPostgres, tmp_path: Path
) -> None:
    """max_slot_wal_keep_size removes the WAL a lagging slot holds, and the server ends its
    walsender: walstream must not retry START_REPLICATION forever while /healthz says 200.
    The long status interval keeps walstream's acks (and so the slot's restart_lsn) behind
    the WAL written to an unpublished table, as a slow consumer's would be."""
    dsn = tiny_wal_server.dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP PUBLICATION IF EXISTS walstream")
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots")
        conn.execute("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE IF NOT EXISTS filler (id serial, pad text)")
        conn.execute("CREATE PUBLICATION walstream FOR TABLE t")
        conn.execute("SELECT pg_create_logical_replication_slot('sf_sync', 'pgoutput')")
        cfg = RunConfig(
            dsn=dsn,
            slot="sf_sync",
            publication="walstream",
            dest=f"file://{tmp_path}/dest",
            flush_interval=0.3,
            status_interval=600,
            reconnect_attempts=3,
        )
        bg = BackgroundRunner(Runner(cfg))
        try:

            def streaming() -> bool:
                row = conn.execute(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = 'sf_sync'"
                ).fetchone()
                return row is not None and bool(row[0])

            wait_for(streaming, 30, "the slot to be streamed", bg)

            def lost() -> bool:
                if bg.error is not None or not bg.thread.is_alive():
                    return True
                return write_wal_until_lost(conn, "sf_sync")

            wait_for(lost, 60, "the slot to be invalidated")
            with pytest.raises(SourceError, match="sf_sync") as stopped:
                bg.join(timeout=60)
            assert stopped.value.exit_code == 3
            assert "re-load the tables" in str(stopped.value) or "snapshot" in str(stopped.value)
        finally:
            bg.runner.request_stop()

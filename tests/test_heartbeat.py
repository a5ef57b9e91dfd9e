"""Heartbeat: a transactional logical message keeps an idle publication's slot moving."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg

from tests.conftest import PgDatabase
from tests.waiting import wait_for
from walstream.heartbeat import Heartbeat
from walstream.lsn import parse_lsn
from walstream.metrics import Metrics
from walstream.pipeline.runner import RunConfig, Runner


def slot_lsns(db: PgDatabase) -> tuple[int, int]:
    rows = db.execute(
        "SELECT restart_lsn::text, confirmed_flush_lsn::text FROM pg_replication_slots "
        "WHERE slot_name = 'sf_sync'"
    )
    return parse_lsn(str(rows[0][0])), parse_lsn(str(rows[0][1]))


def test_heartbeat_advances_restart_lsn_of_an_idle_publication(
    db: PgDatabase, tmp_path: Path
) -> None:
    db.execute(
        "CREATE TABLE quiet (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE quiet"
    )
    db.create_slot()
    restart0, confirmed0 = slot_lsns(db)
    runner = Runner(
        RunConfig(
            db.dsn,
            "sf_sync",
            "walstream",
            f"file://{tmp_path}",
            status_interval=0.2,
            heartbeat_interval=0.2,
        )
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        with db.connect() as conn:

            def moved() -> bool:
                # what the bgwriter does every 15 s on a server with WAL traffic: log the
                # running transactions, the point decoding can restart from
                conn.execute("SELECT pg_log_standby_snapshot()")
                restart, confirmed = slot_lsns(db)
                return restart > restart0 and confirmed > confirmed0

            wait_for(moved, timeout=60, what="restart_lsn and confirmed_flush_lsn to advance")
        assert runner.summary.transactions >= 1  # heartbeat transactions were received
        assert runner.summary.changes == 0  # ... and carried no rows
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    assert not list(tmp_path.glob("public/**/*.parquet"))  # heartbeats write no files


def test_heartbeat_survives_connection_failures_and_counts_them(db: PgDatabase) -> None:
    attempts = []

    def connect() -> psycopg.Connection[tuple[object, ...]]:
        attempts.append(1)
        if len(attempts) <= 2:
            raise psycopg.OperationalError("connection refused (test)")
        return db.connect()

    metrics = Metrics()
    heartbeat = Heartbeat(connect, 0.05, metrics=metrics).start()
    try:
        wait_for(lambda: heartbeat.sent >= 2, what="heartbeats after two failures")
    finally:
        heartbeat.close()
    assert heartbeat.last_lsn is not None
    errors = metrics.registry.get_sample_value("walstream_heartbeats_total", {"result": "error"})
    assert errors == 2
    ok = metrics.registry.get_sample_value("walstream_heartbeats_total", {"result": "ok"})
    assert ok is not None and ok >= 2
    messages = db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    )
    assert messages  # the connection is closed with the heartbeat (no leak assertion flake)

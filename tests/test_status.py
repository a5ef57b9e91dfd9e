"""``walstream status``: slot lag, WAL retention and consumer progress, as JSON and exit codes.

Real PostgreSQL for every case: an idle slot with lag, a missing slot, an active consumer (a
Runner streaming to file://), and a slot invalidated by ``max_slot_wal_keep_size`` on a
dedicated small server.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import click
import jsonschema
import psycopg
import pytest
from click.testing import CliRunner

from tests.conftest import PgDatabase, write_wal_until_lost
from tests.waiting import wait_for
from walstream.commands.config import config_option
from walstream.commands.ops import COMMANDS
from walstream.embedded import LocalPostgres
from walstream.lsn import parse_lsn
from walstream.ops.status import read_checkpoint
from walstream.ops.status_schema import STATUS_SCHEMA
from walstream.pipeline.runner import RunConfig, Runner
from walstream.sink import open_sink


def cli() -> click.Group:
    @click.group()
    @config_option
    def root() -> None:
        pass

    for command in COMMANDS:
        root.add_command(command)
    return root


def status(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli(), ["status", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, STATUS_SCHEMA)
    assert doc["exit_code"] == result.exit_code
    return result.exit_code, doc


def codes(doc: dict[str, Any]) -> set[str]:
    return {p["code"] for p in doc["problems"]}


@pytest.fixture
def published(db: PgDatabase) -> PgDatabase:
    db.execute(
        "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION walstream FOR TABLE t"
    )
    db.create_slot()
    return db


def test_idle_slot_reports_lag_and_warns_then_goes_critical_over_threshold(
    published: PgDatabase,
) -> None:
    db = published
    db.execute("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 500) g")
    code, doc = status("--dsn", db.dsn, "--slot", "sf_sync")
    assert code == 1 and doc["status"] == "warning"
    assert codes(doc) == {"slot_inactive"}
    slot, server = doc["slot"], doc["server"]
    assert server["is_writer"] is True and server["in_recovery"] is False
    assert slot["active"] is False and slot["active_pid"] is None
    assert slot["plugin"] == "pgoutput" and slot["wal_status"] == "reserved"
    assert slot["lag_bytes"] > 100_000  # the inserts above are all unconfirmed
    assert slot["retained_bytes"] >= slot["lag_bytes"]
    assert slot["lag_bytes"] == parse_lsn(server["current_wal_lsn"]) - parse_lsn(
        slot["confirmed_flush_lsn"]
    )
    assert slot["consumer"] is None and doc["checkpoint"] is None

    code, doc = status("--dsn", db.dsn, "--warn-lag-bytes", "1KB")
    assert code == 1 and "lag_bytes" in codes(doc)
    code, doc = status("--dsn", db.dsn, "--max-lag-bytes", "1KB", "--warn-lag-bytes", "1")
    assert code == 2 and doc["status"] == "critical"
    assert doc["problems"][0]["code"] == "lag_bytes"  # critical first
    assert [p["severity"] for p in doc["problems"] if p["code"] == "lag_bytes"] == ["critical"]
    code, doc = status("--dsn", db.dsn, "--max-lag-bytes", "1GB")
    assert code == 1 and "lag_bytes" not in codes(doc)


def test_missing_slot_is_critical(db: PgDatabase) -> None:
    code, doc = status("--dsn", db.dsn, "--slot", "nope")
    assert code == 2 and doc["slot"] is None
    assert doc["problems"][0]["code"] == "slot_missing"
    assert "walstream slot create --slot nope" in doc["problems"][0]["message"]


def test_missing_checkpoint_under_dest_warns(published: PgDatabase, tmp_path: Path) -> None:
    code, doc = status("--dsn", published.dsn, "--dest", f"file://{tmp_path}")
    assert code == 1 and {"checkpoint_missing", "slot_inactive"} == codes(doc)
    assert doc["checkpoint"]["found"] is False


def test_active_consumer_shows_pid_checkpoint_tables_and_exits_ok(
    published: PgDatabase, tmp_path: Path
) -> None:
    db = published
    dest = f"file://{tmp_path}/dest"
    runner = Runner(
        RunConfig(db.dsn, "sf_sync", "walstream", dest, flush_interval=0.2, status_interval=0.2)
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        db.execute("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g")
        target = parse_lsn(db.current_lsn())
        wait_for(lambda: runner.acked_lsn >= target, what="the inserts acked")
        code, doc = status("--dsn", db.dsn, "--dest", dest, "--max-lag-seconds", "3600")
        assert code == 0, doc["problems"]
        slot = doc["slot"]
        assert slot["active"] is True and isinstance(slot["active_pid"], int)
        assert slot["consumer"]["pid"] == slot["active_pid"]
        assert slot["consumer"]["application_name"] == "walstream"
        assert slot["lag_seconds"] is not None and slot["lag_seconds"] < 3600
        checkpoint = doc["checkpoint"]
        assert checkpoint["found"] and parse_lsn(checkpoint["acked_lsn"]) >= target
        table = checkpoint["tables"]["public.t"]
        assert table["rows"] == 10 and table["last_file"].startswith("public/t/")
        assert table["freshness_seconds"] is not None and table["freshness_seconds"] < 600
        assert table["snapshot"] is None

        human = CliRunner().invoke(cli(), ["status", "--dsn", db.dsn, "--dest", dest])
        assert human.exit_code == 0, human.output
        for needle in ("OK", "slot sf_sync", "confirmed_flush_lsn", "public.t", "public/t/"):
            assert needle in human.stdout, human.stdout
    finally:
        runner.request_stop()
        thread.join(timeout=60)


def test_checkpoint_snapshot_state_and_freshness_are_reported(tmp_path: Path) -> None:
    sink = open_sink(f"file://{tmp_path}")
    commit = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    doc = {
        "version": 1,
        "slot": "s",
        "acked_lsn": "0/16B3748",
        "written_at": (commit + dt.timedelta(seconds=5)).isoformat(),
        "tables": {
            "public.a": {
                "last_file": "public/a/x.parquet",
                "first_lsn": "0/1",
                "last_lsn": "0/2",
                "last_file_rows": 3,
                "files": 1,
                "rows": 3,
                "last_commit_time": commit.isoformat(),
                "snapshot": {"state": "done", "rows": 1000},
            }
        },
    }
    sink.put("_walstream/s/checkpoint.json", json.dumps(doc).encode())
    now = commit + dt.timedelta(seconds=65)
    out = read_checkpoint(sink, "s", now)
    assert out["found"] and out["acked_lsn"] == "0/16B3748"
    assert out["age_seconds"] == 60.0 and out["freshness_seconds"] == 65.0
    assert out["tables"]["public.a"]["snapshot"] == {"state": "done", "rows": 1000}

    sink.put("_walstream/s/checkpoint.json", b"{not json")
    broken = read_checkpoint(sink, "s", now)
    assert broken["found"] is False and "unreadable" in broken["error"]


def test_slot_invalidated_by_max_slot_wal_keep_size_is_critical(
    tiny_wal_server: LocalPostgres,
) -> None:
    dsn = tiny_wal_server.dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE filler (id serial, pad text)")
        conn.execute("SELECT pg_create_logical_replication_slot('sf_sync', 'pgoutput')")

        wait_for(lambda: write_wal_until_lost(conn, "sf_sync"), timeout=60, what="wal_status lost")
    code, doc = status("--dsn", dsn, "--slot", "sf_sync")
    assert code == 2
    assert doc["problems"][0]["code"] == "wal_lost"
    assert "slot_inactive" not in codes(doc)  # the slot is gone for good; that says it all
    assert doc["slot"]["wal_status"] == "lost"
    assert doc["slot"]["invalidation_reason"] == "wal_removed"  # PostgreSQL 17+
    assert doc["slot"]["safe_wal_size"] is None


def test_json_schema_is_printed_without_a_server() -> None:
    result = CliRunner().invoke(cli(), ["status", "--json-schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == json.loads(json.dumps(STATUS_SCHEMA))
    jsonschema.Draft202012Validator.check_schema(schema)

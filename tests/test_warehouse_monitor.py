"""The warehouse monitor of ``walstream run --snowflake-monitor-interval``: the Snowflake half
as gauges on ``/metrics``, read as ``walstream status --snowflake`` reads it.

End to end, the monitor of a real run reads a real warehouse: PostgreSQL streams through the
pipeline into a destination, and the monitor's reader loads that destination into the local
DuckDB warehouse and reads it, as the status does (``read_warehouse``); FINAL freshness then
comes from the commit times the manifests carry, and the watermark lag from what the run
acknowledged. The Snowflake reader is checked on the emulated account of
tests/test_snowflake_history.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PgDatabase
from tests.test_metrics import get, scrape, value
from tests.test_snowflake_history import BROKEN, FIRST_ERROR, Account
from tests.test_snowflake_history import account as account  # the fixture
from tests.waiting import wait_for
from walstream.cli import main
from walstream.embedded import free_port
from walstream.lsn import parse_lsn
from walstream.pipeline.runner import RunConfig, Runner
from walstream.snowflake.apply import ConnectionSettings
from walstream.warehouse.monitor import MonitorSettings, WarehouseMonitor

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def collected(registry: CollectorRegistry) -> Samples:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_monitor_serves_the_snowflake_half_and_says_when_it_cannot_read(
    account: Account,
) -> None:
    account.load_attempt("STAGING_ORDERS", BROKEN, "Load failed", FIRST_ERROR, 240)
    account.task_run("MERGE_ORDERS", "FAILED", "boom", 30)
    settings = MonitorSettings(
        60.0, ConnectionSettings("acme", "cdc", "ANALYTICS", "CDC", password="x")
    )
    registry = CollectorRegistry()
    acked = 0x3A40010 + 4096
    monitor = WarehouseMonitor(settings.reader(), 60.0, "sf_sync", lambda: acked, registry)
    registry.register(monitor)
    assert monitor.poll()
    samples = collected(registry)
    orders = (("table", "public.orders"),)
    assert samples[("walstream_warehouse_monitor_up", ())] == 1
    assert samples[("walstream_warehouse_failed_files", orders)] == 1
    assert samples[("walstream_warehouse_failed_task_runs", orders)] == 1
    assert samples[("walstream_warehouse_watermark_lag_bytes", orders)] == 4096
    assert 110 < samples[("walstream_warehouse_freshness_seconds", orders)] < 600
    assert samples[("walstream_warehouse_failed_files", (("table", "public.sim"),))] == 0

    def refuse(now: dt.datetime, slot_lsns: Mapping[str, int]) -> dict[str, Any]:
        raise RuntimeError("250001 (08001): Failed to connect to DB")

    monitor._read = refuse
    assert not monitor.poll()
    later = collected(registry)
    assert later[("walstream_warehouse_monitor_up", ())] == 0
    # the last numbers stay, with their time: the alarm on monitor_up says they get old
    assert later[("walstream_warehouse_failed_files", orders)] == 1
    assert (
        later[("walstream_warehouse_monitor_last_success_timestamp_seconds", ())]
        == (samples[("walstream_warehouse_monitor_last_success_timestamp_seconds", ())])
    )


def test_a_run_serves_freshness_and_watermark_lag_of_the_warehouse_it_feeds(
    db: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("walstream.pipeline.flusher.IDLE_MANIFEST_SECONDS", 0.5)
    from walstream.warehouse import LocalWarehouse
    from walstream.warehouse.report import read_warehouse

    db.execute(
        "CREATE TABLE monitored (id int PRIMARY KEY, v text);"
        "CREATE PUBLICATION walstream FOR TABLE monitored"
    )
    db.create_slot()
    dest = f"file://{tmp_path}/dest"
    path = str(tmp_path / "wh.duckdb")
    lock = threading.Lock()

    def read(now: dt.datetime, slot_lsns: Mapping[str, int]) -> dict[str, Any]:
        with lock:  # the warehouse's loader: what Snowpipe and the tasks do
            with LocalWarehouse(path) as wh:
                wh.load(dest)
            return read_warehouse(path, now, slot_lsns)

    def start(acked: Any, registry: Any) -> WarehouseMonitor:
        return WarehouseMonitor(read, 0.2, "sf_sync", acked, registry).start()

    port = free_port()
    cfg = RunConfig(
        db.dsn,
        "sf_sync",
        "walstream",
        dest,
        flush_interval=0.2,
        status_interval=0.2,
        metrics_port=port,
        warehouse_monitor=start,
    )
    runner = Runner(cfg)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, what="/readyz")
        committed = dt.datetime.now(dt.UTC)
        with db.connect() as conn:
            conn.execute("INSERT INTO monitored SELECT g, 'x' FROM generate_series(1, 50) g")
        target = parse_lsn(db.current_lsn())
        table = {"table": "public.monitored"}

        def merged() -> bool:
            s = scrape(port)
            return (
                value(s, "walstream_acked_lsn") >= target
                and value(s, "walstream_warehouse_rows_loaded", **table) == 50
                and value(s, "walstream_warehouse_watermark_lsn", **table) > 0
                and (
                    s.get(
                        (
                            "walstream_warehouse_watermark_lag_bytes",
                            (("table", "public.monitored"),),
                        )
                    )
                    == 0
                )
            )

        wait_for(merged, what="the monitor sees the rows merged and the watermark caught up")
        s = scrape(port)
        assert value(s, "walstream_warehouse_monitor_up") == 1
        assert value(s, "walstream_warehouse_rows_written", **table) == 50
        assert value(s, "walstream_warehouse_unloaded_files", **table) == 0
        assert value(s, "walstream_warehouse_failed_files", **table) == 0
        # FINAL reflects the insert's commit: fresh to within the time since it committed
        age = (dt.datetime.now(dt.UTC) - committed).total_seconds()
        assert 0 <= value(s, "walstream_warehouse_freshness_seconds", **table) <= age + 1
        mark = value(s, "walstream_warehouse_watermark_lsn", **table)

        # the published table goes quiet while the server writes other WAL: the idle acks
        # write manifests without files, so the watermark and freshness keep following
        with db.connect() as conn:
            conn.execute("CREATE TABLE unpublished (v int)")
        quiet = dt.datetime.now(dt.UTC)

        def followed() -> bool:
            with db.connect() as conn:
                conn.execute("INSERT INTO unpublished VALUES (1)")
            s = scrape(port)
            fresh = value(s, "walstream_warehouse_freshness_seconds", **table)
            return (
                value(s, "walstream_warehouse_watermark_lsn", **table) > mark
                and fresh < (dt.datetime.now(dt.UTC) - quiet).total_seconds() + 2
                and (
                    s.get(
                        (
                            "walstream_warehouse_watermark_lag_bytes",
                            (("table", "public.monitored"),),
                        )
                    )
                    is not None
                )
            )

        wait_for(followed, what="a quiet table's watermark follows the idle acks")
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    assert not thread.is_alive()


def _run(tmp_path: Path) -> list[str]:
    return ["run", "--dsn", "host=127.0.0.1 port=1", "--dest", f"file://{tmp_path}/d"]


def test_run_refuses_a_monitor_without_snowflake_settings_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [*_run(tmp_path), "--snowflake-monitor-interval", "60"],
        env={"WALSTREAM_SNOWFLAKE_ACCOUNT": "", "WALSTREAM_SNOWFLAKE_PASSWORD": ""},
    )
    assert result.exit_code != 0
    message = str(result.exception)
    assert "--snowflake-monitor-interval needs --snowflake-account" in message
    assert "\n" not in message


def test_run_refuses_a_monitor_with_nowhere_to_serve_it(tmp_path: Path) -> None:
    env = {f"WALSTREAM_SNOWFLAKE_{k}": v for k, v in (("ACCOUNT", "a"), ("USER", "u"))}
    env |= {"WALSTREAM_SNOWFLAKE_DATABASE": "D", "WALSTREAM_SNOWFLAKE_SCHEMA": "S"}
    env |= {"WALSTREAM_SNOWFLAKE_PASSWORD": "x", "WALSTREAM_METRICS_PORT": ""}
    result = CliRunner().invoke(
        main, [*_run(tmp_path), "--snowflake-monitor-interval", "60"], env=env
    )
    assert result.exit_code != 0 and "--metrics-port" in str(result.exception)


@pytest.mark.parametrize("interval", ["0", "-5", "soon"])
def test_a_bad_monitor_interval_is_refused(interval: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [*_run(tmp_path), "--snowflake-monitor-interval", interval],
    )
    assert result.exit_code == 2 and "--snowflake-monitor-interval" in result.output

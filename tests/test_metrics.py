"""Metrics and health: /metrics moves during a real run and lag falls to 0; /healthz, /readyz;
systemd READY/WATCHDOG over a real datagram socket."""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PgDatabase
from tests.waiting import wait_for
from walstream.embedded import free_port
from walstream.lsn import parse_lsn
from walstream.metrics import (
    METRICS,
    Metrics,
    MetricsServer,
    SystemdNotifier,
    Watchdog,
    parse_exposition,
)
from walstream.pipeline.runner import RunConfig, Runner


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except urllib.error.URLError:
        return 0, ""  # not listening (yet)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    code, text = get(f"http://127.0.0.1:{port}/metrics")
    assert code == 200
    return {
        (name, tuple(sorted(labels.items()))): value
        for name, labels, value in parse_exposition(text)
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@dataclass
class Probe:
    port: int
    runner: Runner


@pytest.fixture
def running(db: PgDatabase, tmp_path: Path) -> Iterator[Probe]:
    db.execute(
        "CREATE TABLE metrics_probe (id int PRIMARY KEY, v text);"
        "CREATE PUBLICATION walstream FOR TABLE metrics_probe"
    )
    db.create_slot()
    port = free_port()
    cfg = RunConfig(
        db.dsn,
        "sf_sync",
        "walstream",
        f"file://{tmp_path}/dest",
        flush_interval=0.2,
        status_interval=0.2,
        metrics_port=port,
        metrics_host="127.0.0.1",
    )
    runner = Runner(cfg)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, what="/readyz 200")
        yield Probe(port, runner)
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    assert not thread.is_alive()


def test_counters_move_during_a_run_and_lag_falls_to_zero(running: Probe, db: PgDatabase) -> None:
    port = running.port
    before = scrape(port)
    table = {"table": "public.metrics_probe"}
    for round_ in range(2):
        with db.connect() as conn:
            conn.execute(
                "INSERT INTO metrics_probe SELECT g, 'x' FROM generate_series(%s::int, %s::int) g",
                (round_ * 100 + 1, round_ * 100 + 100),
            )
            conn.execute("UPDATE metrics_probe SET v = 'y' WHERE id <= %s", (round_ * 100 + 5,))
        target = parse_lsn(db.current_lsn())

        def caught_up(round_: int = round_, target: int = target) -> bool:
            s = scrape(port)
            return (
                value(s, "walstream_changes_total", **table, op="I") >= 100 * (round_ + 1)
                and value(s, "walstream_acked_lsn") >= target
                and value(s, "walstream_lag_bytes") == 0
            )

        wait_for(caught_up, what=f"round {round_}: changes stored and lag 0")
    after = scrape(port)
    assert (
        value(after, "walstream_changes_total", **table, op="U")
        - value(before, "walstream_changes_total", **table, op="U")
        == 5 + 105
    )
    for name in (
        "walstream_transactions_total",
        "walstream_changes_decoded_total",
        "walstream_received_bytes_total",
        "walstream_flushes_total",
        "walstream_flush_duration_seconds_count",
        "walstream_commit_to_durable_seconds_count",
    ):
        assert value(after, name) > value(before, name), name
    assert value(after, "walstream_files_written_total", **table) >= 2
    assert value(after, "walstream_written_bytes_total", **table) > 0
    assert value(after, "walstream_received_lsn") >= value(after, "walstream_acked_lsn") > 0
    assert value(after, "walstream_flushes_in_flight") == 0
    assert value(after, "walstream_buffered_rows") == 0
    assert value(after, "walstream_streaming") == 1
    code, body = get(f"http://127.0.0.1:{port}/healthz")
    assert code == 200 and '"status": "ok"' in body


def test_metrics_server_serves_health_and_readiness_transitions() -> None:
    metrics = Metrics()
    metrics.stall_seconds = 0.5
    server = MetricsServer(metrics, 0, "127.0.0.1").start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert get(f"{base}/healthz")[0] == 200  # starting: alive, not ready
        assert get(f"{base}/readyz")[0] == 503
        metrics.set_streaming(True)
        assert get(f"{base}/readyz")[0] == 200
        wait_for(lambda: get(f"{base}/healthz")[0] == 503, what="stall detected")
        assert get(f"{base}/readyz")[0] == 503
        metrics.progress(acked_lsn=10, received_lsn=30, server_wal_end=25)
        assert get(f"{base}/healthz")[0] == 200
        samples = scrape(server.port)
        assert value(samples, "walstream_lag_bytes") == 20
        assert value(samples, "walstream_server_wal_end_lsn") == 30
        metrics.failed("flush failed")
        code, body = get(f"{base}/healthz")
        assert code == 503 and "flush failed" in body
        assert get(f"{base}/nope")[0] == 404
    finally:
        server.close()


def test_a_loop_that_ticks_while_its_flush_cannot_complete_is_unhealthy() -> None:
    """A destination outage: the read loop keeps reporting (backpressure), a flush stays in
    flight and nothing is acknowledged; that is not progress (DESIGN.md §1 guarantee 9)."""
    metrics = Metrics()
    metrics.stall_seconds = 0.4
    metrics.progress(acked_lsn=10, received_lsn=30, server_wal_end=30, in_flight=1)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:  # the loop keeps ticking, the flush never completes
        metrics.progress(acked_lsn=10, received_lsn=30, server_wal_end=30, in_flight=1)
        time.sleep(0.05)
    healthy, detail = metrics.health()
    assert not healthy and float(str(detail["seconds_since_flush"])) > 0.4
    metrics.progress(acked_lsn=20, received_lsn=30, server_wal_end=30, in_flight=1)
    assert metrics.health()[0]  # a flush completed: healthy again
    # idle, nothing in flight: no flush is expected, so none is late
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        metrics.progress(acked_lsn=30, received_lsn=30, server_wal_end=30, in_flight=0)
        time.sleep(0.05)
    assert metrics.health()[0]


def test_flush_observation_counts_ops_files_and_latency() -> None:
    @dataclass
    class Table:
        qualified_name: str

    @dataclass
    class Batch:
        table: Table
        ops: list[str]
        first_commit_ts_us: int

    @dataclass
    class File:
        table: str
        size: int

    metrics = Metrics()
    now_us = 1_000_000_000_000
    metrics.observe_flush(
        0.3,
        [File("s.a", 100), File("s.b", 50)],
        [
            Batch(Table("s.a"), ["I", "I", "D", "U"], now_us - 2_000_000),
            Batch(Table("s.b"), ["T"], now_us - 500_000),
        ],
        now_us=now_us,
    )
    samples = {
        (n, tuple(sorted(lab.items()))): v
        for n, lab, v in parse_exposition(metrics.scrape().decode())
    }
    assert value(samples, "walstream_changes_total", table="s.a", op="I") == 2
    assert value(samples, "walstream_changes_total", table="s.b", op="T") == 1
    assert value(samples, "walstream_written_bytes_total", table="s.a") == 100
    assert value(samples, "walstream_commit_to_durable_seconds_sum") == 2.0  # the oldest commit
    assert value(samples, "walstream_flush_duration_seconds_sum") == pytest.approx(0.3)


def test_totals_survive_detaching_a_finished_run() -> None:
    @dataclass
    class Summary:
        changes: int
        transactions: int
        bytes_received: int

    metrics = Metrics()
    first = Summary(5, 2, 300)
    from walstream.metrics import RunTotals

    metrics.watch_totals(lambda: RunTotals(first.changes, first.transactions, first.bytes_received))
    first.changes = 7
    assert metrics.totals().changes_decoded == 7
    metrics.watch_totals(None)
    metrics.watch_totals(lambda: RunTotals(1, 1, 1))
    assert metrics.totals() == RunTotals(8, 3, 301)  # counters never go backwards


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        yield sock, path
    finally:
        sock.close()


def test_sd_notify_ready_and_watchdog_over_a_datagram_socket(
    notify_socket: tuple[socket.socket, str],
) -> None:
    sock, path = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": str(os.getpid())}
    notifier = SystemdNotifier(env)
    assert notifier.enabled and notifier.watchdog_interval == pytest.approx(0.05)
    assert notifier.notify("READY=1", "STATUS=streaming")
    assert sock.recv(1024) == b"READY=1\nSTATUS=streaming"
    metrics = Metrics()
    watchdog = Watchdog(metrics, notifier).start()
    try:
        assert sock.recv(1024) == b"WATCHDOG=1"
        assert sock.recv(1024) == b"WATCHDOG=1"
    finally:
        watchdog.close()
    other = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"})
    assert other.watchdog_interval is None  # the watchdog belongs to another process
    assert not SystemdNotifier({}).notify("READY=1")


def test_run_sends_ready_when_streaming_starts(
    db: PgDatabase,
    tmp_path: Path,
    notify_socket: tuple[socket.socket, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sock, path = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    db.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()
    runner = Runner(
        RunConfig(db.dsn, "sf_sync", "walstream", f"file://{tmp_path}", status_interval=0.2)
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        assert sock.recv(1024) == b"READY=1\nSTATUS=streaming"
        assert METRICS.readiness()[0]
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    deadline = time.monotonic() + 10
    messages = []
    while time.monotonic() < deadline and b"STOPPING=1" not in messages:
        messages.append(sock.recv(1024))
    assert b"STOPPING=1" in messages
    assert not METRICS.readiness()[0]


def test_the_metrics_server_is_local_capped_timed_out_and_can_require_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Safe by default (DESIGN.md §1 guarantee 9): 127.0.0.1, idle clients dropped, a bounded
    number of connections (1000 half-open ones made 990 threads before), an optional token."""
    from walstream import metrics as metrics_module

    monkeypatch.setattr(metrics_module._Handler, "timeout", 0.5)
    server = MetricsServer(Metrics(), 0, token="s3cret").start()
    assert server.host == "127.0.0.1"
    base = f"http://127.0.0.1:{server.port}"
    idle: list[socket.socket] = []
    try:
        assert get(f"{base}/metrics")[0] == 401
        request = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": "Bearer s3cret"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert get(f"{base}/healthz")[0] == 200  # health stays open for probes
        before = threading.active_count()
        for _ in range(3 * metrics_module.MAX_CONNECTIONS):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.2)
        assert threading.active_count() - before <= metrics_module.MAX_CONNECTIONS

        # the idle clients are dropped after the timeout: the server answers again
        def answers() -> bool:
            try:
                return get(f"{base}/healthz")[0] == 200
            except OSError:  # refused while every slot is still taken
                return False

        wait_for(answers, timeout=10, what="slots freed")
    finally:
        for sock in idle:
            sock.close()
        server.close()

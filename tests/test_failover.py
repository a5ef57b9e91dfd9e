"""Failover of the source: the DSN reaches a server in recovery, then a new writer (issue 6.3).

On Aurora the cluster endpoint keeps the same storage through a failover, so the slot survives,
but for a while the endpoint answers read-only (in recovery) and then as a writer on a new
timeline. Here one real PostgreSQL 18 of the test's own (:mod:`tests.failover_cluster`) goes
through exactly that while ``walstream run`` streams it and a writer keeps inserting: walstream
must keep probing, acknowledge nothing while the server is read-only, resume on the promoted
writer, and FINAL must equal the source. Self-managed PostgreSQL 17+ fails over to another
server instead: a streaming replica that synced the failover slot is promoted after the primary
crashes, the name walstream uses moves to it, and FINAL must equal the new primary. A DSN that
reaches a standby from the start must be refused at pre-flight with exit code 3 and a line that
says what to fix. Three more tests hold what this test first found broken around a failover:
the heartbeat must resume, the reconnect budget must start over, and a connect to a silent
address must not freeze the other threads.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.changes import read_table
from tests.cli_run import walstream
from tests.conftest import PgDatabase
from tests.failover_cluster import FailoverServer, SwitchingProxy
from tests.oracle_workload import SCHEMA_SQL, Workload, setup_source
from tests.streaming import BackgroundRunner, wait_for
from tests.test_oracle import assert_final_equals_source
from walstream.errors import SourceError
from walstream.heartbeat import Heartbeat
from walstream.lsn import parse_lsn
from walstream.metrics import METRICS
from walstream.pg.replication import ReplicationStream
from walstream.warehouse import LocalWarehouse

IN_RECOVERY = "in recovery"


@pytest.fixture
def server() -> Iterator[FailoverServer]:
    # not under tmp_path: another pytest run resets /tmp/pytest-of-<user> to 0700, which locks
    # the unprivileged server user out of its own data directory
    base = Path(tempfile.mkdtemp(prefix="walstream-failover-"))
    srv = FailoverServer.start(base)
    try:
        yield srv
    finally:
        srv.destroy()
        shutil.rmtree(base, ignore_errors=True)


def confirmed(db: PgDatabase) -> int:
    return parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")


def slot_active(db: PgDatabase) -> bool:
    rows = db.execute("SELECT active FROM pg_replication_slots WHERE slot_name = 'sf_sync'")
    return bool(rows and rows[0][0])


class LogLines(logging.Handler):
    """The messages one of walstream's loggers logs, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._lines_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lines_lock:
            self.lines.append(record.getMessage())

    def count(self, *words: str) -> int:
        with self._lines_lock:
            return sum(all(w in line for w in words) for line in self.lines)

    def last(self, *words: str) -> str:
        with self._lines_lock:
            return next(line for line in reversed(self.lines) if all(w in line for w in words))

    @classmethod
    @contextlib.contextmanager
    def of(cls, logger_name: str) -> Iterator[LogLines]:
        handler = cls()
        logger = logging.getLogger(logger_name)
        logger.addHandler(handler)
        try:
            yield handler
        finally:
            logger.removeHandler(handler)


@pytest.fixture
def run_log() -> Iterator[LogLines]:
    with LogLines.of("walstream.run") as lines:
        yield lines


class TickWriter:
    """One-row transactions into ``ticks`` through the whole failover, like an application.

    Ids are consecutive: an insert that fails is tried again with the same id, and a unique
    violation means the try before committed just as its connection broke. So the committed
    ids are exactly ``range(next_id)``.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.next_id = 0
        self.read_only_refusals = 0
        self.connection_failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=2)
                conn.execute("INSERT INTO ticks VALUES (%s, clock_timestamp())", (self.next_id,))
                self.next_id += 1
            except psycopg.errors.UniqueViolation:
                self.next_id += 1
            except psycopg.errors.ReadOnlySqlTransaction:
                self.read_only_refusals += 1
            except psycopg.Error:
                self.connection_failures += 1
                if conn is not None:
                    conn.close()
                conn = None
            self._stop.wait(0.01)  # pacing of the workload, not a synchronisation
        if conn is not None:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def repeated_positions(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Change positions ``(lsn, seq)`` stored more than once (a replay after a reconnect)."""
    seen = Counter((r["_walstream_lsn"], r["_walstream_seq"]) for r in rows)
    return sorted(position for position, n in seen.items() if n > 1)


@pytest.mark.parametrize(
    "stop_mode",
    [
        "fast",  # a planned failover or reboot: the walsender waits for walstream's ack
        "immediate",  # the writer crashes with changes sent but not yet acknowledged
    ],
)
def test_failover_waits_while_the_server_is_in_recovery_then_resumes_on_the_new_writer(
    server: FailoverServer, tmp_path: Path, run_log: LogLines, stop_mode: str
) -> None:
    db = server.database(f"f_{uuid.uuid4().hex[:8]}")
    setup_source(db)
    db.execute(
        "CREATE TABLE ticks (id int PRIMARY KEY, at timestamptz);"
        "ALTER PUBLICATION walstream ADD TABLE ticks"
    )
    workload = Workload(61)
    workload.run(db, transactions=40)
    dest = f"file://{tmp_path}/dest"
    bg = BackgroundRunner.start(
        db,
        dest,
        flush_interval=1.0,  # changes are still buffered when the writer goes away
        status_interval=0.2,
        reconnect_backoff_max=0.4,
        heartbeat_interval=0.3,
    )
    runner = bg.runner
    ticks = TickWriter(db.dsn)
    try:
        # before: streaming and acknowledging while an application writes
        wait_for(lambda: ticks.next_id >= 20, 30, "the application to write ticks", bg)
        first = parse_lsn(db.current_lsn())
        wait_for(lambda: confirmed(db) >= first, 30, "the first ticks to be acknowledged", bg)
        ticks_before_failover = ticks.next_id

        # failover, part 1: the writer goes away, then the endpoint reaches a server in recovery
        stopping = time.monotonic()
        server.stop(stop_mode)
        stop_seconds = time.monotonic() - stopping
        wait_for(lambda: runner.summary.reconnects >= 1, 30, "walstream to lose the stream", bg)
        server.start_as_standby()
        wait_for(
            lambda: run_log.count("event=reconnect", IN_RECOVERY) >= 2,
            30,
            "walstream to find the server in recovery",
            bg,
        )
        acked = runner.acked_lsn
        slot_lsn = confirmed(db)  # the slot's position, as it survived the failover
        probes = run_log.count("event=reconnect", IN_RECOVERY)
        wait_for(
            lambda: run_log.count("event=reconnect", IN_RECOVERY) >= probes + 3,
            30,
            "walstream to keep probing the server in recovery",
            bg,
        )
        # it waits: alive, not ready, no walsender on the slot, nothing more acknowledged
        assert bg.thread.is_alive() and bg.error is None
        assert METRICS.readiness()[0] is False
        assert not slot_active(db)
        assert runner.acked_lsn == acked
        assert confirmed(db) == slot_lsn
        assert server.in_recovery()
        assert ticks.read_only_refusals > 0, "the application never met a read-only server"

        # failover, part 2: promoted, a writer again on a new timeline, with the same slot
        promoted_at = time.monotonic()
        assert server.promote() == 2
        wait_for(lambda: slot_active(db), 30, "walstream to stream from the new writer", bg)
        resumed_after = time.monotonic() - promoted_at
        ticks_at_promotion = ticks.next_id
        workload.run(db, transactions=40)
        wait_for(
            lambda: ticks.next_id >= ticks_at_promotion + 20,
            30,
            "the application to write to the new writer",
            bg,
        )
        ticks.stop()
        end = parse_lsn(db.current_lsn())
        runner.cfg.until_lsn = end
        bg.join(60)
    finally:
        ticks.stop()
        bg.stop()

    assert confirmed(db) >= end
    assert runner.summary.reconnects >= 5
    assert run_log.count("event=reconnect", IN_RECOVERY) >= 5
    assert resumed_after < 10, f"walstream took {resumed_after:.1f}s to resume after promotion"
    assert stop_seconds < 30
    assert ticks_before_failover < ticks_at_promotion < ticks.next_id
    committed = list(range(ticks.next_id))
    assert [r[0] for r in db.execute("SELECT id FROM ticks ORDER BY id")] == committed

    # the change files hold every tick; a position stored twice has the same content
    # (read_table checks) and is a replay of what the slot had not confirmed
    tick_rows = read_table(dest, "public.ticks", dedupe=False)
    assert sorted({r["id"] for r in tick_rows}) == committed
    replayed = repeated_positions(tick_rows)
    assert [r["id"] for r in read_table(dest, "public.ticks")] == committed
    if stop_mode == "fast":
        assert replayed == []  # the walsender waited for the ack: nothing to send again
    else:
        assert all(lsn >= slot_lsn for lsn, _ in replayed)

    # the oracle: FINAL == source for every table, changes from before and after the failover
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        assert wh.load(dest).files > 0
        assert_final_equals_source(db, wh, [dest])
        final_ticks = wh.conn.execute("SELECT id FROM public.ticks ORDER BY id").fetchall()
        assert [r[0] for r in final_ticks] == committed


def test_run_refuses_a_dsn_that_reaches_a_standby_at_start(
    server: FailoverServer, tmp_path: Path
) -> None:
    db = server.database("standby_at_start")
    db.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()
    db.execute("INSERT INTO t VALUES (1)")
    slot_lsn = confirmed(db)
    server.become_standby()
    dest = tmp_path / "dest"
    proc = walstream(
        "run",
        "--dsn",
        db.dsn,
        "--slot",
        "sf_sync",
        "--publication",
        "walstream",
        "--dest",
        f"file://{dest}",
        "--reconnect-attempts",
        "1",
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "standby" in line]
    assert len(lines) == 1, proc.stderr
    assert "in recovery" in lines[0] and "Point --dsn at the writer" in lines[0]
    assert "Traceback" not in proc.stderr
    assert confirmed(db) == slot_lsn
    assert not any(dest.rglob("*.parquet"))


def test_heartbeat_resumes_on_the_new_writer_after_a_failover(server: FailoverServer) -> None:
    db = server.database("heartbeat")
    with LogLines.of("walstream.heartbeat") as heartbeat_log:
        heartbeat = Heartbeat(
            lambda: psycopg.connect(db.dsn, autocommit=True, connect_timeout=2), 0.1
        ).start()
        try:
            wait_for(lambda: heartbeat.sent >= 2, 10, "the first heartbeats")
            server.become_standby()
            wait_for(
                lambda: heartbeat_log.count("event=heartbeat", "recovery") >= 1,
                10,
                "the heartbeat to meet the server in recovery",
            )
            sent = heartbeat.sent
            server.promote()
            wait_for(lambda: heartbeat.sent > sent, 3, "a heartbeat on the new writer")
        finally:
            heartbeat.close()


def test_reconnect_attempts_start_over_once_the_new_writer_streams(
    server: FailoverServer, tmp_path: Path, run_log: LogLines
) -> None:
    db = server.database("budget")
    db.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()
    bg = BackgroundRunner.start(
        db,
        f"file://{tmp_path}/dest",
        status_interval=0.2,
        reconnect_backoff_max=1.0,
        reconnect_attempts=4,  # enough for this failover, not for it plus two more blips
    )
    runner = bg.runner
    try:
        wait_for(lambda: slot_active(db), 30, "walstream to stream", bg)
        server.become_standby()  # attempt 1: the stream is lost
        wait_for(
            lambda: run_log.count("event=reconnect", IN_RECOVERY) >= 2,  # attempts 2 and 3
            30,
            "walstream to find the server in recovery",
            bg,
        )
        server.promote()
        wait_for(lambda: slot_active(db), 30, "walstream to stream from the new writer", bg)

        # later, unrelated blips: each one is a new outage with the whole budget
        def blip() -> None:
            reconnects = runner.summary.reconnects
            db.execute(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                "WHERE slot_name = 'sf_sync'"
            )
            wait_for(lambda: runner.summary.reconnects > reconnects, 30, "a reconnect", bg)
            wait_for(lambda: slot_active(db), 30, "walstream to stream again", bg)
            assert "attempt=1 " in run_log.last("event=reconnect")

        blip()
        blip()
        db.execute("INSERT INTO t VALUES (1)")
        runner.cfg.until_lsn = parse_lsn(db.current_lsn())
        bg.join(60)
    finally:
        bg.stop()
    assert runner.acked_lsn >= runner.cfg.until_lsn


def synced_slot_ready(replica: PgDatabase, lsn: int) -> bool:
    """The replica's copy of ``sf_sync`` survives a promotion and is at ``lsn`` or later."""
    rows = replica.execute(
        "SELECT synced AND NOT temporary, confirmed_flush_lsn::text FROM pg_replication_slots "
        "WHERE slot_name = 'sf_sync'"
    )
    return bool(rows and rows[0][0] and rows[0][1] and parse_lsn(str(rows[0][1])) >= lsn)


def replayed(replica: PgDatabase, lsn: int) -> bool:
    rows = replica.execute("SELECT pg_last_wal_replay_lsn()::text")
    return parse_lsn(str(rows[0][0])) >= lsn


@pytest.fixture
def primary_db(server: FailoverServer) -> PgDatabase:
    """The oracle's tables, ticks, a publication and a failover slot (``failover => true``:
    standbys that sync slots keep a copy of it), on a primary whose logical walsenders wait for
    the replica's physical slot (``synchronized_standby_slots``): walstream never stores a
    change the replica lacks."""
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_create_physical_replication_slot('replica', true)")
        conn.execute("ALTER SYSTEM SET synchronized_standby_slots = 'replica'")
        conn.execute("SELECT pg_reload_conf()")
    db = server.database(f"f_{uuid.uuid4().hex[:8]}")
    db.execute(SCHEMA_SQL)
    db.execute("CREATE TABLE ticks (id int PRIMARY KEY, at timestamptz)")
    db.execute(
        'CREATE PUBLICATION walstream FOR TABLE accounts, lines, "Mixed Case", events, ticks'
    )
    db.execute(
        "SELECT pg_create_logical_replication_slot('sf_sync', 'pgoutput', false, false, true)"
    )
    return db


@pytest.fixture
def replica(server: FailoverServer, primary_db: PgDatabase) -> Iterator[FailoverServer]:
    """A streaming replica of ``server`` syncing its failover slots; started after the slot
    exists, so its slot sync worker finds it at once (the worker naps longer and longer, up
    to 30 s, while there is nothing to sync)."""
    standby = server.add_replica(server.local.datadir.parent, "replica")
    try:
        yield standby
    finally:
        standby.destroy()


def test_failover_to_a_promoted_streaming_replica_that_synced_the_slot(
    server: FailoverServer,
    primary_db: PgDatabase,
    replica: FailoverServer,
    tmp_path: Path,
    run_log: LogLines,
) -> None:
    name = primary_db.name
    proxy = SwitchingProxy(server)  # the name walstream and the application connect to
    db = server.existing_database(name, via=proxy)
    on_replica = replica.existing_database(name)
    dest = f"file://{tmp_path}/dest"
    workload = Workload(62)
    workload.run(db, transactions=30)
    bg = BackgroundRunner.start(
        db, dest, flush_interval=0.5, status_interval=0.2, reconnect_backoff_max=0.4
    )
    runner = bg.runner
    ticks = TickWriter(db.dsn)
    try:
        wait_for(lambda: ticks.next_id >= 20, 30, "the application to write ticks", bg)
        first = parse_lsn(db.current_lsn())
        wait_for(lambda: confirmed(db) >= first, 30, "the first changes to be acknowledged", bg)
        # the operator's check before trusting a failover: the synced slot is persistent
        wait_for(lambda: synced_slot_ready(on_replica, first), 30, "the slot on the replica", bg)
        wait_for(lambda: replayed(on_replica, first), 30, "the replica to replay", bg)

        # failover: the primary crashes, the name moves to the replica while it is still in
        # recovery (walstream waits: its copy of the slot cannot stream yet), then it is promoted
        server.stop("immediate")
        proxy.switch_to(replica)
        wait_for(
            lambda: run_log.count("event=reconnect", IN_RECOVERY) >= 2,
            30,
            "walstream to find the replica in recovery",
            bg,
        )
        assert not slot_active(on_replica)
        assert replica.promote() == 2
        promoted_at = time.monotonic()
        wait_for(lambda: slot_active(db), 30, "walstream to stream from the new primary", bg)
        resumed_after = time.monotonic() - promoted_at
        ticks_at_promotion = ticks.next_id
        workload.run(db, transactions=30)
        wait_for(
            lambda: ticks.next_id >= ticks_at_promotion + 20,
            30,
            "the application to write to the new primary",
            bg,
        )
        ticks.stop()
        end = parse_lsn(db.current_lsn())
        runner.cfg.until_lsn = end
        bg.join(60)
    finally:
        ticks.stop()
        bg.stop()
        proxy.close()

    assert runner.summary.reconnects >= 1
    assert resumed_after < 10, f"walstream took {resumed_after:.1f}s to resume after promotion"
    assert confirmed(on_replica) >= end
    # the source is now the new primary: a tick the crash lost before it reached the replica
    # is lost to the application too, and must not be in FINAL either
    source_ticks = [r[0] for r in on_replica.execute("SELECT id FROM ticks ORDER BY id")]
    assert source_ticks[-1] == ticks.next_id - 1
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        assert wh.load(dest).files > 0
        assert_final_equals_source(on_replica, wh, [dest])
        final_ticks = wh.conn.execute("SELECT id FROM public.ticks ORDER BY id").fetchall()
        assert [r[0] for r in final_ticks] == source_ticks


def test_replication_connect_to_a_silent_address_leaves_other_threads_running() -> None:
    # during a failover the name may point at an address that accepts nothing or answers
    # nothing for a while: the flusher, the heartbeat and /healthz must keep running meanwhile
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel completes TCP, nobody answers
    port = silent.getsockname()[1]
    beats: list[float] = []
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            beats.append(time.monotonic())
            stop.wait(0.05)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(SourceError, match="cannot open a replication connection"):
            ReplicationStream(f"host=127.0.0.1 port={port} user=u dbname=d").connect(
                connect_timeout=2
            )
    finally:
        waited = time.monotonic() - started
        stop.set()
        thread.join(5)
        silent.close()
    assert waited >= 1.5
    during = [t for t in beats if started < t < started + waited]
    assert len(during) >= 10, f"another thread ran {len(during)} times in {waited:.1f}s"

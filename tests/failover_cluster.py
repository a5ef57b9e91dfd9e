"""A PostgreSQL server of a test's own that can go through a failover, for the failover tests.

Aurora's failover, seen from a consumer: the cluster endpoint keeps pointing at the same
storage (so the replication slot survives), but for a while it reaches a server that is in
recovery (read-only), and then a writer again, on a new timeline. :class:`FailoverServer`
reproduces that on one real PostgreSQL data directory: :meth:`FailoverServer.become_standby`
stops the server (fast) and starts it again with ``standby.signal`` (no ``primary_conninfo``:
it replays its own WAL and waits, answering read-only queries); :meth:`FailoverServer.promote`
runs ``pg_promote()``. It is never the shared session server (``pg_server``), which other tests
use while this one is read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.conftest import PgDatabase, PgServer
from walstream.embedded import LocalPostgres


@dataclass
class FailoverServer:
    local: LocalPostgres

    @classmethod
    def start(cls, base: Path) -> FailoverServer:
        base.chmod(0o755)  # the unprivileged server user must reach the data directory
        local = LocalPostgres(base / "data", settings={"fsync": "off", "max_connections": "30"})
        local.start()
        return cls(local)

    @property
    def admin_dsn(self) -> str:
        return self.local.dsn()

    def database(self, name: str) -> PgDatabase:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return PgDatabase(PgServer(self.admin_dsn, self.local), name, self.local.dsn(name))

    def in_recovery(self) -> bool:
        with psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    def stop(self, mode: str = "fast") -> None:
        """Shut the writer down: ``fast`` (a planned failover or reboot: walsenders send what
        they have and wait for the consumer's ack), ``immediate`` (the writer crashes)."""
        self.local.stop(mode)

    def start_as_standby(self) -> None:
        """Start the stopped server in standby mode: read-only, in recovery, slot still there."""
        signal = self.local.datadir / "standby.signal"
        signal.touch()
        owner = self.local.datadir.stat()
        os.chown(signal, owner.st_uid, owner.st_gid)  # the server removes it when promoted
        self.local.start()
        assert self.in_recovery(), "the server did not start in recovery"

    def become_standby(self) -> None:
        self.stop()
        self.start_as_standby()

    def promote(self) -> int:
        """Make the server a writer again; returns its new timeline."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT pg_promote(wait => true, wait_seconds => 30)").fetchone()
            assert row is not None and row[0] is True, "pg_promote() did not finish"
            # the WAL file name starts with the timeline (the control file waits for a checkpoint)
            name = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()
        assert name is not None
        return int(str(name[0])[:8], 16)

    def destroy(self) -> None:
        self.local.destroy()

"""A PostgreSQL server of a test's own that can go through a failover, for the failover tests.

Aurora's failover, seen from a consumer: the cluster endpoint keeps pointing at the same
storage (so the replication slot survives), but for a while it reaches a server that is in
recovery (read-only), and then a writer again, on a new timeline. :class:`FailoverServer`
reproduces that on one real PostgreSQL data directory: :meth:`FailoverServer.become_standby`
stops the server (fast) and starts it again with ``standby.signal`` (no ``primary_conninfo``:
it replays its own WAL and waits, answering read-only queries); :meth:`FailoverServer.promote`
runs ``pg_promote()``. It is never the shared session server (``pg_server``), which other tests
use while this one is read-only.

Self-managed PostgreSQL 17+ fails over to another server instead: :meth:`FailoverServer.add_replica`
makes a physical streaming replica (``pg_basebackup -R``) that keeps copies of the primary's
failover slots (``sync_replication_slots``), and :class:`SwitchingProxy` stands for the DNS
name or virtual IP that moves to the promoted replica.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from tests.conftest import PgDatabase, PgServer
from walstream.embedded import LocalPostgres, bin_dir, free_port


@dataclass
class FailoverServer:
    local: LocalPostgres

    @classmethod
    def start(cls, base: Path, name: str = "data", **settings: str) -> FailoverServer:
        base.chmod(0o755)  # the unprivileged server user must reach the data directory
        conf = {"fsync": "off", "max_connections": "30", **settings}
        local = LocalPostgres(base / name, settings=conf)
        local.start()
        return cls(local)

    @property
    def admin_dsn(self) -> str:
        return self.local.dsn()

    def database(self, name: str) -> PgDatabase:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.existing_database(name)

    def existing_database(self, name: str, via: SwitchingProxy | None = None) -> PgDatabase:
        """A database of this server, reached directly or through ``via``."""
        dsn = self.local.dsn(name)
        admin = self.admin_dsn
        if via is not None:
            dsn, admin = (make_conninfo(d, port=str(via.port)) for d in (dsn, admin))
        return PgDatabase(PgServer(admin, self.local), name, dsn)

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

    def add_replica(self, base: Path, physical_slot: str) -> FailoverServer:
        """A streaming replica (``pg_basebackup -R`` over ``physical_slot``) that syncs this
        server's failover slots and can be promoted to take over."""
        datadir = base / f"replica-of-{self.local.port}"
        datadir.mkdir(mode=0o700)
        owner = self.local.datadir.stat()
        os.chown(datadir, owner.st_uid, owner.st_gid)
        subprocess.run(
            [
                str(bin_dir() / "pg_basebackup"),
                "--dbname",
                self.admin_dsn,  # -R keeps the dbname: the slot sync worker needs one
                "--pgdata",
                str(datadir),
                "--write-recovery-conf",
                "--slot",
                physical_slot,
                "--wal-method=stream",
                "--checkpoint=fast",
            ],
            user=pwd.getpwuid(owner.st_uid).pw_name if os.geteuid() == 0 else None,
            cwd="/",
            check=True,
            capture_output=True,
            timeout=60,
        )
        with open(datadir / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            fh.write(
                "sync_replication_slots = 'on'\n"
                "hot_standby_feedback = 'on'\n"
                "synchronized_standby_slots = ''\n"  # the primary's setting, not ours
            )
        replica = LocalPostgres(datadir)
        replica.start()
        return FailoverServer(replica)

    def destroy(self) -> None:
        self.local.destroy()


class SwitchingProxy:
    """The name clients connect to (DNS, virtual IP): a port on 127.0.0.1 that can move to
    another server (a :mod:`tests.tcp_forward` process, restarted on the same port)."""

    def __init__(self, server: FailoverServer) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[str] | None = None
        self._start(server)

    def _start(self, server: FailoverServer) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.tcp_forward", str(self.port), str(server.local.port)],
            cwd=Path(__file__).resolve().parents[1],
            stdin=subprocess.PIPE,  # it exits when this closes, even if the test dies
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline()  # blocks until it listens (or exits)
        assert ready.strip() == "ready", "tests.tcp_forward did not start"

    def switch_to(self, server: FailoverServer) -> None:
        """Cut every open connection and send new ones to ``server``."""
        self.close()
        self._start(server)

    def close(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    pipe.close()
            self._process = None

"""The benchmark's source: one embedded PostgreSQL 18 and the slots every consumer reads.

Why a server of its own (not the test fixture's): the suite tunes it for generating large
workloads quickly (``fsync=off``, a large ``max_wal_size`` so checkpoints do not interleave with
decoding) and needs many slots at once. ``fsync=off`` changes how fast the *workload* is written,
not how the walsender decodes it, so every consumer still measures decoding and delivery.

How a workload is shared: :meth:`BenchServer.create_slots` creates one ``pgoutput`` slot per
consumer *before* the workload is generated, so each slot's stream starts at the same point and
every consumer reads the same changes up to the same end LSN. After the workload,
:meth:`BenchServer.fence` writes one small transaction on an unpublished table: it moves the WAL
past the end LSN, so the walsender's keepalives report a position at or beyond it and every
consumer (``pg_recvlogical --endpos``, ``walstream run --until-lsn``, the peers) can stop there.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from walstream.embedded import LocalPostgres, bin_dir
from walstream.lsn import parse_lsn

log = logging.getLogger("bench.server")

DATABASE = "bench"

#: Settings for a fast, repeatable source. See the module docstring for why ``fsync=off`` is fair.
SERVER_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "256MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "max_replication_slots": "40",
    "max_wal_senders": "40",
    "max_connections": "80",
    "wal_sender_timeout": "300s",
    "autovacuum": "off",
    "logical_decoding_work_mem": "64MB",
}


@dataclass
class BenchServer:
    """A running PostgreSQL with a ``bench`` database, in ``workdir``."""

    workdir: Path
    keep: bool = False

    def __post_init__(self) -> None:
        self.pg = LocalPostgres(self.workdir / "pgdata", settings=SERVER_SETTINGS)

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        self.pg.start()
        with psycopg.connect(self.pg.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self.execute("CREATE TABLE bench_fence (id bigserial PRIMARY KEY, at timestamptz)")
        log.info("event=server_started port=%d version=%s", self.pg.port, self.version())

    def stop(self) -> None:
        if self.keep:
            self.pg.stop()
        else:
            self.pg.destroy()

    # -- connections --------------------------------------------------------------------------
    @property
    def dsn(self) -> str:
        return self.pg.dsn(DATABASE)

    @property
    def port(self) -> int:
        return self.pg.port

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.dsn, autocommit=True)

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def version(self) -> str:
        return str(self.execute("SHOW server_version")[0][0])

    def current_lsn(self) -> int:
        return parse_lsn(str(self.execute("SELECT pg_current_wal_lsn()::text")[0][0]))

    def set_decoding_work_mem(self, value: str) -> None:
        """Server-wide ``logical_decoding_work_mem`` for walsenders started from now on."""
        self.execute(f"ALTER SYSTEM SET logical_decoding_work_mem = '{value}'")
        self.execute("SELECT pg_reload_conf()")

    # -- slots and the end of a workload -----------------------------------------------------
    def create_publication(self, name: str, tables: Iterable[str]) -> None:
        self.execute(f"DROP PUBLICATION IF EXISTS {name}")
        self.execute(f"CREATE PUBLICATION {name} FOR TABLE {', '.join(tables)}")

    def create_slots(self, names: Iterable[str]) -> int:
        """One pgoutput slot per name; returns the LSN from which they all stream."""
        start = 0
        for name in names:
            self.drop_slot(name)
            rows = self.execute(
                "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput')",
                (name,),
            )
            start = max(start, parse_lsn(str(rows[0][0])))
        return start

    def drop_slot(self, name: str) -> None:
        with contextlib.suppress(psycopg.Error):
            self.execute(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                "WHERE slot_name = %s AND active_pid IS NOT NULL",
                (name,),
            )
        with contextlib.suppress(psycopg.Error):
            self.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = %s",
                (name,),
            )

    def fence(self) -> int:
        """The end LSN of the workload just written; then WAL past it (see module docstring)."""
        end = self.current_lsn()
        self.execute("INSERT INTO bench_fence (at) VALUES (now())")
        return end

    def confirmed_flush_lsn(self, slot: str) -> int:
        rows = self.execute(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
            (slot,),
        )
        return parse_lsn(str(rows[0][0])) if rows and rows[0][0] else 0

    def slot_active(self, slot: str) -> bool:
        rows = self.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        return bool(rows and rows[0][0])


@contextlib.contextmanager
def given_or_embedded(dsn: str | None, workdir: Path) -> Iterator[str]:
    """``dsn``, or the DSN of an embedded PostgreSQL (fsync off) in ``workdir`` for the block:
    the one-table benches' source (snapshot_bench, verify_bench)."""
    if dsn is not None:
        yield dsn
        return
    workdir.chmod(0o755)
    server = LocalPostgres(workdir / "pg", settings={"fsync": "off"})
    server.start()
    try:
        yield server.dsn()
    finally:
        server.destroy()


def pg_tool(name: str) -> Path:
    """A PostgreSQL client program (``pg_recvlogical``, ``pgbench``) from the wheel."""
    return bin_dir() / name


@contextlib.contextmanager
def bench_workdir(keep: bool, base: str | None = None) -> Iterator[Path]:
    """A scratch directory for the server, logs and local sinks; removed unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix="walstream-bench-", dir=base))
    path.chmod(0o755)
    try:
        yield path
    finally:
        if keep:
            log.info("event=workdir_kept path=%s", path)
        else:
            shutil.rmtree(path, ignore_errors=True)

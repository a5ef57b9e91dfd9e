"""Bad input gets one actionable line on stderr, a non-zero exit, no traceback, and no ack."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_run import walstream
from tests.conftest import PgDatabase, own_server
from tests.waiting import wait_for
from walstream.embedded import LocalPostgres
from walstream.pipeline.runner import RunConfig, Runner


def assert_clean_failure(proc: object, code: int, *needles: str) -> None:
    import subprocess

    assert isinstance(proc, subprocess.CompletedProcess)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if "walstream: error:" in line]
    assert len(error_lines) == 1, proc.stderr
    for needle in needles:
        assert needle in error_lines[0], error_lines[0]


def run_args(dsn: str, dest: str, *extra: str) -> list[str]:
    return [
        "run",
        "--dsn",
        dsn,
        "--slot",
        "sf_sync",
        "--publication",
        "walstream",
        "--dest",
        dest,
        "--until-lsn",
        "0/1",
        *extra,
    ]


def test_missing_slot_says_how_to_create_it(db: PgDatabase, tmp_path: Path) -> None:
    db.execute("CREATE TABLE t (id int primary key); CREATE PUBLICATION walstream FOR TABLE t")
    proc = walstream(*run_args(db.dsn, f"file://{tmp_path}"))
    assert_clean_failure(proc, 3, "slot 'sf_sync' does not exist", "--create-slot")


def test_missing_publication_says_how_to_create_it(db: PgDatabase, tmp_path: Path) -> None:
    db.execute("SELECT pg_create_logical_replication_slot('sf_sync', 'pgoutput')")
    proc = walstream(*run_args(db.dsn, f"file://{tmp_path}"))
    assert_clean_failure(proc, 3, "publication 'walstream' does not exist", "CREATE PUBLICATION")


def test_create_slot_flag_creates_slot_and_publication(db: PgDatabase, tmp_path: Path) -> None:
    db.execute("CREATE TABLE t (id int primary key)")
    proc = walstream(
        *run_args(db.dsn, f"file://{tmp_path}", "--create-slot", "--tables", "public.t")
    )
    assert proc.returncode == 0, proc.stderr
    assert db.execute(
        "SELECT slot_name, plugin FROM pg_replication_slots WHERE database = %s", (db.name,)
    ) == [("sf_sync", "pgoutput")]
    assert db.execute(
        "SELECT tablename FROM pg_publication_tables WHERE pubname = 'walstream'"
    ) == [("t",)]


@pytest.fixture(scope="module")
def replica_level_server() -> Iterator[LocalPostgres]:
    yield from own_server("walstream-test-pg-replica-", {"wal_level": "replica", "fsync": "off"})


def test_wrong_wal_level_says_what_to_set(
    replica_level_server: LocalPostgres, tmp_path: Path
) -> None:
    proc = walstream(*run_args(replica_level_server.dsn(), f"file://{tmp_path}"))
    assert_clean_failure(proc, 3, "wal_level is 'replica'", "rds.logical_replication")


def test_unreachable_server(tmp_path: Path) -> None:
    from walstream.embedded import free_port

    dsn = f"host=127.0.0.1 port={free_port()} user=postgres dbname=postgres connect_timeout=3"
    proc = walstream(*run_args(dsn, f"file://{tmp_path}"))
    assert_clean_failure(proc, 3, "cannot connect to PostgreSQL", "--dsn")


def test_unparseable_dsn(tmp_path: Path) -> None:
    proc = walstream(*run_args("this is = not a dsn = ", f"file://{tmp_path}"))
    assert_clean_failure(proc, 2, "invalid --dsn")


def test_missing_bucket(db: PgDatabase, s3_dest: str) -> None:
    proc = walstream(*run_args(db.dsn, "s3://no-such-bucket-walstream/dms"))
    assert_clean_failure(proc, 4, "no-such-bucket-walstream")


class _Forbidden(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that denies everything, as a bucket policy would."""

    def _deny(self) -> None:
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            b"<Message>Access Denied</Message></Error>"
        )
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _deny

    def log_message(self, *args: object) -> None:
        pass


def test_forbidden_bucket(db: PgDatabase, s3_dest: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {"AWS_ENDPOINT_URL_S3": url, "AWS_ENDPOINT_URL": url}
        proc = walstream(*run_args(db.dsn, "s3://locked-bucket/dms"), env=env)
    finally:
        server.shutdown()
    assert_clean_failure(proc, 4, "locked-bucket")
    assert "denied" in proc.stderr.lower() or "403" in proc.stderr


def test_slot_already_active(db: PgDatabase, tmp_path: Path) -> None:
    db.execute("CREATE TABLE t (id int primary key); CREATE PUBLICATION walstream FOR TABLE t;")
    db.create_slot()
    runner = Runner(RunConfig(db.dsn, "sf_sync", "walstream", f"file://{tmp_path}/a"))
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        wait_for(
            lambda: bool(
                db.execute(
                    "SELECT 1 FROM pg_replication_slots WHERE slot_name='sf_sync' AND active"
                )
            ),
            what="the first consumer to be active",
        )
        proc = walstream(*run_args(db.dsn, f"file://{tmp_path}/b"))
    finally:
        runner.request_stop()
        thread.join(30)
    assert_clean_failure(proc, 3, "already active", "pg_terminate_backend")

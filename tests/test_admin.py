"""Slot and publication tools and the doctor's checks, on real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
import psycopg
import pytest
from click.testing import CliRunner

from tests.conftest import PgDatabase, own_server
from walstream.commands.config import config_option
from walstream.commands.ops import COMMANDS
from walstream.embedded import LocalPostgres
from walstream.errors import SourceError
from walstream.lsn import parse_lsn
from walstream.pg import admin


def cli() -> click.Group:
    @click.group()
    @config_option
    def root() -> None:
        pass

    for command in COMMANDS:
        root.add_command(command)
    return root


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli(), list(args), input=input)


def checks_by_name(checks: list[admin.Check]) -> dict[str, admin.Check]:
    return {c.name: c for c in checks}


def test_slot_create_advance_drop(db: PgDatabase) -> None:
    result = run("slot", "create", "--dsn", db.dsn, "--slot", "s1")
    assert result.exit_code == 0 and "created slot s1" in result.stdout
    again = run("slot", "create", "--dsn", db.dsn, "--slot", "s1")
    assert isinstance(again.exception, SourceError) and "already exists" in str(again.exception)
    db.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
    before = parse_lsn(db.confirmed_flush_lsn("s1") or "0/0")
    target = db.current_lsn()
    result = run("slot", "advance", "--dsn", db.dsn, "--slot", "s1", "--to", target, "--yes")
    assert result.exit_code == 0, result.output
    assert parse_lsn(db.confirmed_flush_lsn("s1") or "0/0") == parse_lsn(target) > before
    refused = run("slot", "drop", "--dsn", db.dsn, "--slot", "s1", input="n\n")
    assert refused.exit_code != 0 and db.confirmed_flush_lsn("s1") is not None
    result = run("slot", "drop", "--dsn", db.dsn, "--slot", "s1", "--yes")
    assert result.exit_code == 0 and db.confirmed_flush_lsn("s1") is None


def test_drop_of_an_active_slot_needs_force(db: PgDatabase) -> None:
    db.create_slot("busy")
    holder = psycopg.connect(db.dsn, autocommit=True, replication="database")
    try:
        holder.pgconn.exec_(
            b'START_REPLICATION SLOT "busy" LOGICAL 0/0 '
            b"(\"proto_version\" '1', \"publication_names\" 'x')"
        )
        with db.connect() as conn, pytest.raises(SourceError, match="is active"):
            admin.drop_slot(conn, "busy")
        with db.connect() as conn:
            admin.drop_slot(conn, "busy", force=True)
        assert db.confirmed_flush_lsn("busy") is None
    finally:
        holder.close()


def test_publication_create_add_table_show(db: PgDatabase) -> None:
    db.execute(
        """
        CREATE TABLE keyed (id int PRIMARY KEY, v text);
        CREATE TABLE full_no_key (v text);
        ALTER TABLE full_no_key REPLICA IDENTITY FULL;
        CREATE TABLE no_key (v text);
        CREATE TABLE uniq (code text NOT NULL, v text);
        CREATE UNIQUE INDEX uniq_code ON uniq (code);
        ALTER TABLE uniq REPLICA IDENTITY USING INDEX uniq_code;
        CREATE TABLE nothing (id int PRIMARY KEY);
        ALTER TABLE nothing REPLICA IDENTITY NOTHING;
        """
    )
    result = run("publication", "create", "--dsn", db.dsn, "--table", "public.keyed")
    assert result.exit_code == 0, result.output
    result = run(
        "publication",
        "add-table",
        "--dsn",
        db.dsn,
        "--table",
        "public.full_no_key,public.no_key",
        "--table",
        "uniq",
        "--table",
        "nothing",
    )
    assert result.exit_code == 0, result.output
    result = run("publication", "show", "--dsn", db.dsn, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    tables = {t["table"]: t for t in doc["tables"]}
    assert set(tables) == {
        "public.keyed",
        "public.full_no_key",
        "public.no_key",
        "public.uniq",
        "public.nothing",
    }
    assert tables["public.keyed"]["status"] == "ok" and tables["public.keyed"]["primary_key"] == [
        "id"
    ]
    assert (
        tables["public.uniq"]["status"] == "ok"
        and tables["public.uniq"]["identity_index"] == "uniq_code"
    )
    assert tables["public.full_no_key"]["status"] == "warn"  # append-only FINAL
    assert tables["public.no_key"]["status"] == "fail"  # UPDATE/DELETE fail on the source
    assert "REPLICA IDENTITY FULL" in tables["public.no_key"]["fix"]
    assert tables["public.nothing"]["status"] == "fail"
    human = run("publication", "show", "--dsn", db.dsn)
    assert human.exit_code == 0 and "public.no_key" in human.stdout


def test_role_check_accepts_replication_or_rds_replication(db: PgDatabase) -> None:
    role = f"plain_{db.name}"
    db.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        dsn = f"{db.dsn} user={role}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            check = admin.check_role(conn)
            assert check.status == admin.FAIL and "ALTER ROLE" in check.fix
        db.execute(
            "DO $$ BEGIN CREATE ROLE rds_replication; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        db.execute(f'GRANT rds_replication TO "{role}"')
        with psycopg.connect(dsn, autocommit=True) as conn:
            check = admin.check_role(conn)
            assert check.status == admin.OK and "rds_replication" in check.detail
        db.execute(f'REVOKE rds_replication FROM "{role}"; ALTER ROLE "{role}" REPLICATION')
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert admin.check_role(conn).detail.endswith("has REPLICATION")
    finally:
        db.execute(f'DROP ROLE "{role}"')


def test_doctor_on_a_healthy_source_and_its_exit_code(db: PgDatabase) -> None:
    db.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()
    result = run("doctor", "--dsn", db.dsn, "--json")
    doc = json.loads(result.stdout)
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["wal_level"]["status"] == "ok" and checks["role"]["status"] == "ok"
    assert checks["slot"]["status"] == "ok" and checks["table public.t"]["status"] == "ok"
    assert checks["max_replication_slots"]["status"] in ("ok", "warn")
    worst = {c["status"] for c in doc["checks"]}
    assert result.exit_code == (2 if "fail" in worst else 1 if "warn" in worst else 0)
    assert "fail" not in worst
    human = run("doctor", "--dsn", db.dsn)
    assert "wal_level" in human.stdout and human.exit_code == result.exit_code


def test_doctor_reports_missing_publication_and_slot_with_fixes(db: PgDatabase) -> None:
    result = run("doctor", "--dsn", db.dsn, "--slot", "nope", "--publication", "nopub", "--json")
    assert result.exit_code == 2
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["publication"]["status"] == "fail"
    assert "walstream publication create --publication nopub" in checks["publication"]["fix"]
    assert checks["slot"]["status"] == "warn" and "slot create --slot nope" in checks["slot"]["fix"]


@pytest.fixture(scope="module")
def replica_level() -> Iterator[LocalPostgres]:
    settings = {"wal_level": "replica", "fsync": "off", "max_replication_slots": "1"}
    yield from own_server("walstream-test-pg-doctor-", settings)


def test_doctor_tells_how_to_enable_logical_decoding_and_free_slots(
    replica_level: LocalPostgres,
) -> None:
    with psycopg.connect(replica_level.dsn(), autocommit=True) as conn:
        conn.execute("SELECT pg_create_physical_replication_slot('other')")
        checks = checks_by_name(admin.run_checks(conn, slot="sf_sync", publication=None))
    assert checks["wal_level"].status == admin.FAIL
    assert "wal_level = logical" in checks["wal_level"].fix
    slots = checks["max_replication_slots"]
    assert slots.status == admin.FAIL and "no room for slot 'sf_sync'" in slots.detail
    assert checks["max_slot_wal_keep_size"].status == admin.WARN

"""``walstream snapshot`` refuses clearly: one line saying what to do, a non-zero exit, nothing
created or written that a retry would trip over. And on success, without a terminal, it logs
JSON progress lines instead of drawing a bar."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.conftest import PgDatabase
from tests.test_snapshot import setup_source, snapshot_cli
from walstream.errors import ConfigError, SourceError
from walstream.lsn import format_lsn
from walstream.snapshot import SnapshotConfig, run_snapshot
from walstream.snapshot.exported import SlotSnapshot

SOURCE_ERROR_EXIT = 3


def config(db: PgDatabase, tmp_path: Path, **overrides: object) -> SnapshotConfig:
    cfg = SnapshotConfig(
        db.dsn, "sf_sync", "walstream", f"file://{tmp_path}/dest", create_slot=True, progress="none"
    )
    for name, value in overrides.items():
        setattr(cfg, name, value)
    return cfg


def slots(db: PgDatabase) -> list[object]:
    return [r[0] for r in db.execute("SELECT slot_name FROM pg_replication_slots")]


@pytest.fixture
def limited_role(db: PgDatabase) -> Iterator[str]:
    """A login role with REPLICATION but no privilege on the tables; dropped afterwards."""
    role = f"snap_{uuid.uuid4().hex[:8]}"
    db.execute(f"CREATE ROLE {role} LOGIN REPLICATION")
    try:
        yield role
    finally:
        with contextlib.suppress(psycopg.Error):
            db.execute(f"DROP OWNED BY {role}")
        db.execute(f"DROP ROLE IF EXISTS {role}")


def test_table_not_in_publication_exits_3_before_creating_the_slot(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db, accounts=10, lines=10)
    db.execute("CREATE TABLE other (id int PRIMARY KEY)")
    proc = snapshot_cli(
        "--dsn", db.dsn, "--dest", f"file://{tmp_path}/dest", "--create-slot",
        "--table", "public.accounts,public.other",
    )  # fmt: skip
    assert proc.returncode == SOURCE_ERROR_EXIT, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("walstream: error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "table public.other is not in publication 'walstream'" in lines[0]
    assert "ALTER PUBLICATION walstream ADD TABLE public.other" in lines[0]
    assert slots(db) == [] and not (tmp_path / "dest" / "public").exists()


def test_table_without_select_privilege_exits_3_with_the_grant_to_run(
    db: PgDatabase, tmp_path: Path, limited_role: str
) -> None:
    setup_source(db, accounts=10, lines=10)
    db.execute(f"GRANT SELECT ON lines TO {limited_role}")
    dsn = make_conninfo(db.dsn, user=limited_role)
    proc = snapshot_cli("--dsn", dsn, "--dest", f"file://{tmp_path}/dest", "--create-slot")
    assert proc.returncode == SOURCE_ERROR_EXIT, proc.stderr
    assert (
        f"role '{limited_role}' has no SELECT privilege on public.accounts" in proc.stderr
        and f"GRANT SELECT ON public.accounts TO {limited_role}" in proc.stderr
    ), proc.stderr
    assert "Traceback" not in proc.stderr
    assert slots(db) == []


def test_exported_snapshot_no_longer_valid_exits_3_and_says_to_run_again(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db, accounts=10, lines=10)
    db.create_slot()
    with SlotSnapshot(db.dsn, "gone", temporary=True) as held:
        assert held.snapshot is not None
        name, point = held.snapshot.snapshot_name, held.snapshot.consistent_point
    # the connection that exported the snapshot is closed: the snapshot died with it
    proc = snapshot_cli(
        "--dsn", db.dsn, "--dest", f"file://{tmp_path}/dest",
        "--use-snapshot", name, "--snapshot-lsn", format_lsn(point),
    )  # fmt: skip
    assert proc.returncode == SOURCE_ERROR_EXIT, proc.stderr
    assert f"the exported snapshot '{name}' is no longer valid" in proc.stderr, proc.stderr
    assert "run the snapshot again" in proc.stderr and "Traceback" not in proc.stderr
    # the tables were requested: a --resume (or run --snapshot initial) will load them
    checkpoint = json.loads((tmp_path / "dest/_walstream/sf_sync/checkpoint.json").read_text())
    states = {t: e["snapshot"]["state"] for t, e in checkpoint["tables"].items()}
    assert states == {"public.accounts": "not_started", "public.lines": "not_started"}


def test_missing_slot_table_publication_and_half_given_snapshot_are_refused(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db, accounts=10, lines=10)
    with pytest.raises(SourceError, match="slot 'sf_sync' does not exist: pass --create-slot"):
        run_snapshot(config(db, tmp_path, create_slot=False))
    with pytest.raises(SourceError, match=r"table public\.nope does not exist"):
        run_snapshot(config(db, tmp_path, tables=("public.nope",)))
    with pytest.raises(SourceError, match="publication 'nopub' does not exist"):
        run_snapshot(config(db, tmp_path, publication="nopub"))
    with pytest.raises(ConfigError, match="--use-snapshot and --snapshot-lsn go together"):
        run_snapshot(config(db, tmp_path, use_snapshot="00000003-00000002-1"))
    with pytest.raises(ConfigError, match="--workers must be 0 or more"):
        run_snapshot(config(db, tmp_path, workers=-1))
    with pytest.raises(ConfigError, match="--chunk-size 1000 is too small"):
        run_snapshot(config(db, tmp_path, chunk_bytes=1000))
    assert slots(db) == []


def test_row_level_security_that_would_hide_rows_is_an_error_not_a_silent_gap(
    db: PgDatabase, tmp_path: Path, limited_role: str
) -> None:
    setup_source(db, accounts=10, lines=10)
    db.execute(
        f"""
        GRANT SELECT ON accounts, lines TO {limited_role};
        ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
        CREATE POLICY only_small ON accounts FOR SELECT TO {limited_role} USING (id < 5);
        """
    )
    db.create_slot()
    dsn = make_conninfo(db.dsn, user=limited_role)
    with pytest.raises(SourceError, match="row-level security that would hide rows"):
        run_snapshot(config(db, tmp_path, dsn=dsn, tables=("public.accounts",)))


def test_success_without_a_terminal_logs_json_progress_and_a_summary(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db, accounts=300, lines=200)
    proc = snapshot_cli(
        "--dsn", db.dsn, "--dest", f"file://{tmp_path}/dest", "--create-slot", "--json",
        "--workers", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    *logs, summary = proc.stderr.strip().splitlines()
    events = [json.loads(line) for line in logs]  # each field a JSON field, numbers as numbers
    loaded = [e for e in events if e["event"] == "snapshot_table_loaded"]
    assert len(loaded) == 2
    assert {(e["table"], e["rows"]) for e in loaded} == {
        ("public.accounts", 300),
        ("public.lines", 200),
    }
    assert summary.startswith("walstream: snapshot done; tables=2 rows=500 ")
    assert "slot=sf_sync (created)" in summary
    assert slots(db) == ["sf_sync"]

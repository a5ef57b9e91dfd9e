"""``walstream run --snapshot initial`` from the command line: load, then stream, FINAL exact."""

from __future__ import annotations

from pathlib import Path

from tests.changes import change_files
from tests.cli_run import walstream
from tests.conftest import PgDatabase
from walstream.lsn import format_lsn, parse_lsn
from walstream.warehouse import LocalWarehouse


def test_run_with_initial_snapshot_loads_existing_rows_then_streams_changes(
    db: PgDatabase, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    db.execute("INSERT INTO t SELECT g, 'before ' || g FROM generate_series(1, 500) g")
    db.execute("CREATE PUBLICATION walstream FOR TABLE t")
    dest = f"file://{tmp_path}/dest"
    args = ["run", "--dsn", db.dsn, "--dest", dest, "--create-slot", "--snapshot", "initial",
            "--flush-interval", "0.3", "--status-interval", "0.3"]  # fmt: skip

    # first run: no slot yet -> created with an exported snapshot, the table loaded, then it
    # streams what was written after the consistent point
    first = walstream(*args, "--until-lsn", "0/1")
    assert first.returncode == 0, first.stderr
    keys = change_files(dest)["public.t"]
    assert any(k.split("/")[-1].startswith("LOAD") for k in keys), keys

    db.execute("UPDATE t SET v = 'after' WHERE id % 7 = 0")
    db.execute("DELETE FROM t WHERE id % 11 = 0")
    db.execute("INSERT INTO t VALUES (1000, 'new')")
    db.execute("SELECT pg_logical_emit_message(true, 'test', 'end')")
    until = format_lsn(parse_lsn(db.current_lsn()))
    second = walstream(*args, "--until-lsn", until)  # loaded already: streams only
    assert second.returncode == 0, second.stderr
    assert sum(1 for k in change_files(dest)["public.t"] if "/LOAD" in k) == sum(
        1 for k in keys if "/LOAD" in k
    )  # no second load

    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        final = wh.conn.execute('SELECT id, v FROM public."t" ORDER BY id').fetchall()
    source = db.execute("SELECT id, v FROM t ORDER BY id")
    assert final == source
    assert len(source) == 500 - 500 // 11 + 1

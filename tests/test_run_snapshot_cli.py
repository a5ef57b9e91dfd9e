"""``walstream run --snapshot initial`` from the command line: load, then stream, FINAL exact."""

from __future__ import annotations

from pathlib import Path

from tests.changes import change_files
from tests.cli_run import walstream
from tests.conftest import PgDatabase
from walstream.lsn import format_lsn, parse_lsn
from walstream.pipeline.manifest import LoadRef, parse_manifest
from walstream.sink import open_sink
from walstream.warehouse import LocalWarehouse
from walstream.warehouse.local import manifest_keys


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

    # the stream's first manifest (the origin) names the load: when Snowpipe delivers the load's
    # own manifest last, the table waits for it instead of merging the stream without the load
    sink = open_sink(dest)
    manifests = {k: parse_manifest(sink.get(k) or b"") for k in manifest_keys(sink)}
    (load_key,) = [k for k, m in manifests.items() if m.kind == "load"]
    snapshot_lsn = manifests[load_key].start_lsn + 1
    origins = [m for m in manifests.values() if m.kind == "flush" and m.origin]
    assert [m.loads for m in origins] == [(LoadRef("public.t", snapshot_lsn),)]
    others = [k for k in sink.list("") if k != load_key and not k.endswith("checkpoint.json")]
    with LocalWarehouse(str(tmp_path / "late.duckdb")) as wh:
        wh.load(sink, keys=others)
        (mark,) = wh.watermarks()
        assert mark["lsn"] is None
        assert mark["waiting_for"] == f"load manifest of public.t at {snapshot_lsn}"
        wh.load(sink, keys=[load_key])
        assert wh.conn.execute('SELECT id, v FROM public."t" ORDER BY id').fetchall() == source

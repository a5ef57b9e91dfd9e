"""``walstream verify --snowflake`` and ``verify --method checksums``: counts and checksums
computed inside PostgreSQL and inside FINAL's engine (walstream/verify/pushdown.py).

The pipeline runs for real (PostgreSQL -> walstream run -> file://), FINAL is built from its
files in the local DuckDB warehouse and in Snowflake on fakesnow (the generated objects, the
pipes' COPY and the task body, emulated as in tests/test_verify_checksum.py). Verify must pass
on both, find each injected difference with its key and both values, and stay silent about
rows a live workload changes while it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from tests.conftest import PgDatabase
from tests.snowflake_parse import parse_snowflake
from tests.streaming import run_to_current
from tests.test_verify_checksum import deliver_to_snowflake
from tests.test_verify_checksum import snowflake_cursor as snowflake_cursor  # the fixture
from walstream.cli import main
from walstream.errors import ConfigError
from walstream.pipeline.runner import RunConfig, Runner
from walstream.snapshot import SnapshotConfig, run_snapshot
from walstream.snowflake.dialects import SnowflakeDialect
from walstream.snowflake.discover import models_from_dest
from walstream.snowflake.options import MergeOptions
from walstream.verify import BEHIND, DIFFERS, MATCH, SKIPPED, VerifyOptions
from walstream.verify.pushdown import FinalEngine, _manifest_end, verify_in_engines
from walstream.warehouse import LocalWarehouse

SCHEMA = """
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), tags text[],
                    doc jsonb, seen timestamptz, raw bytea, score float8, flag bool);
CREATE TABLE lines (order_id int, line int, qty int, PRIMARY KEY (order_id, line));
CREATE TABLE nokey (v text);
CREATE PUBLICATION walstream FOR TABLE items, lines, nokey;
"""
WORKLOAD = """
INSERT INTO items SELECT g, 'item ' || g, g * 1.25, ARRAY['a', 'b|' || g],
       jsonb_build_object('k', g, 'nested', jsonb_build_array(1, 2)),
       '2026-01-02 03:04:05.123456+00'::timestamptz + g * interval '1 minute',
       decode(lpad(to_hex(g), 4, '0'), 'hex'), g / 3.0, g % 2 = 0
FROM generate_series(1, 400) g;
INSERT INTO lines SELECT g / 10, g % 10, g FROM generate_series(1, 120) g;
INSERT INTO nokey VALUES ('x');
UPDATE items SET name = NULL, tags = '{}' WHERE id % 7 = 0;
DELETE FROM items WHERE id % 11 = 0;
UPDATE lines SET line = line + 100 WHERE order_id = 3;
"""


def options(**kw: Any) -> VerifyOptions:
    base: dict[str, Any] = {"publication": "walstream", "slot": "sf_sync", "chunk_rows": 40}
    base.update(kw)
    return VerifyOptions(**base)


@pytest.fixture
def pipeline(db: PgDatabase, tmp_path: Path) -> tuple[PgDatabase, str, str]:
    db.execute(SCHEMA)
    db.create_slot()
    db.execute(WORKLOAD)
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, flush_interval=0.1, status_interval=0.2)
    warehouse = str(tmp_path / "wh.duckdb")
    return db, dest, warehouse


def verify_cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["verify", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == result.exit_code
    return result.exit_code, doc


def tables(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["table"]: t for t in doc["tables"]}


def test_checksums_on_the_local_warehouse_match_then_name_each_difference(
    pipeline: tuple[PgDatabase, str, str],
) -> None:
    db, dest, warehouse = pipeline
    base = ["--dsn", db.dsn, "--warehouse", warehouse, "--dest", dest, "--slot", "sf_sync"]
    base += ["--method", "checksums", "--chunk-rows", "40"]
    code, doc = verify_cli(*base, "--load")
    assert code == 0 and doc["status"] == MATCH, doc
    found = tables(doc)
    assert found["public.items"]["source_rows"] == found["public.items"]["final_rows"] == 364
    assert found["public.items"]["ranges"] >= 9  # ~40 keys per bucket
    assert found["public.nokey"]["status"] == SKIPPED

    with duckdb.connect(warehouse) as wh:  # FINAL loses, invents and changes rows
        wh.execute("UPDATE public.items SET name = 'tampered', score = 0.5 WHERE id = 42")
        wh.execute("DELETE FROM public.lines WHERE order_id = 3 AND line = 105")
        wh.execute(
            "INSERT INTO public.items SELECT * REPLACE (9999 AS id, 'ghost' AS name) "
            "FROM public.items WHERE id = 1"
        )
    code, doc = verify_cli(*base)
    assert code == 1 and doc["status"] == DIFFERS
    items, lines = tables(doc)["public.items"], tables(doc)["public.lines"]
    assert (items["changed"], items["extra"], items["missing"]) == (1, 1, 0)
    assert (lines["missing"], lines["changed"]) == (1, 0)
    diffs = {tuple(d["key"]): d for r in items["first_differences"] for d in r["differences"]}
    changed = diffs[(42,)]
    assert changed["kind"] == "changed"
    assert changed["values"] == {
        "name": {"source": None, "final": "tampered"},  # 42 % 7 == 0: NULL
        "score": {"source": 14.0, "final": 0.5},
    }
    assert diffs[(9999,)]["kind"] == "extra" and diffs[(9999,)]["values"]["name"] == {
        "final": "ghost"
    }
    (missing,) = [d for r in lines["first_differences"] for d in r["differences"]]
    assert missing["key"] == [3, 105] and missing["values"]["qty"] == {"source": 35}
    assert all(r["bucket"] for r in items["first_differences"])


def test_final_ahead_of_the_snapshot_is_in_flux_not_a_difference(
    pipeline: tuple[PgDatabase, str, str],
) -> None:
    db, dest, warehouse = pipeline
    base = ["--dsn", db.dsn, "--warehouse", warehouse, "--dest", dest, "--slot", "sf_sync"]
    base += ["--method", "checksums", "--load"]
    assert verify_cli(*base)[0] == 0
    with duckdb.connect(warehouse) as wh:  # as if FINAL already holds a later change
        wh.execute(
            "UPDATE public.items SET name = 'later', _walstream_lsn = 9223372036854775000 "
            "WHERE id = 5"
        )
    code, doc = verify_cli(*base[:-1], "--table", "public.items")
    assert code == 0, doc
    assert tables(doc)["public.items"]["in_flux"] == 1
    assert tables(doc)["public.items"]["changed"] == 0


def test_a_final_behind_the_snapshot_is_inconclusive(pipeline: tuple[PgDatabase, str, str]) -> None:
    db, dest, warehouse = pipeline
    base = ["--dsn", db.dsn, "--warehouse", warehouse, "--dest", dest, "--slot", "sf_sync"]
    base += ["--method", "checksums", "--wait", "0"]
    assert verify_cli(*base, "--load")[0] == 0
    db.execute("UPDATE items SET name = 'new' WHERE id = 1")
    run_to_current(db, dest, flush_interval=0.1, status_interval=0.2)  # stored, not merged
    code, doc = verify_cli(*base)
    assert code == 2 and doc["status"] == BEHIND and not doc["tables"]
    assert "public.items: merged watermark" in doc["note"]
    assert verify_cli(*base, "--load")[0] == 0


class Parsed:
    """fakesnow's cursor, every statement parsed with sqlglot's Snowflake dialect first."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.sent: list[str] = []

    def execute(self, sql: str, *args: Any) -> Any:
        parse_snowflake(sql)
        self.sent.append(sql)
        self.cursor.execute(sql, *args)
        return self

    def fetchall(self) -> list[Any]:
        return list(self.cursor.fetchall())

    @property
    def description(self) -> Any:
        return self.cursor.description


def test_verify_against_final_in_snowflake(
    pipeline: tuple[PgDatabase, str, str], snowflake_cursor: Any
) -> None:
    db, dest, _ = pipeline
    deliver_to_snowflake(snowflake_cursor, dest, "VERIFY_SF")
    snowflake_cursor.execute("USE SCHEMA VERIFY_SF")
    parsed = Parsed(snowflake_cursor)
    final = FinalEngine(parsed, SnowflakeDialect(), "snowflake:fakesnow")
    models = models_from_dest(dest)
    end = _manifest_end(dest, "sf_sync")  # the checkpoint: nothing after it but idle WAL
    report = verify_in_engines(db.dsn, final, models, options(wait_seconds=0), manifest_end=end)
    assert report.status == MATCH, report.as_dict()
    found = {t.table: t for t in report.tables}
    assert found["public.items"].source_rows == found["public.items"].final_rows == 364
    assert any("INFORMATION_SCHEMA" not in s and "MD5_NUMBER_UPPER64" in s for s in parsed.sent)

    snowflake_cursor.execute('UPDATE "ITEMS" SET "NAME" = \'tampered\' WHERE "ID" = 79')
    report = verify_in_engines(db.dsn, final, models, options(wait_seconds=0), manifest_end=end)
    assert report.status == DIFFERS and report.exit_code == 1
    items = {t.table: t for t in report.tables}["public.items"]
    assert items.changed == 1 and items.missing == items.extra == 0
    (diff,) = [d for r in items.first_differences for d in r.differences]
    assert diff.key == [79] and diff.values == {"name": {"source": "item 79", "final": "tampered"}}


def test_verify_snowflake_command_reads_the_account_of_status(
    pipeline: tuple[PgDatabase, str, str], snowflake_cursor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, dest, _ = pipeline
    deliver_to_snowflake(snowflake_cursor, dest, "VERIFY_CLI")

    class Conn:
        def cursor(self) -> Parsed:
            return Parsed(snowflake_cursor)

        def close(self) -> None:
            pass

    monkeypatch.setattr("walstream.snowflake.apply.connect", lambda *a, **k: Conn())
    monkeypatch.setenv("WALSTREAM_SNOWFLAKE_PASSWORD", "x")
    args = ["--dsn", db.dsn, "--snowflake", "--snowflake-account", "acme"]
    args += ["--snowflake-user", "cdc", "--snowflake-database", "ANALYTICS"]
    args += ["--snowflake-schema", "VERIFY_CLI", "--dest", dest, "--slot", "sf_sync"]
    code, doc = verify_cli(*args, "--wait", "0")
    assert code == 0 and doc["status"] == MATCH, doc
    refused = CliRunner().invoke(main, ["verify", *args, "--method", "rows"])
    assert isinstance(refused.exception, ConfigError)
    assert "checksums only" in str(refused.exception)


def test_verify_during_a_live_workload_reports_no_false_difference(
    db: PgDatabase, tmp_path: Path
) -> None:
    """walstream runs, a loader loads the warehouse in another process (as Snowpipe and the
    tasks do), and the source keeps changing while verify compares: no difference."""
    db.execute(SCHEMA)
    db.create_slot()
    db.execute(WORKLOAD)
    dest = f"file://{tmp_path}/dest"
    warehouse = str(tmp_path / "wh.duckdb")
    runner = Runner(
        RunConfig(db.dsn, "sf_sync", "walstream", dest, flush_interval=0.2, status_interval=0.2)
    )
    stop = threading.Event()
    threads = [threading.Thread(target=runner.run, daemon=True)]

    def write() -> None:
        n = 0
        with db.connect() as conn:
            while not stop.is_set():
                n += 1
                conn.execute("UPDATE items SET price = price + 1 WHERE id = %s", (n % 400 + 1,))
                conn.execute(
                    "INSERT INTO lines VALUES (%s, 0, 1) ON CONFLICT DO NOTHING", (1000 + n,)
                )
                conn.execute("DELETE FROM lines WHERE order_id = %s", (1000 + n - 5,))
                time.sleep(0.01)

    loader = (
        "import sys, time\n"
        "from walstream.warehouse import LocalWarehouse\n"
        "while True:\n"
        "    try:\n"
        "        with LocalWarehouse(sys.argv[1]) as wh: wh.load(sys.argv[2])\n"
        "    except Exception: pass\n"
        "    time.sleep(0.2)\n"
    )
    threads.append(threading.Thread(target=write, daemon=True))
    for thread in threads:
        thread.start()
    load = subprocess.Popen([sys.executable, "-c", loader, warehouse, dest], env={**os.environ})
    try:
        time.sleep(1.0)  # the workload has run a while: files, loads, merges
        code, doc = verify_cli(
            "--dsn", db.dsn, "--warehouse", warehouse, "--dest", dest,
            "--slot", "sf_sync", "--method", "checksums", "--wait", "60",
            "--chunk-rows", "40",
        )  # fmt: skip
        assert code == 0 and doc["status"] == MATCH, doc
    finally:
        stop.set()
        load.kill()
        load.wait()
        runner.request_stop()
        for thread in threads:
            thread.join(timeout=60)


def test_a_full_load_merged_only_in_part_is_inconclusive_not_a_difference(
    db: PgDatabase, tmp_path: Path
) -> None:
    """A big full load is merged over several task runs (--load-slice-rows): until its last
    slice FINAL lacks rows on purpose, which verify must call behind, never differs."""
    db.execute(SCHEMA)
    db.create_slot()
    db.execute(WORKLOAD)
    dest = f"file://{tmp_path}/dest"
    run_snapshot(
        SnapshotConfig(
            db.dsn, "sf_sync", "walstream", dest, tables=("public.items",), progress="none"
        )
    )
    warehouse = str(tmp_path / "wh.duckdb")
    sliced = MergeOptions(load_slice_rows=100)
    with LocalWarehouse(warehouse, sliced) as wh:
        wh.load(dest)
    args = ["--dsn", db.dsn, "--warehouse", warehouse, "--dest", dest, "--method", "checksums"]
    args += ["--table", "public.items"]
    code, doc = verify_cli(*args)
    assert code == 2 and doc["status"] == BEHIND, doc
    assert "the rest of its full load" in doc["note"]
    with LocalWarehouse(warehouse, sliced) as wh:
        while any(row.get("load_lsn") is not None for row in wh.watermarks()):
            wh.load(dest)
    code, doc = verify_cli(*args)
    assert code == 0 and tables(doc)["public.items"]["final_rows"] == 364, doc

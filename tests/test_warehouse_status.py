"""A table whose merged watermark waits for a missing file says so: in ``walstream status
--warehouse`` (JSON, text, exit code) and as Prometheus gauges; the other tables go on.

Real DuckDB warehouses loaded by :class:`LocalWarehouse` from files of the simulated source;
one file of table ``a`` is held back.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from tests.cli_run import walstream
from tests.conftest import PgDatabase
from tests.simulated_source import SimSource, SimTable
from tests.test_status import cli, codes
from walstream.cli import main
from walstream.errors import ConfigError
from walstream.lsn import format_lsn
from walstream.ops.status import WAITING_RUNBOOK
from walstream.ops.status_schema import STATUS_SCHEMA
from walstream.sink import DurableSink, open_sink
from walstream.warehouse import LocalWarehouse
from walstream.warehouse.report import (
    UNLOADED_FILES,
    UNLOADED_SECONDS,
    WAITING_SECONDS,
    WATERMARK_LSN,
    read_watermarks,
    write_metrics_file,
)


@dataclass
class Stuck:
    """A warehouse where ``public.a`` waits for ``missing`` and ``public.b`` is complete."""

    path: str
    dest: str
    sink: DurableSink
    source: SimSource
    missing: str


@pytest.fixture
def stuck(tmp_path: Path) -> Stuck:
    dest = f"file://{tmp_path}/dest"
    sink = open_sink(dest)
    source = SimSource(16, [SimTable("a"), SimTable("b")])
    for _ in range(6):
        source.transaction(3)
    t = source.txns
    a1 = source.write_range(sink, "a", t[0], t[1])
    a2 = source.write_range(sink, "a", t[2], t[3])
    a3 = source.write_range(sink, "a", t[4], t[5])
    b1 = source.write_range(sink, "b", t[0], t[2])
    b2 = source.write_range(sink, "b", t[3], t[5])
    assert all(len(keys) == 2 for keys in (a1, a2, a3, b1, b2))  # a file and its manifest each
    missing = a2[0]
    path = str(tmp_path / "wh.duckdb")
    with LocalWarehouse(path) as wh:
        wh.load(sink, keys=[*a1, a2[1], *a3, *b1, *b2])
    return Stuck(path, dest, sink, source, missing)


def status(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli(), ["status", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, STATUS_SCHEMA)
    assert doc["exit_code"] == result.exit_code
    return result.exit_code, doc


def test_a_table_waiting_for_a_file_names_it_and_the_other_table_advances(stuck: Stuck) -> None:
    code, doc = status("--warehouse", stuck.path)
    assert code == 0 and doc["problems"] == []  # a fresh wait is normal: files arrive late
    assert doc["server"] is None and doc["slot"] is None and doc["checkpoint"] is None
    wh = doc["warehouse"]
    assert wh["location"] == stuck.path and wh["last_load_at"] is not None
    a, b = wh["tables"]["public.a"], wh["tables"]["public.b"]
    t = stuck.source.txns
    assert a["watermark_lsn"] == format_lsn(t[1])  # the first file only
    assert a["waiting_for"] == stuck.missing and a["slot"] == "sim_a"
    assert a["waiting_since"] is not None and 0 < a["waiting_seconds"] < 600
    assert b["watermark_lsn"] == format_lsn(t[5])  # never held back by a's missing file
    assert b["waiting_for"] is None and b["waiting_since"] is None
    assert b["waiting_seconds"] == 0
    assert b["merged_at"] is not None

    # the numbers a CloudWatch agent ships: the same gauges as the metrics file
    samples = {(m["name"], tuple(sorted(m["labels"].items()))): m["value"] for m in wh["metrics"]}
    assert samples[("walstream_warehouse_watermark_lsn", (("table", "public.a"),))] == t[1]
    assert samples[("walstream_warehouse_watermark_lsn", (("table", "public.b"),))] == t[5]
    waiting_a = (("table", "public.a"), ("waiting_for", stuck.missing))
    assert samples[("walstream_warehouse_waiting_seconds", waiting_a)] == a["waiting_seconds"]
    waiting_b = (("table", "public.b"), ("waiting_for", ""))
    assert samples[("walstream_warehouse_waiting_seconds", waiting_b)] == 0
    last_load = dt.datetime.fromisoformat(wh["last_load_at"]).timestamp()
    assert samples[("walstream_warehouse_last_load_timestamp_seconds", ())] == pytest.approx(
        last_load, abs=0.01
    )


def test_waiting_longer_than_the_thresholds_is_critical_or_a_warning(stuck: Stuck) -> None:
    code, doc = status("--warehouse", stuck.path, "--max-waiting", "0")
    assert code == 2 and doc["status"] == "critical"
    assert codes(doc) == {"watermark_waiting"} and len(doc["problems"]) == 1  # a only
    message = doc["problems"][0]["message"]
    assert "public.a" in message and "public.b" not in message
    assert stuck.missing in message and WAITING_RUNBOOK in message
    assert "--max-waiting 0" in message
    assert format_lsn(stuck.source.txns[1]) in message  # where its FINAL stays

    code, doc = status("--warehouse", stuck.path, "--warn-waiting", "0")
    assert code == 1 and doc["problems"][0]["severity"] == "warning"
    assert "--warn-waiting 0" in doc["problems"][0]["message"]
    # both exceeded: only the critical one is reported, as for lag
    code, doc = status("--warehouse", stuck.path, "--max-waiting", "0", "--warn-waiting", "0")
    assert code == 2 and [p["severity"] for p in doc["problems"]] == ["critical"]
    code, doc = status("--warehouse", stuck.path, "--max-waiting", "86400")
    assert code == 0


def test_the_wait_ends_when_the_file_arrives(stuck: Stuck) -> None:
    with LocalWarehouse(stuck.path) as wh:
        wh.load(stuck.sink, keys=[stuck.missing])
    code, doc = status("--warehouse", stuck.path, "--max-waiting", "0")
    assert code == 0, doc["problems"]
    for name in ("public.a", "public.b"):
        table = doc["warehouse"]["tables"][name]
        assert table["watermark_lsn"] == format_lsn(stuck.source.txns[5])
        assert table["waiting_for"] is None and table["waiting_seconds"] == 0


def test_the_text_output_shows_what_waits_for_which_file(stuck: Stuck) -> None:
    result = CliRunner().invoke(
        cli(),
        ["status", "--warehouse", stuck.path, "--max-waiting", "0"],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.stdout.split())
    assert "CRITICAL" in text and "source not checked" in text
    assert f"public.a: watermark {format_lsn(stuck.source.txns[1])}, waiting" in text
    assert stuck.missing in text and WAITING_RUNBOOK in text
    # the table: one row per table, its path from written to merged
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if "│ public." in line}
    assert format_lsn(stuck.source.txns[5]) in rows["public.b"]
    assert "waiting" not in rows["public.b"] and "waiting" in rows["public.a"]


def test_the_metrics_file_holds_the_gauges_for_node_exporter(stuck: Stuck, tmp_path: Path) -> None:
    with LocalWarehouse(stuck.path) as wh:
        reading = wh.reading()
    loaded_at = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    path = tmp_path / "walstream_warehouse.prom"
    write_metrics_file(str(path), reading, loaded_at=loaded_at)
    text = path.read_text()
    assert "# TYPE walstream_warehouse_waiting_seconds gauge" in text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    waited = samples.pop((WAITING_SECONDS, (("table", "public.a"), ("waiting_for", stuck.missing))))
    assert 0 < waited < 600
    # a's held-back file: listed by its manifest, not loaded
    assert samples.pop((UNLOADED_FILES, (("table", "public.a"),))) == 1
    assert 0 < samples.pop((UNLOADED_SECONDS, (("table", "public.a"),))) < 600
    assert samples.pop((UNLOADED_FILES, (("table", "public.b"),))) == 0
    assert samples.pop((UNLOADED_SECONDS, (("table", "public.b"),))) == 0
    # rows written (listed by manifests) and loaded (reached STAGING)
    assert samples.pop(("walstream_warehouse_rows_written", (("table", "public.a"),))) == 7
    assert samples.pop(("walstream_warehouse_rows_loaded", (("table", "public.a"),))) == 4
    for table in ("public.a", "public.b"):
        label = (("table", table),)
        assert samples.pop(("walstream_warehouse_rows_written", label), 12) == 12
        assert samples.pop(("walstream_warehouse_rows_loaded", label), 12) == 12
        assert samples.pop(("walstream_warehouse_failed_files", label)) == 0
        assert samples.pop(("walstream_warehouse_failed_task_runs", label)) == 0
        # the simulated manifests carry no commit time: freshness unknown, not sampled
        assert ("walstream_warehouse_freshness_seconds", label) not in samples
    t = stuck.source.txns
    assert samples == {
        (WATERMARK_LSN, (("table", "public.a"),)): t[1],
        (WATERMARK_LSN, (("table", "public.b"),)): t[5],
        (WAITING_SECONDS, (("table", "public.b"), ("waiting_for", ""))): 0,
        ("walstream_warehouse_last_load_timestamp_seconds", ()): loaded_at.timestamp(),
    }
    assert "walstream_lag_bytes" not in text  # a registry of its own, not walstream run's


def test_a_table_before_its_first_merge_has_no_watermark_gauge(tmp_path: Path) -> None:
    rows = [
        {
            "table_name": "public.new",
            "slot": "s",
            "lsn": None,
            "waiting_for": "public/new/LOAD00000001-0000000001000000.parquet",
            "waiting_since": dt.datetime(2026, 5, 1, 11, 0, tzinfo=dt.UTC),
            "merged_at": dt.datetime(2026, 5, 1, 11, 0, tzinfo=dt.UTC),
        }
    ]
    path = tmp_path / "m.prom"
    now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    write_metrics_file(str(path), rows, now=now)
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    assert families["walstream_warehouse_watermark_lsn"].samples == []
    (waiting,) = families["walstream_warehouse_waiting_seconds"].samples
    assert waiting.value == 3600 and waiting.labels["table"] == "public.new"
    (last,) = families["walstream_warehouse_last_load_timestamp_seconds"].samples
    assert last.value == now.timestamp()


def test_an_unwritable_metrics_file_is_a_clear_error(stuck: Stuck, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write the metrics file"):
        write_metrics_file(str(tmp_path / "no" / "such" / "dir" / "m.prom"), [])


@pytest.mark.parametrize("case", ["missing", "not duckdb", "not a warehouse"])
def test_a_missing_or_unreadable_warehouse_is_one_line_and_exit_2(
    case: str, tmp_path: Path
) -> None:
    path = tmp_path / "wh.duckdb"
    if case == "not duckdb":
        path.write_text("not a database")
    elif case == "not a warehouse":
        import duckdb

        duckdb.connect(str(path)).close()
    result = walstream("status", "--warehouse", str(path))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("walstream: error:"), result.stderr
    assert str(path) in lines[0] and "Traceback" not in result.stderr
    if case == "missing":
        assert not path.exists()  # a status check never creates a warehouse


def test_without_dsn_or_warehouse_status_asks_for_one() -> None:
    result = walstream("status", env={"WALSTREAM_DSN": ""})
    assert result.returncode == 2
    assert "--dsn" in result.stderr and "--warehouse" in result.stderr


def test_a_load_holding_the_lock_is_waited_for_then_named(stuck: Stuck) -> None:
    holder = textwrap.dedent(
        """
        import sys, time, duckdb
        conn = duckdb.connect(sys.argv[1])
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
        conn.close()
        """
    )

    def hold(seconds: float) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-c", holder, stuck.path, str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline() == "locked\n"
        return child

    child = hold(30)
    try:
        with pytest.raises(ConfigError, match="warehouse load` running"):
            read_watermarks(stuck.path, lock_wait=0.3)
    finally:
        child.kill()
        child.wait()
    child = hold(0.5)
    try:
        rows = read_watermarks(stuck.path, lock_wait=30)  # waits for the "load" to end
        assert [r["table_name"] for r in rows] == ["public.a", "public.b"]
    finally:
        child.wait()


def test_the_warehouse_section_comes_with_the_source_status(db: PgDatabase, stuck: Stuck) -> None:
    code, doc = status(
        "--dsn", db.dsn, "--slot", "nope", "--warehouse", stuck.path, "--max-waiting", "0"
    )
    assert code == 2
    assert codes(doc) == {"slot_missing", "watermark_waiting"}
    assert doc["server"]["is_writer"] is True
    assert doc["warehouse"]["tables"]["public.a"]["waiting_for"] == stuck.missing


def test_warehouse_load_writes_the_metrics_file(stuck: Stuck, tmp_path: Path) -> None:
    from walstream.commands.warehouse import warehouse

    load = warehouse.commands["load"]
    if not any("--metrics-file" in getattr(p, "opts", ()) for p in load.params):
        pytest.skip("walstream warehouse load has no --metrics-file yet")
    group = click.Group(commands={"warehouse": warehouse})
    path = tmp_path / "load.prom"
    args = ["--dest", stuck.dest, "--db", stuck.path, "--metrics-file", str(path)]
    result = CliRunner().invoke(group, ["warehouse", "load", *args])
    assert result.exit_code == 0, result.output
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    marks = {s.labels["table"]: s.value for s in families[WATERMARK_LSN].samples}
    assert marks == {"public.a": stuck.source.txns[5], "public.b": stuck.source.txns[5]}
    assert all(s.value == 0 for s in families[WAITING_SECONDS].samples)


def test_the_file_flow_shows_written_loaded_and_not_yet_loaded_files(stuck: Stuck) -> None:
    code, doc = status("--warehouse", stuck.path)
    assert code == 0  # one file late is normal
    a, b = doc["warehouse"]["tables"]["public.a"], doc["warehouse"]["tables"]["public.b"]
    # a: three files listed by manifests, the second held back; b: both loaded
    assert (a["files_written"], a["files_loaded"], a["files_unloaded"]) == (3, 2, 1)
    assert (b["files_written"], b["files_loaded"], b["files_unloaded"]) == (2, 2, 0)
    t = stuck.source.txns
    missing_rows = sum(1 for r in stuck.source.rows["a"] if t[2] <= r["_walstream_lsn"] <= t[3])
    assert a["rows_written"] - a["rows_loaded"] == missing_rows > 0
    assert b["rows_written"] == b["rows_loaded"] > 0
    assert a["unloaded_since"] is not None and 0 < a["unloaded_seconds"] < 600
    assert b["unloaded_since"] is None and b["unloaded_seconds"] == 0
    assert a["last_loaded_at"] is not None
    samples = {
        (m["name"], tuple(sorted(m["labels"].items()))): m["value"]
        for m in doc["warehouse"]["metrics"]
    }
    assert samples[(UNLOADED_FILES, (("table", "public.a"),))] == 1
    assert samples[(UNLOADED_FILES, (("table", "public.b"),))] == 0
    assert samples[(UNLOADED_SECONDS, (("table", "public.a"),))] == a["unloaded_seconds"]

    code, doc = status("--warehouse", stuck.path, "--max-unloaded-age", "0")
    assert code == 2 and codes(doc) == {"files_not_loaded"}
    (problem,) = doc["problems"]
    assert "public.a" in problem["message"] and "public.b" not in problem["message"]
    assert "files-written-but-not-loaded" in problem["message"]
    code, doc = status("--warehouse", stuck.path, "--warn-unloaded-age", "0")
    assert code == 1 and codes(doc) == {"files_not_loaded"}
    code, doc = status("--warehouse", stuck.path, "--max-unloaded-age", "1h")
    assert code == 0

    text = CliRunner().invoke(cli(), ["status", "--warehouse", stuck.path], env={"COLUMNS": "250"})
    (row,) = [line for line in text.output.splitlines() if "│ public.a " in line]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    # table, written files/rows, loaded files/rows, not loaded (oldest's age), failed
    assert cells[:3] == ["public.a", f"3 / {a['rows_written']}", f"2 / {a['rows_loaded']}"]
    assert cells[3].startswith("1 (") and cells[4] == "0"

    with LocalWarehouse(stuck.path) as wh:
        wh.load(stuck.sink)  # the late file arrives
    code, doc = status("--warehouse", stuck.path, "--max-unloaded-age", "0")
    a = doc["warehouse"]["tables"]["public.a"]
    assert code == 0 and (a["files_written"], a["files_loaded"], a["files_unloaded"]) == (3, 3, 0)
    assert a["rows_written"] == a["rows_loaded"]


def test_a_file_that_cannot_load_fails_alone_and_loads_again_once_fixed(stuck: Stuck) -> None:
    """Like Snowpipe: a broken file is recorded with its error and not tried again; its table
    waits for it, loudly; `warehouse reload-failed` loads it once it is fixed, and FINAL
    catches up with no duplicate and no gap."""
    good = stuck.sink.get(stuck.missing)
    assert good is not None
    stuck.sink.put(stuck.missing, b"PAR1 this is not a parquet file")
    load = CliRunner().invoke(main, ["warehouse", "load", "--dest", stuck.dest, "--db", stuck.path])
    assert load.exit_code == 1
    assert f"FAILED to load {stuck.sink.describe(stuck.missing)}" in load.output
    assert "walstream warehouse reload-failed" in load.output

    code, doc = status("--warehouse", stuck.path)
    assert code == 2 and codes(doc) == {"files_failed"}
    message = doc["problems"][0]["message"]
    assert stuck.missing in message and "Parquet" in message and "reload-failed" in message
    a = doc["warehouse"]["tables"]["public.a"]
    assert a["failed_files"] == 1 and a["failures"][0]["file"] == stuck.missing
    assert a["waiting_for"] == stuck.missing and a["files_unloaded"] == 1
    assert doc["warehouse"]["tables"]["public.b"]["failed_files"] == 0
    assert a["task"]["last_state"] == "SUCCEEDED" and a["task"]["failed_runs"] == 0

    # a load without the fix does not try the file again
    again = CliRunner().invoke(
        main, ["warehouse", "load", "--dest", stuck.dest, "--db", stuck.path]
    )
    assert again.exit_code == 0 and status("--warehouse", stuck.path)[0] == 2

    # still broken: reload-failed fails it again, loudly
    args = ["warehouse", "reload-failed", "--dest", stuck.dest, "--db", stuck.path]
    retry = CliRunner().invoke(main, args)
    assert retry.exit_code == 1 and "FAILED to load" in retry.output

    # the file removed to be uploaded again: the reload fails, and the failure stays on record
    (Path(stuck.dest.removeprefix("file://")) / stuck.missing).unlink()
    gone = CliRunner().invoke(main, args)
    assert gone.exit_code != 0 and "cannot be read any more" in str(gone.exception)
    assert codes(status("--warehouse", stuck.path)[1]) == {"files_failed"}

    stuck.sink.put(stuck.missing, good)  # fixed
    dry = CliRunner().invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0 and dry.stdout.split() == [stuck.missing]
    fixed = CliRunner().invoke(main, [*args, "--table", "public.a"])
    assert fixed.exit_code == 0, fixed.output
    code, doc = status("--warehouse", stuck.path)
    assert code == 0, doc["problems"]
    a = doc["warehouse"]["tables"]["public.a"]
    t = stuck.source.txns
    assert a["watermark_lsn"] == format_lsn(t[5]) and a["failed_files"] == 0
    assert (a["files_written"], a["files_loaded"], a["files_unloaded"]) == (3, 3, 0)
    # FINAL equals a warehouse that got every file in order, first time
    final = 'SELECT * FROM "public"."a" ORDER BY id'
    with LocalWarehouse(stuck.path) as wh:
        repaired = wh.conn.execute(final).fetchall()
    with LocalWarehouse(str(Path(stuck.path).with_name("clean.duckdb"))) as clean:
        clean.load(stuck.sink)
        assert repaired == clean.conn.execute(final).fetchall() and repaired

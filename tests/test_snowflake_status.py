"""``walstream status --snowflake``: the ``warehouse`` section read from Snowflake's
``WALSTREAM_WATERMARKS`` (issue 16, requirement 3), the same as from a DuckDB warehouse.

Snowflake is fakesnow (in-process): the bookkeeping tables are created with the generated DDL
and hold one table waiting for a file, one advanced and one merging a full load in slices.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import fakesnow
import jsonschema
import pytest
import snowflake.connector
from click.testing import CliRunner

from tests.test_status import cli, codes
from walstream.lsn import format_lsn
from walstream.ops.status import WAITING_RUNBOOK
from walstream.ops.status_schema import STATUS_SCHEMA
from walstream.snowflake.dialects import DUCKDB, SNOWFLAKE, Dialect
from walstream.snowflake.watermark import bookkeeping, bookkeeping_ddl

PASSWORD = "not-a-real-password-7f3a"
ENV = {"WALSTREAM_SNOWFLAKE_PASSWORD": PASSWORD, "WALSTREAM_DSN": ""}
SNOWFLAKE_ARGS = [
    "--snowflake",
    "--snowflake-account",
    "acme",
    "--snowflake-user",
    "cdc",
    "--snowflake-database",
    "ANALYTICS",
    "--snowflake-schema",
    "CDC",
]
MISSING_FILE = "public/orders/20260501-113740123-0000000003A2F1C8-0000000003A30F00.parquet"
A_LSN, B_LSN, C_LOAD, C_SEQ = 0x3A2F1C8, 0x3A40010, 0x3A00001, 250_000


def _create_and_fill(cursor: Any, dialect: Dialect, now: dt.datetime) -> None:
    """The bookkeeping tables of ``dialect`` (not the views), and three tables' watermarks."""
    for sql in bookkeeping_ddl(dialect):
        if sql.startswith("CREATE TABLE"):
            cursor.execute(sql)
    watermarks = bookkeeping(dialect).watermarks

    def ts(seconds_ago: int) -> str:
        at = (now - dt.timedelta(seconds=seconds_ago)).isoformat()
        return f"CAST('{at}' AS {dialect.commit_ts_type})"

    waiting_since, merged_at = ts(60), ts(5)
    cursor.execute(
        f"INSERT INTO {watermarks} (table_name, slot, prev_lsn, lsn, waiting_for, "
        "waiting_since, merged_at, load_lsn, load_seq) VALUES "
        f"('public.orders', 'sf_sync', {A_LSN}, {A_LSN}, '{MISSING_FILE}', "
        f"{waiting_since}, {merged_at}, NULL, NULL), "
        f"('public.customers', 'sf_sync', {A_LSN}, {B_LSN}, NULL, NULL, "
        f"{merged_at}, NULL, NULL), "
        f"('public.lines', 'sf_sync', 0, NULL, NULL, NULL, {merged_at}, "
        f"{C_LOAD}, {C_SEQ})"
    )


@pytest.fixture
def snowflake_objects() -> Iterator[dt.datetime]:
    """fakesnow with ANALYTICS.CDC's bookkeeping tables, as `walstream snowflake apply` makes
    them; yields when the rows were written."""
    now = dt.datetime.now(dt.UTC)
    with fakesnow.patch():
        conn = snowflake.connector.connect(
            account="acme", user="cdc", password="x", database="ANALYTICS", schema="CDC"
        )
        try:
            _create_and_fill(conn.cursor(), SNOWFLAKE, now)
        finally:
            conn.close()
        yield now


def status(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli(), ["status", "--json", *args], env=env or ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, STATUS_SCHEMA)
    assert doc["exit_code"] == result.exit_code
    return result.exit_code, doc, result.output


def entry_point(
    args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> tuple[int, str, str]:
    """Run the real entry point (its error contract: one line, an exit code) in-process, so
    fakesnow's patch applies."""
    from walstream.cli import cli as entry

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["walstream", *args])
    with pytest.raises(SystemExit) as exited:
        entry()
    out = capsys.readouterr()
    code = exited.value.code
    return code if isinstance(code, int) else 1, out.out, out.err


def test_status_reads_the_watermarks_from_snowflake(snowflake_objects: dt.datetime) -> None:
    code, doc, output = status(*SNOWFLAKE_ARGS)
    assert code == 0 and doc["problems"] == []  # a minute's wait is normal
    assert doc["server"] is None and doc["slot"] is None and doc["checkpoint"] is None
    wh = doc["warehouse"]
    assert wh["source"] == "snowflake:acme/ANALYTICS.CDC"
    assert wh["location"] == "acme/ANALYTICS.CDC.WALSTREAM_WATERMARKS"
    loaded = dt.datetime.fromisoformat(wh["last_load_at"])
    assert abs((loaded - (snowflake_objects - dt.timedelta(seconds=5))).total_seconds()) < 1
    orders, customers = wh["tables"]["public.orders"], wh["tables"]["public.customers"]
    assert orders["state"] == "waiting" and orders["waiting_for"] == MISSING_FILE
    assert orders["watermark_lsn"] == format_lsn(A_LSN) and orders["slot"] == "sf_sync"
    assert 60 <= orders["waiting_seconds"] < 600 and orders["waiting_since"] is not None
    assert customers["state"] == "merged" and customers["watermark_lsn"] == format_lsn(B_LSN)
    assert customers["waiting_for"] is None and customers["waiting_seconds"] == 0
    # objects without the manifest views (fakesnow cannot create them): the file flow is
    # unknown (null), never zero, and the watermarks still answer
    assert orders["files_written"] is None and orders["unloaded_seconds"] is None
    # a full load merged in slices: no watermark meanwhile, and moving, so not waiting
    lines = wh["tables"]["public.lines"]
    assert lines["state"] == "loading" and lines["watermark_lsn"] is None
    assert lines["load_lsn"] == format_lsn(C_LOAD) and lines["load_seq"] == C_SEQ
    assert lines["waiting_for"] is None and lines["waiting_seconds"] == 0

    samples = {(m["name"], tuple(sorted(m["labels"].items()))): m["value"] for m in wh["metrics"]}
    assert samples[("walstream_warehouse_watermark_lsn", (("table", "public.orders"),))] == A_LSN
    assert samples[("walstream_warehouse_watermark_lsn", (("table", "public.customers"),))] == (
        B_LSN
    )
    assert ("walstream_warehouse_watermark_lsn", (("table", "public.lines"),)) not in samples
    waiting = (("table", "public.orders"), ("waiting_for", MISSING_FILE))
    assert samples[("walstream_warehouse_waiting_seconds", waiting)] == orders["waiting_seconds"]
    assert samples[
        ("walstream_warehouse_waiting_seconds", (("table", "public.lines"), ("waiting_for", "")))
    ] == (0)
    assert PASSWORD not in output


def test_waiting_in_snowflake_longer_than_the_thresholds_is_critical_or_a_warning(
    snowflake_objects: dt.datetime,
) -> None:
    code, doc, _ = status(*SNOWFLAKE_ARGS, "--max-waiting", "0")
    assert code == 2 and doc["status"] == "critical"
    assert codes(doc) == {"watermark_waiting"} and len(doc["problems"]) == 1  # not the loading one
    message = doc["problems"][0]["message"]
    assert "public.orders" in message and MISSING_FILE in message and WAITING_RUNBOOK in message
    assert "public.lines" not in message and "public.customers" not in message
    code, doc, _ = status(*SNOWFLAKE_ARGS, "--warn-waiting", "0")
    assert code == 1 and doc["problems"][0]["severity"] == "warning"


def test_the_text_output_names_snowflake_and_the_loading_table(
    snowflake_objects: dt.datetime,
) -> None:
    result = CliRunner().invoke(
        cli(), ["status", *SNOWFLAKE_ARGS, "--max-waiting", "0"], env={**ENV, "COLUMNS": "250"}
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.stdout.split())
    assert "warehouse snowflake:acme/ANALYTICS.CDC" in text
    assert f"public.orders: watermark {format_lsn(A_LSN)}, waiting" in text
    assert MISSING_FILE in text
    (row,) = [line for line in result.stdout.splitlines() if "│ public.customers " in line]
    assert format_lsn(B_LSN) in row and "waiting" not in row
    assert f"public.lines: loading its full load at {format_lsn(C_LOAD)} in slices" in text
    assert f"up to _walstream_seq {C_SEQ}" in text and PASSWORD not in result.output


def test_the_snowflake_settings_come_from_the_environment_of_snowflake_apply(
    snowflake_objects: dt.datetime,
) -> None:
    env = {
        **ENV,
        "WALSTREAM_STATUS_SNOWFLAKE": "1",
        "WALSTREAM_SNOWFLAKE_ACCOUNT": "acme",
        "WALSTREAM_SNOWFLAKE_USER": "cdc",
        "WALSTREAM_SNOWFLAKE_DATABASE": "ANALYTICS",
        "WALSTREAM_SNOWFLAKE_SCHEMA": "CDC",
    }
    code, doc, _ = status(env=env)
    assert code == 0 and set(doc["warehouse"]["tables"]) == {
        "public.orders",
        "public.customers",
        "public.lines",
    }


def test_a_schema_without_the_objects_is_one_line_naming_snowflake_apply(
    snowflake_objects: dt.datetime, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    args = ["status", *SNOWFLAKE_ARGS[:-1], "NOT_APPLIED"]
    code, out, err = entry_point(args, ENV, capsys, monkeypatch)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("walstream: error:"), err
    assert "WALSTREAM_WATERMARKS" in lines[0] and "walstream snowflake apply" in lines[0]
    assert "NOT_APPLIED" in lines[0] and "Traceback" not in err and PASSWORD not in err


def test_an_unreachable_snowflake_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    def refuse(**kwargs: Any) -> Any:
        assert kwargs["password"] == PASSWORD and kwargs["login_timeout"] > 0
        raise snowflake.connector.errors.OperationalError(
            msg="Could not connect to Snowflake backend after 2 attempt(s).", errno=250001
        )

    monkeypatch.setattr(snowflake.connector, "connect", refuse)
    code, out, err = entry_point(["status", *SNOWFLAKE_ARGS], ENV, capsys, monkeypatch)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("walstream: error:"), err
    assert "cannot connect to Snowflake account 'acme' as 'cdc'" in lines[0]
    assert "Could not connect" in lines[0] and PASSWORD not in err


@pytest.mark.parametrize(
    ("args", "env", "needs"),
    [
        (SNOWFLAKE_ARGS[:3], ENV, "--snowflake-user"),
        (SNOWFLAKE_ARGS, {"WALSTREAM_DSN": ""}, "--snowflake-password"),
        (["--snowflake", "--warehouse", "wh.duckdb"], ENV, "not both"),
        ([], ENV, "--snowflake"),  # neither --dsn nor a warehouse
    ],
)
def test_missing_or_conflicting_snowflake_settings_are_one_line(
    args: list[str],
    env: dict[str, str],
    needs: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
) -> None:
    for name in ("PASSWORD", "ACCOUNT", "USER", "DATABASE", "SCHEMA"):
        monkeypatch.delenv(f"WALSTREAM_SNOWFLAKE_{name}", raising=False)
    monkeypatch.delenv("WALSTREAM_STATUS_SNOWFLAKE", raising=False)
    code, out, err = entry_point(["status", *args], env, capsys, monkeypatch)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needs in lines[0], err


def test_a_duckdb_warehouse_shows_a_loading_table_too(tmp_path: Path) -> None:
    """The same rows in the local warehouse give the same section, but for its source."""
    path = tmp_path / "wh.duckdb"
    conn = duckdb.connect(str(path))
    try:
        _create_and_fill(conn, DUCKDB, dt.datetime.now(dt.UTC))
    finally:
        conn.close()
    code, doc, _ = status("--warehouse", str(path))
    wh = doc["warehouse"]
    assert code == 0 and wh["source"] == f"duckdb:{path}" and wh["location"] == str(path)
    states = {name: t["state"] for name, t in wh["tables"].items()}
    assert states == {
        "public.orders": "waiting",
        "public.customers": "merged",
        "public.lines": "loading",
    }
    assert wh["tables"]["public.lines"]["load_lsn"] == format_lsn(C_LOAD)
    code, doc, _ = status("--warehouse", str(path), "--max-waiting", "0")
    assert code == 2 and len(doc["problems"]) == 1
    assert "public.orders" in doc["problems"][0]["message"]


def test_a_duckdb_warehouse_of_an_older_walstream_reads_without_the_load_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    try:
        conn.execute(
            "CREATE TABLE main._walstream_watermarks (table_name VARCHAR, slot VARCHAR, "
            "prev_lsn BIGINT, lsn BIGINT, waiting_for VARCHAR, waiting_since TIMESTAMPTZ, "
            "merged_at TIMESTAMPTZ)"
        )
        conn.execute(
            "INSERT INTO main._walstream_watermarks VALUES "
            f"('public.orders', 'sf_sync', 1, {A_LSN}, NULL, NULL, now())"
        )
    finally:
        conn.close()
    code, doc, _ = status("--warehouse", str(path))
    table = doc["warehouse"]["tables"]["public.orders"]
    assert code == 0 and table["state"] == "merged" and table["load_lsn"] is None


def test_a_loading_table_is_never_waiting_even_with_a_file_named() -> None:
    """Between slices the table moves every run: no wait, no alarm, whatever waiting_for says."""
    from decimal import Decimal

    from walstream.warehouse.report import warehouse_section

    now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    row = {
        "table_name": "public.lines",
        "slot": "sf_sync",
        "lsn": None,
        "waiting_for": MISSING_FILE,
        "waiting_since": now - dt.timedelta(hours=2),
        "merged_at": now,
        "load_lsn": Decimal(C_LOAD),  # NUMBER(19,0) as the connector may return it
        "load_seq": Decimal(C_SEQ),
    }
    section = warehouse_section("snowflake:acme/RAW.APP", "acme/RAW.APP.X", [row], now)
    table = section["tables"]["public.lines"]
    assert table["state"] == "loading" and table["waiting_seconds"] == 0
    assert table["load_lsn"] == format_lsn(C_LOAD) and table["load_seq"] == C_SEQ
    (waiting,) = [
        m for m in section["metrics"] if m["name"] == "walstream_warehouse_waiting_seconds"
    ]
    assert waiting["labels"] == {"table": "public.lines", "waiting_for": ""}
    assert waiting["value"] == 0


def test_the_file_flow_is_read_from_snowflakes_bookkeeping(snowflake_objects: dt.datetime) -> None:
    """written (the manifests' files) against loaded (WALSTREAM_FILES). The two manifest
    relations are views over the manifest pipe's VARIANT rows in Snowflake, which fakesnow
    cannot create; plain tables with the views' columns stand in for them here."""
    from tests.snowflake_parse import parse_snowflake
    from walstream.snowflake.watermark import file_flow_query

    parse_snowflake(file_flow_query(SNOWFLAKE))
    b = bookkeeping(SNOWFLAKE)
    listed = (snowflake_objects - dt.timedelta(seconds=120)).isoformat()
    conn = snowflake.connector.connect(
        account="acme", user="cdc", password="x", database="ANALYTICS", schema="CDC"
    )
    try:
        cur = conn.cursor()
        cur.execute(
            f"CREATE TABLE {b.manifests} (manifest VARCHAR, slot VARCHAR, kind VARCHAR, "
            "origin BOOLEAN, start_lsn NUMBER(19,0), end_lsn NUMBER(19,0), "
            "loaded_at TIMESTAMP_TZ(6))"
        )
        cur.execute(
            f"CREATE TABLE {b.manifest_files} (manifest VARCHAR, table_name VARCHAR, "
            "file VARCHAR, row_count NUMBER(19,0))"
        )
        cur.execute(
            f"INSERT INTO {b.manifests} VALUES "
            f"('m1', 'sf_sync', 'flush', 0, 10, TRUE, '{listed}'), "
            f"('m2', 'sf_sync', 'flush', 10, 20, FALSE, '{listed}')"
        )
        cur.execute(
            f"INSERT INTO {b.manifest_files} VALUES "
            "('m1', 'public.orders', 'o1.parquet', 10), "
            "('m1', 'public.customers', 'c1.parquet', 4), "
            f"('m2', 'public.orders', '{MISSING_FILE}', 7), "
            "('m2', 'public.orders', 'o3.parquet', 5)"
        )
        cur.execute(
            f"INSERT INTO {b.files} VALUES "
            "('o1.parquet', 'public.orders', 10, CURRENT_TIMESTAMP()), "
            "('o3.parquet', 'public.orders', 5, CURRENT_TIMESTAMP()), "
            "('o3.parquet', 'public.orders', 5, CURRENT_TIMESTAMP()), "  # loaded twice
            "('c1.parquet', 'public.customers', 4, CURRENT_TIMESTAMP()), "
            "('LOAD00000001-0000000003A00001.parquet', 'public.lines', 100, "
            "CURRENT_TIMESTAMP()), "
            "('m2', NULL, NULL, NULL)"  # the manifest stream's wake-up row: not a file
        )
    finally:
        conn.close()
    code, doc, _ = status(*SNOWFLAKE_ARGS, "--max-unloaded-age", "60")
    tables = doc["warehouse"]["tables"]
    orders, customers, lines = (
        tables["public.orders"],
        tables["public.customers"],
        tables["public.lines"],
    )
    assert (orders["files_written"], orders["rows_written"]) == (3, 22)
    assert (orders["files_loaded"], orders["rows_loaded"]) == (2, 15)
    assert orders["files_unloaded"] == 1 and 110 <= orders["unloaded_seconds"] < 600
    assert (customers["files_written"], customers["files_loaded"]) == (1, 1)
    assert customers["files_unloaded"] == 0 and customers["unloaded_seconds"] == 0
    # a full load's file is in no manifest: loaded, never "written but not loaded"
    assert (lines["files_written"], lines["files_loaded"], lines["files_unloaded"]) == (0, 1, 0)
    assert code == 2 and codes(doc) == {"files_not_loaded"}
    assert "public.orders" in doc["problems"][0]["message"]

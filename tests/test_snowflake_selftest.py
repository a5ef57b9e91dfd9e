"""``walstream snowflake selftest`` on fakesnow, with what fakesnow lacks emulated.

fakesnow (Snowflake's SQL on DuckDB) has internal stages and PUT (though it names only one of
the eight columns of PUT's result), but no streams, tasks, procedures or CALL, no ``METADATA$``
columns in a COPY, no JSON COPY, and cannot name files (``FILES = ...``) of an internal stage.
:class:`EmulatedAccount` adds them from Snowflake's documentation, the way the other Snowflake
tests do (tests/test_snowflake_evolve.py, tests/test_snowflake_delivery.py), and refuses what
Snowflake refuses:

- a COPY of a named file of the internal stage loads that file as the stage holds it (what was
  PUT, not the local file), through fakesnow's own COPY (taught to find named files on an
  internal stage), with ``METADATA$FILENAME`` the file's path in the stage
  (``METADATA$FILE_ROW_NUMBER`` is each row's number, as Snowflake documents it: a task run
  counts a file's distinct rows); a file not on the stage fails the COPY; a file loaded before
  is skipped (fakesnow's load history); the manifest pipe's COPY loads each JSON file as one
  VARIANT row;
- an append-only stream shows the rows added to its table since the last transaction that
  read it committed: a CALL runs the statements of the procedure's transaction over the rows
  staged at its start, and only a run that completes moves the stream's offset, so a file
  loaded after a run (the late file) is in the next run's stream. (fakesnow cannot run them
  in one transaction: it writes its own catalog in a second database, which DuckDB refuses
  inside a transaction; a failed run is not rolled back here.)
- a task is created suspended; a CALL of an unknown procedure fails.

Every statement the self-test sends parses with sqlglot's Snowflake dialect
(tests/snowflake_parse.py).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fakesnow
import fakesnow.copy_into
import fakesnow.transforms.stage as fakesnow_stage
import pytest
import snowflake.connector
import snowflake.connector.errors as sf_errors
from click.testing import CliRunner
from rich.console import Console

from tests.cli_run import walstream
from tests.snowflake_parse import parse_snowflake
from tests.test_fakesnow import _strip_json_extract_quoted
from walstream.commands.snowflake import snowflake as snowflake_group
from walstream.errors import ConfigError
from walstream.snowflake.selftest import (
    FAIL,
    PASS,
    SKIP,
    SelftestReport,
    print_report,
    run_selftest,
    selftest_plan,
)

DATABASE = "ANALYTICS"
#: The columns of PUT's result (Snowflake's documentation of PUT, "Output")
PUT_COLUMNS = [
    "source",
    "target",
    "source_size",
    "target_size",
    "source_compression",
    "target_compression",
    "status",
    "message",
]
NAME = r'((?:[A-Za-z0-9_$]+|"(?:[^"]|"")+")(?:\.(?:[A-Za-z0-9_$]+|"(?:[^"]|"")+"))*)'
LITERAL = r"'((?:[^'\\]|''|\\.)*)'"


def _unquote(literal: str) -> str:
    return re.sub(r"''|\\(.)", lambda m: "'" if m[0] == "''" else m[1], literal)


class EmulatedAccount:
    """A Snowflake account over fakesnow; see the module docstring."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.sent: list[str] = []
        self.streams: dict[str, str] = {}  # stream -> table it is on
        self.consumed: dict[str, set[str]] = {}  # stream -> files its offset has passed
        self.procedures: dict[str, str] = {}  # name -> Snowflake Scripting body
        self.tasks: dict[str, str] = {}  # name -> state
        self.calls = 0
        # called with each statement; an exception it returns is raised instead of running it
        self.fail: Callable[[str], BaseException | None] = lambda sql: None
        # called before each statement runs, with a cursor on fakesnow (to tamper with)
        self.before: Callable[[str, Any], None] = lambda sql, cursor: None

    def cursor(self) -> EmulatedCursor:
        return EmulatedCursor(self)

    def close(self) -> None:
        self.conn.close()

    def run(self, cursor: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]] | None:
        """Run ``sql`` if it needs the emulation: (columns, rows); None to pass it on."""
        if m := re.fullmatch(
            rf"CREATE STREAM IF NOT EXISTS {NAME}\s+ON TABLE {NAME}\s.*", sql, re.S
        ):
            self.streams.setdefault(m[1], m[2])
            self.consumed.setdefault(m[1], set())
        elif m := re.match(rf"CREATE OR ALTER TASK {NAME}\s", sql):
            self.tasks.setdefault(m[1], "suspended")  # a new task is suspended
        elif m := re.match(rf"CREATE OR REPLACE PROCEDURE {NAME}\(\).*?\nAS\n[$][$]\n", sql, re.S):
            self.procedures[m[1]] = sql[m.end() : sql.rindex("$$")]
        elif m := re.fullmatch(rf"CALL {NAME}\(\)", sql):
            if m[1] not in self.procedures:
                raise sf_errors.ProgrammingError(
                    msg=f"SQL compilation error:\nUnknown function {m[1]}", errno=2140
                )
            self.call(cursor, self.procedures[m[1]])
            return [m[1].rsplit(".", 1)[-1].strip('"')], [("merged",)]
        elif sql.startswith("COPY INTO") and "\nFILES = (" in sql:
            return self.copy(cursor, sql)
        else:
            return None
        return ["status"], [("Statement executed successfully.",)]

    # -- COPY from the internal stage -----------------------------------------------------------
    def copy(self, cursor: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        where = re.search(r"\n\s*FROM @(\S+?)/(\S*)\n", sql)
        files = re.search(r"\nFILES = \(((?:" + LITERAL + r"(?:, )?)+)\)\n", sql)
        assert where and files, sql
        names = [_unquote(n) for n in re.findall(LITERAL, files[1])]
        stage = ".".join(p.strip('"') for p in where[1].split("."))
        paths = [where[2] + name for name in names]
        for path in paths:
            if not Path(fakesnow_stage.internal_dir(stage, path)).is_file():
                raise sf_errors.ProgrammingError(
                    msg=f"Remote file '{path}' was not found. There are several potential "
                    "causes. The file might not exist.",
                    errno=2003,
                )
        if "(manifest, body)" in sql:  # the manifest pipe's COPY: one VARIANT per JSON file
            target = re.match(rf"COPY INTO {NAME}", sql)
            assert target
            for path in paths:
                body = Path(fakesnow_stage.internal_dir(stage, path)).read_text()
                cursor.execute(
                    f"INSERT INTO {target[1]} (manifest, body) SELECT "
                    f"'{path}', PARSE_JSON('{body.replace(chr(39), chr(39) * 2)}')"
                )
            rows = [(p, "LOADED", 1, 1, 1, 0) for p in paths]
            return [
                "file",
                "status",
                "rows_parsed",
                "rows_loaded",
                "error_limit",
                "errors_seen",
            ], rows
        assert len(paths) == 1, "one file per COPY: METADATA$FILENAME names it"
        (path,) = paths
        sql = sql.replace("METADATA$FILENAME", f"'{path}'")
        # fakesnow has no METADATA$FILE_ROW_NUMBER: each row's number in the file
        sql = sql.replace("METADATA$FILE_ROW_NUMBER", "ROW_NUMBER() OVER ()")
        cursor.execute(sql)
        return [d[0] for d in cursor.description], [tuple(r) for r in cursor.fetchall()]

    # -- CALL: one task run over the emulated streams ---------------------------------------------
    def call(self, cursor: Any, body: str) -> None:
        inner = body.split("BEGIN TRANSACTION;", 1)[1].rsplit("COMMIT;", 1)[0]
        snapshot: dict[str, set[str]] = {}
        for stream, table in self.streams.items():
            if "MANIFESTS" in table:
                continue
            cursor.execute(f"SELECT DISTINCT _walstream_file FROM {table}")
            snapshot[stream] = {r[0] for r in cursor.fetchall()} - self.consumed[stream]
        for sql in inner.split(";\n"):
            sql = textwrap.dedent(sql).strip()
            if not sql:
                continue
            for stream, table in self.streams.items():
                if stream not in sql:
                    continue
                if stream in snapshot:
                    files = ", ".join(f"'{f}'" for f in sorted(snapshot[stream])) or "NULL"
                    rows = f"(SELECT * FROM {table} WHERE _walstream_file IN ({files}))"
                else:
                    rows = table  # the manifest stream: read, never used
                sql = sql.replace(f"FROM {stream}", f"FROM {rows}")
            cursor.execute(sql)
        for stream, files in snapshot.items():  # the offsets move when the run commits
            self.consumed[stream] |= files
        self.calls += 1


class EmulatedCursor:
    def __init__(self, account: EmulatedAccount) -> None:
        self._account = account
        self._cursor = account.conn.cursor()
        self._result: tuple[list[str], list[tuple[Any, ...]]] | None = None

    def execute(self, sql: str) -> EmulatedCursor:
        parse_snowflake(sql)
        self._account.sent.append(sql)
        self._account.before(sql, self._account.conn.cursor())
        error = self._account.fail(sql)
        if error is not None:
            raise error
        self._result = self._account.run(self._cursor, sql)
        if self._result is None:
            self._cursor.execute(sql)
            if sql.startswith("PUT "):  # fakesnow names one column of PUT's eight
                self._result = (PUT_COLUMNS, [tuple(r) for r in self._cursor.fetchall()])
        return self

    @property
    def description(self) -> Any:
        if self._result is not None:
            return [(name,) for name in self._result[0]]
        return self._cursor.description

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._result is not None:
            return list(self._result[1])
        return [tuple(r) for r in self._cursor.fetchall()]


def _source_urls(source: str, files: list[str]) -> list[str]:
    """fakesnow's, also for an internal stage (a directory of its own, no URL scheme)."""
    if fakesnow_stage.is_internal(source):
        return [source.rstrip("/") + "/" + f for f in files]
    return _fakesnow_source_urls(source, files)


_fakesnow_source_urls = fakesnow.copy_into._source_urls


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedAccount]:
    monkeypatch.setattr(fakesnow.copy_into, "_strip_json_extract", _strip_json_extract_quoted)
    monkeypatch.setattr(fakesnow.copy_into, "_source_urls", _source_urls)
    with fakesnow.patch():
        emulated = EmulatedAccount(snowflake.connector.connect(database=DATABASE, schema="CDC"))
        try:
            yield emulated
        finally:
            emulated.close()


def schemas(account: EmulatedAccount) -> set[str]:
    cursor = account.conn.cursor()
    cursor.execute(f"SHOW SCHEMAS IN DATABASE {DATABASE}")
    names = [d[0] for d in cursor.description]
    return {row[names.index("name")] for row in cursor.fetchall()}


def selftest(account: EmulatedAccount, tmp_path: Path, keep: bool = False) -> SelftestReport:
    plan = selftest_plan(DATABASE, tmp_path)
    return run_selftest(account.cursor(), plan, keep=keep)


def test_every_step_passes_on_a_correct_build_and_the_scratch_schema_is_dropped(
    account: EmulatedAccount, tmp_path: Path
) -> None:
    before = schemas(account)
    report = selftest(account, tmp_path)
    assert [(s.name, s.status, s.error) for s in report.steps if s.status != PASS] == []
    assert report.ok
    assert [s.name for s in report.steps] == STEPS
    assert schemas(account) == before  # dropped
    assert report.schema.startswith(f"{DATABASE}.WALSTREAM_SELFTEST_")
    # the task exists, never resumed: the runs are the CALLs of the self-test
    assert account.calls == 2 and list(account.tasks.values()) == ["suspended"]
    # the late file was waited for, then merged
    details = {s.name: s.detail for s in report.steps}
    assert "waiting for public/selftest/" in details["watermark waits for file 2"]
    assert details["FINAL equals the sample"].startswith("4 rows, every value equal")
    for sql in account.sent:
        parse_snowflake(sql)
    puts = [sql for sql in account.sent if sql.startswith("PUT ")]
    assert len(puts) == 6 and all("AUTO_COMPRESS = FALSE" in sql for sql in puts)
    assert not any(sql.startswith(("CREATE PIPE", "ALTER TASK")) for sql in account.sent)


STEPS = [
    "create scratch schema",
    "create objects",
    "PUT sample files",
    "load manifests",
    "load file 3 (ahead of file 1)",
    "load file 1",
    "run the task's body",
    "FINAL as of the watermark",
    "watermark waits for file 2",
    "load file 2 (late)",
    "run the task's body again",
    "FINAL equals the sample",
    "watermark at the last manifest",
    "drop scratch schema",
]


def test_the_text_and_json_output_list_every_step(account: EmulatedAccount, tmp_path: Path) -> None:
    report = selftest(account, tmp_path)
    console = Console(width=200, record=True)
    print_report(report, console)
    text = console.export_text()
    for name in STEPS:
        assert re.search(rf"│ +\d+ │ {re.escape(name)} +│ pass", text), name
    assert text.rstrip().endswith("selftest passed")
    doc = json.loads(json.dumps(report.to_json()))
    assert doc["ok"] is True and doc["kept"] is False
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [(n, PASS) for n in STEPS]
    assert all(s["sql"] is None and s["error"] is None for s in doc["steps"])


def _failed(report: SelftestReport) -> list[tuple[str, str | None, str | None]]:
    return [(s.name, s.sql, s.error) for s in report.steps if s.status == FAIL]


def test_a_copy_that_fails_is_reported_with_its_statement_and_error_and_the_schema_dropped(
    account: EmulatedAccount, tmp_path: Path
) -> None:
    before = schemas(account)
    message = "Number of columns in file (32) does not match that of the corresponding table"

    def refuse_file_1(sql: str) -> BaseException | None:
        if sql.startswith("COPY INTO") and "-00000016B374DA38-" in sql:
            return sf_errors.ProgrammingError(msg=message, errno=100080)
        return None

    account.fail = refuse_file_1
    report = selftest(account, tmp_path)
    ((name, sql, error),) = _failed(report)
    assert name == "load file 1"
    assert sql is not None and sql.startswith("COPY INTO") and "FILES = (" in sql
    assert error == f"100080: {message}"  # as the connector words it
    statuses = [s.status for s in report.steps]
    at = STEPS.index("load file 1")
    assert statuses[:at] == [PASS] * at
    assert statuses[at + 1 : -1] == [SKIP] * (len(STEPS) - at - 2)
    assert statuses[-1] == PASS and not report.ok  # dropped all the same
    assert schemas(account) == before
    console = Console(width=200, record=True)
    print_report(report, console)
    text = console.export_text()
    assert f"load file 1 failed: 100080: {message}" in text and "FILES = (" in text
    assert text.rstrip().endswith("selftest FAILED")


def test_a_tampered_final_fails_the_check_that_names_the_key_and_the_values(
    account: EmulatedAccount, tmp_path: Path
) -> None:
    checks = []

    def tamper(sql: str, cursor: Any) -> None:
        if sql.startswith("SELECT") and "_walstream_lossy" in sql:
            checks.append(sql)
            if len(checks) == 2:  # before the last check of FINAL
                final = re.search(r"\nFROM (\S+)\n", sql)
                assert final is not None
                cursor.execute(f'UPDATE {final[1]} SET "SMALL" = 99 WHERE "ID" = 9')

    account.before = tamper
    before = schemas(account)
    report = selftest(account, tmp_path)
    ((name, sql, error),) = _failed(report)
    assert name == "FINAL equals the sample" and sql == checks[1]
    assert error == "FINAL differs from the sample: key 9 small: -9 expected, 99"
    assert report.steps[-1].status == PASS and schemas(account) == before


def test_a_merge_that_does_not_wait_for_the_late_file_is_caught(
    account: EmulatedAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken build whose task run merges every staged row, past the watermark: with file 2
    late, FINAL shows file 3's changes on top of file 1's, a state the source never had."""
    from walstream.snowflake import watermark

    def everything_staged(model: Any, dialect: Any, staging: str) -> str:
        return f"(SELECT s.* FROM {staging} AS s)"

    monkeypatch.setattr(watermark, "window_source", everything_staged)
    report = selftest(account, tmp_path)
    ((name, _, error),) = _failed(report)
    assert name == "FINAL as of the watermark"
    assert error is not None and "key 9: not in the source" in error
    assert report.steps[-1].status == PASS


def test_keep_leaves_the_scratch_schema_and_says_how_to_drop_it(
    account: EmulatedAccount, tmp_path: Path
) -> None:
    report = selftest(account, tmp_path, keep=True)
    assert report.ok and report.kept
    assert report.steps[-1].status == SKIP and report.steps[-1].detail == "kept (--keep)"
    assert report.schema.split(".")[1] in schemas(account)
    console = Console(width=200, record=True)
    print_report(report, console)
    assert f"DROP SCHEMA {report.schema} CASCADE" in console.export_text()


# -- the command ----------------------------------------------------------------------------------
LOGIN = ["--account", "acme", "--user", "cdc", "--database", DATABASE, "--schema", "CDC"]


def test_the_command_runs_the_selftest_and_exits_0_or_1(
    account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    import walstream.commands.snowflake as commands

    monkeypatch.setattr(commands, "_connect", lambda kw: account)
    result = CliRunner().invoke(snowflake_group, ["selftest", *LOGIN, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["ok"] and [s["name"] for s in doc["steps"]] == STEPS

    account.fail = lambda sql: (
        sf_errors.ProgrammingError(msg="Insufficient privileges to operate on schema")
        if sql.startswith("CREATE SCHEMA")
        else None
    )
    result = CliRunner().invoke(snowflake_group, ["selftest", *LOGIN], terminal_width=200)
    assert result.exit_code == 1
    assert "create scratch schema failed: Insufficient privileges" in result.output
    assert "DROP SCHEMA" not in result.output  # nothing was created, nothing to drop


def test_a_dry_run_prints_every_statement_and_connects_to_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import walstream.commands.snowflake as commands

    def no_connection(kw: Any) -> Any:
        raise AssertionError("a dry run connected")

    monkeypatch.setattr(commands, "_connect", no_connection)
    result = CliRunner().invoke(snowflake_group, ["selftest", *LOGIN, "--dry-run"])
    assert result.exit_code == 0, result.output
    script = result.output
    assert [line[3:] for line in script.splitlines() if line.startswith("-- ")] == STEPS
    assert "CREATE SCHEMA ANALYTICS.WALSTREAM_SELFTEST_" in script
    assert "\nCALL ANALYTICS.WALSTREAM_SELFTEST_" in script
    plan = selftest_plan(DATABASE, tmp_path, schema="WALSTREAM_SELFTEST_0")
    statements = [sql for step in (plan.create, *plan.steps, plan.drop) for sql in step.statements]
    for sql in statements:
        assert sql + ";\n" in plan.script()
        parse_snowflake(sql)


def test_a_bad_setting_is_one_line_and_exit_2() -> None:
    # no credentials: refused before connecting, and before any work
    result = CliRunner().invoke(snowflake_group, ["selftest", *LOGIN], env={})
    assert isinstance(result.exception, ConfigError)
    assert result.exception.exit_code == 2 and "\n" not in str(result.exception)
    assert "no Snowflake credentials" in str(result.exception)
    # the same as a user runs it: one line on stderr, exit 2, no traceback
    env = {k: "" for k in ("WALSTREAM_SNOWFLAKE_PASSWORD", "WALSTREAM_SNOWFLAKE_PASSWORD_SECRET")}
    child = walstream("snowflake", "selftest", *LOGIN, env=env)
    assert child.returncode == 2, child.stderr
    assert child.stdout == ""
    (line,) = child.stderr.splitlines()
    assert line.startswith("walstream: error: no Snowflake credentials")


def test_the_generated_copy_names_only_the_files_it_is_given(tmp_path: Path) -> None:
    """``copy_statement(..., files=...)``: the pipe's COPY limited to files below its location
    (no PATTERN); ``snowflake apply`` generates the pipe's COPY without them (the golden SQL)."""
    from walstream.snowflake.objects import copy_statement, manifest_copy_statement, put_statement
    from walstream.snowflake.options import SnowflakeOptions
    from walstream.snowflake.selftest import encode_sample, sample_schema

    model, files = encode_sample(sample_schema())
    options = SnowflakeOptions(dest="s3://bucket/dms", database="RAW", schema="APP")
    copy = copy_statement(model, options, [f.key for f in files])
    names = ", ".join(f"'{f.key.rsplit('/', 1)[1]}'" for f in files)
    assert f"\nFILES = ({names})\nFILE_FORMAT = " in copy and "PATTERN" not in copy
    assert copy.replace(f"FILES = ({names})\n", "") == copy_statement(model, options)
    with pytest.raises(ValueError, match="is not a file under"):
        copy_statement(model, options, ["public/other/x.parquet"])
    manifests = manifest_copy_statement(options, [f.manifest.key for f in files])
    assert "PATTERN" not in manifests and "FILES = ('walstream_selftest/manifests/" in manifests
    with pytest.raises(ValueError, match="keeps the file's name"):
        put_statement(str(tmp_path / "a.parquet"), "public/selftest/b.parquet", options)

"""``--snowflake-evolve``: Snowflake has a new column (or table) before the first file carrying it.

The pipeline streams a real PostgreSQL slot to a ``file://`` destination; the evolver talks to
fakesnow (Snowflake SQL on DuckDB) for tables and columns. fakesnow has no pipes, tasks or
streams, so :class:`SnowflakeStandIn` keeps those in Python, answers ``SHOW PIPES``/``TASKS``/
``STREAMS`` and ``SYSTEM$PIPE_STATUS`` the way Snowflake does, and plays Snowpipe: when the sink
stores a file (an S3 event notification), it notes which COPY the table's pipe had at that
instant. Loading every file with the COPY noted for it, then running the MERGE the task holds,
shows what Snowflake would end with; a column the pipe lacked when its file appeared would be
missing from FINAL. Failures are injected as the connector's own exceptions.
"""

from __future__ import annotations

import json
import logging
import re
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import fakesnow
import fakesnow.copy_into
import pyarrow.parquet as pq
import pytest
import snowflake.connector
import snowflake.connector.errors as sf_errors
from click.testing import CliRunner

from tests.conftest import PgDatabase
from tests.streaming import run_config
from tests.test_fakesnow import _strip_json_extract_quoted
from walstream.commands.snowflake_options import PARAMS, evolver_from, snowflake_evolve_options
from walstream.errors import SinkError
from walstream.lsn import parse_lsn
from walstream.pipeline.runner import Runner
from walstream.sink import DurableSink, open_sink
from walstream.snowflake.apply import SnowflakeError, apply
from walstream.snowflake.dialects import SNOWFLAKE
from walstream.snowflake.discover import models_from_dest, models_from_source
from walstream.snowflake.evolve import (
    REFRESH_MARGIN,
    SnowflakeEvolver,
    TransientSnowflakeError,
    _classified,
)
from walstream.snowflake.model import TableModel
from walstream.snowflake.objects import table_statements
from walstream.snowflake.options import SnowflakeOptions
from walstream.snowflake.watermark import bookkeeping

NAME = r'("(?:[^"]|"")+")'
LITERAL = r"'((?:[^']|'')*)'"


@dataclass
class Pipe:
    copy: str
    comment: str = ""
    paused: bool = False
    pending: int = 0  # files Snowpipe still has to load (SYSTEM$PIPE_STATUS pendingFileCount)
    refreshes: list[str | None] = field(default_factory=list)


@dataclass
class Put:
    key: str
    copy: str | None  # the table's pipe COPY when the file appeared (None: no pipe)
    paused: bool
    columns: list[str]


class SnowflakeStandIn:
    """Pipes, tasks and streams over fakesnow; see the module docstring."""

    def __init__(self) -> None:
        self.pipes: dict[str, Pipe] = {}
        self.tasks: dict[str, tuple[str, str]] = {}  # name -> (definition, state)
        self.streams: set[str] = set()
        self.procedures: dict[str, str] = {}  # name -> Snowflake Scripting body
        self.blocks: list[str] = []  # EXECUTE IMMEDIATE blocks run, in order
        self.manifests: list[tuple[str, bytes]] = []  # (key, body) as the manifest pipe sees them
        self.events: list[str] = []  # statements run and files stored, in order
        self.puts: list[Put] = []
        self.lock = threading.Lock()
        # called with each statement; an exception it returns is raised instead of running it
        self.fail: Callable[[str], BaseException | None] = lambda sql: None

    def connect(self) -> StandInConnection:
        return StandInConnection(
            self, snowflake.connector.connect(database="ANALYTICS", schema="CDC")
        )

    def notify(self, key: str, data: bytes) -> None:
        """Snowpipe hears of a new file: which COPY would load it."""

        folder = key.rsplit("/", 1)[0] + "/"
        columns = sorted(parquet_columns(data) - {"Op"})
        with self.lock:
            pipe = next(
                (p for p in self.pipes.values() if f"FROM @WALSTREAM_STAGE/{folder}\n" in p.copy),
                None,
            )
            self.puts.append(
                Put(key, pipe.copy if pipe else None, bool(pipe and pipe.paused), columns)
            )
            self.events.append(f"PUT {key}")

    def statement(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]] | None:
        """Run ``sql`` if it is about an object fakesnow lacks: (columns, rows), else None."""
        with self.lock:
            self.events.append(sql)
        text = sql.strip()
        if text.startswith("SHOW PIPES"):
            rows = [(SNOWFLAKE.reported_name(n), p.copy, p.comment) for n, p in self.pipes.items()]
            return ["name", "definition", "comment"], rows
        if text.startswith("SHOW TASKS"):
            rows = [(SNOWFLAKE.reported_name(n), d, s) for n, (d, s) in self.tasks.items()]
            return ["name", "definition", "state"], rows
        if text.startswith("SHOW STREAMS"):
            return ["name", "stale"], [(SNOWFLAKE.reported_name(n), "false") for n in self.streams]
        if m := re.match(rf"CREATE STREAM IF NOT EXISTS {NAME}", text):
            self.streams.add(m.group(1))
        elif m := re.match(rf"CREATE PIPE IF NOT EXISTS {NAME}\s+AUTO_INGEST = TRUE\nAS\n", text):
            self.pipes.setdefault(m.group(1), Pipe(text[m.end() :]))
        elif m := re.match(
            rf"CREATE OR REPLACE PIPE {NAME}\s+AUTO_INGEST = TRUE\s+COMMENT = {LITERAL}\nAS\n",
            text,
        ):
            self.pipes[m.group(1)] = Pipe(text[m.end() :], m.group(2).replace("''", "'"))
        elif m := re.match(
            rf"ALTER PIPE {NAME} SET PIPE_EXECUTION_PAUSED = (TRUE|FALSE)"
            rf"(?: COMMENT = {LITERAL})?$",
            text,
        ):
            pipe = self.pipes[m.group(1)]
            pipe.paused = m.group(2) == "TRUE"
            pipe.comment = (m.group(3) or "").replace("''", "'") or pipe.comment
        elif m := re.match(rf"ALTER PIPE {NAME} UNSET COMMENT$", text):
            self.pipes[m.group(1)].comment = ""
        elif m := re.match(rf"ALTER PIPE {NAME} REFRESH(?: MODIFIED_AFTER = {LITERAL})?$", text):
            self.pipes[m.group(1)].refreshes.append(m.group(2))
        elif m := re.match(rf"SELECT SYSTEM\$PIPE_STATUS\({LITERAL}\)$", text):
            pipe = self.pipes[m.group(1).replace("''", "'")]
            status = {
                "executionState": "PAUSED" if pipe.paused else "RUNNING",
                "pendingFileCount": pipe.pending,
            }
            pipe.pending = max(0, pipe.pending - 1)  # Snowpipe keeps loading while paused
            return ["status"], [(json.dumps(status),)]
        elif m := re.match(rf"CREATE OR REPLACE TASK {NAME}\s.*?\nAS\n", text, re.S):
            self.tasks[m.group(1)] = (text[m.end() :], "suspended")  # before manifests
        elif text.startswith("EXECUTE IMMEDIATE $$"):
            self.blocks.append(text)  # the caller runs it (the streams need emulating)
        elif m := re.match(rf"CREATE OR ALTER TASK {NAME}\s.*?\nAS\n", text, re.S):
            # OR ALTER keeps an existing task's state
            state = self.tasks.get(m.group(1), ("", "suspended"))[1]
            self.tasks[m.group(1)] = (text[m.end() :], state)
        elif m := re.match(rf"CREATE OR REPLACE PROCEDURE {NAME}\(\).*?\nAS\n[$][$]\n", text, re.S):
            self.procedures[m.group(1)] = text[m.end() : text.rindex("$$")]
        elif m := re.match(rf"ALTER TASK {NAME} (RESUME|SUSPEND)$", text):
            definition, _ = self.tasks[m.group(1)]
            self.tasks[m.group(1)] = (
                definition,
                "started" if m.group(2) == "RESUME" else "suspended",
            )
        else:
            return None
        return ["status"], [("Statement executed successfully.",)]

    def index(self, prefix: str, after: int = -1) -> int:
        """Position of the first event (after position ``after``) starting with ``prefix``."""
        return next(i for i, e in enumerate(self.events) if i > after and e.startswith(prefix))


class StandInCursor:
    def __init__(self, stand_in: SnowflakeStandIn, cursor: Any) -> None:
        self._stand_in = stand_in
        self._cursor = cursor
        self._result: tuple[list[str], list[tuple[Any, ...]]] | None = None

    def execute(self, sql: str) -> StandInCursor:
        error = self._stand_in.fail(sql)
        if error is not None:
            raise error
        self._result = self._stand_in.statement(sql)
        if self._result is None:
            self._cursor.execute(sql)
        return self

    @property
    def description(self) -> Any:
        if self._result is not None:
            return [(name,) for name in self._result[0]]
        return self._cursor.description

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._result is not None:
            return list(self._result[1])
        return list(self._cursor.fetchall())

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._result is not None:
            return self._result[1][0] if self._result[1] else None
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)


class StandInConnection:
    def __init__(self, stand_in: SnowflakeStandIn, conn: Any) -> None:
        self._stand_in = stand_in
        self._conn = conn

    def cursor(self) -> StandInCursor:
        return StandInCursor(self._stand_in, self._conn.cursor())

    def close(self) -> None:
        self._conn.close()


class NotifyingSink:
    """A real sink that tells Snowpipe (the stand-in) about every file it stored."""

    def __init__(self, inner: DurableSink, stand_in: SnowflakeStandIn) -> None:
        self._inner = inner
        self._stand_in = stand_in
        self.url = inner.url

    def put(self, key: str, data: bytes) -> None:
        self._inner.put(key, data)
        if key.endswith(".parquet"):
            self._stand_in.notify(key, data)
        elif "/manifests/" in key:
            self._stand_in.manifests.append((key, data))

    def get(self, key: str) -> bytes | None:
        return self._inner.get(key)

    def list(self, prefix: str) -> list[str]:
        return self._inner.list(prefix)

    def check(self) -> None:
        self._inner.check()

    def describe(self, key: str) -> str:
        return self._inner.describe(key)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[SnowflakeStandIn]:
    monkeypatch.setattr(fakesnow.copy_into, "_strip_json_extract", _strip_json_extract_quoted)
    with fakesnow.patch():
        yield SnowflakeStandIn()


def load_and_merge(stand_in: SnowflakeStandIn, dest: str, options: SnowflakeOptions) -> Any:
    """What Snowflake does after the run: each file through the COPY its pipe had when the file
    appeared, then the MERGE of the task the evolver installed. Returns a cursor."""
    cursor = stand_in.connect().cursor()
    for put in stand_in.puts:
        assert put.copy is not None, f"{put.key} was stored before its table had a pipe"
        snowpipe_copy(cursor, put.copy, put.key, {"Op", *put.columns})
    for key, body in stand_in.manifests:
        manifest_pipe_copy(cursor, key, body)
    for model in models_from_dest(dest):
        n = SNOWFLAKE.names(model)
        task = next(s for s in table_statements(model, options) if s.kind == "task")
        # the task the evolver left is the one generated for the table's newest shape, and
        # the procedure it calls holds the MERGE of that shape
        assert stand_in.tasks[n.task] == (task.sql.split("\nAS\n", 1)[1], "started")
        procedure = next(s for s in table_statements(model, options) if s.kind == "procedure")
        assert procedure.sql.endswith(f"$$\n{stand_in.procedures[n.procedure]}$$")
        run_procedure(cursor, stand_in.procedures[n.procedure], model)
    return cursor


def snowpipe_copy(cursor: Any, copy: str, key: str, columns: set[str]) -> None:
    """Snowpipe loading one file with ``copy`` (its pipe's COPY), limited to that file.

    fakesnow has no METADATA$ columns (the key and a row number stand in) and refuses a column
    the Parquet file lacks, which Snowflake reads as NULL (an older file loaded by a newer
    COPY, or a file from an older release without a newer ``_walstream_*`` column): those are
    given as NULL. ``columns``: the file's columns."""
    sql = copy.replace("METADATA$FILENAME", "'" + key.replace("'", "''") + "'")
    sql = sql.replace("METADATA$FILE_ROW_NUMBER", "ROW_NUMBER() OVER ()")
    for named in re.findall(r'\$1:"((?:[^"]|"")+)"::', sql):
        if named.replace('""', '"') not in columns:
            sql = sql.replace(f'$1:"{named}"::', "NULL::")
    sql = re.sub(r"\nPATTERN = '[^\n]*'", "", sql)  # FILES names the one file
    location = re.search(r"FROM @WALSTREAM_STAGE/(\S*)", sql)
    assert location is not None
    name = key[len(location.group(1)) :]
    cursor.execute(sql.replace("\nFILE_FORMAT = ", f"\nFILES = ('{name}')\nFILE_FORMAT = "))


def manifest_pipe_copy(cursor: Any, key: str, body: bytes) -> None:
    """The manifest pipe loading one manifest: its key and its JSON as one VARIANT."""
    cursor.execute(
        f"INSERT INTO {bookkeeping(SNOWFLAKE).manifests_raw} (manifest, body) "
        f"SELECT {SNOWFLAKE.literal(key)}, PARSE_JSON({SNOWFLAKE.literal(body.decode())})"
    )


def parquet_columns(data: bytes) -> set[str]:
    """The columns of a Parquet file, for :func:`snowpipe_copy`."""
    import io

    return {f.name for f in pq.read_schema(io.BytesIO(data))}


def run_procedure(cursor: Any, body: str, model: TableModel) -> None:
    """One task run: the statements of the procedure's transaction, the streams emulated from
    Snowflake's documentation (an append-only stream shows the rows added since the last DML
    that read it committed): staged rows of files not recorded as arrived yet; the manifest
    stream is only read, never used."""
    n = SNOWFLAKE.names(model)
    b = bookkeeping(SNOWFLAKE)
    inner = body.split("BEGIN TRANSACTION;", 1)[1].rsplit("COMMIT;", 1)[0]
    new_rows = (
        f"(SELECT * FROM {n.staging} WHERE _walstream_file NOT IN "
        f"(SELECT file FROM {b.files} WHERE file IS NOT NULL))"
    )
    for sql in inner.split(";\n"):
        sql = textwrap.dedent(sql).strip()
        if not sql:
            continue
        sql = sql.replace(f"FROM {n.stream}", f"FROM {new_rows}")
        sql = sql.replace(f"FROM {n.manifest_stream}", f"FROM {b.manifests_raw}")
        cursor.execute(sql)


def final_rows(cursor: Any, model: TableModel) -> list[tuple[Any, ...]]:
    cols = ", ".join(SNOWFLAKE.ident(c.name) for c in model.columns)
    cursor.execute(f"SELECT {cols} FROM {SNOWFLAKE.names(model).final} ORDER BY 1")
    return [tuple(r) for r in cursor.fetchall()]


def source_rows(db: PgDatabase, model: TableModel) -> list[tuple[Any, ...]]:
    cols = ", ".join(f'"{c.name}"' for c in model.columns)
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(f"SELECT {cols} FROM {model.name} ORDER BY 1")]


def setup_items(
    db: PgDatabase, stand_in: SnowflakeStandIn, dest: str, extra: str = ""
) -> SnowflakeOptions:
    """items in the source and, as `walstream snowflake apply` made them, in Snowflake."""
    db.execute(
        f"CREATE TABLE items (id int PRIMARY KEY, name text, qty int{extra});"
        "CREATE PUBLICATION walstream FOR TABLE items;"
    )
    db.create_slot()
    options = SnowflakeOptions(dest=dest, storage_integration=None)
    conn = stand_in.connect()
    apply(conn.cursor(), models_from_source(db.dsn, "walstream"), options)
    conn.close()
    stand_in.events.clear()
    return options


def stream(
    db: PgDatabase,
    dest: str,
    stand_in: SnowflakeStandIn,
    evolver: SnowflakeEvolver,
    **settings: Any,
) -> Runner:
    cfg = run_config(
        db,
        dest,
        until_lsn=parse_lsn(db.current_lsn()),
        flush_rows=2,
        before_write=evolver,
        **settings,
    )
    runner = Runner(cfg, sink=NotifyingSink(open_sink(dest), stand_in))
    runner.run()
    return runner


def test_added_column_and_new_table_reach_snowflake_before_their_first_file(
    db: PgDatabase, tmp_path: Path, stand_in: SnowflakeStandIn
) -> None:
    dest = f"file://{tmp_path}/dest"
    options = setup_items(db, stand_in, dest)
    with db.connect() as conn:
        conn.execute("INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
        conn.execute("UPDATE items SET qty = 20 WHERE id = 2")
        conn.execute("ALTER TABLE items ADD COLUMN price numeric(10,2)")
        conn.execute("INSERT INTO items VALUES (4, 'd', 4, 9.99)")
        conn.execute("UPDATE items SET price = 1.50 WHERE id = 1")
        conn.execute("CREATE TABLE newcomer (id int PRIMARY KEY, v text)")
        conn.execute("ALTER PUBLICATION walstream ADD TABLE newcomer")
        conn.execute("INSERT INTO newcomer VALUES (1, 'hello'), (2, 'world')")
        conn.execute("UPDATE items SET qty = qty + 1, price = 2.25 WHERE id = 3")
    evolver = SnowflakeEvolver(options, stand_in.connect)
    stream(db, dest, stand_in, evolver)

    # every file appeared when its table's pipe was running and its COPY named all its columns
    assert len(stand_in.puts) >= 5
    for put in stand_in.puts:
        assert put.copy is not None and not put.paused, put.key
        assert all(f'$1:"{c}"::' in put.copy for c in put.columns), (put.key, put.columns)
    first_price = next(p for p in stand_in.puts if "price" in p.columns)
    put_at = stand_in.index(f"PUT {first_price.key}")
    pipe = '"STAGING_ITEMS_PIPE"'
    paused = stand_in.index(f"ALTER PIPE {pipe} SET PIPE_EXECUTION_PAUSED = TRUE")
    order = [
        stand_in.index('ALTER TABLE "STAGING_ITEMS" ADD COLUMN "PRICE" NUMBER(10,2)'),
        paused,
        stand_in.index(f"SELECT SYSTEM$PIPE_STATUS('{pipe}')", after=paused),  # none pending
        stand_in.index(f"CREATE OR REPLACE PIPE {pipe}"),
        stand_in.index(f"ALTER PIPE {pipe} REFRESH MODIFIED_AFTER"),
        stand_in.index(f"ALTER PIPE {pipe} UNSET COMMENT"),
        stand_in.index('CREATE OR REPLACE PROCEDURE "MERGE_ITEMS_RUN"', after=paused),
        put_at,
    ]
    assert order == sorted(order)
    assert stand_in.index('ALTER TABLE "ITEMS" ADD COLUMN "PRICE"') < put_at
    assert stand_in.index('CREATE TABLE IF NOT EXISTS "NEWCOMER"') < stand_in.index(
        "PUT public/newcomer/"
    )
    assert stand_in.pipes[pipe].comment == "" and not stand_in.pipes[pipe].paused
    assert stand_in.pipes['"STAGING_NEWCOMER_PIPE"'].refreshes == [None]  # created: REFRESH
    # one look at Snowflake per new shape (items at start, items with price, newcomer), not per file
    assert evolver.connections <= 3 < len(stand_in.puts)

    cursor = load_and_merge(stand_in, dest, options)
    for model in models_from_dest(dest):
        assert final_rows(cursor, model) == source_rows(db, model), model.name
    items = next(m for m in models_from_dest(dest) if m.name == "items")
    assert [c.name for c in items.columns] == ["id", "name", "qty", "price"]


def test_a_permanent_snowflake_error_stops_the_run_before_the_file_and_acks_nothing_past_it(
    db: PgDatabase, tmp_path: Path, stand_in: SnowflakeStandIn
) -> None:
    dest = f"file://{tmp_path}/dest"
    options = setup_items(db, stand_in, dest)
    with db.connect() as conn:
        conn.execute("INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2)")
        conn.execute("ALTER TABLE items ADD COLUMN price numeric(10,2)")
        before = db.current_lsn()
        conn.execute("INSERT INTO items VALUES (3, 'c', 3, 9.99)")

    def no_privilege(sql: str) -> BaseException | None:
        if sql.startswith("ALTER TABLE") and "ADD COLUMN" in sql:
            return sf_errors.ProgrammingError(
                msg="SQL access control error:\nInsufficient privileges to operate on table "
                "'STAGING_ITEMS'",
                errno=3001,
                sqlstate="42501",
            )
        return None

    stand_in.fail = no_privilege
    with pytest.raises(SnowflakeError) as raised:
        stream(db, dest, stand_in, SnowflakeEvolver(options, stand_in.connect))
    error = raised.value
    assert not isinstance(error, TransientSnowflakeError) and isinstance(error, SinkError)
    assert error.exit_code == 4
    assert "\n" not in str(error) and "Insufficient privileges" in str(error)
    assert "add column to table" in str(error)
    # the rows before the change are stored and may be acked; nothing of the new shape is
    assert stand_in.puts and all("price" not in p.columns for p in stand_in.puts)
    stored = [k for k in open_sink(dest).list("public/items/")]
    assert len(stored) == len(stand_in.puts)
    assert parse_lsn(db.confirmed_flush_lsn("sf_sync")) <= parse_lsn(before)


def test_transient_snowflake_errors_and_a_draining_pipe_are_waited_out_without_writing(
    db: PgDatabase, tmp_path: Path, stand_in: SnowflakeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    dest = f"file://{tmp_path}/dest"
    options = setup_items(db, stand_in, dest)
    with db.connect() as conn:
        conn.execute("INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2)")
        conn.execute("ALTER TABLE items ADD COLUMN price numeric(10,2)")
        conn.execute("INSERT INTO items VALUES (3, 'c', 3, 9.99)")
        conn.execute("UPDATE items SET price = 0.5 WHERE id = 1")
    pipe = '"STAGING_ITEMS_PIPE"'
    stand_in.pipes[pipe].pending = 2  # Snowpipe is still loading two files when paused
    failures: list[list[str]] = []  # the columns of the files stored when Snowflake failed

    def flaky(sql: str) -> BaseException | None:
        # twice before the pipe is recreated, once after (its REFRESH is then owed)
        if (sql.startswith("CREATE OR REPLACE PIPE") and len(failures) < 2) or (
            "REFRESH MODIFIED_AFTER" in sql and len(failures) == 2
        ):
            failures.append([c for p in stand_in.puts for c in p.columns])
            return sf_errors.OperationalError(msg="Connection reset by peer", errno=250003)
        return None

    stand_in.fail = flaky
    caplog.set_level(logging.WARNING, logger="walstream.flush")
    evolver = SnowflakeEvolver(options, stand_in.connect)
    stream(db, dest, stand_in, evolver, sink_retry_cap=0.05)

    retries = [r.getMessage() for r in caplog.records if "event=flush_retry" in r.getMessage()]
    assert any("pending file(s)" in r for r in retries)  # waited for the paused pipe to drain
    assert sum("Connection reset by peer" in r for r in retries) == 3
    assert all("what=before_write" in r for r in retries)
    # while Snowflake failed, no file of the new shape existed
    assert len(failures) == 3 and all("price" not in columns for columns in failures)
    # retries found the pipe's state in its comment (paused by walstream, then refresh owed),
    # so it was paused and recreated once and refreshed from that one pause
    assert sum(e.startswith("CREATE OR REPLACE PIPE") for e in stand_in.events) == 1
    assert stand_in.pipes[pipe].comment == ""
    pauses = [
        e for e in stand_in.events if e.startswith(f"ALTER PIPE {pipe} SET PIPE_EXECUTION_PAUSED")
    ]
    assert len(pauses) == 1
    paused_at = re.search(r"paused at ([^']+)'", pauses[0])
    assert paused_at is not None
    since = (datetime.fromisoformat(paused_at.group(1)) - REFRESH_MARGIN).isoformat()
    assert stand_in.pipes[pipe].refreshes == [since]
    cursor = load_and_merge(stand_in, dest, options)
    (items,) = models_from_dest(dest)
    assert final_rows(cursor, items) == source_rows(db, items)


def test_drops_type_changes_and_renames_are_left_to_a_human_and_logged_once(
    db: PgDatabase, tmp_path: Path, stand_in: SnowflakeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    dest = f"file://{tmp_path}/dest"
    options = setup_items(db, stand_in, dest, extra=", obsolete text")
    with db.connect() as conn:
        conn.execute("INSERT INTO items VALUES (1, 'a', 1, 'x'), (2, 'b', 2, 'y')")
        conn.execute("ALTER TABLE items DROP COLUMN obsolete")
        conn.execute("INSERT INTO items VALUES (3, 'c', 3)")
        conn.execute("ALTER TABLE items ALTER COLUMN qty TYPE bigint")
        conn.execute("INSERT INTO items VALUES (4, 'd', 5000000000)")
        conn.execute("ALTER TABLE items RENAME COLUMN name TO title")
        conn.execute("UPDATE items SET title = 'renamed' WHERE id = 1")
        conn.execute("INSERT INTO items VALUES (5, 'e', 5)")
    caplog.set_level(logging.WARNING, logger="walstream.snowflake")
    stream(db, dest, stand_in, SnowflakeEvolver(options, stand_in.connect))

    human = [
        r.getMessage() for r in caplog.records if "snowflake_evolve_needs_human" in r.getMessage()
    ]
    changes = sorted(re.search(r"change=(\S+) column=(\S+)", h).groups() for h in human)  # type: ignore[union-attr]
    assert changes == [
        ("drop_column", "OBSOLETE"),
        ("rename_column", "NAME"),
        ("type_change", "QTY"),
    ]
    qty = next(h for h in human if "change=type_change" in h)
    assert 'ALTER TABLE "STAGING_ITEMS" ALTER COLUMN "QTY" SET DATA TYPE NUMBER(19,0)' in qty
    # nothing was dropped or retyped; the renamed column's new name was added everywhere
    ran = [e for e in stand_in.events if not e.startswith(("PUT", "SHOW", "SELECT"))]
    assert not [e for e in ran if "DROP" in e or "SET DATA TYPE" in e or "RENAME" in e]
    assert 'ALTER TABLE "ITEMS" ADD COLUMN "TITLE" VARCHAR(134217728)' in ran
    assert 'ALTER TABLE "STAGING_ITEMS" ADD COLUMN "TITLE" VARCHAR(134217728)' in ran
    copy = stand_in.pipes['"STAGING_ITEMS_PIPE"'].copy
    assert '$1:"title"::VARCHAR' in copy
    assert '$1:"qty"::NUMBER(19,0)' in copy  # the pipe casts to the new type; the table waits


def test_errors_are_sorted_into_retried_and_final() -> None:
    transient = [
        sf_errors.OperationalError(msg="Failed to execute request", errno=250003),
        sf_errors.ServiceUnavailableError(msg="503"),
        sf_errors.ProgrammingError(msg="Statement reached its statement timeout", errno=630),
        ConnectionResetError("reset"),
    ]
    final = [
        sf_errors.ProgrammingError(msg="Insufficient privileges", errno=3001),
        sf_errors.ProgrammingError(msg="SQL compilation error: syntax error", errno=1003),
        sf_errors.DatabaseError(msg="Incorrect username or password was specified.", errno=390100),
    ]
    for exc in transient:
        assert isinstance(_classified(exc, "x"), TransientSnowflakeError), exc
    for exc in final:
        error = _classified(exc, "x")
        assert not isinstance(error, TransientSnowflakeError) and error.exit_code == 4, exc


def test_run_options_build_the_evolver_from_the_snowflake_apply_environment() -> None:
    seen: dict[str, Any] = {}

    @click.command()
    @click.option("--dest")
    @snowflake_evolve_options
    def run(**kwargs: Any) -> None:
        seen.update(kwargs)

    env = {
        "WALSTREAM_SNOWFLAKE_EVOLVE": "1",
        "WALSTREAM_SNOWFLAKE_ACCOUNT": "acme",
        "WALSTREAM_SNOWFLAKE_USER": "cdc",
        "WALSTREAM_SNOWFLAKE_DATABASE": "RAW",
        "WALSTREAM_SNOWFLAKE_SCHEMA": "APP",
        "WALSTREAM_SNOWFLAKE_STAGE": "MY_STAGE",
        "WALSTREAM_SOFT_DELETE": "1",
    }
    result = CliRunner().invoke(run, ["--dest", "s3://b/dms"], env=env)
    assert result.exit_code == 0, result.output
    assert set(seen) == {"dest", "before_write", "warehouse_monitor"}
    assert seen["warehouse_monitor"] is None  # no --snowflake-monitor-interval
    evolver = seen["before_write"]
    assert isinstance(evolver, SnowflakeEvolver)
    assert evolver._options.stage == "MY_STAGE" and evolver._options.merge.soft_delete
    assert evolver._options.dest == "s3://b/dms"

    off = CliRunner().invoke(run, ["--dest", "s3://b/dms"], env={})
    assert off.exit_code == 0 and seen["before_write"] is None
    with pytest.raises(Exception, match="--snowflake-evolve needs --snowflake-account"):
        evolver_from({**dict.fromkeys(PARAMS), "snowflake_evolve": True}, "s3://b/dms")

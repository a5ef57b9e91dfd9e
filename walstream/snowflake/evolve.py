"""``walstream run --snowflake-evolve``: Snowflake takes a table's new shape before its first file.

Why before: the generated pipe copies an explicit column list, and Snowpipe may load a file
seconds after it is written. A file holding a column the pipe's COPY does not name loads without
it, and nothing loads it again; so the column must be in STAGING and FINAL, in the pipe's COPY
and in the task's MERGE before the first file that carries it exists.

How it fits: the :class:`~walstream.pipeline.flusher.Flusher` calls a :class:`SnowflakeEvolver`
(its ``before_write`` hook) in the flush thread with a job's batches, after encoding and before
storing any file of the job. The evolver remembers the table shape (:class:`TableSchema`) it
last brought Snowflake to, so in the steady state a call is one dict look-up per batch. A shape
it has not seen (the first batch of each table after a start, an ``ALTER TABLE``, a table new to
the publication) opens one connection, reads what exists (``SHOW``, ``INFORMATION_SCHEMA``),
runs what is missing, and closes it:

- a missing object is created as ``walstream snowflake apply`` would (a new table gets
  everything: tables, stream, pipe, task, and a pipe ``REFRESH`` for files already staged);
- a column missing from a walstream table (STAGING, FINAL, the MERGE's CHANGES) is added;
- a pipe whose COPY lacks a column (or casts one to an older type) is recreated the way
  Snowflake documents for changing a pipe's COPY: pause it, wait until it has no pending
  file, ``CREATE OR REPLACE PIPE``, then ``REFRESH MODIFIED_AFTER`` a while before the pause,
  so a file whose notification arrived during the switch is loaded (a file loaded twice is a
  harmless replay). The pipe's comment records the step in progress, so a restart half way
  finishes the job;
- a task whose MERGE lacks a column is replaced and resumed, unless it was suspended (a human
  paused the table: it stays suspended).

Never applied by itself, because a wrong guess damages FINAL: dropped columns, type changes,
renames, key changes. Each is logged once per table and change as
``event=snowflake_evolve_needs_human`` with what to do; docs/operations.md#schema-changes has
the procedures. A rename still gets its new column added (files carry the new name).

Failures: a transient one (network, Snowflake 5xx or throttling, a statement timeout, a pipe
still loading its pending files) raises :class:`TransientSnowflakeError`, which the flusher
retries with backoff while storing nothing of the job; a permanent one (no privilege, an SQL
error, bad credentials) raises :class:`~walstream.snowflake.apply.SnowflakeError` (exit 4): the
run stops and acknowledges nothing it did not store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import TransientSinkError, WalstreamError
from ..layout import RESERVED_PREFIX
from ..schema import TableSchema
from .apply import ConnectionSettings, Existing, SnowflakeError, inspect
from .ddl import add_column_statements, renamed_columns, table_definitions
from .dialects import SNOWFLAKE
from .model import ColumnModel, TableModel
from .objects import Statement, account_statements, table_statements
from .options import SnowflakeOptions

if TYPE_CHECKING:
    from ..capture.batch import ChangeBatch

log = logging.getLogger("walstream.snowflake")

#: How far before a pipe's pause its REFRESH reaches: longer than an S3 event notification takes.
REFRESH_MARGIN = timedelta(minutes=15)

_PAUSED_NOTE = "walstream evolve: paused at "
_REFRESH_NOTE = "walstream evolve: refresh owed from "

# Snowflake statement errors worth waiting out: statement canceled or timed out, lock wait
# timeout, warehouse timeout, session or token expired.
_TRANSIENT_ERRNOS = frozenset({604, 625, 630, 390111, 390112, 390114})


class TransientSnowflakeError(SnowflakeError, TransientSinkError):
    """Snowflake failed in a way that may pass; the flusher retries (and stores nothing)."""


def batch_model(batch: ChangeBatch) -> TableModel:
    """The warehouse model of a batch's table: its schema and its columns' Arrow types."""
    types = {
        column.name: converter.arrow_type
        for column, converter in zip(batch.table.columns, batch.converters, strict=True)
    }
    return TableModel.from_schema(batch.table, types)


class SnowflakeEvolver:
    """The flusher's ``before_write`` hook; see the module docstring.

    ``connect`` returns a DB-API connection in the target database and schema (for tests, a
    fakesnow one). Only the flush thread calls it, so there is no locking.
    """

    def __init__(
        self,
        options: SnowflakeOptions,
        connect: Callable[[], Any],
        *,
        refresh_margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._options = options
        self._connect = connect
        self._refresh_margin = refresh_margin
        self._applied: dict[str, TableSchema] = {}  # qualified name -> shape Snowflake has
        self._reported: set[tuple[str, ...]] = set()
        self._kinds = {"file_format", "stage", "table", "stream", "pipe", "task"}
        if options.storage_integration and options.aws_role_arn:
            self._kinds.add("integration")
        #: how many times Snowflake was consulted (the steady state needs none)
        self.connections = 0

    @classmethod
    def from_settings(
        cls, settings: ConnectionSettings, options: SnowflakeOptions
    ) -> SnowflakeEvolver:
        """An evolver that connects with snowflake-connector-python (a fresh session each time)."""

        def connect() -> Any:
            import snowflake.connector

            # secrets are resolved per connection, so a rotated password is picked up
            return snowflake.connector.connect(
                **settings.connect_args(), login_timeout=60, network_timeout=300
            )

        return cls(options, connect)

    # -- the hook ----------------------------------------------------------------------------
    def __call__(self, batches: Sequence[ChangeBatch]) -> None:
        """Bring Snowflake to every table shape of ``batches`` that it may not have yet.

        hot path: once per flush; a dict look-up per batch when no shape changed.
        """
        todo: list[ChangeBatch] = []
        for batch in batches:
            if self._applied.get(batch.table.qualified_name) != batch.table:
                todo.append(batch)
        if not todo:
            return
        models = [batch_model(batch) for batch in todo]  # ConfigError: reserved column names
        self.connections += 1
        try:
            conn = self._connect()
        except WalstreamError:
            raise
        except Exception as exc:
            raise _classified(exc, "connecting to Snowflake") from None
        try:
            cursor = conn.cursor()
            for model in models:
                if self._applied.get(model.qualified_name) == model.schema:
                    continue  # two batches of one shape in a job
                self._evolve(cursor, model)
                self._applied[model.qualified_name] = model.schema
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    # -- one table ---------------------------------------------------------------------------
    def _evolve(self, cursor: Any, model: TableModel) -> None:
        options = self._options
        previous = self._applied.get(model.qualified_name)
        existing = self._inspect(cursor)
        types = self._column_types(cursor)
        definitions = {d.name: d for d in table_definitions(model, options.dialect, options.merge)}
        created_pipes: set[str] = set()
        resume_task = False
        statements: list[Statement] = account_statements(options)
        statements += table_statements(model, options)
        for st in statements:
            found = existing.get(st.kind, st.name) if st.kind in self._kinds else None
            what = f"{st.kind.replace('_', ' ')} {st.name}"
            if st.kind == "table":
                if found is None:
                    self._run(cursor, st.sql, f"create {what}", model)
                    continue
                have = existing.columns.get(SNOWFLAKE.reported_name(st.name), set())
                for sql in add_column_statements(definitions[st.name], have, SNOWFLAKE):
                    self._run(cursor, sql, f"add column to {what}", model)
            elif st.kind == "pipe":
                if found is None:
                    self._run(cursor, st.sql, f"create {what}", model)
                    created_pipes.add(st.name)
                elif st.table is not None:  # the manifest pipe's COPY never changes
                    self._follow_pipe(cursor, st, found, model)
            elif st.kind == "pipe_errors":
                if st.name not in created_pipes:  # idempotent: the integration may be new
                    self._run(cursor, st.sql, f"set error integration of pipe {st.name}", model)
            elif st.kind == "pipe_refresh":
                if st.name in created_pipes:  # files already staged for a table new to Snowflake
                    self._run(cursor, st.sql, f"refresh pipe {st.name}", model)
            elif st.kind in ("procedure", "view"):
                # stateless; the procedure holds the MERGE, which names every column
                self._run(cursor, st.sql, f"replace {what}", model)
            elif st.kind == "bookkeeping":
                if existing.get("table", st.name) is None:
                    self._run(cursor, st.sql, f"create {what}", model)
            elif st.kind == "task":
                if found is None or not _same_task(found, st):
                    suspended = found is not None and _state(found) == "suspended"
                    if found is not None and not suspended:
                        self._run(cursor, f"ALTER TASK {st.name} SUSPEND", f"suspend {what}", model)
                    self._run(cursor, st.sql, f"replace {what}", model)
                    resume_task = not suspended
                    if suspended:
                        self._needs_human(
                            model,
                            "task_suspended",
                            st.name,
                            "the task was suspended: it now has the new MERGE and stays "
                            f"suspended; FINAL follows once you run ALTER TASK {st.name} RESUME",
                        )
                elif _state(found) == "suspended":
                    self._needs_human(
                        model,
                        "task_suspended",
                        st.name,
                        f"FINAL is not updated while the task is suspended: ALTER TASK {st.name} "
                        "RESUME when the pause is over (docs/operations.md#pausing-and-resuming"
                        "-a-table)",
                    )
            elif st.kind == "task_resume":
                if resume_task:
                    self._run(cursor, st.sql, f"resume task {st.name}", model)
            elif found is None:  # integration, file format, stage, stream
                self._run(cursor, st.sql, f"create {what}", model)
            elif st.kind == "stream" and str(found.get("stale", "")).lower() == "true":
                self._needs_human(
                    model,
                    "stream_stale",
                    st.name,
                    "the stream is stale: staged rows it missed are not merged; recreate the "
                    "stream and reload the table (docs/operations.md#reloading-a-table)",
                )
        self._report_drift(model, previous, existing, types)

    def _follow_pipe(
        self, cursor: Any, st: Statement, found: dict[str, Any], model: TableModel
    ) -> None:
        """Recreate a pipe whose COPY lacks a column (see the module docstring), or finish that."""
        pipe = st.name
        comment = str(found.get("comment") or "")
        if comment.startswith(_REFRESH_NOTE):  # recreated before a restart or a failure
            self._refresh_pipe(cursor, pipe, comment[len(_REFRESH_NOTE) :], model)
            comment = ""  # and the COPY may lack a column that came since
        ours = comment.startswith(_PAUSED_NOTE)
        if not ours and not _lacks_columns(found, model, _copy_mentions):
            return
        if ours:
            paused_at = comment[len(_PAUSED_NOTE) :]
        else:
            if _execution_state(self._pipe_status(cursor, pipe, model)) == "PAUSED":
                self._needs_human(
                    model,
                    "pipe_was_paused",
                    pipe,
                    "the pipe was paused; walstream recreated it with the new COPY and it runs "
                    f"now: ALTER PIPE {pipe} SET PIPE_EXECUTION_PAUSED = TRUE if the pause "
                    "must go on",
                )
            paused_at = _now().isoformat(timespec="seconds")
            note = SNOWFLAKE.literal(_PAUSED_NOTE + paused_at)
            self._run(
                cursor,
                f"ALTER PIPE {pipe} SET PIPE_EXECUTION_PAUSED = TRUE COMMENT = {note}",
                f"pause pipe {pipe}",
                model,
            )
            log.info("event=snowflake_evolve_pipe_paused pipe=%s paused_at=%s", pipe, paused_at)
        pending = _pending_files(self._pipe_status(cursor, pipe, model))
        if pending:
            raise TransientSnowflakeError(
                f"pipe {pipe} (paused at {paused_at} to add columns to its COPY) still has "
                f"{pending} pending file(s); waiting for Snowpipe to load them"
            )
        since = (_parse_time(paused_at) - self._refresh_margin).isoformat(timespec="seconds")
        note = SNOWFLAKE.literal(_REFRESH_NOTE + since)
        sql = st.sql.replace("CREATE PIPE IF NOT EXISTS", "CREATE OR REPLACE PIPE", 1)
        sql = sql.replace("\nAS\n", f"\n    COMMENT = {note}\nAS\n", 1)
        self._run(cursor, sql, f"recreate pipe {pipe}", model)
        self._refresh_pipe(cursor, pipe, since, model)

    def _refresh_pipe(self, cursor: Any, pipe: str, since: str, model: TableModel) -> None:
        self._run(
            cursor,
            f"ALTER PIPE {pipe} REFRESH MODIFIED_AFTER = {SNOWFLAKE.literal(since)}",
            f"refresh pipe {pipe}",
            model,
        )
        self._run(cursor, f"ALTER PIPE {pipe} UNSET COMMENT", f"finish pipe {pipe}", model)
        log.info("event=snowflake_evolve_pipe_recreated pipe=%s refreshed_from=%s", pipe, since)

    # -- what needs a human ------------------------------------------------------------------
    def _report_drift(
        self,
        model: TableModel,
        previous: TableSchema | None,
        existing: Existing,
        types: dict[tuple[str, str], tuple[str, int | None, int | None]],
    ) -> None:
        """Dropped, renamed, retyped and key columns: logged, never applied (module docstring)."""
        dialect = self._options.dialect
        names = dialect.names(model)
        final = SNOWFLAKE.reported_name(names.final)
        staging = SNOWFLAKE.reported_name(names.staging)
        renames = renamed_columns(previous, model.schema) if previous is not None else {}
        renamed_from = {SNOWFLAKE.reported_name(dialect.ident(old)): old for old in renames}
        wanted = {SNOWFLAKE.reported_name(dialect.ident(c.name)) for c in model.columns}
        for gone in sorted(existing.columns.get(final, set()) - wanted):
            if gone.lower().startswith(RESERVED_PREFIX):
                continue
            if gone in renamed_from:
                old = renamed_from[gone]
                self._needs_human(
                    model,
                    "rename_column",
                    gone,
                    f"renamed to {renames[old]!r} at the source: new changes fill "
                    f"{dialect.ident(renames[old])}, {gone} keeps the values from before; "
                    "reload the table (docs/operations.md#reloading-a-table), then drop the old "
                    "column from FINAL",
                )
            else:
                self._needs_human(
                    model,
                    "drop_column",
                    gone,
                    "dropped or renamed at the source: FINAL keeps the column with the values "
                    f"from before; ALTER TABLE {names.final} DROP COLUMN {_quote(gone)} "
                    "once nothing reads it",
                )
        for column in model.columns:
            reported = SNOWFLAKE.reported_name(dialect.ident(column.name))
            for table, wanted_type in (
                (final, dialect.final_type(column)),
                (staging, dialect.staging_type(column)),
            ):
                have = types.get((table, reported))
                if have is None or _same_type(have, wanted_type):
                    continue
                self._needs_human(
                    model,
                    "type_change",
                    reported,
                    f"{table} has {_type_text(have)}, the files now carry {wanted_type}: "
                    "a file with a value that does not fit fails to load (COPY_HISTORY); "
                    + _retype_advice(have, wanted_type, names, reported)
                    + "; reload the table if a load failed (docs/operations.md#reloading-a-table)",
                )
                break
        if previous is not None and previous.key_columns != model.schema.key_columns:
            self._needs_human(
                model,
                "key_change",
                ",".join(model.schema.key_columns) or "-",
                f"the key was ({', '.join(previous.key_columns)}): the MERGE of the old key "
                "stays until you run walstream snowflake apply, then reload the table",
            )

    def _needs_human(self, model: TableModel, change: str, subject: str, action: str) -> None:
        key = (model.qualified_name, change, subject, action)
        if key in self._reported:
            return
        self._reported.add(key)
        log.warning(
            "event=snowflake_evolve_needs_human table=%s change=%s column=%s action=%s",
            model.qualified_name,
            change,
            subject,
            action,
        )

    # -- Snowflake I/O -----------------------------------------------------------------------
    def _run(self, cursor: Any, sql: str, what: str, model: TableModel) -> None:
        log.info(
            "event=snowflake_evolve table=%s action=%s",
            model.qualified_name,
            " ".join(what.split()),
        )
        try:
            cursor.execute(sql)
        except Exception as exc:
            raise _classified(exc, f"{what} (table {model.qualified_name})") from None

    def _inspect(self, cursor: Any) -> Existing:
        try:
            return inspect(cursor, self._kinds)
        except SnowflakeError as exc:
            # inspect() words SHOW failures for `snowflake apply`; its cause says if it may pass
            cause = exc.__context__
            if cause is not None and _is_transient(cause):
                raise TransientSnowflakeError(str(exc)) from None
            raise
        except Exception as exc:
            raise _classified(exc, "reading the schema's objects") from None

    def _column_types(
        self, cursor: Any
    ) -> dict[tuple[str, str], tuple[str, int | None, int | None]]:
        try:
            cursor.execute(
                "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale "
                "FROM information_schema.columns WHERE table_schema = CURRENT_SCHEMA()"
            )
            rows = cursor.fetchall()
        except Exception as exc:
            raise _classified(exc, "reading column types") from None
        return {
            (str(table), str(column)): (
                str(data_type).upper(),
                None if precision is None else int(precision),
                None if scale is None else int(scale),
            )
            for table, column, data_type, precision, scale in rows
        }

    def _pipe_status(self, cursor: Any, pipe: str, model: TableModel) -> dict[str, Any]:
        what = f"SYSTEM$PIPE_STATUS of pipe {pipe}"
        try:
            cursor.execute(f"SELECT SYSTEM$PIPE_STATUS({SNOWFLAKE.literal(pipe)})")
            row = cursor.fetchone()
        except Exception as exc:
            raise _classified(exc, f"{what} (table {model.qualified_name})") from None
        try:
            status = json.loads(str(row[0])) if row else {}
        except ValueError:
            status = {}
        return status if isinstance(status, dict) else {}


# -- helpers -------------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return _now()  # a comment edited by hand: refresh from now minus the margin
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _state(found: dict[str, Any]) -> str:
    return str(found.get("state") or "").lower()


def _execution_state(status: dict[str, Any]) -> str:
    return str(status.get("executionState") or "").upper()


def _pending_files(status: dict[str, Any]) -> int:
    try:
        return int(status.get("pendingFileCount") or 0)
    except (TypeError, ValueError):
        return 0


def _copy_mentions(definition: str, column: ColumnModel) -> bool:
    # with its cast: once a human has widened a column, the next start recreates the pipe
    return f"$1:{_quote(column.name)}::{SNOWFLAKE.staging_type(column)}" in definition


def _same_task(found: dict[str, Any], statement: Statement) -> bool:
    """True when the task already runs what ``statement`` defines (an unreadable definition
    counts as the same: walstream does not replace what it cannot read)."""
    definition = " ".join(str(found.get("definition") or "").split()).rstrip(";")
    body = " ".join(statement.sql.split("\nAS\n", 1)[1].split()).rstrip(";")
    return not definition or definition.upper() == body.upper()


def _lacks_columns(
    found: dict[str, Any], model: TableModel, mentions: Callable[[str, ColumnModel], bool]
) -> bool:
    """True when a pipe's COPY or a task's MERGE does not name every column of ``model``.

    An empty definition (the role may not see it) is taken as complete: walstream does not
    replace what it cannot read.
    """
    definition = str(found.get("definition") or "")
    if not definition:
        return False
    return any(not mentions(definition, c) for c in model.columns)


def _type_parts(sql_type: str) -> tuple[str, int | None, int | None]:
    """A generated type as INFORMATION_SCHEMA reports it: (DATA_TYPE, precision, scale)."""
    number = re.fullmatch(r"NUMBER\((\d+),(\d+)\)", sql_type)
    if number:
        return ("NUMBER", int(number.group(1)), int(number.group(2)))
    base = sql_type.split("(", 1)[0].upper()
    return ("TEXT" if base == "VARCHAR" else base, None, None)


def _same_type(have: tuple[str, int | None, int | None], wanted: str) -> bool:
    want = _type_parts(wanted)
    if have[0] != want[0]:
        return False
    return want[0] != "NUMBER" or have[1:] == want[1:]


def _type_text(have: tuple[str, int | None, int | None]) -> str:
    name, precision, scale = have
    return f"{name}({precision},{scale})" if name == "NUMBER" else name


def _retype_advice(
    have: tuple[str, int | None, int | None], wanted: str, names: Any, column: str
) -> str:
    want = _type_parts(wanted)
    if (
        have[0] == want[0] == "NUMBER"
        and have[1] is not None
        and want[1] is not None
        and want[1] >= have[1]
        and have[2] == want[2]
    ):
        tables = (names.staging, names.final, names.changes)
        return "widen it: " + "; ".join(
            f"ALTER TABLE {t} ALTER COLUMN {_quote(column)} SET DATA TYPE {wanted}" for t in tables
        )
    return "Snowflake cannot convert it in place: see docs/operations.md#schema-changes"


def _is_transient(exc: BaseException) -> bool:
    import snowflake.connector.errors as sf

    if isinstance(exc, sf.NonRetryableTlsError):
        return False
    if getattr(exc, "errno", None) in _TRANSIENT_ERRNOS:
        return True
    transient = (
        sf.OperationalError,
        sf.InterfaceError,
        sf.ServiceUnavailableError,
        sf.GatewayTimeoutError,
        sf.BadGatewayError,
        sf.InternalServerError,
        sf.OtherHTTPRetryableError,
        sf.RequestTimeoutError,
        sf.TooManyRequests,
        sf.RequestExceedMaxRetryError,
        sf.TokenExpiredError,
    )
    return isinstance(exc, (*transient, ConnectionError, TimeoutError))


def _classified(exc: BaseException, doing: str) -> SnowflakeError:
    """``exc`` from the connector as a transient (retried) or permanent (run stops) error."""
    message = " ".join(str(getattr(exc, "msg", None) or exc).split()) or type(exc).__name__
    if _is_transient(exc):
        return TransientSnowflakeError(f"{doing} failed: {message}; retrying")
    return SnowflakeError(
        f"--snowflake-evolve: {doing} failed: {message}; no file needing it was written: fix "
        "the cause (role grants: OWNERSHIP of the walstream objects, USAGE on the stage and file "
        "format) and restart, or run without --snowflake-evolve and follow "
        "docs/operations.md#schema-changes"
    )

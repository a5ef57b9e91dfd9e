"""Snowflake's account and per-table objects: file format, stage, pipes, streams, procedures,
tasks, and the script ``walstream snowflake sql`` prints and ``snowflake apply`` runs.

Objects (DESIGN.md §3)::

    @STAGE/_walstream/<slot>/manifests/*.json
        --PIPE WALSTREAM_MANIFESTS_PIPE--> WALSTREAM_MANIFESTS_RAW (views WALSTREAM_MANIFESTS,
                                                                  WALSTREAM_MANIFEST_FILES)
    @STAGE/<schema>/<table>/*.parquet --PIPE STAGING_<T>_PIPE--> STAGING_<T>
    STAGING_<T>_STREAM (new staged rows) and MANIFESTS_<T>_STREAM (new manifests)
        --TASK MERGE_<T>: CALL MERGE_<T>_RUN()--> <T> (FINAL), TOMBSTONES_<T>, TRUNCATES_<T>,
                                                 WALSTREAM_FILES, WALSTREAM_WATERMARKS

A run of the procedure, in one transaction: the files the stream shows arrived are recorded in
WALSTREAM_FILES with their row counts (consuming the stream), the manifest stream is consumed
(it only wakes the task: a quiet table whose last file becomes mergeable when its manifest
lands must not wait for its next change), then :func:`~.watermark.merge_run_statements` merges
STAGING up to the table's merged watermark and prunes what it merged. The task's definition is
one CALL, whatever the table's width; the procedure holds the statements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..layout import INTERNAL_PREFIX, MANIFEST_PATTERN, key_segment
from .ddl import check_names, staging_columns, table_definitions
from .dialects import SNOWFLAKE, indent, join_lines, object_name, quote
from .model import TableModel
from .options import SnowflakeOptions
from .watermark import bookkeeping, bookkeeping_ddl, merge_run_statements

#: The manifest pipe's name (one per schema: manifests of every slot under DEST).
MANIFEST_PIPE = "WALSTREAM_MANIFESTS_PIPE"

# -- Snowflake objects: stage, pipe, stream, task -----------------------------------------------
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of the script; ``kind`` and ``name`` let ``apply`` decide what to run.

    Kinds: ``integration``, ``file_format``, ``stage``, ``table``, ``stream``, ``pipe``,
    ``pipe_errors`` (its ERROR_INTEGRATION), ``pipe_refresh``, ``task``, ``task_resume``; for
    ``snowflake pause|resume``: ``pipe_pause``, ``pipe_resume``, ``task_suspend``,
    ``task_execute``.
    """

    kind: str
    name: str
    sql: str
    table: str | None = None  # qualified source table, for per-table statements
    role: str | None = None  # final | staging | ... for tables


def account_statements(options: SnowflakeOptions) -> list[Statement]:
    """The storage integration (when a role ARN is given), the file format and the stage."""
    out: list[Statement] = []
    if options.storage_integration and options.aws_role_arn and not options.internal_stage:
        integration = object_name(options.storage_integration)
        out.append(
            Statement(
                "integration",
                integration,
                f"CREATE STORAGE INTEGRATION IF NOT EXISTS {integration}\n"
                "    TYPE = EXTERNAL_STAGE\n"
                "    STORAGE_PROVIDER = 'S3'\n"
                "    ENABLED = TRUE\n"
                f"    STORAGE_AWS_ROLE_ARN = {SNOWFLAKE.literal(options.aws_role_arn)}\n"
                f"    STORAGE_ALLOWED_LOCATIONS = ({SNOWFLAKE.literal(options.stage_url)})",
            )
        )
    file_format = object_name(options.file_format)
    out.append(
        Statement(
            "file_format",
            file_format,
            # USE_LOGICAL_TYPE: read decimals, dates, times and timestamps as what they are;
            # BINARY_AS_TEXT = FALSE: bytea stays binary (strings are annotated as such);
            # the vectorized scanner reads Parquet LISTs as plain arrays
            f"CREATE FILE FORMAT IF NOT EXISTS {file_format}\n"
            "    TYPE = PARQUET\n"
            "    BINARY_AS_TEXT = FALSE\n"
            "    USE_LOGICAL_TYPE = TRUE\n"
            "    USE_VECTORIZED_SCANNER = TRUE",
        )
    )
    stage = object_name(options.stage)
    integration_clause = (
        f"\n    STORAGE_INTEGRATION = {object_name(options.storage_integration)}"
        if options.storage_integration
        else ""
    )
    location = f"\n    URL = {SNOWFLAKE.literal(options.stage_url)}{integration_clause}"
    out.append(
        Statement(
            "stage",
            stage,
            f"CREATE STAGE IF NOT EXISTS {stage}"
            f"{'' if options.internal_stage else location}\n"
            f"    FILE_FORMAT = (FORMAT_NAME = {SNOWFLAKE.literal(options.file_format)})",
        )
    )
    b = bookkeeping(options.dialect)
    for sql in bookkeeping_ddl(options.dialect):
        name = sql.split(" AS\n", 1)[0].split("(", 1)[0].split()[-1]
        kind = "view" if " VIEW " in sql.split("\n", 1)[0] else "bookkeeping"
        out.append(Statement(kind, name, sql))
    pipe = options.dialect.object(MANIFEST_PIPE)
    out.append(
        Statement(
            "pipe",
            pipe,
            f"{_create_pipe(pipe, options)}{manifest_copy_statement(options)}",
        )
    )
    out += _pipe_errors(pipe, options)
    out.append(Statement("pipe_refresh", pipe, f"ALTER PIPE {pipe} REFRESH"))
    assert b.manifests_raw
    return out


def _create_pipe(pipe: str, options: SnowflakeOptions) -> str:
    """The head of a pipe's CREATE, up to its COPY (never OR REPLACE: see table_statements)."""
    errors = options.error_integration
    notify = f"    ERROR_INTEGRATION = {object_name(errors)}\n" if errors else ""
    return f"CREATE PIPE IF NOT EXISTS {pipe}\n    AUTO_INGEST = TRUE\n{notify}AS\n"


def _pipe_errors(pipe: str, options: SnowflakeOptions, table: str | None = None) -> list[Statement]:
    """With --error-integration, a pipe created without it gets it (load errors, which make
    Snowpipe skip a whole file, are then pushed to the integration's queue or topic)."""
    errors = options.error_integration
    if not errors:
        return []
    sql = f"ALTER PIPE {pipe} SET ERROR_INTEGRATION = {object_name(errors)}"
    return [Statement("pipe_errors", pipe, sql, table)]


def _stage(options: SnowflakeOptions) -> str:
    """The stage, qualified like walstream's own objects unless the user qualified it."""
    if "." in options.stage or not options.qualifier:
        return object_name(options.stage)
    return f"{options.qualifier}.{object_name(options.stage)}"


def manifest_copy_statement(options: SnowflakeOptions, files: Sequence[str] | None = None) -> str:
    """The manifest pipe's COPY: each manifest whole, as one VARIANT, with its key.

    ``files``: only these manifests (keys under DEST), as a COPY run by hand loads them."""
    raw = bookkeeping(options.dialect).manifests_raw
    choice = (
        f"PATTERN = {SNOWFLAKE.literal(MANIFEST_PATTERN)}\n"
        if files is None
        else _files_clause(INTERNAL_PREFIX, files)
    )
    return (
        f"COPY INTO {raw} (manifest, body)\n"
        "FROM (\n    SELECT METADATA$FILENAME, $1\n"
        f"    FROM @{_stage(options)}/{INTERNAL_PREFIX}\n)\n"
        f"{choice}"
        "FILE_FORMAT = (TYPE = JSON)"
    )


def _files_clause(location: str, files: Sequence[str]) -> str:
    """``FILES = (...)``: the keys ``files``, named relative to the COPY's ``location``."""
    names = []
    for key in files:
        if not key.startswith(location) or key == location:
            raise ValueError(f"{key!r} is not a file under {location!r}")
        names.append(SNOWFLAKE.literal(key[len(location) :]))
    return f"FILES = ({', '.join(names)})\n"


def put_statement(path: str, key: str, options: SnowflakeOptions) -> str:
    """PUT the local file ``path`` on the stage as ``key`` (its folder, then its own name,
    which must be the file's). Uncompressed, so that the staged name is the key the manifests
    list (a Parquet file is compressed inside)."""
    folder, _, name = key.rpartition("/")
    if name != path.replace("\\", "/").rpartition("/")[2]:
        raise ValueError(f"a PUT keeps the file's name: {path!r} cannot be staged as {key!r}")
    if not all(_SAFE_SEGMENT.fullmatch(segment) for segment in folder.split("/")):
        raise ValueError(f"a PUT location cannot spell the folder of {key!r}")
    source = SNOWFLAKE.literal("file://" + path)
    return (
        f"PUT {source} @{_stage(options)}/{folder}/\n"
        "    AUTO_COMPRESS = FALSE\n"
        "    OVERWRITE = TRUE"
    )


def copy_statement(
    model: TableModel, options: SnowflakeOptions, files: Sequence[str] | None = None
) -> str:
    """The pipe's COPY: every file column cast explicitly, plus where each row came from.

    ``files``: only these files (keys under DEST), as a COPY run by hand loads them."""
    dialect = options.dialect
    n = dialect.names(model)
    targets = [c for c, _ in staging_columns(model, dialect)]
    casts = [f"$1:{quote('Op')}::{dialect.text_type}"]
    casts += [_cast(f"$1:{quote(c.name)}", dialect.staging_type(c)) for c in model.columns]
    casts += [
        _cast(f"$1:{quote('_walstream_commit_ts')}", dialect.commit_ts_type),
        f"$1:{quote('_walstream_lsn')}::{dialect.position_type}",
        f"$1:{quote('_walstream_seq')}::{dialect.position_type}",
        f"$1:{quote('_walstream_xid')}::{dialect.position_type}",
        f"$1:{quote('_walstream_unchanged')}::{dialect.text_list_type}",
        f"$1:{quote('_walstream_lossy')}::{dialect.text_list_type}",
        f"$1:{quote('_walstream_key_change')}::{dialect.boolean_type}",
        "METADATA$FILENAME",
        "METADATA$FILE_ROW_NUMBER",
    ]
    # a stage path cannot spell every folder name (spaces, quotes, ...): the path goes as far
    # as it can, and a PATTERN picks the table's files below it
    prefix = ""
    pattern = ""
    folders = [key_segment(model.namespace), key_segment(model.name)]  # as the files are stored
    for i, segment in enumerate(folders):
        if not _SAFE_SEGMENT.fullmatch(segment):
            rest = folders[i:]
            # anchored: Snowpipe matches the path after the stage, and an unanchored
            # 'Order Lines/' would also pick 'Big Order Lines/'
            folders_re = "".join(_regex_escape(p) + "/" for p in rest)
            pattern = f"^(.*/)?{folders_re}[^/]*[.]parquet$"
            break
        prefix += segment + "/"
    location = f"@{_stage(options)}/{prefix}"
    pattern_clause = f"PATTERN = {SNOWFLAKE.literal(pattern)}\n" if pattern else ""
    if files is not None:
        pattern_clause = _files_clause(prefix, files)
    return (
        f"COPY INTO {n.staging} (\n{indent(join_lines(targets))}\n)\n"
        f"FROM (\n    SELECT\n{indent(join_lines(casts), 8)}\n    FROM {location}\n)\n"
        f"{pattern_clause}"
        f"FILE_FORMAT = (FORMAT_NAME = {SNOWFLAKE.literal(options.file_format)})"
    )


def _cast(value: str, sql_type: str) -> str:
    """A file value cast to its STAGING type. A Parquet UTC timestamp cast to TIMESTAMP_TZ
    takes the session's TIMEZONE as its offset (the instant is right, the offset varies by
    account): CONVERT_TIMEZONE fixes it to UTC, the offset the source's timestamptz had on the
    wire, so every account stores the same value."""
    if sql_type.startswith("TIMESTAMP_TZ"):
        return f"CONVERT_TIMEZONE('UTC', {value}::{sql_type})"
    return f"{value}::{sql_type}"


def _regex_escape(text: str) -> str:
    """``text`` as a literal in a Snowflake (POSIX extended) regular expression."""
    return "".join("\\" + ch if ch in r".^$*+?()[]{}|\\" else ch for ch in text)


def procedure_body(model: TableModel, options: SnowflakeOptions) -> str:
    """The Snowflake Scripting block of the table's procedure: one task run, one transaction.

    The streams' offsets move only when the transaction that read them commits, so a failed run
    records nothing, merges nothing, and the next run starts over (the run is idempotent).
    """
    dialect = options.dialect
    n = dialect.names(model)
    b = bookkeeping(dialect)
    table = dialect.literal(model.qualified_name)
    now = dialect.now()
    statements = [
        # METADATA$FILENAME, as the pipe's COPY stored it: the key relative to the stage URL,
        # which is DEST, i.e. the key the manifests list; its rows counted once each, so a
        # file the pipe and a reload both loaded before this run still counts whole
        f"INSERT INTO {b.files} (file, table_name, row_count, loaded_at)\n"
        f"SELECT _walstream_file, {table}, COUNT(DISTINCT _walstream_file_row), {now}\n"
        f"FROM {n.stream}\nGROUP BY _walstream_file",
        # the manifest stream only wakes the task; reading it in DML consumes it
        f"INSERT INTO {b.files} (file, table_name, row_count, loaded_at)\n"
        f"SELECT manifest, NULL, NULL, NULL FROM {n.manifest_stream} WHERE FALSE",
        *merge_run_statements(model, dialect, n.staging, options.merge),
    ]
    body = "\n".join(st + ";" for st in statements)
    return (
        "BEGIN\n"
        "    BEGIN TRANSACTION;\n"
        f"{indent(body)}\n"
        "    COMMIT;\n"
        f"    RETURN {SNOWFLAKE.literal('merged ' + model.qualified_name)};\n"
        "EXCEPTION\n"
        "    WHEN OTHER THEN\n"
        "        ROLLBACK;\n"
        "        RAISE;\n"
        "END;"
    )


def task_definition(model: TableModel, options: SnowflakeOptions) -> str:
    """What the task runs: one CALL, the same few bytes whatever the table's width."""
    return f"CALL {options.dialect.names(model).procedure}()"


def table_statements(model: TableModel, options: SnowflakeOptions) -> list[Statement]:
    """Per table: FINAL, STAGING and helper tables, the streams, the pipe, the procedure and the
    task."""
    dialect = options.dialect
    n = dialect.names(model)
    table = model.qualified_name
    out = [
        Statement("table", d.name, d.sql, table, d.role)
        for d in table_definitions(model, dialect, options.merge)
    ]
    out.append(
        Statement(
            "stream",
            n.stream,
            f"CREATE STREAM IF NOT EXISTS {n.stream}\n"
            f"    ON TABLE {n.staging}\n"
            "    APPEND_ONLY = TRUE",
            table,
        )
    )
    # never OR REPLACE: a recreated pipe forgets which files it loaded and loads them again
    out.append(
        Statement(
            "pipe",
            n.pipe,
            f"{_create_pipe(n.pipe, options)}{copy_statement(model, options)}",
            table,
        )
    )
    out += _pipe_errors(n.pipe, options, table)
    out.append(Statement("pipe_refresh", n.pipe, f"ALTER PIPE {n.pipe} REFRESH", table))
    out.append(
        Statement(
            "stream",
            n.manifest_stream,
            f"CREATE STREAM IF NOT EXISTS {n.manifest_stream}\n"
            f"    ON TABLE {bookkeeping(dialect).manifests_raw}\n"
            "    APPEND_ONLY = TRUE",
            table,
        )
    )
    body = procedure_body(model, options)
    if "$$" in body:
        raise ConfigError(
            f"{table}: a name contains '$$', which cannot appear in a procedure body; rename it"
        )
    out.append(
        Statement(
            "procedure",
            n.procedure,
            # a procedure has no state: replacing it is safe
            f"CREATE OR REPLACE PROCEDURE {n.procedure}()\n"
            "    RETURNS VARCHAR\n"
            "    LANGUAGE SQL\n"
            "    EXECUTE AS OWNER\n"
            f"AS\n$$\n{body}\n$$",
            table,
        )
    )
    compute = (
        f"WAREHOUSE = {object_name(options.task_warehouse)}"
        if options.task_warehouse
        else "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'"
    )
    when = " OR ".join(
        f"SYSTEM$STREAM_HAS_DATA({SNOWFLAKE.literal(s)})" for s in (n.stream, n.manifest_stream)
    )
    if options.triggered:
        # triggered: runs when a stream has data (serverless: within the target interval)
        timing = "" if options.task_warehouse else "    TARGET_COMPLETION_INTERVAL = '1 MINUTE'\n"
    else:
        timing = f"    SCHEDULE = {SNOWFLAKE.literal(options.schedule)}\n"
    out.append(
        Statement(
            "task",
            n.task,
            # OR ALTER, not OR REPLACE: a serverless task keeps its sizing history
            f"CREATE OR ALTER TASK {n.task}\n"
            f"    {compute}\n"
            f"{timing}"
            f"    WHEN {when}\n"
            f"AS\n{task_definition(model, options)}",
            table,
        )
    )
    out.append(Statement("task_resume", n.task, f"ALTER TASK {n.task} RESUME", table))
    return out


def pause_statements(model: TableModel, options: SnowflakeOptions) -> list[Statement]:
    """Pause one table (docs/operations.md, "Pausing and resuming a table"): its MERGE task
    stops, so FINAL stops changing, and its pipe stops loading; Snowflake keeps the
    notifications of files that arrive meanwhile (14 days) and walstream keeps writing them."""
    n = options.dialect.names(model)
    table = model.qualified_name
    return [
        Statement("task_suspend", n.task, f"ALTER TASK {n.task} SUSPEND", table),
        Statement(
            "pipe_pause", n.pipe, f"ALTER PIPE {n.pipe} SET PIPE_EXECUTION_PAUSED = TRUE", table
        ),
    ]


def resume_statements(model: TableModel, options: SnowflakeOptions) -> list[Statement]:
    """Resume a paused table: the pipe loads again (and, by a refresh, the files of the last
    7 days it has no notification of), the task resumes and runs once now, not at its next
    schedule. The MERGE makes a file loaded twice harmless (DESIGN.md §3)."""
    n = options.dialect.names(model)
    table = model.qualified_name
    return [
        Statement(
            "pipe_resume", n.pipe, f"ALTER PIPE {n.pipe} SET PIPE_EXECUTION_PAUSED = FALSE", table
        ),
        Statement("pipe_refresh", n.pipe, f"ALTER PIPE {n.pipe} REFRESH", table),
        Statement("task_resume", n.task, f"ALTER TASK {n.task} RESUME", table),
        Statement("task_execute", n.task, f"EXECUTE TASK {n.task}", table),
    ]


def snowflake_statements(
    models: Sequence[TableModel], options: SnowflakeOptions
) -> list[Statement]:
    """Everything, in the order it must run."""
    dialect = options.dialect
    check_names(models, dialect)
    out = account_statements(options)
    for model in sorted(models, key=lambda m: m.qualified_name):
        out += table_statements(model, options)
    return out


def snowflake_script(models: Sequence[TableModel], options: SnowflakeOptions) -> str:
    """The whole script as text, ready to review and run (``walstream snowflake sql``)."""
    parts = [
        "-- walstream: Snowflake objects generated from the source table schemas.\n"
        "-- Safe to run again: nothing is dropped; pipes are never replaced (a new pipe would\n"
        "-- load every file again). Procedures are replaced, tasks altered and resumed."
    ]
    if not options.aws_role_arn and options.storage_integration:
        parts.append(
            f"-- storage integration {object_name(options.storage_integration)} must exist "
            "(pass --aws-role-arn to create it here)"
        )
    current: str | None = None
    for statement in snowflake_statements(models, options):
        if statement.table != current and statement.table is not None:
            current = statement.table
            model = next(m for m in models if m.qualified_name == current)
            note = "" if model.has_key else " (no key: FINAL is an append-only change log)"
            parts.append(f"\n-- {current}{note}")
        parts.append(statement.sql + ";")
    return "\n".join(parts) + "\n"

"""Snowflake's account and per-table objects: file format, stage, pipes, streams, procedures,
tasks, and the script ``walstream snowflake sql`` prints and ``snowflake apply`` runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..pipeline.files import key_segment
from .ddl import check_names, staging_columns, table_definitions
from .dialects import SNOWFLAKE, indent, join_lines, quote
from .merge import merge_statements
from .model import TableModel
from .options import SnowflakeOptions

# -- Snowflake objects: stage, pipe, stream, task -----------------------------------------------
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")


def object_name(name: str) -> str:
    """An account object named by the user (stage, warehouse, ...): bare if it can be, else quoted.

    Bare names follow Snowflake's usual rules (``my_stage`` is ``MY_STAGE``) and may be qualified
    (``db.schema.stage``); anything else is taken literally.
    """
    return name if _BARE_NAME.fullmatch(name) else quote(name)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of the script; ``kind`` and ``name`` let ``apply`` decide what to run.

    Kinds: ``integration``, ``file_format``, ``stage``, ``table``, ``stream``, ``pipe``,
    ``pipe_refresh``, ``task``, ``task_resume``.
    """

    kind: str
    name: str
    sql: str
    table: str | None = None  # qualified source table, for per-table statements
    role: str | None = None  # final | staging | ... for tables


def account_statements(options: SnowflakeOptions) -> list[Statement]:
    """The storage integration (when a role ARN is given), the file format and the stage."""
    out: list[Statement] = []
    if options.storage_integration and options.aws_role_arn:
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
    out.append(
        Statement(
            "stage",
            stage,
            f"CREATE STAGE IF NOT EXISTS {stage}\n"
            f"    URL = {SNOWFLAKE.literal(options.stage_url)}"
            f"{integration_clause}\n"
            f"    FILE_FORMAT = (FORMAT_NAME = {SNOWFLAKE.literal(options.file_format)})",
        )
    )
    return out


def copy_statement(model: TableModel, options: SnowflakeOptions) -> str:
    """The pipe's COPY: every file column cast explicitly, plus where each row came from."""
    dialect = options.dialect
    n = dialect.names(model)
    targets = [c for c, _ in staging_columns(model, dialect)]
    casts = [f"$1:{quote('Op')}::{dialect.text_type}"]
    casts += [f"$1:{quote(c.name)}::{dialect.staging_type(c)}" for c in model.columns]
    casts += [
        f"$1:{quote('_walstream_commit_ts')}::{dialect.commit_ts_type}",
        f"$1:{quote('_walstream_lsn')}::{dialect.position_type}",
        f"$1:{quote('_walstream_seq')}::{dialect.position_type}",
        f"$1:{quote('_walstream_xid')}::{dialect.position_type}",
        f"$1:{quote('_walstream_unchanged')}::{dialect.text_list_type}",
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
            pattern = ".*" + "".join(_regex_escape(p) + "/" for p in rest) + r"[^/]*[.]parquet"
            break
        prefix += segment + "/"
    location = f"@{object_name(options.stage)}/{prefix}"
    pattern_clause = f"PATTERN = {SNOWFLAKE.literal(pattern)}\n" if pattern else ""
    return (
        f"COPY INTO {n.staging} (\n{indent(join_lines(targets))}\n)\n"
        f"FROM (\n    SELECT\n{indent(join_lines(casts), 8)}\n    FROM {location}\n)\n"
        f"{pattern_clause}"
        f"FILE_FORMAT = (FORMAT_NAME = {SNOWFLAKE.literal(options.file_format)})"
    )


def _regex_escape(text: str) -> str:
    """``text`` as a literal in a Snowflake (POSIX extended) regular expression."""
    return "".join("\\" + ch if ch in r".^$*+?()[]{}|\\" else ch for ch in text)


def task_body(model: TableModel, options: SnowflakeOptions) -> str:
    """The Snowflake Scripting block the task runs: one transaction over the stream's rows.

    The stream's offset moves only when the transaction that read it commits, so a failed run
    leaves the rows in the stream and the next run merges them (the MERGE is idempotent).
    """
    dialect = options.dialect
    n = dialect.names(model)
    statements = merge_statements(model, dialect, n.stream, options.merge)
    body = "\n".join(s + ";" for s in statements)
    return (
        "BEGIN\n"
        "    BEGIN TRANSACTION;\n"
        f"{indent(body)}\n"
        "    COMMIT;\n"
        "EXCEPTION\n"
        "    WHEN OTHER THEN\n"
        "        ROLLBACK;\n"
        "        RAISE;\n"
        "END;"
    )


def table_statements(model: TableModel, options: SnowflakeOptions) -> list[Statement]:
    """Per table: FINAL, STAGING and helper tables, the stream, the pipe, the task."""
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
            f"CREATE PIPE IF NOT EXISTS {n.pipe}\n"
            "    AUTO_INGEST = TRUE\n"
            f"AS\n{copy_statement(model, options)}",
            table,
        )
    )
    out.append(Statement("pipe_refresh", n.pipe, f"ALTER PIPE {n.pipe} REFRESH", table))
    body = task_body(model, options)
    if "$$" in body:
        raise ConfigError(
            f"{table}: a name contains '$$', which cannot appear in a task body; rename it"
        )
    compute = (
        f"WAREHOUSE = {object_name(options.task_warehouse)}"
        if options.task_warehouse
        else "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'"
    )
    stream_arg = SNOWFLAKE.literal(n.stream)
    out.append(
        Statement(
            "task",
            n.task,
            # a task has no history worth keeping: replacing it is safe (it is resumed below)
            f"CREATE OR REPLACE TASK {n.task}\n"
            f"    {compute}\n"
            f"    SCHEDULE = {SNOWFLAKE.literal(options.schedule)}\n"
            f"    WHEN SYSTEM$STREAM_HAS_DATA({stream_arg})\n"
            f"AS\nEXECUTE IMMEDIATE $$\n{body}\n$$",
            table,
        )
    )
    out.append(Statement("task_resume", n.task, f"ALTER TASK {n.task} RESUME", table))
    return out


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
        "-- load every file again). Tasks are replaced and resumed."
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

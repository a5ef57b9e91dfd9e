"""What Snowflake itself records about the pipes and tasks walstream created: the SQL that reads
it, and what its answers mean.

The merged watermark (:mod:`.watermark`) says how far FINAL is; these say *why* it is not
further, in Snowflake's own words, for ``walstream status --snowflake`` and the monitor of
``walstream run``:

- ``COPY_HISTORY`` (Information Schema table function, 14 days): each file a pipe tried, with
  its ``STATUS`` (``Loaded``, ``Load failed``, ``Partially loaded``) and ``FIRST_ERROR_MESSAGE``.
  A file whose latest attempt did not load is a *failed file*: Snowpipe does not try a name
  again, so it stays failed until someone fixes the cause and loads it again
  (``walstream snowflake reload-failed``); meanwhile the table's watermark waits for it.
- ``TASK_HISTORY`` (Information Schema table function): the runs of each table's MERGE task,
  with ``STATE`` (``SUCCEEDED``, ``FAILED``, ``SKIPPED``, ``CANCELLED``, ``EXECUTING``,
  ``SCHEDULED``) and ``ERROR_MESSAGE``, one call per task (``TASK_NAME``).
- ``SYSTEM$PIPE_STATUS``: a pipe's ``executionState`` (``RUNNING``; ``PAUSED`` after
  ``walstream snowflake pause``; ``STOPPED_*`` and ``STALLED_*`` when Snowflake stopped it),
  ``pendingFileCount`` and ``lastIngestedTimestamp``.

Every query is read-only and parameterised by names walstream itself generated, rendered
through :class:`~.dialects.SnowflakeDialect`. The local warehouse keeps the same facts in its
own tables (``LOAD_ERRORS`` and ``TASK_RUNS`` of :mod:`.ddl`), so the status reads the same.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .dialects import SnowflakeDialect, object_name

#: How far back failed loads are looked for: all COPY_HISTORY keeps.
LOAD_HISTORY_DAYS = 14
#: How far back task runs are read, and how many at most per task.
TASK_HISTORY_HOURS = 24
TASK_RUNS_READ = 100
#: The failed files listed per table (the count is always whole).
FAILURES_LISTED = 5

#: COPY_HISTORY statuses that mean the file's rows are not (all) in STAGING.
FAILED_STATUSES = ("LOAD FAILED", "PARTIALLY LOADED")
#: TASK_HISTORY states of a run that ended.
ENDED_STATES = ("SUCCEEDED", "FAILED", "FAILED_AND_AUTO_SUSPENDED", "CANCELLED", "SKIPPED")
FAILED_STATES = ("FAILED", "FAILED_AND_AUTO_SUSPENDED")

PIPE_RUNNING = "RUNNING"


def split_table(qualified: str) -> tuple[str, str]:
    """``schema.table`` as the watermark table records it -> (schema, table)."""
    namespace, _, name = qualified.partition(".")
    return (namespace, name) if name else ("public", namespace)


def copy_history_query(dialect: SnowflakeDialect, database: str, table: str) -> str:
    """The failed files of source table ``table`` (``schema.table``): the latest attempt of
    each file its pipe tried in the last :data:`LOAD_HISTORY_DAYS` days, when that attempt did
    not load it (``FILE_NAME, STATUS, FIRST_ERROR_MESSAGE, LAST_LOAD_TIME``), oldest first."""
    staging = dialect.names_of(*split_table(table)).staging
    failed = ", ".join(dialect.literal(s) for s in FAILED_STATUSES)
    return (
        "SELECT FILE_NAME, STATUS, FIRST_ERROR_MESSAGE, LAST_LOAD_TIME\n"
        f"FROM TABLE({object_name(database)}.INFORMATION_SCHEMA.COPY_HISTORY(\n"
        f"    TABLE_NAME => {dialect.literal(staging)},\n"
        f"    START_TIME => DATEADD(DAY, -{LOAD_HISTORY_DAYS}, CURRENT_TIMESTAMP())))\n"
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY FILE_NAME ORDER BY LAST_LOAD_TIME DESC) = 1\n"
        f"    AND UPPER(STATUS) IN ({failed})\n"
        "ORDER BY LAST_LOAD_TIME, FILE_NAME"
    )


def task_history_query(dialect: SnowflakeDialect, database: str, schema: str, table: str) -> str:
    """The last :data:`TASK_RUNS_READ` runs of source table ``table``'s MERGE task scheduled
    in the last :data:`TASK_HISTORY_HOURS` hours (``NAME, STATE, ERROR_MESSAGE,
    SCHEDULED_TIME, COMPLETED_TIME``), newest first. One call per task: TASK_HISTORY answers
    for the whole account, and a schema-wide read could miss a task behind busier ones."""
    name = dialect.literal(task_name(dialect, table))
    return (
        "SELECT NAME, STATE, ERROR_MESSAGE, SCHEDULED_TIME, COMPLETED_TIME\n"
        f"FROM TABLE({object_name(database)}.INFORMATION_SCHEMA.TASK_HISTORY(\n"
        f"    SCHEDULED_TIME_RANGE_START => DATEADD(HOUR, -{TASK_HISTORY_HOURS}, "
        "CURRENT_TIMESTAMP()),\n"
        f"    RESULT_LIMIT => {TASK_RUNS_READ},\n"
        f"    TASK_NAME => {name}))\n"
        f"WHERE NAME = {name}\n"
        f"    AND DATABASE_NAME = {dialect.literal(dialect.reported_name(database))}\n"
        f"    AND SCHEMA_NAME = {dialect.literal(dialect.reported_name(schema))}\n"
        "ORDER BY SCHEDULED_TIME DESC"
    )


def pipe_status_query(dialect: SnowflakeDialect, table: str) -> str:
    """``SYSTEM$PIPE_STATUS`` of source table ``table``'s pipe (one JSON text)."""
    pipe = dialect.names_of(*split_table(table)).pipe
    return f"SELECT SYSTEM$PIPE_STATUS({dialect.literal(pipe)})"


def task_name(dialect: SnowflakeDialect, table: str) -> str:
    """The MERGE task of ``table`` as TASK_HISTORY's ``NAME`` reports it (unqualified)."""
    return dialect.reported_name(dialect.names_of(*split_table(table)).task)


def _utc(value: object) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def failures(table: str, records: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows of :func:`copy_history_query` (or the local ``LOAD_ERRORS``) as failed files:
    ``table_name, file, status, error, failed_at``."""
    return [
        {
            "table_name": table,
            "file": str(file_name),
            "status": None if status is None else str(status),
            "error": None if error is None else " ".join(str(error).split()),
            "failed_at": _utc(at),
        }
        for file_name, status, error, at in records
    ]


def task_runs(names: Mapping[str, str], records: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows of :func:`task_history_query` whose task is one of ``names`` (task -> table):
    ``table_name, state, error, scheduled_at, completed_at``, newest first."""
    out = []
    for name, state, error, scheduled, completed in records:
        table = names.get(str(name))
        if table is None:
            continue
        out.append(
            {
                "table_name": table,
                "state": None if state is None else str(state).upper(),
                "error": None if error is None else " ".join(str(error).split()),
                "scheduled_at": _utc(scheduled),
                "completed_at": _utc(completed),
            }
        )
    return out


def pipe_state(text: object) -> dict[str, Any]:
    """``SYSTEM$PIPE_STATUS``'s JSON as ``state, pending_files, last_ingested_at, error``."""
    try:
        doc = json.loads(str(text))
    except ValueError:
        return {"state": None, "pending_files": None, "last_ingested_at": None, "error": str(text)}
    if not isinstance(doc, dict):
        doc = {}
    try:
        pending = int(doc["pendingFileCount"])
    except (KeyError, TypeError, ValueError):
        pending = None
    last = doc.get("lastIngestedTimestamp")
    error = doc.get("error") or doc.get("fault")
    return {
        "state": None if doc.get("executionState") is None else str(doc["executionState"]),
        "pending_files": pending,
        "last_ingested_at": None if last is None else str(last),
        "error": None if error is None else " ".join(str(error).split()),
    }


def task_summary(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """One table's runs (newest first) as ``last_state, last_scheduled_at, last_completed_at,
    last_error, failed_runs, runs``: the last run that ended, and how many of the runs read
    failed. None when no run was read."""
    if not runs:
        return None
    ended = [r for r in runs if r.get("state") in ENDED_STATES]
    last = ended[0] if ended else runs[0]
    at = last.get("scheduled_at")
    done = last.get("completed_at")
    return {
        "last_state": last.get("state"),
        "last_scheduled_at": at.isoformat() if isinstance(at, dt.datetime) else None,
        "last_completed_at": done.isoformat() if isinstance(done, dt.datetime) else None,
        "last_error": last.get("error") if last.get("state") in FAILED_STATES else None,
        "failed_runs": sum(1 for r in runs if r.get("state") in FAILED_STATES),
        "runs": len(runs),
    }


__all__ = [
    "ENDED_STATES",
    "FAILED_STATES",
    "FAILED_STATUSES",
    "PIPE_RUNNING",
    "copy_history_query",
    "failures",
    "pipe_state",
    "pipe_status_query",
    "split_table",
    "task_history_query",
    "task_name",
    "task_runs",
    "task_summary",
]

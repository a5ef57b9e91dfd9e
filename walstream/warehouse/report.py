"""What the warehouse's merged watermarks say, for ``walstream status`` and for alarms.

Each table's task run records its *merged watermark* (FINAL equals the source as of that LSN)
and, when a file its chain of manifests needs has not arrived, which file (``waiting_for``, a
key under DEST) and since when (``waiting_since``), in ``main._walstream_watermarks``
(:mod:`walstream.snowflake.watermark`; ``WALSTREAM_WATERMARKS`` in Snowflake). A table whose
full load is merged in slices has no watermark meanwhile (``lsn`` null) and ``load_lsn`` set:
it is *loading*, not waiting. This module reads that table, from either warehouse, and turns
its rows (:data:`COLUMNS`, whatever their source) into:

- the ``warehouse`` section of ``walstream status --warehouse PATH.duckdb`` (the file opened
  read-only, so a status check never changes or creates a warehouse) or ``walstream status
  --snowflake`` (one ``SELECT`` from the schema's ``WALSTREAM_WATERMARKS``);
- metric samples, the same numbers in the status document (``--json``, for a CloudWatch agent
  or a cron job) and in a Prometheus text file (:func:`write_metrics_file`, for node_exporter's
  textfile collector):

  - ``walstream_warehouse_watermark_lsn{table}``: the merged watermark as a number (absent
    until the table's first merge);
  - ``walstream_warehouse_waiting_seconds{table, waiting_for}``: how long the table has waited
    for that file; 0 (and ``waiting_for=""``) when it is not waiting;
  - ``walstream_warehouse_last_load_timestamp_seconds``: when the warehouse was last loaded.

``walstream warehouse load --metrics-file PATH`` writes the file after each load, with
``write_metrics_file(metrics_file, wh.watermarks())`` (imported when used: this module's package
imports DuckDB and pyarrow).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, one_line
from ..extras import missing_extra
from ..lsn import format_lsn

if TYPE_CHECKING:
    from ..snowflake.apply import ConnectionSettings

log = logging.getLogger("walstream.status")

#: The watermark table in the DuckDB file (walstream.snowflake.watermark.bookkeeping).
WATERMARKS = "main._walstream_watermarks"

WATERMARK_LSN = "walstream_warehouse_watermark_lsn"
WAITING_SECONDS = "walstream_warehouse_waiting_seconds"
LAST_LOAD = "walstream_warehouse_last_load_timestamp_seconds"
UNLOADED_FILES = "walstream_warehouse_unloaded_files"
UNLOADED_SECONDS = "walstream_warehouse_unloaded_seconds"
ROWS_WRITTEN = "walstream_warehouse_rows_written"
ROWS_LOADED = "walstream_warehouse_rows_loaded"
FAILED_FILES = "walstream_warehouse_failed_files"
FAILED_TASK_RUNS = "walstream_warehouse_failed_task_runs"
FRESHNESS = "walstream_warehouse_freshness_seconds"
WATERMARK_LAG = "walstream_warehouse_watermark_lag_bytes"

#: name -> (help, label names) of every gauge, in the order they are written.
GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    WATERMARK_LSN: (
        "Merged watermark of the table: FINAL equals the source as of this LSN",
        ("table",),
    ),
    WAITING_SECONDS: (
        "Seconds the table's watermark has waited for the file waiting_for (0: not waiting)",
        ("table", "waiting_for"),
    ),
    LAST_LOAD: ("Unix time of the last warehouse load", ()),
    UNLOADED_FILES: (
        "Files the manifests list for the table that have not reached STAGING yet",
        ("table",),
    ),
    UNLOADED_SECONDS: (
        "Seconds since the oldest of those files was listed (0: every listed file is loaded)",
        ("table",),
    ),
    ROWS_WRITTEN: ("Rows in the files the manifests list for the table", ("table",)),
    ROWS_LOADED: ("Rows of those files that reached STAGING", ("table",)),
    FAILED_FILES: (
        "Files of the table whose load failed and that have not loaded since",
        ("table",),
    ),
    FAILED_TASK_RUNS: ("Failed runs among the table's recent MERGE task runs", ("table",)),
    FRESHNESS: (
        "FINAL freshness: seconds since the source commit FINAL reflects (its watermark)",
        ("table",),
    ),
    WATERMARK_LAG: (
        "Bytes of WAL acknowledged by walstream but not merged into FINAL yet",
        ("table",),
    ),
}

#: How long :func:`read_watermarks` waits for a load that holds the file's lock.
LOCK_WAIT_SECONDS = 5.0

#: The columns of the watermark table that the status reads, in both warehouses.
COLUMNS = (
    "table_name",
    "slot",
    "lsn",
    "waiting_for",
    "waiting_since",
    "merged_at",
    "load_lsn",
    "load_seq",
    "final_time_us",
)

#: A table's state, from its row (:func:`table_state`).
MERGED, WAITING, LOADING, NEW = "merged", "waiting", "loading", "new"

#: How long ``walstream status --snowflake`` waits for Snowflake: to log in, for an answer.
SNOWFLAKE_LOGIN_TIMEOUT = 30
SNOWFLAKE_NETWORK_TIMEOUT = 60


@dataclass
class WarehouseReading:
    """What one read of a warehouse found: each table's watermark row (:data:`COLUMNS`), file
    flow, failed files, recent task runs and pipe state; None where it could not be read (an
    older warehouse, a role without the privilege), which the status shows as unknown."""

    rows: list[dict[str, Any]]
    flow: list[dict[str, Any]] | None = None
    failures: list[dict[str, Any]] | None = None
    task_runs: list[dict[str, Any]] | None = None
    pipes: dict[str, dict[str, Any]] | None = None
    #: part -> the tables it could not be read for (their fields null, not zero)
    unknown: dict[str, set[str]] = field(default_factory=dict)


def _rows(names: Sequence[str], records: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Records as dicts of :data:`COLUMNS` (names in any case; a missing column is None)."""
    keys = [name.lower() for name in names]
    out = []
    for record in records:
        row = dict(zip(keys, record, strict=True))
        out.append({column: row.get(column) for column in COLUMNS})
    return out


def read_watermarks(path: str, lock_wait: float = LOCK_WAIT_SECONDS) -> list[dict[str, Any]]:
    """Every table's row of the watermark table (:data:`COLUMNS`), the DuckDB file opened
    read-only (see :func:`read_duckdb`)."""
    return read_duckdb(path, lock_wait).rows


def read_duckdb(path: str, lock_wait: float = LOCK_WAIT_SECONDS) -> WarehouseReading:
    """Everything the status reads of the DuckDB warehouse at ``path``, opened read-only:
    watermark rows (:data:`COLUMNS`), file flow (:func:`~walstream.snowflake.watermark.
    file_flow_query`), failed files and task runs (the local warehouse's own record of what
    Snowflake keeps in COPY_HISTORY and TASK_HISTORY); None for what a warehouse written by an
    older walstream lacks. It has no pipe (``pipes`` None): files load when a load runs.

    A load running meanwhile holds the file's lock: wait up to ``lock_wait`` seconds for it.
    """
    try:
        import duckdb
    except ImportError as exc:
        raise missing_extra("duckdb", "local") from exc

    if not os.path.isfile(path):
        raise ConfigError(
            f"warehouse {path!r} does not exist: give the DuckDB file that "
            "`walstream warehouse load --db` writes"
        )
    deadline = time.monotonic() + lock_wait
    while True:
        try:
            conn = duckdb.connect(path, read_only=True)
            break
        except duckdb.Error as exc:
            locked = "lock" in str(exc).lower()
            if locked and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            hint = " (a `walstream warehouse load` running? check again when it ends)"
            raise ConfigError(
                f"cannot open the warehouse {path!r} read-only: {one_line(exc)}"
                + (hint if locked else "")
            ) from None
    try:
        return WarehouseReading(
            duckdb_watermarks(conn, path),
            read_file_flow(conn),
            read_load_failures(conn),
            read_task_runs(conn),
        )
    except duckdb.Error as exc:
        raise ConfigError(f"cannot read the watermarks of {path!r}: {one_line(exc)}") from None
    finally:
        conn.close()


def duckdb_watermarks(conn: Any, path: str) -> list[dict[str, Any]]:
    """The watermark rows (:data:`COLUMNS`) of the DuckDB warehouse ``conn`` (at ``path``)."""
    import duckdb

    from ..snowflake.dialects import DUCKDB
    from ..snowflake.watermark import watermark_status_query

    for with_time in (True, False):
        try:
            cur = conn.execute(watermark_status_query(DUCKDB, with_time))
        except duckdb.CatalogException:
            raise ConfigError(
                f"{path!r} is not a walstream warehouse: it has no table {WATERMARKS} "
                "(written by `walstream warehouse load`)"
            ) from None
        except duckdb.BinderException:
            if with_time:
                continue  # an older warehouse: manifests without their commit time
            raise
        return _rows([d[0] for d in cur.description or []], cur.fetchall())
    raise AssertionError("unreachable")


def read_load_failures(conn: Any) -> list[dict[str, Any]] | None:
    """The failed files of a DuckDB warehouse (``conn``); None from one that predates them."""
    import duckdb

    from ..snowflake.ddl import LOAD_FAILURES_QUERY

    try:
        cur = conn.execute(LOAD_FAILURES_QUERY)
    except duckdb.CatalogException:
        return None
    return _flow_rows([d[0] for d in cur.description or []], cur.fetchall())


def read_task_runs(conn: Any) -> list[dict[str, Any]] | None:
    """The recent task runs of a DuckDB warehouse (``conn``), newest first per table."""
    import duckdb

    from ..snowflake.ddl import TASK_RUNS_QUERY

    try:
        cur = conn.execute(TASK_RUNS_QUERY)
    except duckdb.CatalogException:
        return None
    return _flow_rows([d[0] for d in cur.description or []], cur.fetchall())


def _flow_rows(names: Sequence[str], records: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    keys = [name.lower() for name in names]
    return [dict(zip(keys, record, strict=True)) for record in records]


def read_file_flow(conn: Any) -> list[dict[str, Any]] | None:
    """The file flow of a DuckDB warehouse (``conn``); None from one that predates its
    bookkeeping."""
    import duckdb

    from ..snowflake.dialects import DUCKDB
    from ..snowflake.watermark import file_flow_query

    try:
        cur = conn.execute(file_flow_query(DUCKDB))
    except duckdb.CatalogException:
        return None
    return _flow_rows([d[0] for d in cur.description or []], cur.fetchall())


def snowflake_location(settings: ConnectionSettings) -> str:
    """``ACCOUNT/DATABASE.SCHEMA``: where ``walstream snowflake apply`` created the objects."""
    return f"{settings.account}/{settings.database}.{settings.schema}"


def read_snowflake(
    settings: ConnectionSettings,
    connect: Callable[[], Any] | None = None,
    prefix_schema: bool = False,
) -> WarehouseReading:
    """Everything the status reads of Snowflake, in the database and schema of ``settings``,
    nothing changed: each table's row of ``WALSTREAM_WATERMARKS`` (:data:`COLUMNS`, the one
    read that must succeed), the file flow over the bookkeeping views, and what Snowflake
    records of its pipes and tasks (:mod:`walstream.snowflake.history`: failed files from
    ``COPY_HISTORY``, task runs from ``TASK_HISTORY``, ``SYSTEM$PIPE_STATUS``). A part that
    cannot be read (older objects, a role without MONITOR) is None and logged once.
    ``prefix_schema``: the objects are named ``<schema>_<table>`` (as ``apply`` was told).

    ``connect`` (for tests) returns a DB-API connection; by default snowflake-connector-python
    with short timeouts. Every failure to read the watermarks is a one-line
    :class:`ConfigError` (exit 2): a status check that cannot read them is critical, and no
    secret is in the message.
    """
    from ..snowflake.apply import SnowflakeError
    from ..snowflake.apply import connect as snowflake_connect
    from ..snowflake.dialects import SnowflakeDialect, object_name
    from ..snowflake.watermark import bookkeeping, file_flow_query, watermark_status_query

    qualifier = f"{object_name(settings.database)}.{object_name(settings.schema)}"
    dialect = SnowflakeDialect(prefix_schema=prefix_schema, qualifier=qualifier)
    table = bookkeeping(dialect).watermarks
    where = f"{table} of Snowflake account {settings.account!r}"
    try:
        if connect is None:
            conn = snowflake_connect(
                settings,
                login_timeout=SNOWFLAKE_LOGIN_TIMEOUT,
                network_timeout=SNOWFLAKE_NETWORK_TIMEOUT,
            )
        else:
            conn = connect()
    except SnowflakeError as exc:
        raise ConfigError(str(exc)) from None
    try:
        cur = conn.cursor()
        rows: list[dict[str, Any]] | None = None
        no_time = ""
        for with_time in (True, False):
            try:
                cur.execute(watermark_status_query(dialect, with_time))
            except Exception as exc:
                if getattr(exc, "errno", None) == _DOES_NOT_EXIST and not with_time:
                    raise ConfigError(
                        f"{where} does not exist (or the role cannot read it): create the "
                        "walstream objects there with `walstream snowflake apply`, or check "
                        "--snowflake-database/--snowflake-schema/--snowflake-role"
                    ) from None
                if with_time:  # manifests without their commit time: read the rest
                    no_time = one_line(exc)
                    continue
                raise ConfigError(f"cannot read {where}: {one_line(exc)}") from None
            rows = _rows([d[0] for d in cur.description or []], cur.fetchall())
            if not with_time:  # the watermarks read: say why FINAL's freshness is unknown
                log.warning("event=status_part_unreadable part=freshness error=%s", no_time)
            break
        assert rows is not None
        reading = WarehouseReading(rows)
        reading.flow = _optional("file_flow", lambda: _query(cur, file_flow_query(dialect)))
        names = [str(r["table_name"]) for r in rows if r.get("table_name") is not None]
        reading.failures = _optional(
            "load_history",
            lambda: _snowflake_failures(cur, dialect, settings, names, reading),
        )
        reading.task_runs = _optional(
            "task_history",
            lambda: _snowflake_task_runs(cur, dialect, settings, names, reading),
        )
        reading.pipes = _optional(
            "pipe_status", lambda: _snowflake_pipes(cur, dialect, names, reading)
        )
        return reading
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _query(cur: Any, sql: str) -> list[dict[str, Any]]:
    cur.execute(sql)
    return _flow_rows([d[0] for d in cur.description or []], cur.fetchall())


def _optional(part: str, read: Callable[[], Any]) -> Any:
    """``read()``, or None (logged) when Snowflake refuses it: the watermarks still answer."""
    try:
        return read()
    except Exception as exc:
        log.warning("event=status_part_unreadable part=%s error=%s", part, one_line(exc))
        return None


def _per_table(
    reading: WarehouseReading,
    part: str,
    tables: Sequence[str],
    read: Callable[[str], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """``read(table)`` for each table; a table Snowflake refuses is unknown for ``part`` (its
    field null), not zero, and does not hide the others (logged once per part)."""
    out: list[dict[str, Any]] = []
    for table in tables:
        try:
            out += read(table)
        except Exception as exc:
            if not reading.unknown.get(part):
                log.warning(
                    "event=status_part_unreadable part=%s table=%s error=%s",
                    part,
                    table,
                    one_line(exc),
                )
            reading.unknown.setdefault(part, set()).add(table)
    return out


def _snowflake_failures(
    cur: Any,
    dialect: Any,
    settings: ConnectionSettings,
    tables: Sequence[str],
    reading: WarehouseReading,
) -> list[dict[str, Any]]:
    """Failed files per table (COPY_HISTORY), less those that reached STAGING since (a bulk
    COPY and the pipe keep separate load history)."""
    from ..snowflake.history import copy_history_query, failures
    from ..snowflake.repair import file_key
    from ..snowflake.watermark import bookkeeping

    def read(table: str) -> list[dict[str, Any]]:
        cur.execute(copy_history_query(dialect, settings.database, table))
        return failures(table, cur.fetchall())

    failed = _per_table(reading, "load_history", tables, read)
    keys = sorted({file_key(f["file"]) for f in failed})
    if keys:
        listed = ", ".join(dialect.literal(k) for k in keys)
        cur.execute(f"SELECT file FROM {bookkeeping(dialect).files} WHERE file IN ({listed})")
        arrived = {str(r[0]) for r in cur.fetchall()}
        failed = [f for f in failed if file_key(f["file"]) not in arrived]
    return failed


def _snowflake_task_runs(
    cur: Any,
    dialect: Any,
    settings: ConnectionSettings,
    tables: Sequence[str],
    reading: WarehouseReading,
) -> list[dict[str, Any]]:
    from ..snowflake.history import task_history_query, task_name, task_runs

    def read(table: str) -> list[dict[str, Any]]:
        cur.execute(task_history_query(dialect, settings.database, settings.schema, table))
        return task_runs({task_name(dialect, table): table}, cur.fetchall())

    return _per_table(reading, "task_history", tables, read)


def _snowflake_pipes(
    cur: Any, dialect: Any, tables: Sequence[str], reading: WarehouseReading
) -> dict[str, dict[str, Any]]:
    from ..snowflake.history import pipe_state, pipe_status_query

    def read(table: str) -> list[dict[str, Any]]:
        cur.execute(pipe_status_query(dialect, table))
        row = cur.fetchone()
        return [{"table_name": table, **pipe_state(None if row is None else row[0])}]

    return {str(p.pop("table_name")): p for p in _per_table(reading, "pipe_status", tables, read)}


#: Snowflake's error number for "object does not exist or not authorized".
_DOES_NOT_EXIST = 2003


def _utc(value: object) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def table_state(row: Mapping[str, Any]) -> str:
    """:data:`LOADING` (a full load merged in slices: moving, so never waiting), else
    :data:`WAITING` (for ``waiting_for``), else :data:`MERGED` (it has a watermark) or
    :data:`NEW` (no merge yet)."""
    if row.get("load_lsn") is not None:
        return LOADING
    if row.get("waiting_for") is not None:
        return WAITING
    return MERGED if row.get("lsn") is not None else NEW


def waiting_seconds(row: Mapping[str, Any], now: dt.datetime) -> float:
    """How long ``row``'s table has waited for its file (0 when it is not waiting)."""
    since = _utc(row.get("waiting_since"))
    if table_state(row) != WAITING or since is None:
        return 0.0
    return round(max(0.0, (now - since).total_seconds()), 3)


def last_merge(rows: Sequence[Mapping[str, Any]]) -> dt.datetime | None:
    """When a task last ran: every load runs every table's task, so the last load."""
    return max((t for r in rows if (t := _utc(r.get("merged_at"))) is not None), default=None)


#: A table's file-flow fields in the status document (:func:`flow_fields`).
FLOW_FIELDS = (
    "files_written",
    "rows_written",
    "files_loaded",
    "rows_loaded",
    "files_unloaded",
    "unloaded_since",
    "unloaded_seconds",
    "last_loaded_at",
)


def unloaded_seconds(flow: Mapping[str, Any], now: dt.datetime) -> float:
    """How long the oldest file listed but not loaded has been listed (0 when none is)."""
    since = _utc(flow.get("unloaded_since"))
    if not flow.get("files_unloaded") or since is None:
        return 0.0
    return round(max(0.0, (now - since).total_seconds()), 3)


def flow_fields(flow: Mapping[str, Any] | None, now: dt.datetime) -> dict[str, Any]:
    """A table's file flow in the status document (all None when it could not be read)."""
    if flow is None:
        return dict.fromkeys(FLOW_FIELDS)
    return {
        "files_written": _int(flow.get("files_written")) or 0,
        "rows_written": _int(flow.get("rows_written")) or 0,
        "files_loaded": _int(flow.get("files_loaded")) or 0,
        "rows_loaded": _int(flow.get("rows_loaded")) or 0,
        "files_unloaded": _int(flow.get("files_unloaded")) or 0,
        "unloaded_since": _iso(_utc(flow.get("unloaded_since"))),
        "unloaded_seconds": unloaded_seconds(flow, now),
        "last_loaded_at": _iso(_utc(flow.get("last_loaded_at"))),
    }


def metric_samples(
    rows: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    loaded_at: dt.datetime | None,
    flows: Mapping[str, Mapping[str, Any]] | None = None,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The gauges' samples: ``{"name", "labels", "value"}`` each. ``tables``: the status
    document's tables (:func:`warehouse_section`), for what only it knows (failed files, task
    runs, freshness, watermark lag); a value it does not know is not sampled."""
    out: list[dict[str, Any]] = []

    def add(name: str, table: str, value: float | None) -> None:
        if value is not None:
            out.append({"name": name, "labels": {"table": table}, "value": float(value)})

    for table, flow in sorted((flows or {}).items()):
        add(UNLOADED_FILES, table, _int(flow.get("files_unloaded")) or 0)
        add(UNLOADED_SECONDS, table, unloaded_seconds(flow, now))
        add(ROWS_WRITTEN, table, _int(flow.get("rows_written")) or 0)
        add(ROWS_LOADED, table, _int(flow.get("rows_loaded")) or 0)
    for table, entry in sorted((tables or {}).items()):
        add(FAILED_FILES, table, entry.get("failed_files"))
        task = entry.get("task")
        add(FAILED_TASK_RUNS, table, None if task is None else task.get("failed_runs"))
        add(FRESHNESS, table, entry.get("freshness_seconds"))
        add(WATERMARK_LAG, table, entry.get("watermark_lag_bytes"))
    for row in rows:
        if row.get("lsn") is not None:
            add(WATERMARK_LSN, str(row["table_name"]), float(row["lsn"]))
    for row in rows:
        out.append(
            {
                "name": WAITING_SECONDS,
                "labels": {
                    "table": str(row["table_name"]),
                    # a loading table moves: not waiting, whatever waiting_for says
                    "waiting_for": (row.get("waiting_for") or "")
                    if table_state(row) == WAITING
                    else "",
                },
                "value": waiting_seconds(row, now),
            }
        )
    if loaded_at is not None:
        out.append({"name": LAST_LOAD, "labels": {}, "value": round(loaded_at.timestamp(), 3)})
    return out


def _int(value: Any) -> int | None:
    """A position as Python int (Snowflake's NUMBER(19,0) may read as Decimal)."""
    return None if value is None else int(value)


def _lsn(value: Any) -> str | None:
    position = _int(value)
    return None if position is None else format_lsn(position)


def _from_us(value: Any) -> dt.datetime | None:
    us = _int(value)
    if not us:
        return None
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def _time_text(value: Any) -> str | None:
    at = _utc(value)
    return None if at is None else at.isoformat()


def path_fields(
    row: Mapping[str, Any],
    reading: WarehouseReading,
    now: dt.datetime,
    slot_lsns: Mapping[str, int] | None,
) -> dict[str, Any]:
    """A table's fields past the file flow: failed files, task runs, pipe, FINAL freshness and
    how far its watermark is behind the slot (None where unknown)."""
    from ..snowflake.history import FAILURES_LISTED, task_summary

    name = str(row["table_name"])
    failed = None
    if reading.failures is not None and name not in reading.unknown.get("load_history", ()):
        failed = [f for f in reading.failures if f.get("table_name") == name]
    runs = None
    if reading.task_runs is not None and name not in reading.unknown.get("task_history", ()):
        runs = [r for r in reading.task_runs if r.get("table_name") == name]
    final_time = _from_us(row.get("final_time_us"))
    freshness = None
    if final_time is not None:
        freshness = round(max(0.0, (now - final_time).total_seconds()), 3)
    lag = None
    slot_lsn = (slot_lsns or {}).get(str(row.get("slot")))
    if slot_lsn is not None and row.get("lsn") is not None:
        lag = max(0, slot_lsn - int(row["lsn"]))
    return {
        "failed_files": None if failed is None else len(failed),
        "failures": None
        if failed is None
        else [
            {
                "file": f["file"],
                "status": f.get("status"),
                "error": f.get("error"),
                "failed_at": _time_text(f.get("failed_at")),
            }
            for f in failed[:FAILURES_LISTED]
        ],
        "task": None if runs is None else task_summary(runs),
        "pipe": None if reading.pipes is None else reading.pipes.get(name),
        "final_commit_time": _iso(final_time),
        "freshness_seconds": freshness,
        "watermark_lag_bytes": lag,
    }


#: The fields :func:`path_fields` adds to each table.
PATH_FIELDS = (
    "failed_files",
    "failures",
    "task",
    "pipe",
    "final_commit_time",
    "freshness_seconds",
    "watermark_lag_bytes",
)


def warehouse_section(
    source: str,
    location: str,
    rows: Sequence[Mapping[str, Any]] | WarehouseReading,
    now: dt.datetime,
    flow: Sequence[Mapping[str, Any]] | None = None,
    slot_lsns: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The ``warehouse`` section of the status document (walstream.ops.status_schema.STATUS_SCHEMA)
    from what one read of a warehouse found (or only its watermark ``rows`` and ``flow``),
    whichever warehouse it comes from: ``source`` is ``duckdb:PATH`` or
    ``snowflake:ACCOUNT/DATABASE.SCHEMA``, ``location`` the file or the table read.
    ``slot_lsns``: each slot's acknowledged position (the slot's ``confirmed_flush_lsn``, or
    the running walstream's ack), for how far each watermark is behind it."""
    reading = (
        rows if isinstance(rows, WarehouseReading) else WarehouseReading([dict(r) for r in rows])
    )
    if not isinstance(rows, WarehouseReading) and flow is not None:
        reading.flow = [dict(f) for f in flow]
    flows = {str(f["table_name"]): f for f in reading.flow or () if f.get("table_name") is not None}
    tables: dict[str, dict[str, Any]] = {}
    for row in [*reading.rows, *({"table_name": name} for name in flows)]:
        name = str(row["table_name"])
        if name in tables:
            continue
        tables[name] = {
            "state": table_state(row),
            "slot": row.get("slot"),
            "watermark_lsn": _lsn(row.get("lsn")),
            "waiting_for": row.get("waiting_for"),
            "waiting_since": _iso(_utc(row.get("waiting_since"))),
            "waiting_seconds": waiting_seconds(row, now),
            "merged_at": _iso(_utc(row.get("merged_at"))),
            "load_lsn": _lsn(row.get("load_lsn")),
            "load_seq": _int(row.get("load_seq")),
            # read, but no file of the table: zeros, not unknown
            **flow_fields(flows.get(name, {}) if reading.flow is not None else None, now),
            **path_fields(row, reading, now, slot_lsns),
        }
    loaded_at = last_merge(reading.rows)
    return {
        "source": source,
        "location": location,
        "last_load_at": _iso(loaded_at),
        "tables": tables,
        "metrics": metric_samples(reading.rows, now, loaded_at, flows, tables),
    }


def read_warehouse(
    path: str, now: dt.datetime, slot_lsns: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """``warehouse_section`` of the DuckDB file at ``path`` (opened read-only)."""
    location = os.path.abspath(path)
    return warehouse_section(
        f"duckdb:{location}", location, read_duckdb(path), now, None, slot_lsns
    )


def read_snowflake_warehouse(
    settings: ConnectionSettings,
    now: dt.datetime,
    connect: Callable[[], Any] | None = None,
    slot_lsns: Mapping[str, int] | None = None,
    prefix_schema: bool = False,
) -> dict[str, Any]:
    """``warehouse_section`` of Snowflake (see :func:`read_snowflake`)."""
    reading = read_snowflake(settings, connect, prefix_schema)
    where = snowflake_location(settings)
    location = f"{where}.WALSTREAM_WATERMARKS"
    return warehouse_section(f"snowflake:{where}", location, reading, now, None, slot_lsns)


def write_metrics_file(
    path: str,
    rows: Sequence[Mapping[str, Any]] | WarehouseReading,
    loaded_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    flow: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Write the gauges of a warehouse read (``LocalWarehouse.reading()``, or its watermark
    ``rows`` and ``flow``) to ``path`` in the Prometheus text format, atomically
    (node_exporter never reads half a file).

    ``loaded_at`` (default: now) is the load's time. A registry of its own: nothing of the
    process-wide metrics of ``walstream run`` ends up in the file.
    """
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    now = now or dt.datetime.now(dt.UTC)
    section = warehouse_section("", "", rows, now, flow)
    registry = CollectorRegistry(auto_describe=False)
    gauges = {
        name: Gauge(name, text, labels, registry=registry)
        for name, (text, labels) in GAUGES.items()
    }
    samples = [m for m in section["metrics"] if m["name"] != LAST_LOAD]
    samples.append({"name": LAST_LOAD, "labels": {}, "value": (loaded_at or now).timestamp()})
    for sample in samples:
        gauge = gauges[sample["name"]]
        (gauge.labels(**sample["labels"]) if sample["labels"] else gauge).set(sample["value"])
    try:
        write_to_textfile(path, registry)
    except OSError as exc:
        raise ConfigError(f"cannot write the metrics file {path!r}: {exc}") from None

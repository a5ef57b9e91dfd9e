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
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
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
)

#: A table's state, from its row (:func:`table_state`).
MERGED, WAITING, LOADING, NEW = "merged", "waiting", "loading", "new"

#: How long ``walstream status --snowflake`` waits for Snowflake: to log in, for an answer.
SNOWFLAKE_LOGIN_TIMEOUT = 30
SNOWFLAKE_NETWORK_TIMEOUT = 60


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


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
    return read_duckdb(path, lock_wait)[0]


def read_duckdb(
    path: str, lock_wait: float = LOCK_WAIT_SECONDS
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """The watermark table's rows (:data:`COLUMNS`) and each table's file flow
    (:func:`~walstream.snowflake.watermark.file_flow_query`; None from a warehouse that
    predates its bookkeeping), the DuckDB file opened read-only.

    A load running meanwhile holds the file's lock: wait up to ``lock_wait`` seconds for it.
    A warehouse written by an older walstream may lack columns (``load_lsn``): they read None.
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
                f"cannot open the warehouse {path!r} read-only: {_one_line(exc)}"
                + (hint if locked else "")
            ) from None
    try:
        cur = conn.execute(f"SELECT * FROM {WATERMARKS} ORDER BY table_name")
        rows = _rows([d[0] for d in cur.description or []], cur.fetchall())
        return rows, read_file_flow(conn)
    except duckdb.CatalogException:
        raise ConfigError(
            f"{path!r} is not a walstream warehouse: it has no table {WATERMARKS} "
            "(written by `walstream warehouse load`)"
        ) from None
    except duckdb.Error as exc:
        raise ConfigError(f"cannot read the watermarks of {path!r}: {_one_line(exc)}") from None
    finally:
        conn.close()


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


def read_snowflake_watermarks(
    settings: ConnectionSettings, connect: Callable[[], Any] | None = None
) -> list[dict[str, Any]]:
    """Every table's row of ``WALSTREAM_WATERMARKS`` (:data:`COLUMNS`) (see
    :func:`read_snowflake`)."""
    return read_snowflake(settings, connect)[0]


def read_snowflake(
    settings: ConnectionSettings, connect: Callable[[], Any] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Every table's row of ``WALSTREAM_WATERMARKS`` (:data:`COLUMNS`), in the database and
    schema of ``settings``, with one ``SELECT`` (nothing is changed), and each table's file
    flow with a second one (None when the bookkeeping views cannot be read: the watermarks
    still are).

    ``connect`` (for tests) returns a DB-API connection; by default snowflake-connector-python
    with short timeouts. Every failure is a one-line :class:`ConfigError` (exit 2): a status
    check that cannot read the watermarks is critical, and no secret is in the message.
    """
    from ..snowflake.apply import SnowflakeError
    from ..snowflake.apply import connect as snowflake_connect
    from ..snowflake.dialects import SnowflakeDialect, object_name
    from ..snowflake.watermark import bookkeeping, file_flow_query

    qualifier = f"{object_name(settings.database)}.{object_name(settings.schema)}"
    dialect = SnowflakeDialect(qualifier=qualifier)
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
        try:
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY table_name")
        except Exception as exc:
            if getattr(exc, "errno", None) == _DOES_NOT_EXIST:
                raise ConfigError(
                    f"{where} does not exist (or the role cannot read it): create the "
                    "walstream objects there with `walstream snowflake apply`, or check "
                    "--snowflake-database/--snowflake-schema/--snowflake-role"
                ) from None
            raise ConfigError(f"cannot read {where}: {_one_line(exc)}") from None
        rows = _rows([d[0] for d in cur.description or []], cur.fetchall())
        flow: list[dict[str, Any]] | None = None
        try:
            cur.execute(file_flow_query(dialect))
            flow = _flow_rows([d[0] for d in cur.description or []], cur.fetchall())
        except Exception as exc:  # older objects: the watermarks alone still answer
            log.warning("event=status_file_flow_unreadable error=%s", _one_line(exc))
        return rows, flow
    finally:
        with contextlib.suppress(Exception):
            conn.close()


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
) -> list[dict[str, Any]]:
    """The gauges' samples: ``{"name", "labels", "value"}`` each."""
    out: list[dict[str, Any]] = []
    for table, flow in sorted((flows or {}).items()):
        files = float(_int(flow.get("files_unloaded")) or 0)
        out.append({"name": UNLOADED_FILES, "labels": {"table": table}, "value": files})
        out.append(
            {
                "name": UNLOADED_SECONDS,
                "labels": {"table": table},
                "value": unloaded_seconds(flow, now),
            }
        )
    for row in rows:
        table = str(row["table_name"])
        if row.get("lsn") is not None:
            out.append(
                {"name": WATERMARK_LSN, "labels": {"table": table}, "value": float(row["lsn"])}
            )
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


def warehouse_section(
    source: str,
    location: str,
    rows: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    flow: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``warehouse`` section of the status document (walstream.ops.status_schema.STATUS_SCHEMA)
    from the watermark table's ``rows``, whichever warehouse they come from: ``source`` is
    ``duckdb:PATH`` or ``snowflake:ACCOUNT/DATABASE.SCHEMA``, ``location`` the file or the
    table read. ``flow``: each table's files written, loaded and not loaded yet (None: not
    read, every such field None)."""
    flows = {str(f["table_name"]): f for f in flow or () if f.get("table_name") is not None}
    tables: dict[str, dict[str, Any]] = {}
    for row in [*rows, *({"table_name": name} for name in flows)]:
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
            **flow_fields(flows.get(name) if flow is not None else None, now),
        }
    loaded_at = last_merge(rows)
    return {
        "source": source,
        "location": location,
        "last_load_at": _iso(loaded_at),
        "tables": tables,
        "metrics": metric_samples(rows, now, loaded_at, flows),
    }


def read_warehouse(path: str, now: dt.datetime) -> dict[str, Any]:
    """``warehouse_section`` of the DuckDB file at ``path`` (opened read-only)."""
    location = os.path.abspath(path)
    rows, flow = read_duckdb(path)
    return warehouse_section(f"duckdb:{location}", location, rows, now, flow)


def read_snowflake_warehouse(
    settings: ConnectionSettings, now: dt.datetime, connect: Callable[[], Any] | None = None
) -> dict[str, Any]:
    """``warehouse_section`` of Snowflake's ``WALSTREAM_WATERMARKS`` (see
    :func:`read_snowflake_watermarks`)."""
    rows, flow = read_snowflake(settings, connect)
    where = snowflake_location(settings)
    location = f"{where}.WALSTREAM_WATERMARKS"
    return warehouse_section(f"snowflake:{where}", location, rows, now, flow)


def write_metrics_file(
    path: str,
    rows: Sequence[Mapping[str, Any]],
    loaded_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    flow: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Write the gauges of ``rows`` (``LocalWarehouse.watermarks()``) and, with ``flow``
    (``LocalWarehouse.file_flow()``), each table's files not loaded yet to ``path`` in the
    Prometheus text format, atomically (node_exporter never reads half a file).

    ``loaded_at`` (default: now) is the load's time. A registry of its own: nothing of the
    process-wide metrics of ``walstream run`` ends up in the file.
    """
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    now = now or dt.datetime.now(dt.UTC)
    registry = CollectorRegistry(auto_describe=False)
    gauges = {
        name: Gauge(name, text, labels, registry=registry)
        for name, (text, labels) in GAUGES.items()
    }
    flows = {str(f["table_name"]): f for f in flow or () if f.get("table_name") is not None}
    for sample in metric_samples(rows, now, loaded_at or now, flows):
        gauge = gauges[sample["name"]]
        (gauge.labels(**sample["labels"]) if sample["labels"] else gauge).set(sample["value"])
    try:
        write_to_textfile(path, registry)
    except OSError as exc:
        raise ConfigError(f"cannot write the metrics file {path!r}: {exc}") from None

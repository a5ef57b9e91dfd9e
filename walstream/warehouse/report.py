"""What the warehouse's merged watermarks say, for ``walstream status`` and for alarms.

Each table's task run records its *merged watermark* (FINAL equals the source as of that LSN)
and, when a file its chain of manifests needs has not arrived, which file (``waiting_for``, a
key under DEST) and since when (``waiting_since``), in ``main._walstream_watermarks``
(:mod:`walstream.snowflake.watermark`; ``WALSTREAM_WATERMARKS`` in Snowflake). This module reads
that table and turns it into:

- the ``warehouse`` section of ``walstream status --warehouse PATH.duckdb`` (the file opened
  read-only, so a status check never changes or creates a warehouse);
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

import datetime as dt
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ..lsn import format_lsn

#: The watermark table in the DuckDB file (walstream.snowflake.watermark.bookkeeping).
WATERMARKS = "main._walstream_watermarks"

WATERMARK_LSN = "walstream_warehouse_watermark_lsn"
WAITING_SECONDS = "walstream_warehouse_waiting_seconds"
LAST_LOAD = "walstream_warehouse_last_load_timestamp_seconds"

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
}

#: How long :func:`read_watermarks` waits for a load that holds the file's lock.
LOCK_WAIT_SECONDS = 5.0


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def read_watermarks(path: str, lock_wait: float = LOCK_WAIT_SECONDS) -> list[dict[str, Any]]:
    """Every table's row of the watermark table, the DuckDB file opened read-only.

    A load running meanwhile holds the file's lock: wait up to ``lock_wait`` seconds for it.
    """
    import duckdb

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
        cur = conn.execute(
            "SELECT table_name, slot, lsn, waiting_for, waiting_since, merged_at "
            f"FROM {WATERMARKS} ORDER BY table_name"
        )
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    except duckdb.CatalogException:
        raise ConfigError(
            f"{path!r} is not a walstream warehouse: it has no table {WATERMARKS} "
            "(written by `walstream warehouse load`)"
        ) from None
    except duckdb.Error as exc:
        raise ConfigError(f"cannot read the watermarks of {path!r}: {_one_line(exc)}") from None
    finally:
        conn.close()


def _utc(value: object) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def waiting_seconds(row: Mapping[str, Any], now: dt.datetime) -> float:
    """How long ``row``'s table has waited for its file (0 when it is not waiting)."""
    since = _utc(row.get("waiting_since"))
    if row.get("waiting_for") is None or since is None:
        return 0.0
    return round(max(0.0, (now - since).total_seconds()), 3)


def last_merge(rows: Sequence[Mapping[str, Any]]) -> dt.datetime | None:
    """When a task last ran: every load runs every table's task, so the last load."""
    return max((t for r in rows if (t := _utc(r.get("merged_at"))) is not None), default=None)


def metric_samples(
    rows: Sequence[Mapping[str, Any]], now: dt.datetime, loaded_at: dt.datetime | None
) -> list[dict[str, Any]]:
    """The gauges' samples: ``{"name", "labels", "value"}`` each."""
    out: list[dict[str, Any]] = []
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
                    "waiting_for": row["waiting_for"] or "",
                },
                "value": waiting_seconds(row, now),
            }
        )
    if loaded_at is not None:
        out.append({"name": LAST_LOAD, "labels": {}, "value": round(loaded_at.timestamp(), 3)})
    return out


def warehouse_section(
    location: str, rows: Sequence[Mapping[str, Any]], now: dt.datetime
) -> dict[str, Any]:
    """The ``warehouse`` section of the status document (walstream.ops.status.STATUS_SCHEMA)."""
    tables: dict[str, dict[str, Any]] = {}
    for row in rows:
        lsn = row.get("lsn")
        merged = _utc(row.get("merged_at"))
        tables[str(row["table_name"])] = {
            "slot": row.get("slot"),
            "watermark_lsn": None if lsn is None else format_lsn(int(lsn)),
            "waiting_for": row.get("waiting_for"),
            "waiting_since": _iso(_utc(row.get("waiting_since"))),
            "waiting_seconds": waiting_seconds(row, now),
            "merged_at": _iso(merged),
        }
    loaded_at = last_merge(rows)
    return {
        "location": location,
        "last_load_at": _iso(loaded_at),
        "tables": tables,
        "metrics": metric_samples(rows, now, loaded_at),
    }


def read_warehouse(path: str, now: dt.datetime) -> dict[str, Any]:
    """``warehouse_section`` of the DuckDB file at ``path`` (opened read-only)."""
    return warehouse_section(os.path.abspath(path), read_watermarks(path), now)


def write_metrics_file(
    path: str,
    rows: Sequence[Mapping[str, Any]],
    loaded_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Write the gauges of ``rows`` (``LocalWarehouse.watermarks()``) to ``path`` in the
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
    for sample in metric_samples(rows, now, loaded_at or now):
        gauge = gauges[sample["name"]]
        (gauge.labels(**sample["labels"]) if sample["labels"] else gauge).set(sample["value"])
    try:
        write_to_textfile(path, registry)
    except OSError as exc:
        raise ConfigError(f"cannot write the metrics file {path!r}: {exc}") from None

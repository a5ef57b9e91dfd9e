"""``walstream status``: is it running, how far behind is it, is the source's WAL growing.

One SQL connection to the source and one read of the checkpoint under DEST answer it:

- the slot (``pg_replication_slots``): active and pid, plugin, ``restart_lsn``,
  ``confirmed_flush_lsn``, ``wal_status`` and ``safe_wal_size`` (13+), ``inactive_since`` and
  ``invalidation_reason`` (17+); the server's current WAL LSN and whether it is a writer;
- the consumer holding the slot (``pg_stat_replication``): its positions and ``flush_lag``;
- the checkpoint (``DEST/_walstream/<slot>/checkpoint.json``): the last ack, and per table the
  last file, its LSN range, rows, last commit time and snapshot state.

Lag, in the units operators alert on:

- ``retained_bytes`` = current WAL LSN − ``restart_lsn``: WAL this slot keeps on the server's
  disk (what fills it when a consumer stops);
- ``lag_bytes`` = current WAL LSN − ``confirmed_flush_lsn``: WAL not yet confirmed;
- ``lag_seconds``: with a consumer attached, PostgreSQL's own ``flush_lag`` (time from a WAL
  write to the consumer's confirmation; 0 when caught up); without one, how long the slot has
  been left behind (now − ``inactive_since``, or the checkpoint's age on servers before 17),
  0 if nothing is pending;
- ``freshness_seconds`` (per table and overall) = now − last commit time stored: how old the
  newest stored change is. It also grows when a table is simply quiet, so it is reported, not
  judged.

With ``--warehouse PATH.duckdb`` (opened read-only), or ``--snowflake`` and the
``--snowflake-*`` connection settings (one ``SELECT`` from the schema's
``WALSTREAM_WATERMARKS``), it adds each warehouse table's merged watermark (FINAL equals the
source as of that LSN) and, when a missing file holds it back, which file (``waiting_for``, a
key under DEST), since when and for how many seconds (:mod:`walstream.warehouse.report`, which
also lists the same numbers as metric samples). Waiting is normal for a while (Snowpipe loads
files in any order); waiting longer than ``--max-waiting`` (default 900 s) is critical, longer
than ``--warn-waiting`` a warning. One table's wait never holds back another. A table whose
full load is merged in slices is ``loading`` (no watermark meanwhile), never waiting. Without
``--dsn`` only the warehouse (and ``--dest``'s checkpoint) is read: ``server`` and ``slot`` are
then null.

Exit codes, for monitoring (Nagios-style): **0** ok, **1** warning (slot inactive,
``wal_status = extended``, a ``--warn-*`` threshold exceeded, checkpoint missing or unreadable),
**2** critical (slot missing or of another plugin, ``wal_status`` ``lost`` or ``unreserved``, a
``--max-lag-*`` or ``--max-waiting`` threshold exceeded). Failing to check at all exits as every
walstream error does (3 when the source cannot be reached, 2 when the warehouse file is missing
or unreadable, or Snowflake cannot be reached or has no ``WALSTREAM_WATERMARKS``).

``--json`` prints one object whose shape is :data:`.status_schema.STATUS_SCHEMA` (a JSON Schema,
``walstream status --json-schema`` prints it); ``schema_version`` changes only when a field is
removed or changes meaning. LSNs are PostgreSQL's ``X/Y`` text, sizes are bytes, times are
ISO 8601 UTC, durations are seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from ..errors import ConfigError, SourceError
from ..layout import checkpoint_key
from ..lsn import format_lsn, parse_lsn
from ..pipeline.checkpoint import Checkpoint
from ..sink import DurableSink
from .status_schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from ..snowflake.apply import ConnectionSettings

Connection = psycopg.Connection[tuple[object, ...]]

OK, WARNING, CRITICAL = 0, 1, 2
STATUS_NAMES = {OK: "ok", WARNING: "warning", CRITICAL: "critical"}


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_lag_bytes: int | None = None
    max_lag_seconds: float | None = None
    warn_lag_bytes: int | None = None
    warn_lag_seconds: float | None = None
    max_waiting_seconds: float | None = None  # a table's watermark waiting for a file
    warn_waiting_seconds: float | None = None
    max_unloaded_seconds: float | None = None  # a file written, not loaded by the pipe
    warn_unloaded_seconds: float | None = None
    max_freshness_seconds: float | None = None  # FINAL: since the source commit it reflects
    warn_freshness_seconds: float | None = None


#: The runbook section for a table whose watermark waits for a file.
WAITING_RUNBOOK = "docs/operations.md#a-table-waits-for-a-file-merged-watermark"
FAILED_RUNBOOK = "docs/operations.md#files-that-failed-to-load"
TASK_RUNBOOK = "docs/operations.md#a-merge-task-failed"
FRESHNESS_RUNBOOK = "docs/operations.md#final-freshness-alarm"


def duration_text(seconds: float | None) -> str:
    """Seconds as people read them (``1.5 min``); ``-`` for none."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def _seconds(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds(), 3)
    return float(str(value))


def _parse_time(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _lsn_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _bytes_between(later: str | None, earlier: str | None) -> int | None:
    if later is None or earlier is None:
        return None
    return max(0, parse_lsn(later) - parse_lsn(earlier))


def read_server(conn: Connection) -> dict[str, Any]:
    row = conn.execute(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int,"
        " current_database()::text, pg_is_in_recovery()"
    ).fetchone()
    assert row is not None
    version, version_num, database, in_recovery = row
    lsn_sql = "pg_last_wal_replay_lsn()" if in_recovery else "pg_current_wal_lsn()"
    current = conn.execute(f"SELECT {lsn_sql}::text").fetchone()
    return {
        "version": str(version),
        "version_num": int(str(version_num)),
        "database": str(database),
        "in_recovery": bool(in_recovery),
        "is_writer": not in_recovery,
        "current_wal_lsn": str(current[0]) if current and current[0] is not None else "0/0",
    }


def read_slot(conn: Connection, slot: str, current_lsn: str) -> dict[str, Any] | None:
    version = conn.info.server_version
    cols = [
        "slot_name::text",
        "plugin::text",
        "slot_type::text",
        "database::text",
        "active",
        "active_pid",
        "restart_lsn::text",
        "confirmed_flush_lsn::text",
        "wal_status::text" if version >= 130000 else "NULL::text",
        "safe_wal_size" if version >= 130000 else "NULL::int8",
        "inactive_since" if version >= 170000 else "NULL::timestamptz",
        "invalidation_reason::text" if version >= 170000 else "NULL::text",
    ]
    row = conn.execute(
        f"SELECT {', '.join(cols)} FROM pg_replication_slots WHERE slot_name = %s", (slot,)
    ).fetchone()
    if row is None:
        return None
    (
        name,
        plugin,
        slot_type,
        database,
        active,
        pid,
        restart,
        confirmed,
        wal_status,
        safe,
        inactive_since,
        reason,
    ) = row
    info: dict[str, Any] = {
        "name": str(name),
        "plugin": _lsn_or_none(plugin),
        "slot_type": str(slot_type),
        "database": _lsn_or_none(database),
        "active": bool(active),
        "active_pid": None if pid is None else int(str(pid)),
        "restart_lsn": _lsn_or_none(restart),
        "confirmed_flush_lsn": _lsn_or_none(confirmed),
        "wal_status": _lsn_or_none(wal_status),
        "safe_wal_size": None if safe is None else int(str(safe)),
        "inactive_since": _iso(inactive_since),
        "invalidation_reason": _lsn_or_none(reason),
        "retained_bytes": _bytes_between(current_lsn, _lsn_or_none(restart)),
        "lag_bytes": _bytes_between(current_lsn, _lsn_or_none(confirmed)),
        "lag_seconds": None,
        "consumer": None,
    }
    if info["active_pid"] is not None:
        info["consumer"] = read_consumer(conn, info["active_pid"])
    return info


def read_consumer(conn: Connection, pid: int) -> dict[str, Any] | None:
    has_reply_time = conn.info.server_version >= 120000
    row = conn.execute(
        "SELECT pid, application_name::text, client_addr::text, state::text, sent_lsn::text, "
        "write_lsn::text, flush_lsn::text, write_lag, flush_lag, "
        + ("reply_time" if has_reply_time else "NULL::timestamptz")
        + " FROM pg_stat_replication WHERE pid = %s",
        (pid,),
    ).fetchone()
    if row is None:
        return None
    pid_, app, addr, state, sent, write, flush, write_lag, flush_lag, reply = row
    return {
        "pid": int(str(pid_)),
        "application_name": _lsn_or_none(app),
        "client_addr": _lsn_or_none(addr),
        "state": _lsn_or_none(state),
        "sent_lsn": _lsn_or_none(sent),
        "write_lsn": _lsn_or_none(write),
        "flush_lsn": _lsn_or_none(flush),
        "write_lag_seconds": _seconds(write_lag),
        "flush_lag_seconds": _seconds(flush_lag),
        "reply_time": _iso(reply),
    }


def read_checkpoint(sink: DurableSink, slot: str, now: dt.datetime) -> dict[str, Any]:
    key = checkpoint_key(slot)
    doc: dict[str, Any] = {
        "location": sink.describe(key),
        "found": False,
        "acked_lsn": None,
        "recorded_lsn": None,
        "written_at": None,
        "age_seconds": None,
        "freshness_seconds": None,
        "tables": {},
    }
    raw = sink.get(key)
    if raw is None:
        return doc
    try:
        stored = json.loads(raw)
        if not isinstance(stored, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        doc["error"] = f"unreadable: {exc}"
        return doc
    doc["found"] = True
    try:
        record = Checkpoint.parse(raw, slot)
        recorded = record.recorded_lsn() if record.version >= 2 else None
        doc["recorded_lsn"] = None if recorded is None else format_lsn(recorded)
    except ValueError:
        doc["recorded_lsn"] = None
    acked = stored.get("acked_lsn")
    doc["acked_lsn"] = acked if isinstance(acked, str) else None
    written = _parse_time(stored.get("written_at"))
    doc["written_at"] = _iso(written)
    doc["age_seconds"] = None if written is None else round((now - written).total_seconds(), 3)
    newest: dt.datetime | None = None
    tables = stored.get("tables")
    if not isinstance(tables, dict):
        tables = {}
    for name, entry in sorted(tables.items()):
        if not isinstance(entry, dict):
            continue
        commit = _parse_time(entry.get("last_commit_time"))
        if commit is not None and (newest is None or commit > newest):
            newest = commit
        doc["tables"][name] = {
            "last_file": entry.get("last_file"),
            "first_lsn": entry.get("first_lsn"),
            "last_lsn": entry.get("last_lsn"),
            "last_commit_time": _iso(commit),
            "last_file_rows": entry.get("last_file_rows"),
            "files": entry.get("files"),
            "rows": entry.get("rows"),
            "freshness_seconds": (
                None if commit is None else round((now - commit).total_seconds(), 3)
            ),
            "snapshot": entry.get("snapshot"),
        }
    if newest is not None:
        doc["freshness_seconds"] = round((now - newest).total_seconds(), 3)
    return doc


def _lag_seconds(
    slot: dict[str, Any], checkpoint: dict[str, Any] | None, now: dt.datetime
) -> float | None:
    if slot["active"]:
        consumer = slot["consumer"] or {}
        lag = consumer.get("flush_lag_seconds")
        return 0.0 if lag is None else float(lag)
    if slot["lag_bytes"] == 0:
        return 0.0
    since = _parse_time(slot["inactive_since"])
    if since is None and checkpoint is not None:
        since = _parse_time(checkpoint.get("written_at"))
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 3)


def collect_status(
    conn: Connection | None,
    slot_name: str,
    sink: DurableSink | None = None,
    thresholds: Thresholds | None = None,
    now: dt.datetime | None = None,
    warehouse: str | None = None,
    snowflake: ConnectionSettings | None = None,
    prefix_schema: bool = False,
) -> dict[str, Any]:
    """The whole status document (see :data:`.status_schema.STATUS_SCHEMA`).

    ``conn`` None: the source is not asked (``server`` and ``slot`` null); ``warehouse``: the
    path of the local DuckDB warehouse, whose watermarks are read read-only; ``snowflake``:
    where to read them in Snowflake instead (``prefix_schema``: its objects are named
    ``<schema>_<table>``)."""
    thresholds = thresholds or Thresholds()
    now = now or dt.datetime.now(dt.UTC)
    if warehouse is not None and snowflake is not None:
        raise ConfigError("give --warehouse (a DuckDB file) or --snowflake, not both")
    server: dict[str, Any] | None = None
    slot: dict[str, Any] | None = None
    if conn is not None:
        try:
            server = read_server(conn)
            slot = read_slot(conn, slot_name, server["current_wal_lsn"])
        except psycopg.Error as exc:
            raise SourceError(
                f"cannot read the slot's state: {' '.join(str(exc).split())}"
            ) from None
    # how far each watermark is behind the slot: what it has acknowledged
    confirmed = None if slot is None else slot.get("confirmed_flush_lsn")
    slot_lsns = {slot_name: parse_lsn(str(confirmed))} if confirmed else None
    wh_section: dict[str, Any] | None = None
    if warehouse is not None:
        from ..warehouse.report import read_warehouse

        wh_section = read_warehouse(warehouse, now, slot_lsns)
    elif snowflake is not None:
        from ..warehouse.report import read_snowflake_warehouse

        wh_section = read_snowflake_warehouse(
            snowflake, now, slot_lsns=slot_lsns, prefix_schema=prefix_schema
        )
    checkpoint = read_checkpoint(sink, slot_name, now) if sink is not None else None
    if slot is not None:
        slot["lag_seconds"] = _lag_seconds(slot, checkpoint, now)
    problems = judge(slot_name, server, slot, checkpoint, thresholds, wh_section)
    code = max((CRITICAL if p["severity"] == "critical" else WARNING for p in problems), default=OK)
    return {
        "schema_version": SCHEMA_VERSION,
        "checked_at": now.isoformat(),
        "status": STATUS_NAMES[code],
        "exit_code": code,
        "problems": problems,
        "server": server,
        "slot": slot,
        "checkpoint": checkpoint,
        "warehouse": wh_section,
    }


def _exceeded(
    value: float | None, critical: float | None, warning: float | None
) -> tuple[str, str, float] | None:
    """The first threshold ``value`` passes, critical before warning: (severity, ``max`` or
    ``warn`` as the flags spell it, the threshold); None when it passes none (or is unknown)."""
    if value is None:
        return None
    for limit, severity, what in ((critical, "critical", "max"), (warning, "warning", "warn")):
        if limit is not None and value > limit:
            return severity, what, limit
    return None


def judge(
    slot_name: str,
    server: dict[str, Any] | None,
    slot: dict[str, Any] | None,
    checkpoint: dict[str, Any] | None,
    t: Thresholds,
    warehouse: dict[str, Any] | None = None,
) -> list[dict[str, str]]:
    """The problems found, worst first. ``server`` None: the source was not asked."""
    out: list[dict[str, str]] = []

    def add(severity: str, code: str, message: str) -> None:
        out.append({"severity": severity, "code": code, "message": message})

    if slot is None and server is not None:
        add(
            "critical",
            "slot_missing",
            f"replication slot {slot_name!r} does not exist in this cluster: create it "
            f"(walstream slot create --slot {slot_name}) and re-snapshot",
        )
    elif slot is not None and server is not None:
        wal_status = slot["wal_status"]
        if wal_status in ("lost", "unreserved"):
            add(
                "critical",
                f"wal_{wal_status}",
                f"slot {slot_name!r} wal_status = {wal_status}: WAL it needs "
                + ("was removed; changes are lost" if wal_status == "lost" else "may be removed")
                + ": start the consumer now; if lost, drop and recreate the slot and re-snapshot",
            )
        elif wal_status == "extended":
            add(
                "warning",
                "wal_extended",
                f"slot {slot_name!r} retains more WAL than max_wal_size (wal_status = extended)",
            )
        if slot["plugin"] not in (None, "pgoutput"):
            add("critical", "slot_plugin", f"slot {slot_name!r} uses plugin {slot['plugin']!r}")
        if slot["database"] not in (None, server["database"]):
            add(
                "warning",
                "slot_database",
                f"slot {slot_name!r} belongs to database {slot['database']!r}, not "
                f"{server['database']!r}",
            )
        if not slot["active"] and wal_status != "lost":
            add("warning", "slot_inactive", f"slot {slot_name!r} has no consumer attached")
        lag_bytes, lag_seconds = slot["lag_bytes"], slot["lag_seconds"]
        if hit := _exceeded(lag_bytes, t.max_lag_bytes, t.warn_lag_bytes):
            severity, what, limit = hit
            add(severity, "lag_bytes", f"lag {lag_bytes} bytes > --{what}-lag-bytes {limit}")
        if hit := _exceeded(lag_seconds, t.max_lag_seconds, t.warn_lag_seconds):
            severity, what, limit_s = hit
            add(
                severity,
                "lag_seconds",
                f"lag {lag_seconds:.1f} s > --{what}-lag-seconds {limit_s:g}",
            )
    recorded = None if checkpoint is None else checkpoint.get("recorded_lsn")
    confirmed = None if slot is None else slot.get("confirmed_flush_lsn")
    if recorded is not None and confirmed and parse_lsn(str(confirmed)) > parse_lsn(recorded):
        add(
            "critical",
            "gap",
            f"slot {slot_name!r} is at {confirmed} but the checkpoint records changes as stored "
            f"only up to {recorded}: the changes in between were never stored "
            "(slot dropped and recreated, or advanced by hand); walstream run refuses to start. "
            "Re-load the tables, or run once with --accept-gap",
        )
    if checkpoint is not None and not checkpoint["found"]:
        reason = checkpoint.get("error") or "not found"
        add(
            "warning",
            "checkpoint_missing",
            f"checkpoint {checkpoint['location']} {reason}: nothing stored yet, or wrong --dest",
        )
    for name, table in (warehouse or {}).get("tables", {}).items():
        waited = table["waiting_seconds"]
        waiting = table.get("state", "waiting") == "waiting" and table["waiting_for"]
        waited_for = waited if waiting else None
        if hit := _exceeded(waited_for, t.max_waiting_seconds, t.warn_waiting_seconds):
            severity, what, limit_w = hit
            add(
                severity,
                "watermark_waiting",
                f"table {name} has waited {duration_text(waited)} > --{what}-waiting "
                f"{limit_w:g} s "
                f"for file {table['waiting_for']} (since {table['waiting_since']}): its FINAL "
                f"stays at LSN {table['watermark_lsn'] or '(none yet)'} until the file is "
                f"loaded; other tables go on. See {WAITING_RUNBOOK}",
            )
    for name, table in (warehouse or {}).get("tables", {}).items():
        unloaded = table.get("unloaded_seconds") or 0.0
        listed = unloaded if table.get("files_unloaded") else None
        if hit := _exceeded(listed, t.max_unloaded_seconds, t.warn_unloaded_seconds):
            severity, what, limit_u = hit
            add(
                severity,
                "files_not_loaded",
                f"table {name}: {table['files_unloaded']} file(s) written and listed in "
                f"manifests since {table['unloaded_since']} ({duration_text(unloaded)} > "
                f"--{what}-unloaded-age {limit_u:g} s) have not reached STAGING: the pipe "
                "is paused, failing or lagging. See docs/operations.md#files-written-but-"
                "not-loaded",
            )
    out += judge_path(warehouse, t)
    out.sort(key=lambda p: p["severity"] != "critical")
    return out


def judge_path(warehouse: dict[str, Any] | None, t: Thresholds) -> list[dict[str, str]]:
    """The problems of the Snowflake half, per table: files that failed to load, a MERGE task
    whose last run failed, a pipe that does not run, FINAL older than the thresholds."""
    from ..snowflake.history import FAILED_STATES, PIPE_RUNNING

    out: list[dict[str, str]] = []

    def add(severity: str, code: str, message: str) -> None:
        out.append({"severity": severity, "code": code, "message": message})

    for name, table in (warehouse or {}).get("tables", {}).items():
        failures = table.get("failures") or []
        if table.get("failed_files"):
            first = failures[0] if failures else {}
            add(
                "critical",
                "files_failed",
                f"table {name}: {table['failed_files']} file(s) failed to load and will not be "
                f"tried again by themselves; first {first.get('file')} at "
                f"{first.get('failed_at')}: {first.get('error')}. Fix the cause, then "
                f"`walstream snowflake reload-failed --table {name}` (local warehouse: "
                f"`walstream warehouse reload-failed`). See {FAILED_RUNBOOK}",
            )
        task = table.get("task") or {}
        if task.get("last_state") in FAILED_STATES:
            add(
                "critical",
                "task_failed",
                f"table {name}: the last run of its MERGE task ({task.get('last_scheduled_at')}) "
                f"failed: {task.get('last_error')}; {task.get('failed_runs')} of the last "
                f"{task.get('runs')} runs failed. FINAL does not move until a run succeeds. "
                f"See {TASK_RUNBOOK}",
            )
        pipe = table.get("pipe") or {}
        state = pipe.get("state")
        if state is not None and state != PIPE_RUNNING:
            paused = state == "PAUSED"
            add(
                "warning" if paused else "critical",
                "pipe_paused" if paused else "pipe_not_running",
                f"table {name}: its pipe is {state}"
                + (f" ({pipe['error']})" if pipe.get("error") else "")
                + (
                    f": files are not loaded until `walstream snowflake resume --table {name}`"
                    if paused
                    else ": Snowflake stopped it; files are not loaded. See "
                    "docs/operations.md#files-written-but-not-loaded"
                ),
            )
        fresh = table.get("freshness_seconds")
        asked = t.max_freshness_seconds is not None or t.warn_freshness_seconds is not None
        if asked and fresh is None and table.get("state") == "merged":
            add(
                "warning",
                "freshness_unknown",
                f"table {name}: FINAL's freshness is unknown (the manifests carry no commit "
                "time: objects older than this walstream, run `walstream snowflake apply`), so "
                "--max-freshness cannot be checked",
            )
        if hit := _exceeded(fresh, t.max_freshness_seconds, t.warn_freshness_seconds):
            severity, what, limit = hit
            add(
                severity,
                "final_stale",
                f"table {name}: FINAL reflects the source as of "
                f"{table.get('final_commit_time')}, {duration_text(fresh)} ago > "
                f"--{what}-freshness {limit:g} s (watermark {table.get('watermark_lsn')}). "
                f"See {FRESHNESS_RUNBOOK}",
            )
    return out
